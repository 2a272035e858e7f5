#!/usr/bin/env bash
# Fails when a generated file, the formatting or go.mod differs from what the
# sources produce. Called by `make verify` after regenerating; arguments are the
# generated paths.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
# Regenerated files that differ from the index, or that git does not know yet.
stale=$( (git diff --name-only -- "$@"; git ls-files --others --exclude-standard -- "$@") | sort -u)
if [ -n "$stale" ]; then
	echo "Generated files are stale; run 'make manifests generate' and commit the result:" >&2
	echo "$stale" >&2
	status=1
fi

unformatted=$(gofmt -s -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
	echo "Files not formatted with gofmt -s (run 'make fmt'):" >&2
	echo "$unformatted" >&2
	status=1
fi

for mod in go.mod hack/controlplane/go.mod; do
	dir=$(dirname "$mod")
	before=$(cat "$dir/go.mod" "$dir/go.sum")
	(cd "$dir" && go mod tidy)
	if [ "$before" != "$(cat "$dir/go.mod" "$dir/go.sum")" ]; then
		echo "$mod was not tidy; 'go mod tidy' changed it: commit the result." >&2
		status=1
	fi
done
exit $status

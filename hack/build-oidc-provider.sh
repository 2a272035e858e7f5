#!/usr/bin/env bash
# Builds the local cluster's OpenID Provider (hack/oidc-provider, on
# github.com/zitadel/oidc/v3's OpenID-certified pkg/op) from the work tree and
# caches it: $OIDC_PROVIDER, which the Makefile names after the zitadel/oidc
# version and a hash of the provider's source, so an edit builds it again. Dex
# would be the usual choice, but the Go module proxy serves no recent Dex. A
# cached binary is not built again; a build goes through a temporary file and
# a rename, so an interrupted one never leaves a broken binary in the cache.
set -euo pipefail

: "${ZITADEL_OIDC_VERSION:?set by the Makefile}"
: "${OIDC_PROVIDER:?set by the Makefile}"

[ -x "$OIDC_PROVIDER" ] && exit 0

repo=$(cd "$(dirname "$0")/.." && pwd)
pinned=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/zitadel/oidc/v3)
if [ "$pinned" != "$ZITADEL_OIDC_VERSION" ]; then
	echo "go.mod requires github.com/zitadel/oidc/v3 $pinned, the Makefile pins $ZITADEL_OIDC_VERSION: make them agree" >&2
	exit 1
fi

mkdir -p "$(dirname "$OIDC_PROVIDER")"
echo "building the OIDC provider (zitadel/oidc ${ZITADEL_OIDC_VERSION}) into $OIDC_PROVIDER" >&2
start=$SECONDS
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OIDC_PROVIDER.tmp" ./hack/oidc-provider)
mv "$OIDC_PROVIDER.tmp" "$OIDC_PROVIDER"
echo "built the OIDC provider in $((SECONDS - start))s" >&2

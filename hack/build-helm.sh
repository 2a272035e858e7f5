#!/usr/bin/env bash
# Builds helm from source (through the Go module proxy, never a prebuilt
# download) and caches it by version: $HELM, by default
# $GOLIVE_CACHE/tools/helm-<version>. A cached binary is not built again; a
# build goes through a temporary folder and a rename, so an interrupted one
# never leaves a broken binary in the cache.
set -euo pipefail

: "${HELM_VERSION:?set by the Makefile}"
: "${GOLIVE_CACHE:?set by the Makefile}"

helm=${HELM:-$GOLIVE_CACHE/tools/helm-$HELM_VERSION}
[ -x "$helm" ] && exit 0

# The import path carries the major version: helm.sh/helm/v4 for v4.x.y.
major=${HELM_VERSION#v}; major=${major%%.*}
module=helm.sh/helm/v$major

mkdir -p "$(dirname "$helm")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building helm ${HELM_VERSION} into $helm" >&2
start=$SECONDS
# Run outside any module so that no go.mod or go.sum is touched. The version
# is stamped in as helm's own release build does, so `helm version` tells it;
# helm derives its default Kubernetes version from the client-go it was built with.
(cd "$work" && CGO_ENABLED=0 GOBIN="$work/bin" go install -trimpath \
	-ldflags "-s -w -X ${module}/internal/version.version=${HELM_VERSION} -X ${module}/internal/version.gitTreeState=clean" \
	"${module}/cmd/helm@${HELM_VERSION}")
mv "$work/bin/helm" "$helm.tmp"
mv "$helm.tmp" "$helm"
echo "built helm in $((SECONDS - start))s" >&2

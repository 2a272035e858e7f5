#!/usr/bin/env bash
# Builds the Argo Rollouts controller (cmd/rollouts-controller) from source,
# through the Go module proxy, never a prebuilt download, and caches it by
# version: $ARGO_ROLLOUTS, by default
# $GOLIVE_CACHE/tools/argo-rollouts-<version>. Its CRDs and its ClusterRole
# are copied next to it, into $ARGO_ROLLOUTS-manifests/, from the module's
# manifests/crds and manifests/role. `make bench` runs it out of cluster as
# golive's peer; no test needs it.
#
# The module's go.mod has replace directives, so `go install pkg@version`
# refuses it: the module's source is copied out of the module cache into a
# temporary folder and built there. It asks for a newer Go than some machines
# have (go 1.26.10 for v1.10.2), so the build lets the go command fetch that
# toolchain through the proxy ($ARGO_ROLLOUTS_GOTOOLCHAIN). The controller
# embeds no UI (only the dashboard server of the kubectl plugin does), so
# nothing of ui/ is built. A cached binary is not built again; a build ends
# with a rename, so an interrupted one never leaves a broken binary.
set -euo pipefail

: "${ARGO_ROLLOUTS_VERSION:?set by the Makefile}"
: "${GOLIVE_CACHE:?set by the Makefile}"

argo=${ARGO_ROLLOUTS:-$GOLIVE_CACHE/tools/argo-rollouts-$ARGO_ROLLOUTS_VERSION}
[ -x "$argo" ] && [ -d "$argo-manifests" ] && exit 0

# The toolchain the module's go directive needs, when the local one is older.
export GOTOOLCHAIN=${ARGO_ROLLOUTS_GOTOOLCHAIN:-go1.27.3}
module=github.com/argoproj/argo-rollouts

mkdir -p "$(dirname "$argo")"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "building argo-rollouts ${ARGO_ROLLOUTS_VERSION} into $argo" >&2
start=$SECONDS
# Outside any module, so no go.mod of golive is touched.
dir=$(cd "$work" && go mod download -json "$module@$ARGO_ROLLOUTS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -n "$dir" ] || { echo "go mod download gave no source folder for $module@$ARGO_ROLLOUTS_VERSION" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
# The version is stamped as the project's own Makefile does, so the
# controller logs the version it is.
pkg=$module/utils/version
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath -o "$work/rollouts-controller" \
	-ldflags "-s -w -X $pkg.version=${ARGO_ROLLOUTS_VERSION#v} -X $pkg.gitTag=${ARGO_ROLLOUTS_VERSION} -X $pkg.gitTreeState=clean" \
	./cmd/rollouts-controller)
rm -rf "$argo-manifests.tmp" && mkdir -p "$argo-manifests.tmp"
cp "$work"/src/manifests/crds/*-crd.yaml "$work/src/manifests/role/argo-rollouts-clusterrole.yaml" "$argo-manifests.tmp/"
rm -rf "$argo-manifests" && mv "$argo-manifests.tmp" "$argo-manifests"
mv "$work/rollouts-controller" "$argo.tmp"
mv "$argo.tmp" "$argo"
echo "built argo-rollouts in $((SECONDS - start))s" >&2

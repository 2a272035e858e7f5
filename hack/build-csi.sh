#!/usr/bin/env bash
# Builds the CSI sidecars of the snapshot chain from source (through the Go
# module proxy) and caches them by version in $CSI_DIR, by default
# $GOLIVE_CACHE/csi/snapshotter-<v>-provisioner-<v>/:
#   snapshot-controller, csi-snapshotter   github.com/kubernetes-csi/external-snapshotter/v8
#   csi-provisioner                        github.com/kubernetes-csi/external-provisioner/v6
#   crd/*.yaml                             the VolumeSnapshot CRDs, from
#                                          github.com/kubernetes-csi/external-snapshotter/client/v8
# A binary that is already in the cache is not built again. The project's own
# CSI driver (test/csi) is not cached here: hack/csi.sh builds it from the work tree.
set -euo pipefail

: "${EXTERNAL_SNAPSHOTTER_VERSION:?set by the Makefile}"
: "${EXTERNAL_PROVISIONER_VERSION:?set by the Makefile}"
: "${GOLIVE_CACHE:?set by the Makefile}"

csi_dir=${CSI_DIR:-$GOLIVE_CACHE/csi/snapshotter-${EXTERNAL_SNAPSHOTTER_VERSION}-provisioner-${EXTERNAL_PROVISIONER_VERSION}}
mkdir -p "$csi_dir"

snapshotter_mod=github.com/kubernetes-csi/external-snapshotter/v8
client_mod=github.com/kubernetes-csi/external-snapshotter/client/v8
provisioner_mod=github.com/kubernetes-csi/external-provisioner/v6

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# module_dir MODULE@VERSION: the module's folder in the module cache (downloaded
# if needed). Run outside any module so that no go.mod or go.sum is touched.
module_dir() {
	(cd "$work" && GO111MODULE=on GOFLAGS=-mod=mod go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# copy_module MODULE@VERSION: a writable copy of the module, to build in.
# `go install MODULE/cmd/...@VERSION` refuses modules whose go.mod has replace
# directives, and both sidecar modules have them.
copy_module() {
	local dir dest
	dir=$(module_dir "$1")
	[ -n "$dir" ] || { echo "could not download $1" >&2; exit 1; }
	dest="$work/$(basename "${1%@*}")-src"
	cp -R "$dir" "$dest"
	chmod -R u+w "$dest"
	echo "$dest"
}

# build SRC VERSION NAME...: build ./cmd/NAME of the copied module SRC into the
# cache, each through a temporary file and a rename, so that an interrupted
# build never leaves a broken binary there. Binaries already cached are skipped.
build() {
	local src=$1 version=$2; shift 2
	local name start
	for name in "$@"; do
		[ -x "$csi_dir/$name" ] && continue
		echo "building $name ${version} into $csi_dir" >&2
		start=$SECONDS
		(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
			-ldflags "-s -w -X main.version=${version}" -o "$csi_dir/$name.tmp" "./cmd/$name")
		mv "$csi_dir/$name.tmp" "$csi_dir/$name"
		echo "built $name in $((SECONDS - start))s" >&2
	done
}

if [ ! -x "$csi_dir/snapshot-controller" ] || [ ! -x "$csi_dir/csi-snapshotter" ]; then
	src=$(copy_module "${snapshotter_mod}@${EXTERNAL_SNAPSHOTTER_VERSION}")
	# The module replaces client/v8 with its ./client folder, which is a module
	# of its own and so not in the download: use the published client of the
	# same version instead (the tag is the same commit).
	(cd "$src" && go mod edit -replace "${client_mod}=${client_mod}@${EXTERNAL_SNAPSHOTTER_VERSION}")
	build "$src" "$EXTERNAL_SNAPSHOTTER_VERSION" snapshot-controller csi-snapshotter
fi

if [ ! -x "$csi_dir/csi-provisioner" ]; then
	src=$(copy_module "${provisioner_mod}@${EXTERNAL_PROVISIONER_VERSION}")
	build "$src" "$EXTERNAL_PROVISIONER_VERSION" csi-provisioner
fi

# The VolumeSnapshot CRDs of the same release (the snapshot.storage.k8s.io and
# the groupsnapshot.storage.k8s.io ones; hack/csi.sh installs the former).
if [ ! -f "$csi_dir/crd/.complete" ]; then
	crd_src=$(module_dir "${client_mod}@${EXTERNAL_SNAPSHOTTER_VERSION}")
	[ -n "$crd_src" ] || { echo "could not download ${client_mod}@${EXTERNAL_SNAPSHOTTER_VERSION}" >&2; exit 1; }
	rm -rf "$csi_dir/crd.tmp" "$csi_dir/crd"
	mkdir -p "$csi_dir/crd.tmp"
	cp "$crd_src"/config/crd/*.storage.k8s.io_*.yaml "$csi_dir/crd.tmp/"
	chmod u+w "$csi_dir"/crd.tmp/*.yaml
	touch "$csi_dir/crd.tmp/.complete"
	mv "$csi_dir/crd.tmp" "$csi_dir/crd"
fi

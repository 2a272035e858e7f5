#!/usr/bin/env bash
# Builds the control-plane binaries from source and caches them by version:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd -> $GOLIVE_CACHE/controlplane/<k8s>-etcd-<etcd>/
#   kwok, kwokctl                                                  -> $GOLIVE_CACHE/kwok/<kwok>/
# A binary that is already in the cache is not built again. Prints nothing but
# progress on stderr; the directories are printed by `make print-assets`.
set -euo pipefail

: "${KUBERNETES_VERSION:?set by the Makefile}"
: "${ETCD_VERSION:?set by the Makefile}"
: "${KWOK_VERSION:?set by the Makefile}"
: "${GOLIVE_CACHE:?set by the Makefile}"

repo=$(cd "$(dirname "$0")/.." && pwd)
module="$repo/hack/controlplane"

# The wrapper module pins the versions that are really built; refuse a mismatch
# rather than cache a binary under the wrong name.
grep -q "k8s.io/kubernetes ${KUBERNETES_VERSION}\$" "$module/go.mod" ||
	{ echo "hack/controlplane/go.mod does not require k8s.io/kubernetes ${KUBERNETES_VERSION}" >&2; exit 1; }
grep -q "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}\$" "$module/go.mod" ||
	{ echo "hack/controlplane/go.mod does not require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}" >&2; exit 1; }

cp_dir="$GOLIVE_CACHE/controlplane/${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
kwok_dir="$GOLIVE_CACHE/kwok/${KWOK_VERSION}"
mkdir -p "$cp_dir" "$kwok_dir"

minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
major=${KUBERNETES_VERSION#v}; major=${major%%.*}
version_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	version_ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION}"
	version_ldflags+=" -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
	version_ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

# build NAME PACKAGE [LDFLAGS]: go build into a temporary file and rename it, so
# an interrupted build never leaves a broken binary in the cache.
build() {
	local name=$1 pkg=$2 ldflags=${3:-}
	local out="$cp_dir/$name"
	[ -x "$out" ] && return 0
	echo "building $name (${pkg}) into $cp_dir" >&2
	local start=$SECONDS
	(cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
	mv "$out.tmp" "$out"
	echo "built $name in $((SECONDS - start))s" >&2
}

build etcd ./etcd "-X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$version_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$version_ldflags"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$version_ldflags"
# A kubectl of the same version: the machines' own may be outside the supported skew.
build kubectl k8s.io/kubernetes/cmd/kubectl "$version_ldflags"

for cmd in kwok kwokctl; do
	[ -x "$kwok_dir/$cmd" ] && continue
	echo "building $cmd ${KWOK_VERSION} into $kwok_dir" >&2
	tmp=$(mktemp -d)
	GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/${cmd}@${KWOK_VERSION}"
	mv "$tmp/$cmd" "$kwok_dir/$cmd"
	rmdir "$tmp"
done

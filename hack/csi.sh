#!/usr/bin/env bash
# A real CSI snapshot chain for an existing (kwok) cluster: golive's test CSI
# driver (test/csi) and, out of cluster, csi-provisioner, csi-snapshotter and
# snapshot-controller (built by hack/build-csi.sh). See docs/csi-test-driver.md.
#
#   hack/csi.sh up [NODE...]   install the CRDs and classes, register the driver
#                              on NODE... (default: every Node), start the four
#                              processes and wait until they are up
#   hack/csi.sh down           stop the processes that `up` started
#
# Environment:
#   KUBECONFIG            the cluster's kubeconfig (required for up; an admin one)
#   GOLIVE_CSI_WORK_DIR   pid files, logs, socket and the driver's data
#                         (default: $GOLIVE_CACHE/csi-work)
#   CSI_DIR               the sidecars and the CRDs (set by the Makefile)
#   CONTROLPLANE_DIR      for its kubectl; or set KUBECTL
#   GOLIVE_CSI_DRIVER_BINARY  a prebuilt golive-csi-driver (default: built from this tree)
#   GOLIVE_CSI_LOG_LEVEL  klog verbosity of the sidecars (default 2)
#
# Names: driver csi.golive.dev, StorageClass golive-csi (Immediate binding,
# reclaim Delete), VolumeSnapshotClass golive-csi (deletion Delete), node label
# and topology key topology.csi.golive.dev/node=<node>. A volume's data is the
# directory $GOLIVE_CSI_WORK_DIR/data/volumes/<PV spec.csi.volumeHandle>.
set -Eeuo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
driver_name=csi.golive.dev
class=golive-csi
topology_key="topology.${driver_name}/node"
if [ -n "${GOLIVE_CSI_WORK_DIR:-}" ]; then
	work=$GOLIVE_CSI_WORK_DIR
else
	: "${GOLIVE_CACHE:?set GOLIVE_CSI_WORK_DIR, or run through make}"
	work=$GOLIVE_CACHE/csi-work
fi
socket="$work/csi.sock"
log_level=${GOLIVE_CSI_LOG_LEVEL:-2}
processes=(golive-csi-driver csi-provisioner csi-snapshotter snapshot-controller)

say() { printf '==> %s\n' "$*" >&2; }

# running NAME: the pid of NAME if its pid file names a live process that is
# still NAME (a pid may have been reused since).
running() {
	local pid args
	pid=$(cat "$work/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && args=$(ps -p "$pid" -o args= 2>/dev/null) || return 1
	[[ $args == *"$1"* ]] || return 1
	echo "$pid"
}

# stop: SIGTERM to every process that `up` started, all at once (sidecars
# before the driver they talk to), then wait for each, with SIGKILL after 20 s.
stop() {
	local name pid i deadline
	local pids=()
	for ((i = ${#processes[@]} - 1; i >= 0; i--)); do
		name=${processes[i]}
		if pid=$(running "$name"); then
			kill "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$work/$name.pid"
	done
	deadline=$((SECONDS + 20))
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				echo "process $pid did not stop on SIGTERM; killing it" >&2
				kill -9 "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
	done
	rm -f "$socket"
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local what=$1 timeout=$2; shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out after ${timeout}s waiting for $what" >&2
			return 1
		fi
		sleep 0.5
	done
}

# start NAME LOG_MARKER COMMAND...: run COMMAND in the background with its log
# and pid file in the work dir; wait until the log shows LOG_MARKER, failing
# early if the process dies.
start() {
	local name=$1 marker=$2; shift 2
	local log="$work/$name.log"
	: >"$log"
	nohup "$@" </dev/null >>"$log" 2>&1 &
	echo $! >"$work/$name.pid"
	local deadline=$((SECONDS + 120))
	until grep -q -- "$marker" "$log"; do
		if ! running "$name" >/dev/null; then
			echo "$name exited; the end of $log:" >&2
			tail -n 30 "$log" >&2
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for $name to start; the end of $log:" >&2
			tail -n 30 "$log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "$name is up (pid $(cat "$work/$name.pid"), log $log)" >&2
}

up() {
	: "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster}"
	: "${CSI_DIR:?run through make, or set CSI_DIR to the output of hack/build-csi.sh}"
	local kubectl=${KUBECTL:-${CONTROLPLANE_DIR:?run through make, or set KUBECTL}/kubectl}
	k() { "$kubectl" --kubeconfig "$KUBECONFIG" "$@"; }
	local bin
	for bin in csi-provisioner csi-snapshotter snapshot-controller; do
		[ -x "$CSI_DIR/$bin" ] || { echo "$CSI_DIR/$bin is missing: run make csi" >&2; exit 1; }
	done
	# A unix socket path is limited to 107 bytes.
	if [ ${#socket} -gt 100 ]; then
		echo "the work dir path is too long for a unix socket ($socket); choose a shorter GOLIVE_CSI_WORK_DIR" >&2
		exit 1
	fi

	stop
	# A failed up leaves nothing running behind it.
	trap 'status=$?; trap - ERR; echo "csi.sh up failed; stopping what it started" >&2; stop; exit $status' ERR
	mkdir -p "$work/data"
	work=$(cd "$work" && pwd)
	socket="$work/csi.sock"

	local nodes=("$@")
	if [ ${#nodes[@]} -eq 0 ]; then
		mapfile -t nodes < <(k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
	fi
	[ ${#nodes[@]} -gt 0 ] || { echo "no nodes to register the driver on" >&2; exit 1; }

	# The VolumeGroupSnapshot CRDs too: without them snapshot-controller
	# spends 30 s looking for them before it starts (the driver itself has no
	# group snapshots).
	say "Installing the VolumeSnapshot and VolumeGroupSnapshot CRDs"
	local crds=("$CSI_DIR"/crd/*.storage.k8s.io_*.yaml)
	k apply --server-side --force-conflicts "${crds[@]/#/--filename=}" >&2
	wait_for "the CRDs to be established" 60 k wait --for=condition=Established --timeout=5s \
		crd/volumesnapshotclasses.snapshot.storage.k8s.io \
		crd/volumesnapshotcontents.snapshot.storage.k8s.io \
		crd/volumesnapshots.snapshot.storage.k8s.io \
		crd/volumegroupsnapshotclasses.groupsnapshot.storage.k8s.io \
		crd/volumegroupsnapshotcontents.groupsnapshot.storage.k8s.io \
		crd/volumegroupsnapshots.groupsnapshot.storage.k8s.io

	say "Registering driver $driver_name on ${nodes[*]}"
	# No kubelet runs on kwok's nodes, so do by hand what its CSI plugin
	# registration would: the topology label and the CSINode entry. Without
	# the CSINode the provisioner finds "no available topology".
	local node uid
	for node in "${nodes[@]}"; do
		k label node "$node" --overwrite "${topology_key}=${node}" >&2
		uid=$(k get node "$node" -o jsonpath='{.metadata.uid}')
		k apply --server-side --field-manager golive-csi -f - >&2 <<EOF
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata:
  name: $node
  ownerReferences:
  - {apiVersion: v1, kind: Node, name: $node, uid: $uid}
spec:
  drivers:
  - name: $driver_name
    nodeID: $node
    topologyKeys: [$topology_key]
EOF
	done
	k apply --server-side --field-manager golive-csi -f - >&2 <<EOF
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: $driver_name
spec:
  attachRequired: false
  podInfoOnMount: false
  volumeLifecycleModes: [Persistent]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $class
provisioner: $driver_name
reclaimPolicy: Delete
# Immediate: a PVC is provisioned without waiting for a Pod, which is what a
# backup or restore test wants; the PV's node affinity then steers its Pods.
volumeBindingMode: Immediate
allowVolumeExpansion: false
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: $class
driver: $driver_name
deletionPolicy: Delete
EOF

	local driver=${GOLIVE_CSI_DRIVER_BINARY:-}
	if [ -z "$driver" ]; then
		driver="$work/golive-csi-driver"
		say "Building golive-csi-driver"
		(cd "$repo" && go build -o "$driver.tmp" ./test/csi/cmd/golive-csi-driver)
		mv "$driver.tmp" "$driver"
	fi

	say "Starting the driver and the sidecars (work dir $work)"
	start golive-csi-driver 'msg=serving' \
		"$driver" --endpoint "unix://$socket" --data-root "$work/data" --name "$driver_name"
	wait_for "the driver's socket" 30 test -S "$socket"
	start csi-provisioner 'Started provisioner controller' \
		"$CSI_DIR/csi-provisioner" --csi-address "$socket" --kubeconfig "$KUBECONFIG" \
		--leader-election=false --feature-gates=Topology=true --extra-create-metadata --v="$log_level"
	start csi-snapshotter 'Starting CSI snapshotter' \
		"$CSI_DIR/csi-snapshotter" --csi-address "$socket" --kubeconfig "$KUBECONFIG" \
		--leader-election=false --v="$log_level"
	start snapshot-controller 'Starting snapshot controller' \
		"$CSI_DIR/snapshot-controller" --kubeconfig "$KUBECONFIG" --leader-election=false --v="$log_level"
	say "The CSI chain is up: StorageClass and VolumeSnapshotClass $class, data under $work/data"
}

case "${1:-}" in
up) shift; up "$@" ;;
down) stop ;;
*) echo "usage: $0 up [NODE...] | down" >&2; exit 2 ;;
esac

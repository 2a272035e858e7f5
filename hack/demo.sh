#!/usr/bin/env bash
# The local demo: a kwok cluster whose control plane is the real kube-apiserver,
# kube-controller-manager, kube-scheduler and etcd (built from source by
# hack/build-controlplane.sh), fake nodes, golive's CRDs, RBAC and admission
# policy, golive running out of cluster as its own ServiceAccount, and the samples.
#
#   hack/demo.sh up     start everything (idempotent: an existing demo is replaced)
#   hack/demo.sh down   stop golive and delete the cluster
set -euo pipefail

: "${CONTROLPLANE_DIR:?run through make}"
: "${KWOK_DIR:?run through make}"
: "${GOLIVE_CACHE:?run through make}"
: "${KUBERNETES_VERSION:?run through make}"

repo=$(cd "$(dirname "$0")/.." && pwd)
cluster=${GOLIVE_DEMO_CLUSTER:-golive-demo}
demo_dir=${GOLIVE_DEMO_DIR:-$GOLIVE_CACHE/demo}
kubeconfig="$demo_dir/kubeconfig"
golive_kubeconfig="$demo_dir/golive.kubeconfig"
kwokctl="$KWOK_DIR/kwokctl"
export KWOK_KUBE_VERSION=$KUBERNETES_VERSION
# kubectl of the cluster's own version, built with the control plane.
kubectl=${KUBECTL:-$CONTROLPLANE_DIR/kubectl}
export KWOK_KUBECTL_BINARY=$kubectl

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }

down() {
	if [ -f "$demo_dir/golive.pid" ]; then
		kill "$(cat "$demo_dir/golive.pid")" 2>/dev/null || true
		rm -f "$demo_dir/golive.pid"
	fi
	if "$kwokctl" get clusters 2>/dev/null | grep -qx "$cluster"; then
		"$kwokctl" delete cluster --v=WARN --name "$cluster" --kubeconfig "$kubeconfig" >&2
	fi
	rm -rf "$demo_dir"
}

# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds, for at most 120 s.
wait_for() {
	local what=$1; shift
	local deadline=$((SECONDS + 120))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out waiting for $what" >&2
			return 1
		fi
		sleep 1
	done
}

up() {
	down
	mkdir -p "$demo_dir"

	say "Starting cluster $cluster: kube-apiserver, kube-controller-manager, kube-scheduler $KUBERNETES_VERSION, etcd, kwok"
	"$kwokctl" create cluster --v=WARN --name "$cluster" --runtime binary \
		--kubeconfig "$kubeconfig" \
		--kube-authorization \
		--etcd-binary "$CONTROLPLANE_DIR/etcd" \
		--kube-apiserver-binary "$CONTROLPLANE_DIR/kube-apiserver" \
		--kube-controller-manager-binary "$CONTROLPLANE_DIR/kube-controller-manager" \
		--kube-scheduler-binary "$CONTROLPLANE_DIR/kube-scheduler" \
		--kwok-controller-binary "$KWOK_DIR/kwok" \
		--wait 2m
	k version

	say "Adding fake nodes (kwok plays their kubelets)"
	for node in kwok-node-0 kwok-node-1; do
		k apply -f - <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $node
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
	done
	wait_for "nodes to be Ready" k wait --for=condition=Ready node --all --timeout=5s
	k get nodes

	say "Installing golive: CRDs, RBAC, admission policy"
	k create namespace golive-system
	k apply --server-side -k "$repo/config/crd"
	wait_for "the CRDs to be established" \
		k wait --for=condition=Established crd/updaterequests.golive.dev crd/golivewindows.golive.dev --timeout=5s
	k apply --server-side -k "$repo/config/rbac"
	k apply --server-side -k "$repo/config/admission"

	say "Starting golive out of cluster, as its ServiceAccount golive-system/golive (impersonated)"
	cp "$kubeconfig" "$golive_kubeconfig"
	user=$("$kubectl" --kubeconfig "$golive_kubeconfig" config view --minify -o jsonpath='{.contexts[0].context.user}')
	"$kubectl" --kubeconfig "$golive_kubeconfig" config set-credentials "$user" \
		--as system:serviceaccount:golive-system:golive \
		--as-group system:serviceaccounts --as-group system:serviceaccounts:golive-system --as-group system:authenticated >/dev/null
	(cd "$repo" && go build -o "$demo_dir/golive" ./cmd)
	KUBECONFIG="$golive_kubeconfig" nohup "$demo_dir/golive" \
		--leader-elect --leader-election-namespace golive-system \
		--metrics-bind-address 127.0.0.1:18080 --metrics-secure=false \
		--health-probe-bind-address 127.0.0.1:18081 \
		>"$demo_dir/golive.log" 2>&1 &
	echo $! >"$demo_dir/golive.pid"
	wait_for "golive to be ready" curl -fsS http://127.0.0.1:18081/readyz
	wait_for "golive to lead" k -n golive-system get lease golive.golive.dev
	echo "golive is ready; its log: $demo_dir/golive.log"

	say "Applying the samples: namespaces billing and billing-grey (opted in as its grey twin)"
	k apply --server-side -f "$repo/config/samples/namespaces.yaml"

	say "Deploying the billing app to both; the real controllers and the scheduler roll it out onto kwok nodes"
	for ns in billing billing-grey; do
		k -n "$ns" apply --server-side -f "$repo/config/samples/billing-app.yaml"
	done
	for ns in billing billing-grey; do
		k -n "$ns" rollout status deployment/billing-api --timeout=120s
		k -n "$ns" rollout status statefulset/billing-db --timeout=120s
	done
	k get pods -A -l app=billing -o wide

	say "Applying a GoLiveWindow and an UpdateRequest"
	k apply --server-side -f "$repo/config/samples/golive_v1alpha1_golivewindow.yaml"
	k apply --server-side -f "$repo/config/samples/golive_v1alpha1_updaterequest.yaml"

	say "Admission refuses bad input, naming the field and the reason"
	refused() {
		if k apply --server-side --dry-run=server -f - 2>&1; then
			echo "unexpected: the API server accepted it" >&2
			exit 1
		fi
	}
	echo "A request that stages into its own namespace:"
	refused <<'BAD'
apiVersion: golive.dev/v1alpha1
kind: UpdateRequest
metadata: {name: bad, namespace: billing}
spec:
  release: "1"
  targets: [{kind: Deployment, name: billing-api, images: {api: "api:1"}}]
  staging: {namespace: billing}
  approvals: {required: [{role: rnd-lead}]}
  window: {name: thursday-evening}
BAD
	echo "A soak written in days:"
	refused <<'BAD'
apiVersion: golive.dev/v1alpha1
kind: UpdateRequest
metadata: {name: bad, namespace: billing}
spec:
  release: "1"
  targets: [{kind: Deployment, name: billing-api, images: {api: "api:1"}}]
  staging: {namespace: billing-grey, soak: 2d}
  approvals: {required: [{role: rnd-lead}]}
  window: {name: thursday-evening}
BAD

	wait_for "golive to evaluate the window" \
		bash -c "[ -n \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get glw thursday-evening -o jsonpath='{.status.nextOpen}')\" ]"

	say "What is in the cluster"
	k get ur,glw -A
	wait_for "golive to evaluate the request" \
		bash -c "[ -n \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get ur billing-2-4-0 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}')\" ]"
	echo
	echo "Why the sample request waits (Ready condition):"
	k -n billing get ur billing-2-4-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}{"\n"}'
	k explain updaterequest.spec

	cat <<DONE

The demo cluster is up. Look around with:
  export KUBECONFIG=$kubeconfig
  export PATH=$CONTROLPLANE_DIR:\$PATH    # kubectl $KUBERNETES_VERSION
  kubectl get ur,glw -A
  kubectl explain updaterequest.spec --recursive
  tail -f $demo_dir/golive.log
Stop it with:
  make demo-down
DONE
}

case "${1:-}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

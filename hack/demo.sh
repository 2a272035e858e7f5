#!/usr/bin/env bash
# The local demo: the whole life of two releases of the billing app on a local
# cluster (see docs/demo.md). A kwok cluster whose control plane is the real
# kube-apiserver, kube-controller-manager, kube-scheduler and etcd (built from
# source by hack/build-controlplane.sh), fake nodes, the CSI snapshot chain of
# hack/csi.sh, golive's CRDs, RBAC, admission policy and admission webhooks,
# and golive running out of cluster as its own ServiceAccount; the local OIDC
# provider (hack/oidc-provider), whose ID tokens the kube-apiserver trusts
# (--authentication-config), and the approver console (golive console) that
# logs people in through it. Then:
#   the organisation's rules: the sample GoLivePolicy of procedure 004 and
#   config/demo/policy.yaml, the same rules at demo speed, for billing;
#   release 2.4.0: refused without its test report, then admitted; staging,
#   verification, two approvals with comments, bob's and carol's made through
#   the console (the requester's own and one without a comment are refused
#   with kubectl), the notice lead, the supervisor's go (the
#   requester's own is refused), backup (quiesce, VolumeSnapshot), production,
#   verification, acceptance -> Succeeded;
#   release 2.5.0: new settings (a ConfigMap golive copies) and a schema
#   migration Job, run in staging and, after the backup and a dump Job, in
#   production, where it writes into the database volume; it fails its
#   verification -> RolledBack, workloads, configuration and data: the restore
#   Job runs, the restored claim holds the data from before, billing-api reads
#   the previous ConfigMap, the failed version's volume is kept.
#
#   hack/demo.sh up     start everything and tell the story (an existing demo is replaced)
#   hack/demo.sh down   stop golive and the CSI chain, delete the cluster
set -euo pipefail

: "${CONTROLPLANE_DIR:?run through make}"
: "${KWOK_DIR:?run through make}"
: "${GOLIVE_CACHE:?run through make}"
: "${KUBERNETES_VERSION:?run through make}"
: "${OIDC_PROVIDER:?run through make}"

repo=$(cd "$(dirname "$0")/.." && pwd)
cluster=${GOLIVE_DEMO_CLUSTER:-golive-demo}
demo_dir=${GOLIVE_DEMO_DIR:-$GOLIVE_CACHE/demo}
kubeconfig="$demo_dir/kubeconfig"
golive_kubeconfig="$demo_dir/golive.kubeconfig"
# The CSI driver's pid files, logs, socket and data (data/volumes/<handle>/).
csi_work="$demo_dir/csi"
kwokctl="$KWOK_DIR/kwokctl"
export KWOK_KUBE_VERSION=$KUBERNETES_VERSION
# kubectl of the cluster's own version, built with the control plane.
kubectl=${KUBECTL:-$CONTROLPLANE_DIR/kubectl}
export KWOK_KUBECTL_BINARY=$kubectl
# golive's ports on localhost: webhooks (the API server calls them), metrics,
# probes; and the port release 2.5.0's health check probes, where nothing may listen.
webhook_port=9443
metrics_port=18080
probe_port=18081
unhealthy_port=18082
# The OIDC provider (https, a certificate of its own in $oidc_dir) and the
# console (http on 127.0.0.1), where people log in with demo_password.
oidc_port=18443
console_port=18090
oidc_dir="$demo_dir/oidc"
issuer="https://127.0.0.1:$oidc_port"
console_url="http://127.0.0.1:$console_port"
demo_password=golive-demo

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }
csi() { GOLIVE_CSI_WORK_DIR="$csi_work" KUBECONFIG="$kubeconfig" KUBECTL="$kubectl" "$repo/hack/csi.sh" "$@"; }

# The people of the story, as the API server sees them (kubectl impersonation
# by the cluster admin): alice requests releases and, as an R&D lead, holds the
# role rnd-lead too; bob (rnd-lead), carol (operations-office), erin
# (business-owner) and sam (operations-supervisor, who says go) are bound by
# config/samples/approval_roles_rbac.yaml.
declare -A person_user=([alice]=alice@example.com [bob]=bob@example.com [carol]=carol@example.com [erin]=erin@example.com [sam]=sam@example.com)
declare -A person_groups=([alice]=billing-rnd-leads [bob]=billing-rnd-leads [carol]= [erin]= [sam]=)
as() {
	local person=$1; shift
	local args=(--as "${person_user[$person]}") group
	for group in ${person_groups[$person]}; do
		args+=(--as-group "$group")
	done
	k "${args[@]}" "$@"
}

# may PERSON VERB RESOURCE [NAME]: yes or no, whether PERSON may VERB the
# golive.dev RESOURCE (NAME) in billing, asked with a SubjectAccessReview.
may() {
	local person=$1 verb=$2 resource=$3 name=${4:-} groups=system:authenticated group allowed
	for group in ${person_groups[$person]}; do
		groups+=", $group"
	done
	allowed=$(k create -o jsonpath='{.status.allowed}' -f - <<SAR
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: ${person_user[$person]}
  groups: [$groups]
  resourceAttributes: {namespace: billing, verb: $verb, group: golive.dev, resource: $resource, name: "$name"}
SAR
	)
	if [ "$allowed" = true ]; then echo yes; else echo no; fi
}

# demo_pid NAME COMMAND: the pid of NAME (golive, console, oidc-provider)
# this demo started, if it still runs COMMAND.
demo_pid() {
	local pid
	pid=$(cat "$demo_dir/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [[ $(ps -p "$pid" -o args= 2>/dev/null) == "$2 "* ]] || return 1
	echo "$pid"
}

# stop NAME COMMAND: stop what demo_pid finds, SIGKILL after 20 s.
stop() {
	local pid deadline
	if pid=$(demo_pid "$1" "$2"); then
		kill "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				echo "$1 (pid $pid) did not stop on SIGTERM; killing it" >&2
				kill -9 "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.2
		done
	fi
	rm -f "$demo_dir/$1.pid"
}

down() {
	stop console "$demo_dir/golive console"
	stop golive "$demo_dir/golive"
	if [ -d "$csi_work" ]; then
		csi down
	fi
	# Read the list first: with pipefail, grep -q leaving early would fail the pipe.
	local clusters
	clusters=$("$kwokctl" get clusters 2>/dev/null || true)
	if grep -qx "$cluster" <<<"$clusters"; then
		"$kwokctl" delete cluster --v=WARN --name "$cluster" --kubeconfig "$kubeconfig" >&2
	fi
	stop oidc-provider "$OIDC_PROVIDER"
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

# fail MESSAGE: stop the demo loudly; on_exit says where things are.
fail() {
	printf '\n\033[1;31mDEMO FAILED: %s\033[0m\n' "$*" >&2
	exit 1
}

# on_exit: after a failure of up, show the end of golive's log and leave the
# cluster up to look at.
on_exit() {
	local status=$1
	[ "$status" -ne 0 ] || return 0
	{
		printf '\n\033[1;31mThe demo stopped (exit %s).\033[0m\n' "$status"
		if [ -f "$demo_dir/golive.log" ]; then
			echo "The end of golive's log ($demo_dir/golive.log):"
			tail -n 20 "$demo_dir/golive.log"
		fi
		if [ -f "$demo_dir/console.log" ]; then
			echo "The end of the console's log ($demo_dir/console.log):"
			tail -n 10 "$demo_dir/console.log"
		fi
		echo "The cluster is left up to look at (export KUBECONFIG=$kubeconfig); make demo-down removes it."
	} >&2
}

# listening PORT: whether something accepts connections on localhost:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ur_field REQUEST JSONPATH: one field of an UpdateRequest in billing.
ur_field() { k -n billing get ur "$1" -o jsonpath="$2"; }

# timeline_of REQUEST: its status.timeline, an entry a line: time, phase,
# actor, event and message, separated by tabs.
timeline_of() {
	ur_field "$1" '{range .status.timeline[*]}{.at}{"\t"}{.phase}{"\t"}{.actor}{"\t"}{.event}{"\t"}{.message}{"\n"}{end}'
}

# print_timeline: timeline entries (as timeline_of writes them) as a table.
print_timeline() {
	local at phase actor event message
	while IFS=$'\t' read -r at phase actor event message; do
		[ -n "$at" ] || continue
		at=${at#*T}
		printf '  %s  \033[1m%-18s\033[0m %-19s %s' "${at%Z}" "$phase" "$event" "$message"
		[ -z "$actor" ] || [ "$actor" = golive ] || printf '  (by %s)' "$actor"
		printf '\n'
	done
}

# Where follow has got to, per request: timeline entries printed, the last
# Ready message printed.
declare -A followed_entries=() followed_ready=()

# follow REQUEST PHASE...: tell the request's story as it happens, until it is
# in one of PHASE...: each new entry of status.timeline (every phase change,
# with who caused it and why) and each new message of its Ready condition,
# polled every second. Fails loudly when the request ends in another phase,
# goes past PHASE..., or takes longer than $follow_timeout seconds.
follow_timeout=300
phases=(Pending Staging VerifyingStaging Soaking AwaitingApproval Scheduled AwaitingGo BackingUp Updating Verifying
	AwaitingAcceptance Succeeded Failed RollingBack RolledBack Rejected Aborted)
phase_index() {
	local i
	for i in "${!phases[@]}"; do
		[ "${phases[i]}" != "$1" ] || { echo "$i"; return; }
	done
	echo -1
}
follow() {
	local name=$1; shift
	local deadline=$((SECONDS + follow_timeout))
	local state phase ready timeline entries last wanted latest=-1
	for wanted in "$@"; do
		latest=$(( $(phase_index "$wanted") > latest ? $(phase_index "$wanted") : latest ))
	done
	while :; do
		# One read, so that phase, Ready and timeline belong together.
		state=$(ur_field "$name" '{.status.phase}{"\n"}{.status.conditions[?(@.type=="Ready")].message}{"\n"}{range .status.timeline[*]}{.at}{"\t"}{.phase}{"\t"}{.actor}{"\t"}{.event}{"\t"}{.message}{"\n"}{end}') || state=
		phase=$(sed -n 1p <<<"$state")
		ready=$(sed -n 2p <<<"$state")
		timeline=$(sed -n '3,$p' <<<"$state" | grep . || true)
		entries=$(grep -c . <<<"$timeline" || true)
		tail -n "+$((${followed_entries[$name]:-0} + 1))" <<<"$timeline" | print_timeline
		followed_entries[$name]=$entries
		last=$(tail -n 1 <<<"$timeline" | cut -f 5)
		if [ -n "$ready" ] && [ "$ready" != "${followed_ready[$name]:-}" ] && [ "$ready" != "$last" ]; then
			printf '  %8s  %-18s \033[2mReady: %s\033[0m\n' "" "$phase" "$ready"
		fi
		followed_ready[$name]=$ready
		for wanted in "$@"; do
			[ "$phase" != "$wanted" ] || return 0
		done
		case $phase in
		Succeeded | Failed | RolledBack | Rejected | Aborted)
			fail "$name ended $phase, expected $*: $ready"
			;;
		esac
		if [ "$(phase_index "$phase")" -gt "$latest" ]; then
			fail "$name went on to $phase, expected $*: $ready"
		fi
		if [ $SECONDS -ge $deadline ]; then
			fail "$name is still $phase after ${follow_timeout}s, expected $*: $ready"
		fi
		sleep 1
	done
}

# approve PERSON REQUEST ROLE COMMENT: give an approval as PERSON and show the
# ledger entry golive's webhook made of it.
approve() {
	local person=$1 name=$2 role=$3 comment=$4
	echo "\$ kubectl annotate ur $name -n billing golive.dev/approve=\"$role; $comment\" --as ${person_user[$person]}"
	as "$person" -n billing annotate ur "$name" "golive.dev/approve=$role; $comment"
	show_ledger_entry "$person" "$name" "$role"
}

# approve_in_console PERSON REQUEST ROLE COMMENT: PERSON opens the console,
# logs in at the OIDC provider, opens the request's page and approves with a
# comment (hack/consoledriver does what a browser does); the console calls the
# API server with PERSON's own ID token, so the webhook signs PERSON.
approve_in_console() {
	local person=$1 name=$2 role=$3 comment=$4 confirmation
	echo "# ${person_user[$person]} opens $console_url/requests/billing/$name, logs in at $issuer and approves as $role: \"$comment\""
	confirmation=$("$demo_dir/consoledriver" --console "$console_url" --issuer "$issuer" --issuer-ca-file "$oidc_dir/ca.crt" \
		--user "${person_user[$person]}" --password-file "$oidc_dir/password" \
		--request "billing/$name" --action approve --role "$role" --comment "$comment" 2>&1) ||
		fail "${person_user[$person]}'s approval through the console failed: $confirmation"
	note "the console says: $confirmation"
	show_ledger_entry "$person" "$name" "$role"
}

# show_ledger_entry PERSON REQUEST ROLE: check that the last ledger entry of
# REQUEST is PERSON's approval as ROLE and show it.
show_ledger_entry() {
	local person=$1 name=$2 role=$3
	local ledger
	ledger=$(ur_field "$name" '{.metadata.annotations.golive\.dev/ledger}')
	[[ $ledger == *"\"user\":\"${person_user[$person]}\""*"\"role\":\"$role\""* ]] ||
		fail "no ledger entry of ${person_user[$person]} for $role in $name: $ledger"
	[ -z "$(ur_field "$name" '{.metadata.annotations.golive\.dev/approve}')" ] ||
		fail "the approve annotation was not turned into a ledger entry"
	note "the webhook turned it into a signed ledger entry (annotation golive.dev/ledger; the command annotation is gone):"
	local entry=${ledger##*\},}
	entry=${entry#[}
	note "${entry%]}"
}

# go_ahead PERSON REQUEST COMMENT: say go as PERSON (golive.dev/go, what
# `kubectl golive go` sets) and show the ledger entry golive's webhook made of it.
go_ahead() {
	local person=$1 name=$2 comment=$3
	echo "\$ kubectl golive go $name -n billing --comment \"$comment\" --as ${person_user[$person]}"
	as "$person" -n billing annotate ur "$name" "golive.dev/go=$comment"
	local ledger
	ledger=$(ur_field "$name" '{.metadata.annotations.golive\.dev/ledger}')
	[[ $ledger == *"\"action\":\"go\""* && $ledger == *"\"user\":\"${person_user[$person]}\""* ]] ||
		fail "no go of ${person_user[$person]} in the ledger of $name: $ledger"
	local entry=${ledger##*\},}
	entry=${entry#[}
	note "signed into the ledger: ${entry%]}"
}

# show_approvals REQUEST: the approvals the controller counted (status.approvals).
show_approvals() {
	wait_for "golive to count the approvals of $1" \
		bash -c "[ \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get ur $1 -o jsonpath='{.status.approvalSummary}')\" = 2/2 ]"
	note "golive counted them (status.approvals, column APPROVALS $(ur_field "$1" '{.status.approvalSummary}')):"
	ur_field "$1" '{range .status.approvals[*]}{"      "}{.at}{"  "}{.role}{"  "}{.user}{"  \""}{.comment}{"\"\n"}{end}'
}

# volume_dir CLAIM: the directory that holds the data of the claim in billing:
# claim -> PersistentVolume -> spec.csi.volumeHandle -> the driver's data root.
volume_dir() {
	local volume handle
	volume=$(k -n billing get pvc "$1" -o jsonpath='{.spec.volumeName}')
	handle=$(k get pv "$volume" -o jsonpath='{.spec.csi.volumeHandle}')
	[ -n "$handle" ] || fail "claim $1 has no CSI volume"
	echo "$csi_work/data/volumes/$handle"
}

checksum() { sha256sum "$1" | cut -d' ' -f1; }

# webhook_client_auth DIR: a CA and a client certificate of it (CN
# kube-apiserver-webhook-client) that the kube-apiserver presents to golive's
# webhooks at localhost:$webhook_port, configured as docs/security.md says;
# golive trusts DIR/ca.crt (--webhook-client-ca) and serves nobody else.
# Prints the kube-apiserver's admission configuration file.
webhook_client_auth() {
	local dir=$1
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj /CN=golive-demo-webhook-client-ca -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=kube-apiserver-webhook-client -keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
	openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
		-extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n') -out "$dir/client.crt" 2>/dev/null
	cat >"$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
users:
- name: localhost:$webhook_port
  user:
    client-certificate: $dir/client.crt
    client-key: $dir/client.key
KUBECONFIG
	cat >"$dir/admission.yaml" <<ADMISSION
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/kubeconfig
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $dir/kubeconfig
ADMISSION
	echo "$dir/admission.yaml"
}

up() {
	down
	mkdir -p "$demo_dir"
	trap 'on_exit $?' EXIT
	local started=$SECONDS

	say "Starting the OIDC provider at $issuer (hack/oidc-provider on zitadel/oidc): the people log in there"
	for port in $oidc_port $console_port; do
		if listening "$port"; then
			fail "something already listens on localhost:$port, which the OIDC provider or the console needs"
		fi
	done
	mkdir -p "$oidc_dir"
	echo "$demo_password" >"$oidc_dir/password"
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$oidc_dir/client-secret"
	# It writes a self-signed certificate (ca.crt) and the kube-apiserver's
	# AuthenticationConfiguration trusting its ID tokens for the console's client.
	nohup "$OIDC_PROVIDER" --address "127.0.0.1:$oidc_port" \
		--cert-file "$oidc_dir/ca.crt" --key-file "$oidc_dir/ca.key" \
		--users alice@example.com,bob@example.com,carol@example.com,erin@example.com,sam@example.com \
		--password-file "$oidc_dir/password" \
		--client-id golive-console --client-secret-file "$oidc_dir/client-secret" \
		--redirect-url "$console_url/callback" \
		--authentication-config "$oidc_dir/authentication-config.yaml" \
		</dev/null >"$oidc_dir/provider.log" 2>&1 &
	echo $! >"$demo_dir/oidc-provider.pid"
	wait_for "the OIDC provider to serve" curl -fsS --cacert "$oidc_dir/ca.crt" "$issuer/.well-known/openid-configuration"
	note "users alice, bob, carol, erin, sam @example.com; the ID token's sub is the user name the API server sees"

	say "Starting cluster $cluster: kube-apiserver, kube-controller-manager, kube-scheduler $KUBERNETES_VERSION, etcd, kwok"
	# The kube-apiserver authenticates to golive's webhooks with a client certificate.
	local admission_config
	admission_config=$(webhook_client_auth "$demo_dir/webhook-client")
	"$kwokctl" create cluster --v=WARN --name "$cluster" --runtime binary \
		--kubeconfig "$kubeconfig" \
		--extra-args "kube-apiserver=admission-control-config-file=$admission_config" \
		--extra-args "kube-apiserver=authentication-config=$oidc_dir/authentication-config.yaml" \
		--kube-authorization \
		--etcd-binary "$CONTROLPLANE_DIR/etcd" \
		--kube-apiserver-binary "$CONTROLPLANE_DIR/kube-apiserver" \
		--kube-controller-manager-binary "$CONTROLPLANE_DIR/kube-controller-manager" \
		--kube-scheduler-binary "$CONTROLPLANE_DIR/kube-scheduler" \
		--kwok-controller-binary "$KWOK_DIR/kwok" \
		--wait 2m
	k version
	note "the kube-apiserver trusts the provider's ID tokens for the client golive-console (--authentication-config $oidc_dir/authentication-config.yaml: issuer, its CA, username claim sub)"

	say "Adding fake nodes (kwok plays their kubelets: pods run, Job pods complete)"
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

	say "Starting the CSI snapshot chain: golive's test CSI driver, csi-provisioner, csi-snapshotter, snapshot-controller"
	csi up
	k get storageclass,volumesnapshotclass

	say "Installing golive: CRDs, RBAC, admission policy, admission webhooks (calling https://localhost:$webhook_port)"
	k create namespace golive-system
	k apply --server-side -k "$repo/config/crd"
	wait_for "the CRDs to be established" \
		k wait --for=condition=Established crd/updaterequests.golive.dev crd/golivewindows.golive.dev --timeout=5s
	k apply --server-side -k "$repo/config/rbac"
	k apply --server-side -k "$repo/config/admission"
	k apply --server-side -k "$repo/config/demo/webhook"

	say "Starting golive out of cluster, as its ServiceAccount golive-system/golive (with a token of it)"
	# A token of the ServiceAccount, so that the API server, its RBAC and the
	# admission policies see golive as in a cluster (kubectl's --as would only
	# impersonate kubectl's own calls, not golive's).
	cp "$kubeconfig" "$golive_kubeconfig"
	token=$(k -n golive-system create token golive --duration 24h)
	"$kubectl" --kubeconfig "$golive_kubeconfig" config set-credentials golive --token "$token" >/dev/null
	"$kubectl" --kubeconfig "$golive_kubeconfig" config set-context --current --user golive >/dev/null
	(cd "$repo" && go build -o "$demo_dir/golive" ./cmd && go build -o "$demo_dir/kubectl-golive" ./cmd/kubectl-golive &&
		go build -o "$demo_dir/consoledriver" ./hack/consoledriver)
	for port in $webhook_port $metrics_port $probe_port; do
		if listening "$port"; then
			fail "something already listens on localhost:$port, which golive needs"
		fi
	done
	# --egress-allow 127.0.0.1/32: release 2.5.0's health check probes this
	# machine, whose loopback golive's egress policy refuses unless listed.
	# --webhook-dns-names=localhost: the self-signed serving certificate is
	# issued for localhost too, and golive injects its CA into the two webhook
	# configurations of config/demo/webhook (named as golive expects them).
	KUBECONFIG="$golive_kubeconfig" nohup "$demo_dir/golive" \
		--leader-elect --leader-election-namespace golive-system \
		--metrics-bind-address "127.0.0.1:$metrics_port" --metrics-secure=false \
		--health-probe-bind-address "127.0.0.1:$probe_port" \
		--webhook-port "$webhook_port" --webhook-dns-names=localhost \
		--webhook-cert-dir "$demo_dir/webhook-certs" \
		--webhook-client-ca "$demo_dir/webhook-client/ca.crt" \
		--egress-allow 127.0.0.1/32 \
		</dev/null >"$demo_dir/golive.log" 2>&1 &
	echo $! >"$demo_dir/golive.pid"
	wait_for "golive to be ready, webhooks served" curl -fsS "http://127.0.0.1:$probe_port/readyz"
	wait_for "golive to lead" k -n golive-system get lease golive.golive.dev
	for config in mutatingwebhookconfiguration/golive-mutating-webhook-configuration \
		validatingwebhookconfiguration/golive-validating-webhook-configuration; do
		wait_for "golive to inject its CA into $config" \
			bash -c "[ -n \"\$('$kubectl' --kubeconfig '$kubeconfig' get $config -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" ]"
	done
	echo "golive is ready (pid $(cat "$demo_dir/golive.pid")); its log: $demo_dir/golive.log"
	k get mutatingwebhookconfigurations,validatingwebhookconfigurations \
		-o custom-columns='NAME:.metadata.name,WEBHOOKS:.webhooks[*].name,URLS:.webhooks[*].clientConfig.url'
	note "golive's CA is in both (clientConfig.caBundle); its certificate is issued for localhost too"

	say "Starting the approver console (golive console) at $console_url"
	# The admin kubeconfig only tells the console where the API server is: it
	# drops those credentials and calls it with the logged-in person's ID token.
	KUBECONFIG="$kubeconfig" nohup "$demo_dir/golive" console \
		--bind-address 127.0.0.1 --port "$console_port" --insecure-cookies \
		--issuer "$issuer" --issuer-ca-file "$oidc_dir/ca.crt" \
		--client-id golive-console --client-secret-file "$oidc_dir/client-secret" \
		--redirect-url "$console_url/callback" --namespaces billing \
		</dev/null >"$demo_dir/console.log" 2>&1 &
	echo $! >"$demo_dir/console.pid"
	wait_for "the console to serve" curl -fsS "$console_url/healthz"
	note "open $console_url and log in as bob@example.com, carol@example.com, alice@example.com, ... with the password $demo_password"
	if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null; then
		xdg-open "$console_url" >/dev/null 2>&1 || true
	fi

	say "The billing app in billing (production) and billing-grey (its grey twin, opted in by a label)"
	k apply --server-side -f "$repo/config/samples/namespaces.yaml"
	for ns in billing billing-grey; do
		k -n "$ns" apply --server-side -f "$repo/config/samples/billing-app.yaml"
	done
	for ns in billing billing-grey; do
		k -n "$ns" rollout status deployment/billing-api --timeout=120s
		k -n "$ns" rollout status statefulset/billing-db --timeout=120s
	done
	wait_for "the database claim in billing to be bound" \
		bash -c "[ \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get pvc data-billing-db-0 -o jsonpath='{.status.phase}')\" = Bound ]"
	k get pods,pvc -n billing -o wide
	k get pods,pvc -n billing-grey

	say "Who may do what: alice requests releases; bob (rnd-lead) and carol (operations-office) approve; erin (business-owner) accepts; sam (operations-supervisor) says go"
	k apply --server-side -f "$repo/config/samples/approval_roles_rbac.yaml" >/dev/null
	k apply --server-side -f "$repo/config/demo/people.yaml" >/dev/null
	# Asked as golive's webhook asks: a SubjectAccessReview. (kubectl auth can-i
	# cannot ask about approvalroles.golive.dev: the API server serves no such
	# resource, so kubectl drops its group and the answer is always no.)
	printf '    %-18s %-8s %-10s %-19s %-16s %s\n' "" create "approve as" "" "" ""
	printf '    %-18s %-8s %-10s %-19s %-16s %s\n' "" requests rnd-lead operations-office business-owner operations-supervisor
	for person in alice bob carol erin sam; do
		printf '    %-18s %-8s %-10s %-19s %-16s %s\n' "${person_user[$person]}" \
			"$(may "$person" create updaterequests)" \
			"$(may "$person" approve approvalroles rnd-lead)" \
			"$(may "$person" approve approvalroles operations-office)" \
			"$(may "$person" approve approvalroles business-owner)" \
			"$(may "$person" approve approvalroles operations-supervisor)"
	done

	say "Admission refuses bad input, naming the field and the reason"
	refused() {
		if k apply --server-side --dry-run=server -f - 2>&1; then
			fail "the API server accepted a request it should refuse"
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
  window: {name: demo-now}
BAD
	echo "A soak of 100 days:"
	refused <<'BAD'
apiVersion: golive.dev/v1alpha1
kind: UpdateRequest
metadata: {name: bad, namespace: billing}
spec:
  release: "1"
  targets: [{kind: Deployment, name: billing-api, images: {api: "api:1"}}]
  staging: {namespace: billing-grey, soak: 2400h}
  approvals: {required: [{role: rnd-lead}]}
  window: {name: demo-now}
BAD

	say "The database's data: a known file in the production volume"
	local data_dir original
	data_dir=$(volume_dir data-billing-db-0)
	note "claim billing/data-billing-db-0 -> PersistentVolume $(k -n billing get pvc data-billing-db-0 -o jsonpath='{.spec.volumeName}')"
	note "-> the CSI driver's directory $data_dir"
	cat >"$data_dir/invoices.sql" <<'DATA'
-- billing database, written by billing 2.3.1
CREATE TABLE invoices (id integer PRIMARY KEY, customer text, amount numeric(12,2));
INSERT INTO invoices VALUES (1, 'ACME Corp', 1200.00);
INSERT INTO invoices VALUES (2, 'Globex', 845.50);
INSERT INTO invoices VALUES (3, 'Initech', 99.99);
DATA
	original=$(checksum "$data_dir/invoices.sql")
	note "invoices.sql sha256 $original"

	say "Go-live windows: demo-now is open from now on (thursday-evening, the sample, is not)"
	# Opened two minutes ago, in UTC, every day, for four hours: production may
	# start at once. No lead time.
	k apply --server-side -f - <<WINDOW
apiVersion: golive.dev/v1alpha1
kind: GoLiveWindow
metadata:
  name: demo-now
  namespace: billing
spec:
  timeZone: UTC
  schedule:
  - days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
    start: "$(date -u -d '-2 minutes' +%H:%M)"
    duration: 4h
  maxConcurrent: 1
WINDOW
	k apply --server-side -f "$repo/config/samples/golive_v1alpha1_golivewindow.yaml"
	wait_for "golive to open the window demo-now" \
		bash -c "[ \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get glw demo-now -o jsonpath='{.status.open}')\" = true ]"
	k get glw -n billing

	say "The organisation's rules: GoLivePolicies (docs/policy.md)"
	echo "\$ kubectl apply -f config/samples/golive_v1alpha1_golivepolicy.yaml   # procedure 004, for namespaces labelled golive.dev/tier=production"
	k apply --server-side -f "$repo/config/samples/golive_v1alpha1_golivepolicy.yaml"
	echo "\$ kubectl apply -f config/demo/policy.yaml   # the same rules at the speed of a demo, for billing"
	k apply --server-side -f "$repo/config/demo/policy.yaml"
	wait_for "golive to count the namespaces billing-demo governs" \
		bash -c "[ \"\$('$kubectl' --kubeconfig '$kubeconfig' get glp billing-demo -o jsonpath='{.status.namespaces}')\" = 1 ]"
	k get glp
	note "production-apps: $(k get glp production-apps -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')"
	note "billing-demo:    $(k get glp billing-demo -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')"
	note "billing-demo requires: approvals by rnd-lead and operations-office with comments, a change request and a test report,"
	note "a notice a minute ahead, acceptance, a snapshot of every claim production mounts, and a go from operations-supervisor"

	# ---- Release 1 ----------------------------------------------------------
	local refusal
	say "Release 2.4.0: alice requests it, first without its test report"
	echo "\$ kubectl create -f - --as alice@example.com   # config/demo/billing-2-4-0.yaml without the test-report reference"
	if refusal=$(sed '/- type: test-report/,/url:/d' "$repo/config/demo/billing-2-4-0.yaml" | as alice create -f - 2>&1); then
		fail "the policy admitted a request without a test report"
	fi
	echo "$refusal"
	[[ $refusal == *"spec.references: policy billing-demo requires a reference of type test-report"* ]] ||
		fail "the refusal does not name the policy and the field: $refusal"
	k -n billing get ur billing-2-4-0 >/dev/null 2>&1 && fail "a refused request was created"
	note "refused, naming the policy and the field; nothing was created"
	echo "\$ kubectl create -f config/demo/billing-2-4-0.yaml --as alice@example.com   # with its change request and test report"
	as alice create -f "$repo/config/demo/billing-2-4-0.yaml"
	note "requested-by, stamped by the webhook: $(ur_field billing-2-4-0 '{.metadata.annotations.golive\.dev/requested-by}')"
	follow billing-2-4-0 Soaking AwaitingApproval

	say "Approvals: the requester's own is refused (four eyes), bob and carol approve in the console"
	echo "\$ kubectl annotate ur billing-2-4-0 -n billing golive.dev/approve=\"rnd-lead; my own work\" --as alice@example.com --as-group billing-rnd-leads"
	if refusal=$(as alice -n billing annotate ur billing-2-4-0 "golive.dev/approve=rnd-lead; my own work" 2>&1); then
		fail "golive accepted alice's approval of her own request"
	fi
	echo "$refusal"
	[[ $refusal == *"requested this update and may not approve it"* ]] || fail "the refusal does not say why: $refusal"
	echo "\$ kubectl annotate ur billing-2-4-0 -n billing golive.dev/approve=rnd-lead --as bob@example.com   # no comment"
	if refusal=$(as bob -n billing annotate ur billing-2-4-0 golive.dev/approve=rnd-lead 2>&1); then
		fail "golive accepted an approval without the comment the policy requires"
	fi
	echo "$refusal"
	[[ $refusal == *"billing-demo"*"comment"* ]] || fail "the refusal does not name the policy: $refusal"
	approve_in_console bob billing-2-4-0 rnd-lead "staging looks good"
	approve_in_console carol billing-2-4-0 operations-office "backup plan checked"
	note "the API server authenticated bob and carol by their own ID tokens (groups: only system:authenticated, no impersonation), so golive's webhook signed them, not the console"
	show_approvals billing-2-4-0

	say "The notice: production may start only a minute after it was announced (notice.minLead)"
	follow billing-2-4-0 Scheduled
	note "notice sent (Event GoLiveNotice) at $(ur_field billing-2-4-0 '{.status.schedule.noticeSentAt}'); planned start $(ur_field billing-2-4-0 '{.status.schedule.plannedStart}')"
	follow billing-2-4-0 AwaitingGo

	say "One executes, one supervises: production waits for sam's go"
	echo "\$ kubectl golive status billing-2-4-0 -n billing"
	"$demo_dir/kubectl-golive" --kubeconfig "$kubeconfig" status billing-2-4-0 -n billing
	echo "\$ kubectl golive go billing-2-4-0 -n billing --as alice@example.com   # the requester"
	if refusal=$(as alice -n billing annotate ur billing-2-4-0 "golive.dev/go=ready" 2>&1); then
		fail "golive accepted the requester's own go"
	fi
	echo "$refusal"
	go_ahead sam billing-2-4-0 "on the bridge, dashboards open"
	follow billing-2-4-0 AwaitingAcceptance

	say "Production is verified; the backup it took first:"
	note "saved specs: ConfigMap $(ur_field billing-2-4-0 '{.status.backup.savedSpecs}'); stopped for the snapshot (quiesce ScaleToZero): $(ur_field billing-2-4-0 '{.status.backup.quiescedReplicas}')"
	k -n billing get volumesnapshot -o custom-columns='NAME:.metadata.name,CLAIM:.spec.source.persistentVolumeClaimName,READY:.status.readyToUse,SIZE:.status.restoreSize,CLASS:.spec.volumeSnapshotClassName'
	k -n billing get deploy,sts -o wide
	say "erin, the business owner, accepts 2.4.0"
	echo "\$ kubectl annotate ur billing-2-4-0 -n billing golive.dev/accept=\"invoices checked\" --as erin@example.com"
	as erin -n billing annotate ur billing-2-4-0 "golive.dev/accept=invoices checked"
	follow billing-2-4-0 Succeeded

	# ---- Release 2 ----------------------------------------------------------
	say "billing-api reads its settings from the ConfigMap billing-config (as the app's Git repository has it)"
	for ns in billing billing-grey; do
		k -n "$ns" create configmap billing-config --from-literal=LOG_LEVEL=debug --from-literal=INVOICE_SCHEMA=41
		k -n "$ns" patch deployment billing-api --type=json \
			-p '[{"op":"add","path":"/spec/template/spec/containers/0/envFrom","value":[{"configMapRef":{"name":"billing-config"}}]}]'
		k -n "$ns" rollout status deployment/billing-api --timeout=120s
	done

	say "Release 2.5.0: new settings, a schema migration, and a version that never becomes healthy (config/demo/billing-2-5-0.yaml)"
	if listening "$unhealthy_port"; then
		fail "something answers on localhost:$unhealthy_port, where release 2.5.0's health check must find nothing"
	fi
	note "its production health check probes http://127.0.0.1:$unhealthy_port/healthz, where nothing listens"
	note "it carries billing-config (LOG_LEVEL info, INVOICE_SCHEMA 42), the migration Job schema, and a dump (pg-dump) with its restore (pg-restore)"
	echo "\$ kubectl create -f config/demo/billing-2-5-0.yaml --as alice@example.com"
	as alice create -f "$repo/config/demo/billing-2-5-0.yaml"
	follow billing-2-5-0 Soaking AwaitingApproval
	local config_copy
	config_copy=$(ur_field billing-2-5-0 '{.status.config[0].copy}')
	note "golive copied billing-config to the immutable $config_copy in both namespaces; grey billing-api reads $(k -n billing-grey get deploy billing-api -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].configMapRef.name}')"
	note "the migration ran in billing-grey before its targets changed: $(ur_field billing-2-5-0 '{.status.staging.migrations[0].name} {.status.staging.migrations[0].result}')"
	echo "\$ kubectl golive status billing-2-5-0 -n billing     # what the configuration changes against production"
	"$demo_dir/kubectl-golive" --kubeconfig "$kubeconfig" status billing-2-5-0 -n billing | sed -n '/^Config:/,/^Approvals:/p' | sed '$d'
	approve bob billing-2-5-0 rnd-lead "migration tested on grey"
	approve carol billing-2-5-0 operations-office "ok"
	show_approvals billing-2-5-0
	follow billing-2-5-0 AwaitingGo
	go_ahead sam billing-2-5-0 "watching the invoice run"

	say "In production, after the backup (snapshot and pg-dump), the migration Job runs before any target changes"
	local migration_job
	wait_for "golive to start the migration Job in billing" \
		bash -c "[ -n \"\$('$kubectl' --kubeconfig '$kubeconfig' -n billing get jobs -l golive.dev/request=billing-2-5-0,golive.dev/check=migrate-schema -o name)\" ]"
	migration_job=$(k -n billing get jobs -l golive.dev/request=billing-2-5-0,golive.dev/check=migrate-schema -o name)
	note "$migration_job; backup Jobs: $(ur_field billing-2-5-0 '{.status.backup.jobs[*].name}')"
	note "(kwok's pods do not run: the demo writes into the volume as the migration)"
	local failed_dir failed_volume failed
	failed_dir=$(volume_dir data-billing-db-0)
	failed_volume=$(k -n billing get pvc data-billing-db-0 -o jsonpath='{.spec.volumeName}')
	cat >>"$failed_dir/invoices.sql" <<'DATA'
-- migrated by billing 2.5.0 to schema 42
ALTER TABLE invoices DROP COLUMN amount;
DATA
	failed=$(checksum "$failed_dir/invoices.sql")
	note "invoices.sql in $failed_volume now: sha256 $failed"
	follow billing-2-5-0 Verifying
	note "production billing-api reads $(k -n billing get deploy billing-api -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].configMapRef.name}')"
	follow billing-2-5-0 RolledBack

	say "After the rollback: workloads and data as before 2.5.0"
	k -n billing get deploy,sts -o wide
	local restored_volume restored_dir restored
	restored_volume=$(k -n billing get pvc data-billing-db-0 -o jsonpath='{.spec.volumeName}')
	restored_dir=$(volume_dir data-billing-db-0)
	restored=$(checksum "$restored_dir/invoices.sql")
	k -n billing get pvc data-billing-db-0 -o custom-columns='CLAIM:.metadata.name,VOLUME:.spec.volumeName,STATUS:.status.phase,RESTORED-FROM:.metadata.annotations.golive\.dev/restored-from,PREVIOUS-VOLUME:.metadata.annotations.golive\.dev/previous-volume'
	note "restored claim data-billing-db-0 (volume $restored_volume): invoices.sql sha256 $restored"
	note "before 2.5.0:                                       sha256 $original"
	[ "$restored" = "$original" ] || fail "the restored claim does not hold the data from before 2.5.0"
	note "=> equal: the claim holds the data from before the release"
	local reads
	reads=$(k -n billing get deploy billing-api -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].configMapRef.name}')
	note "billing-api reads ConfigMap $reads again (the saved spec's); the restore Job ran: $(ur_field billing-2-5-0 '{.status.rollback.jobs[0].name} {.status.rollback.jobs[0].result}')"
	[ "$reads" = billing-config ] || fail "billing-api reads $reads after the rollback, not the previous billing-config"
	[ "$(ur_field billing-2-5-0 '{.status.rollback.jobs[0].result}')" = Passed ] || fail "the restore Job pg-restore did not complete"
	echo
	k get pv "$failed_volume" -o custom-columns='FAILED-VERSION-VOLUME:.metadata.name,RECLAIM:.spec.persistentVolumeReclaimPolicy,STATUS:.status.phase,RETAINED-BY:.metadata.labels.golive\.dev/request'
	[ "$(k get pv "$failed_volume" -o jsonpath='{.spec.persistentVolumeReclaimPolicy}')" = Retain ] ||
		fail "the failed version's volume $failed_volume is not retained"
	note "the failed version's data is kept there: invoices.sql sha256 $(checksum "$failed_dir/invoices.sql")"
	echo
	k -n billing get volumesnapshot -o custom-columns='SNAPSHOT:.metadata.name,CLAIM:.spec.source.persistentVolumeClaimName,READY:.status.readyToUse,EXPIRES:.metadata.annotations.golive\.dev/expires-at'

	say "The record of billing-2-5-0 (status.timeline)"
	echo "\$ kubectl get ur billing-2-5-0 -n billing -o jsonpath='{range .status.timeline[*]}...{end}'"
	timeline_of billing-2-5-0 | print_timeline
	echo
	note "rollback: $(ur_field billing-2-5-0 '{.status.rollback.reason}')"
	note "data restored: $(ur_field billing-2-5-0 '{.status.rollback.dataRestored}')"
	echo
	echo "\$ kubectl golive status billing-2-5-0 -n billing     # the kubectl plugin (docs/plugin.md)"
	"$demo_dir/kubectl-golive" --kubeconfig "$kubeconfig" status billing-2-5-0 -n billing
	echo
	k get ur,glw -A

	say "The records that outlive the requests: signed, chained ReleaseRecords (docs/records.md)"
	billing_records() { [ "$(k -n golive-system get releaserecords -l golive.dev/source-namespace=billing -o name | wc -l)" -ge 2 ]; }
	wait_for "golive to record both releases" billing_records
	echo "\$ kubectl golive records -n billing"
	"$demo_dir/kubectl-golive" --kubeconfig "$kubeconfig" records -n billing
	echo
	echo "\$ kubectl golive records -n billing --export $demo_dir/audit     # records.json, a report per record, the public keys"
	"$demo_dir/kubectl-golive" --kubeconfig "$kubeconfig" records -n billing --export "$demo_dir/audit"
	echo "\$ kubectl golive verify-records $demo_dir/audit/records.json --keys $demo_dir/audit/public-keys.pem     # offline"
	"$demo_dir/kubectl-golive" verify-records "$demo_dir/audit/records.json" --keys "$demo_dir/audit/public-keys.pem"

	local took=$((SECONDS - started))
	cat <<DONE

The demo ran through in $((took / 60))m$((took % 60))s. The cluster stays up; look around with:
  open $console_url    # the approver console: log in as bob@example.com (password $demo_password)
  export KUBECONFIG=$kubeconfig
  export PATH=$demo_dir:$CONTROLPLANE_DIR:\$PATH    # kubectl $KUBERNETES_VERSION and the kubectl golive plugin
  kubectl get ur,glw -A; kubectl get glp               # requests, windows, the policies
  kubectl golive report billing-2-4-0 -n billing      # the whole record as Markdown
  kubectl golive records -n billing                   # the ReleaseRecords, kept after the requests go
  kubectl golive windows -n billing                   # the next openings of the windows
  kubectl describe ur -n billing billing-2-5-0           # the Events of the rollback
  kubectl get ur -n billing billing-2-4-0 -o yaml        # the whole record: approvals, checks, backup, timeline
  kubectl get volumesnapshot,pvc -n billing; kubectl get pv
  ls $csi_work/data/volumes                              # the volumes' data
  tail -f $demo_dir/golive.log $demo_dir/console.log
Stop it with:
  make demo-down
DONE
}

case "${1:-}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

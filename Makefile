# golive — see README.md. `make demo` runs the main job, `make test` runs every test.

# Every tool version is pinned here; hack/controlplane/go.mod pins the same
# Kubernetes and etcd versions and hack/build-controlplane.sh refuses a mismatch.
KUBERNETES_VERSION ?= v1.36.3
ETCD_VERSION       ?= v3.6.8
KWOK_VERSION       ?= v0.8.0
CONTROLLER_TOOLS_VERSION ?= v0.23.0
EXTERNAL_SNAPSHOTTER_VERSION ?= v8.7.0
EXTERNAL_PROVISIONER_VERSION ?= v6.3.0
HELM_VERSION ?= v4.3.1
PROMETHEUS_VERSION ?= v0.316.0
# go.mod requires the same; hack/build-oidc-provider.sh refuses a mismatch.
ZITADEL_OIDC_VERSION ?= v3.52.0
ARGO_ROLLOUTS_VERSION ?= v1.10.2

# Everything built from source is cached by version outside the work tree, so
# a fresh clone on the same machine builds nothing twice.
GOLIVE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/golive
CONTROLPLANE_DIR ?= $(GOLIVE_CACHE)/controlplane/$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)
KWOK_DIR ?= $(GOLIVE_CACHE)/kwok/$(KWOK_VERSION)
CONTROLLER_GEN ?= $(GOLIVE_CACHE)/tools/controller-gen-$(CONTROLLER_TOOLS_VERSION)
CSI_DIR ?= $(GOLIVE_CACHE)/csi/snapshotter-$(EXTERNAL_SNAPSHOTTER_VERSION)-provisioner-$(EXTERNAL_PROVISIONER_VERSION)
# helm, built from source by hack/build-helm.sh; the chart's Go test and the
# e2e suite find it through $HELM.
HELM ?= $(GOLIVE_CACHE)/tools/helm-$(HELM_VERSION)
# Prometheus, built from source by hack/build-prometheus.sh; the tests of
# metric checks run it as a local process through $PROMETHEUS.
PROMETHEUS ?= $(GOLIVE_CACHE)/tools/prometheus-$(PROMETHEUS_VERSION)
# The local cluster's OIDC provider (hack/oidc-provider on zitadel/oidc), built
# by hack/build-oidc-provider.sh; the demo and the console's end-to-end test
# run it through $OIDC_PROVIDER. A hash of its source names it, so an edit
# builds it again.
OIDC_PROVIDER_SOURCE_HASH := $(shell cat $(filter-out %_test.go,$(wildcard hack/oidc-provider/*.go internal/oidcprovider/*.go)) go.sum 2>/dev/null | sha256sum | cut -c1-12)
OIDC_PROVIDER ?= $(GOLIVE_CACHE)/tools/oidc-provider-$(ZITADEL_OIDC_VERSION)-$(OIDC_PROVIDER_SOURCE_HASH)
# Argo Rollouts' controller, built from source by hack/build-argo-rollouts.sh
# (its CRDs and ClusterRole in $(ARGO_ROLLOUTS)-manifests); `make bench` runs
# it as golive's peer through $ARGO_ROLLOUTS. No test needs it.
ARGO_ROLLOUTS ?= $(GOLIVE_CACHE)/tools/argo-rollouts-$(ARGO_ROLLOUTS_VERSION)

export KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION GOLIVE_CACHE CONTROLPLANE_DIR KWOK_DIR
export EXTERNAL_SNAPSHOTTER_VERSION EXTERNAL_PROVISIONER_VERSION CSI_DIR
export HELM_VERSION HELM
export PROMETHEUS_VERSION PROMETHEUS
export ZITADEL_OIDC_VERSION OIDC_PROVIDER
export ARGO_ROLLOUTS_VERSION

# The release: where `make release` publishes and under which version. The
# version is the chart's appVersion; the chart's default image
# (charts/golive/values.yaml) and config/manager's kustomization name
# $(IMAGE):$(VERSION) for the default REGISTRY, which hack/release's test checks.
REGISTRY ?= ghcr.io/golive-dev
IMAGE ?= $(REGISTRY)/golive
CHART_REPO ?= oci://$(REGISTRY)/charts
VERSION ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$$/\1/p' charts/golive/Chart.yaml)
# The OCI image layout `make image` writes and `make release` pushes.
IMAGE_LAYOUT ?= bin/image
# The commit built ("-dirty" when tracked files differ from it) and its time,
# every timestamp of the image (reproducible).
REVISION ?= $(shell rev=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD -- || rev=$$rev-dirty; } && echo $$rev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# The chart's templates generated from config/ (RBAC, webhooks, admission
# policy): hack/chartgen renders them from these files, so the chart grants
# and registers exactly what the markers say.
CHART_GENERATED := charts/golive/templates/_generated.tpl
CHART_SOURCES := config/rbac/role.yaml config/rbac/leader_election_role.yaml \
	config/rbac/metrics_auth_role.yaml config/rbac/metrics_reader_role.yaml \
	config/rbac/updaterequest_editor_role.yaml config/rbac/updaterequest_viewer_role.yaml \
	config/rbac/golivewindow_admin_role.yaml config/rbac/golivewindow_viewer_role.yaml \
	config/rbac/releaserecord_admin_role.yaml config/rbac/releaserecord_viewer_role.yaml \
	config/webhook/manifests.yaml config/admission/validating_admission_policy.yaml \
	config/admission/status_policy.yaml \
	config/admission/owned_objects_policy.yaml \
	config/admission/cleanup_finalizer_policy.yaml \
	config/admission/protected_workloads_policy.yaml \
	config/admission/record_writers_policy.yaml \
	config/admission/record_configmaps_policy.yaml
# Values sets chart-test lints and renders besides the defaults.
CHART_CI_VALUES := $(wildcard charts/golive/ci/*-values.yaml)

# Generated files, checked by `make verify`.
GENERATED := config/crd/bases config/rbac/role.yaml config/webhook/manifests.yaml api/v1alpha1/zz_generated.deepcopy.go charts/golive/crds \
	$(CHART_GENERATED)

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs, RBAC and webhooks from markers; copy the CRDs into the chart, generate its RBAC and webhook templates.
	$(CONTROLLER_GEN) rbac:roleName=golive-manager crd:generateEmbeddedObjectMeta=true webhook paths="./api/..." paths="./internal/..." paths="./cmd/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac output:webhook:artifacts:config=config/webhook
	go run ./hack/crdtrim config/crd/bases/*.yaml
	rm -rf charts/golive/crds && mkdir -p charts/golive/crds
	cp config/crd/bases/*.yaml charts/golive/crds/
	go run ./hack/chartgen -out $(CHART_GENERATED) $(CHART_SOURCES)

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code from markers.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths="./api/..."

.PHONY: fmt
fmt: ## gofmt every Go file.
	gofmt -s -w $$(git ls-files --cached --others --exclude-standard '*.go')

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate ## Fail when generated files, formatting or go.mod are stale.
	hack/verify.sh $(GENERATED)

.PHONY: build
build: ## Build the manager into bin/golive.
	go build -o bin/golive ./cmd

.PHONY: install-plugin
install-plugin: ## Install the kubectl plugin (`kubectl golive`) into $(go env GOBIN), else $(go env GOPATH)/bin.
	go install ./cmd/kubectl-golive
	@echo "Installed kubectl-golive into $$(go env GOBIN | grep . || echo "$$(go env GOPATH)/bin"); kubectl finds it there when that folder is on PATH."

.PHONY: image
image: ## Build the manager's image (linux/amd64, linux/arm64, with SPDX SBOMs) into the OCI layout $(IMAGE_LAYOUT), without a container engine.
	go run ./hack/release image -out $(IMAGE_LAYOUT) -version $(VERSION) -revision "$(REVISION)" -created $(SOURCE_DATE_EPOCH)

.PHONY: release
release: image $(HELM) ## Push the image to $(IMAGE):$(VERSION) and the chart to $(CHART_REPO)/golive:$(VERSION). Set REGISTRY.
	go run ./hack/release push -layout $(IMAGE_LAYOUT) -image $(IMAGE):$(VERSION) -version $(VERSION) \
		-chart charts/golive -chart-repo $(CHART_REPO) -helm $(HELM)

.PHONY: print-release
print-release: ## Print what `make release` publishes: the image and the chart.
	@echo "image $(IMAGE):$(VERSION)"
	@echo "chart $(CHART_REPO)/golive:$(VERSION)"

.PHONY: print-version
print-version: ## Print the version `make release` publishes (the chart's appVersion).
	@echo "$(VERSION)"

##@ Test

.PHONY: controlplane
controlplane: ## Build kube-apiserver, controller-manager, scheduler, etcd, kwok from source (cached).
	hack/build-controlplane.sh

.PHONY: csi
csi: ## Build the CSI snapshot sidecars (snapshot-controller, csi-snapshotter, csi-provisioner) from source (cached).
	hack/build-csi.sh

.PHONY: chromium
chromium: ## Install Debian's chromium (and CJK fonts, for the screenshots) for the console's browser test, when missing.
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . ; } || { \
		echo "chromium or a Chinese font is missing: installing the Debian packages chromium and fonts-noto-cjk with apt-get (the console's browser test drives it)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium fonts-noto-cjk; }

.PHONY: test
test: controlplane csi prometheus oidc-provider vet chart-test image chromium ## Run every test: unit and envtest (real kube-apiserver + etcd), the chart's, the image and release, then end to end (kwok cluster).
	@# `image` first: a cold cross-compile of the manager can outlast go test's
	@# 10-minute timeout; afterwards hack/release's test rebuilds from the cache.
	KUBEBUILDER_ASSETS=$(CONTROLPLANE_DIR) go test -count=1 $$(go list ./... | grep -v -e '/test/' -e '/charts/')
	@# End to end, on local clusters, once the rest passed, one package at a time (two kwokctl
	@# creating clusters at once can pick the same port); GOLIVE_SKIP_E2E=1 skips it (never in CI).
	go test -count=1 -p 1 -timeout 60m ./test/...

.PHONY: bench
bench: controlplane helm argo-rollouts ## Measure golive against the bare-Kubernetes floor and Argo Rollouts on a local kwok cluster (not part of test); writes docs/benchmarks.md. Set BENCH_N, BENCH_RUNS, BENCH_WAITING, BENCH_IDLE to change it.
	GOLIVE_BENCH=1 BENCH_OUTPUT=$(CURDIR)/docs/benchmarks.md ARGO_ROLLOUTS=$(ARGO_ROLLOUTS) go test -count=1 -timeout 6h -run '^TestBench$$' -v ./test/bench

.PHONY: chart-test
chart-test: $(HELM) controlplane ## Lint and render the Helm chart (defaults and charts/golive/ci values); its Go test also applies it to a real API server.
	$(HELM) lint --strict charts/golive
	$(HELM) template golive charts/golive --namespace golive-system >/dev/null
	for values in $(CHART_CI_VALUES); do \
		$(HELM) lint --strict charts/golive --values $$values; \
		$(HELM) template golive charts/golive --namespace golive-system --values $$values >/dev/null; \
	done
	HELM=$(HELM) KUBEBUILDER_ASSETS=$(CONTROLPLANE_DIR) go test -count=1 ./charts/...

.PHONY: print-assets
print-assets: ## Print the KUBEBUILDER_ASSETS folder, for running go test by hand.
	@echo $(CONTROLPLANE_DIR)

##@ Demo

.PHONY: demo
demo: controlplane csi oidc-provider manifests ## Start a local kwok cluster with real control-plane components and show golive on it.
	hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop and delete the demo cluster.
	hack/demo.sh down

##@ Tools

.PHONY: helm
helm: $(HELM) ## Build helm from source (cached by version).

.PHONY: prometheus
prometheus: $(PROMETHEUS) ## Build Prometheus from source (cached by version), for the tests of metric checks.

.PHONY: oidc-provider
oidc-provider: $(OIDC_PROVIDER) ## Build the local cluster's OIDC provider (hack/oidc-provider on zitadel/oidc, cached by version and source hash), for the demo and the console's end-to-end test.

$(OIDC_PROVIDER):
	hack/build-oidc-provider.sh

$(PROMETHEUS):
	hack/build-prometheus.sh

.PHONY: argo-rollouts
argo-rollouts: ## Build Argo Rollouts' controller from source (cached by version), golive's peer in `make bench`.
	ARGO_ROLLOUTS=$(ARGO_ROLLOUTS) hack/build-argo-rollouts.sh

$(HELM):
	hack/build-helm.sh

$(CONTROLLER_GEN):
	mkdir -p $(dir $@)
	tmp=$$(mktemp -d) && GOBIN=$$tmp go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION) && mv $$tmp/controller-gen $@ && rmdir $$tmp

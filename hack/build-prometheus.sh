#!/usr/bin/env bash
# Builds Prometheus from source (through the Go module proxy, never a prebuilt
# download) and caches it by version: $PROMETHEUS, by default
# $GOLIVE_CACHE/tools/prometheus-<version>. The tests of verification by
# metrics start it as a local process scraping an exporter of their own.
# Built without the web UI (no -tags builtinassets): the HTTP API and scraping
# need none; and without the service discoveries the tests do not use (below). A cached binary is not built again; a build goes through a
# temporary folder and a rename, so an interrupted one never leaves a broken
# binary in the cache.
set -euo pipefail

: "${PROMETHEUS_VERSION:?set by the Makefile}"
: "${GOLIVE_CACHE:?set by the Makefile}"

prometheus=${PROMETHEUS:-$GOLIVE_CACHE/tools/prometheus-$PROMETHEUS_VERSION}
[ -x "$prometheus" ] && exit 0

mkdir -p "$(dirname "$prometheus")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building prometheus ${PROMETHEUS_VERSION} into $prometheus" >&2
start=$SECONDS
# Run outside any module so that no go.mod or go.sum is touched. The version
# is stamped in as Prometheus's own release build does (promu), so
# `prometheus --version` and /api/v1/status/buildinfo tell it.
# -tags remove_all_sd leaves out every service discovery but static, file and
# http (Prometheus's own build tags, plugins/): the tests scrape static targets,
# and the cloud SDKs of the others were most of a cold build's time.
(cd "$work" && CGO_ENABLED=0 GOBIN="$work/bin" go install -trimpath -tags remove_all_sd \
	-ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v} -X github.com/prometheus/common/version.Branch=HEAD" \
	"github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_VERSION}")
mv "$work/bin/prometheus" "$prometheus.tmp"
mv "$prometheus.tmp" "$prometheus"
echo "built prometheus in $((SECONDS - start))s" >&2

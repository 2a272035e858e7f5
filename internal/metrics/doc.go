// Package metrics defines golive's Prometheus metrics, served on the
// manager's metrics endpoint through controller-runtime's registry.
//
// Two kinds: a Collector computes the state of requests and windows (requests
// by phase, approvals pending, windows open) from the manager's cache at
// scrape time, so nothing is kept that could drift from the cluster; a
// Recorder counts what happened (phase durations, rollbacks, snapshot
// durations, notifications), observed once per change, after the status patch
// that records it succeeded.
package metrics

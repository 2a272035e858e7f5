// Package bench measures golive on a local kwok cluster (test/cluster) against
// the physical floor: the same image changes done bare, by the driver, on the
// same cluster. It measures four things (docs/benchmarks.md):
//
//  1. the time golive takes for N releases at once, staging and production,
//     over the floor's;
//  2. how fast golive reacts to the last approval and to a window opening;
//  3. golive's memory with requests waiting for a window next week, and what
//     it does while nothing happens;
//  4. the API requests golive makes per release, by verb and resource.
//
// 1, the approval's latency and 4 are measured again of releases that also
// change the configuration their Deployment reads and run a migration Job,
// in namespaces a GoLivePolicy governs: the report's second row at each N.
//
// Every figure comes from outside golive: the driver's watches time what the
// API shows, golive's own metrics endpoint (controller-runtime's and
// client-go's metrics) counts reconciles and requests, /proc gives its
// memory, and the kube-apiserver's audit log names each request golive made.
// With Config.Argo set (`make bench` sets it), the same four are measured of
// Argo Rollouts, the peer, promoting paused Rollouts on the same cluster in
// the same run (argo*.go).
//
// `make bench` runs TestBench; TestBenchSmoke runs the same with tiny
// numbers in `make test`, without the peer.
package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is what a run measures; `make bench` sets it through the environment.
type Config struct {
	// Releases are the numbers of releases made at once (BENCH_N), each
	// measured on its own.
	Releases []int
	// Runs is how many times each number of releases is measured
	// (BENCH_RUNS); the report gives the median and the spread.
	Runs int
	// Waiting are the numbers of requests waiting in Scheduled at which
	// memory and idle cost are measured (BENCH_WAITING); 0 is always measured.
	Waiting []int
	// Idle is how long golive is watched doing nothing at each number of
	// waiting requests (BENCH_IDLE).
	Idle time.Duration
	// Replicas is the replica count of each release's Deployments.
	Replicas int32
	// Workers is how many API calls the driver makes at once.
	Workers int
	// Argo is the binary of Argo Rollouts' controller (ARGO_ROLLOUTS, set by
	// `make bench`): the peer measured beside golive. Empty, it is not.
	Argo string
}

// The environment variables of a Config, and their defaults.
const (
	envReleases = "BENCH_N"
	envRuns     = "BENCH_RUNS"
	envWaiting  = "BENCH_WAITING"
	envIdle     = "BENCH_IDLE"

	defaultReleases = "100,500"
	defaultRuns     = "3"
	defaultWaiting  = "0,1000,5000"
	defaultIdle     = "60s"
)

// defaultReplicas is what the issue asks of each release: two replicas.
const defaultReplicas = 2

// defaultWorkers is the driver's parallelism: enough to keep the API server
// busy without the driver becoming what is measured.
const defaultWorkers = 16

// ConfigFromEnv reads a Config from BENCH_N, BENCH_RUNS, BENCH_WAITING and
// BENCH_IDLE, each defaulting to the figures.
func ConfigFromEnv() (Config, error) {
	get := func(name, fallback string) string {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return v
		}
		return fallback
	}
	cfg := Config{Replicas: defaultReplicas, Workers: defaultWorkers, Argo: strings.TrimSpace(os.Getenv(envArgo))}
	var err error
	if cfg.Releases, err = parseCounts(envReleases, get(envReleases, defaultReleases), 1); err != nil {
		return Config{}, err
	}
	if cfg.Waiting, err = parseCounts(envWaiting, get(envWaiting, defaultWaiting), 0); err != nil {
		return Config{}, err
	}
	if cfg.Runs, err = strconv.Atoi(get(envRuns, defaultRuns)); err != nil || cfg.Runs < 1 {
		return Config{}, fmt.Errorf("%s=%q: want a positive number", envRuns, get(envRuns, defaultRuns))
	}
	if cfg.Idle, err = time.ParseDuration(get(envIdle, defaultIdle)); err != nil || cfg.Idle <= 0 {
		return Config{}, fmt.Errorf("%s=%q: want a positive duration such as 60s", envIdle, get(envIdle, defaultIdle))
	}
	return cfg.normalized(), nil
}

// parseCounts parses a comma-separated list of numbers of at least least.
func parseCounts(name, value string, least int) ([]int, error) {
	var counts []int
	for item := range strings.SplitSeq(value, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(item))
		if err != nil || n < least {
			return nil, fmt.Errorf("%s=%q: want comma-separated numbers of at least %d", name, value, least)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// normalized sorts the counts, drops duplicates and measures 0 waiting
// requests first: memory per waiting request is counted from there.
func (c Config) normalized() Config {
	c.Releases = slices.Compact(slices.Sorted(slices.Values(c.Releases)))
	c.Waiting = slices.Compact(slices.Sorted(slices.Values(append([]int{0}, c.Waiting...))))
	return c
}

// Command is the command that runs this Config, for the report.
func (c Config) Command() string {
	join := func(counts []int) string {
		items := make([]string, len(counts))
		for i, n := range counts {
			items[i] = strconv.Itoa(n)
		}
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s=%s %s=%d %s=%s %s=%s make bench",
		envReleases, join(c.Releases), envRuns, c.Runs, envWaiting, join(c.Waiting), envIdle, c.Idle)
}

// maxReleases is the largest number of releases made at once.
func (c Config) maxReleases() int { return slices.Max(c.Releases) }

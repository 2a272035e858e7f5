package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBench is `make bench`: it measures with the Config of the environment
// (BENCH_N, BENCH_RUNS, BENCH_WAITING, BENCH_IDLE), prints the report and
// writes it into BENCH_OUTPUT (docs/benchmarks.md). It runs only when
// GOLIVE_BENCH=1, as `make bench` sets: it takes long and loads the machine.
func TestBench(t *testing.T) {
	if os.Getenv("GOLIVE_BENCH") != "1" {
		t.Skip("GOLIVE_BENCH=1 not set: `make bench` runs the benchmark")
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Measuring: %s", cfg.Command())
	results := Run(t, cfg)
	if !checkComplete(t, cfg, results) {
		t.FailNow()
	}
	rendered := Render(results)
	fmt.Print("\n" + rendered + "\n")
	if output := os.Getenv("BENCH_OUTPUT"); output != "" {
		if err := WriteReport(output, rendered); err != nil {
			t.Fatal(err)
		}
		t.Logf("Wrote the results into %s", output)
	}
}

// TestBenchSmoke runs the whole benchmark with tiny numbers and checks that
// it produced every figure. It compares nothing with the targets:
// speed is what `make bench` reports, not what a test asserts.
func TestBenchSmoke(t *testing.T) {
	cfg := Config{Releases: []int{2}, Runs: 1, Waiting: []int{0, 10}, Idle: 5 * time.Second, Replicas: 2, Workers: 4}.normalized()
	results := Run(t, cfg)
	checkComplete(t, cfg, results)
	rendered := Render(results)
	for _, want := range []string{"### 1. Overhead over the floor", "### 2. Reaction latency", "### 3. Memory and idle cost", "### 4. API cost per release", cfg.Command()} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the report has no %q:\n%s", want, rendered)
		}
	}
	for _, bad := range []string{"NaN", "Inf", "none resident"} {
		if strings.Contains(rendered, bad) {
			t.Errorf("the report shows %q:\n%s", bad, rendered)
		}
	}
	if t.Failed() {
		t.Logf("the report:\n%s", rendered)
	}
}

// checkComplete fails the test for every figure missing or impossible, and
// says whether all were there.
func checkComplete(t *testing.T, cfg Config, r Results) bool {
	t.Helper()
	if r.Machine.Cores == 0 || r.Machine.Memory == 0 {
		t.Errorf("machine %+v: no cores or memory", r.Machine)
	}
	checkReleases(t, cfg, "", r.Releases, true)
	checkReleases(t, cfg, contentLabel, r.Content, false)
	for _, release := range r.Content {
		if release.API[apiCall{Verb: "create", Resource: "batch/jobs"}] <= 0 || release.API[apiCall{Verb: "create", Resource: "core/configmaps"}] <= 0 {
			t.Errorf("%d releases%s: the audit log shows no migration Job or configuration copy created: %v", release.N, contentLabel, release.API)
		}
	}
	if len(r.Waiting) != len(cfg.Waiting) {
		t.Errorf("%d waiting results, want %d", len(r.Waiting), len(cfg.Waiting))
	}
	for _, waiting := range r.Waiting {
		name := fmt.Sprintf("%d waiting", waiting.Waiting)
		if waiting.Memory.RSS == 0 || waiting.Memory.HWM < waiting.Memory.RSS || waiting.HeapInuse <= 0 || waiting.HeapLive <= 0 {
			t.Errorf("%s: memory %+v, heap in use %v, live %v", name, waiting.Memory, waiting.HeapInuse, waiting.HeapLive)
		}
		if waiting.Idle < cfg.Idle {
			t.Errorf("%s: idle for %s, want %s", name, waiting.Idle, cfg.Idle)
		}
		// Leader election renews its lease every few seconds, so the idle
		// period always shows requests: none means nothing was counted.
		if sumCalls(waiting.IdleAPI) == 0 || sum(waiting.IdleClientRequests) == 0 {
			t.Errorf("%s: no idle requests counted: audit %v, client-go %v", name, waiting.IdleAPI, waiting.IdleClientRequests)
		}
		if waiting.IdleReconciles == nil {
			t.Errorf("%s: idle reconciles not counted", name)
		}
	}
	if rss, heapInuse, heapLive, _ := r.MemoryPerWaiting(); math.IsNaN(rss) || math.IsNaN(heapInuse) || math.IsNaN(heapLive) {
		t.Errorf("no memory per waiting request")
	}
	if cfg.Argo != "" {
		checkArgoComplete(t, cfg, r)
	}
	return !t.Failed()
}

// checkReleases fails the test for every figure of one scenario's releases
// (named by label after N) missing or impossible; the window opening is
// measured only withWindow.
func checkReleases(t *testing.T, cfg Config, label string, releases []ReleaseResult, withWindow bool) {
	t.Helper()
	if len(releases) != len(cfg.Releases) {
		t.Errorf("%d release results%s, want %d", len(releases), label, len(cfg.Releases))
	}
	for _, release := range releases {
		name := fmt.Sprintf("%d releases%s", release.N, label)
		if len(release.Runs) != cfg.Runs {
			t.Errorf("%s: %d runs, want %d", name, len(release.Runs), cfg.Runs)
		}
		for i, run := range release.Runs {
			if run.FloorStaging <= 0 || run.GoliveStaging <= 0 || run.FloorProduction <= 0 || run.GoliveProduction <= 0 {
				t.Errorf("%s, run %d: a time is not positive: %+v", name, i+1, run)
			}
		}
		staging, production := release.Ratios()
		for _, ratio := range append(staging, production...) {
			if !(ratio > 0) || math.IsInf(ratio, 0) {
				t.Errorf("%s: ratio golive / floor %v", name, ratio)
			}
		}
		checkLatencies(t, name+", last approval → production start", release.ApprovalLatency, release.N*cfg.Runs, false)
		if withWindow {
			checkLatencies(t, name+", window opening → production start", release.WindowLatency, release.N, true)
		}
		checkLatencies(t, name+", one approval", release.ApprovalCall, 2*release.N*cfg.Runs, false)
		if release.Phases <= 0 {
			t.Errorf("%s: %d phases", name, release.Phases)
		}
		if sum(release.Reconciles) <= 0 || release.ReconcileSeconds["updaterequest"] <= 0 || release.QueueSeconds["updaterequest"] <= 0 {
			t.Errorf("%s: no reconciles of updaterequest counted: %v, %v, %v", name, release.Reconciles, release.ReconcileSeconds, release.QueueSeconds)
		}
		if sum(release.ClientRequests) <= 0 {
			t.Errorf("%s: no client-go requests counted", name)
		}
		if release.API[apiCall{Verb: "patch", Resource: "golive.dev/updaterequests/status"}] <= 0 {
			t.Errorf("%s: the audit log shows no status patch of golive's: %v", name, release.API)
		}
		if writes, _ := release.Writes(); writes <= 0 {
			t.Errorf("%s: no writes counted: %v", name, release.API)
		}
		if !(release.CPUSeconds > 0) || !(release.Busy["updaterequest"] > 0) {
			t.Errorf("%s: CPU per release %v, busy %v", name, release.CPUSeconds, release.Busy)
		}
	}
}

// checkArgoComplete fails the test for every figure of the peer, Argo
// Rollouts, missing or impossible.
func checkArgoComplete(t *testing.T, cfg Config, r Results) {
	t.Helper()
	for _, release := range r.Releases {
		name := fmt.Sprintf("Argo, %d releases", release.N)
		for i, run := range release.Runs {
			if run.ArgoPaused <= 0 || run.ArgoProduction <= 0 {
				t.Errorf("%s, run %d: a time is not positive: %+v", name, i+1, run)
			}
		}
		if argoFloor, goliveArgo := release.ArgoRatios(); len(argoFloor) != cfg.Runs || len(goliveArgo) != cfg.Runs {
			t.Errorf("%s: ratios %v and %v, want %d of each", name, argoFloor, goliveArgo, cfg.Runs)
		}
		checkLatencies(t, name+", promotion → production start", release.ArgoStartLatency, release.N*cfg.Runs, false)
		checkLatencies(t, name+", one promotion", release.ArgoPromoteCall, release.N*cfg.Runs, false)
		if release.ArgoAPI[apiCall{Verb: "create", Resource: "apps/replicasets"}] <= 0 && release.ArgoAPI[apiCall{Verb: "update", Resource: "apps/replicasets"}] <= 0 {
			t.Errorf("%s: the audit log shows no ReplicaSet write of Argo's: %v", name, release.ArgoAPI)
		}
		if !(release.ArgoCPUSeconds > 0) || !(release.ArgoReconciles > 0) {
			t.Errorf("%s: CPU per release %v, reconciles per release %v", name, release.ArgoCPUSeconds, release.ArgoReconciles)
		}
	}
	if len(r.ArgoWaiting) != len(cfg.Waiting) {
		t.Errorf("%d Argo waiting results, want %d", len(r.ArgoWaiting), len(cfg.Waiting))
	}
	for _, waiting := range r.ArgoWaiting {
		if waiting.Memory.RSS == 0 || waiting.Memory.HWM < waiting.Memory.RSS || waiting.HeapInuse <= 0 || waiting.HeapLive <= 0 {
			t.Errorf("Argo, %d paused: memory %+v, heap in use %v, live %v", waiting.Waiting, waiting.Memory, waiting.HeapInuse, waiting.HeapLive)
		}
	}
	if rss, _, heapLive, _ := r.ArgoMemoryPerWaiting(); math.IsNaN(rss) || math.IsNaN(heapLive) {
		t.Errorf("no memory per paused Rollout")
	}
}

// checkLatencies fails unless there are count values in order; from the
// cause to the effect, they cannot be negative, nor all zero unless zero is
// allowed (a timer that fires on time).
func checkLatencies(t *testing.T, name string, l Latencies, count int, zeroAllowed bool) {
	t.Helper()
	if l.Count != count {
		t.Errorf("%s: %d values, want %d", name, l.Count, count)
	}
	if l.P50 < 0 || (!zeroAllowed && l.Max == 0) || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("%s: %+v", name, l)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(envReleases, "500, 100,100")
	t.Setenv(envRuns, "2")
	t.Setenv(envWaiting, "5000,1000")
	t.Setenv(envIdle, "30s")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Command(), "BENCH_N=100,500 BENCH_RUNS=2 BENCH_WAITING=0,1000,5000 BENCH_IDLE=30s make bench"; got != want {
		t.Errorf("Command() = %q, want %q", got, want)
	}
	for name, value := range map[string]string{envReleases: "0", envRuns: "0", envWaiting: "-1", envIdle: "soon"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := ConfigFromEnv(); err == nil {
				t.Errorf("%s=%s accepted", name, value)
			}
		})
	}
}

func TestLatencies(t *testing.T) {
	var values []time.Duration
	for i := 100; i >= 1; i-- {
		values = append(values, time.Duration(i)*time.Millisecond)
	}
	got := latencies(values)
	want := Latencies{Count: 100, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("latencies = %+v, want %+v", got, want)
	}
	if got := latencies(nil); got != (Latencies{}) {
		t.Errorf("latencies(nil) = %+v", got)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="updaterequest",result="success"} 7
controller_runtime_reconcile_total{controller="updaterequest",result="requeue_after"} 3
controller_runtime_reconcile_total{controller="golivewindow",result="success"} 2
# TYPE controller_runtime_reconcile_time_seconds histogram
controller_runtime_reconcile_time_seconds_bucket{controller="updaterequest",le="+Inf"} 10
controller_runtime_reconcile_time_seconds_sum{controller="updaterequest"} 0.5
controller_runtime_reconcile_time_seconds_count{controller="updaterequest"} 10
`
	sample, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := sample.by(metricReconciles, "controller"); got["updaterequest"] != 10 || got["golivewindow"] != 2 {
		t.Errorf("reconciles by controller = %v", got)
	}
	if got := sample.total(metricReconcileTime + "_count"); got != 10 {
		t.Errorf("reconcile count = %v, want 10", got)
	}
	before := map[string]float64{"a": 1, "b": 2}
	if got := delta(before, map[string]float64{"a": 4, "b": 2, "c": 1}); len(got) != 2 || got["a"] != 3 || got["c"] != 1 {
		t.Errorf("delta = %v", got)
	}
}

func TestCountAudit(t *testing.T) {
	events := []string{
		`{"stage":"ResponseComplete","verb":"patch","user":{"username":"` + goliveUser + `"},"objectRef":{"resource":"updaterequests","subresource":"status","apiGroup":"golive.dev"},"requestReceivedTimestamp":"2026-01-01T10:00:01.000000Z"}`,
		`{"stage":"ResponseComplete","verb":"get","user":{"username":"` + goliveUser + `"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-01-01T10:00:02.000000Z"}`,
		`{"stage":"ResponseStarted","verb":"watch","user":{"username":"` + goliveUser + `"},"objectRef":{"resource":"deployments","apiGroup":"apps"},"requestReceivedTimestamp":"2026-01-01T10:00:03.000000Z"}`,
		`{"stage":"ResponseComplete","verb":"watch","user":{"username":"` + goliveUser + `"},"objectRef":{"resource":"deployments","apiGroup":"apps"},"requestReceivedTimestamp":"2026-01-01T10:00:03.000000Z"}`,
		`{"stage":"ResponseComplete","verb":"get","user":{"username":"someone-else"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-01-01T10:00:02.000000Z"}`,
		`{"stage":"ResponseComplete","verb":"get","user":{"username":"` + goliveUser + `"},"requestReceivedTimestamp":"2026-01-01T10:00:04.000000Z"}`,
		`{"stage":"ResponseComplete","verb":"get","user":{"username":"` + goliveUser + `"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-01-01T10:00:09.000000Z"}`,
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(strings.Join(events, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	got, err := countAudit(path, goliveUser, from, from.Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := map[apiCall]int{
		{Verb: "patch", Resource: "golive.dev/updaterequests/status"}: 1,
		{Verb: "get", Resource: "core/secrets"}:                       1,
		{Verb: "watch", Resource: "apps/deployments"}:                 1,
		{Verb: "get", Resource: "-"}:                                  1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("countAudit = %v, want %v", got, want)
	}
}

func TestWriteReportKeepsTheProse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	prose := "# Benchmarks\n\nWhat limits it.\n"
	if err := os.WriteFile(path, []byte(prose), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rendered := range []string{"first figures", "second figures"} {
		if err := WriteReport(path, rendered); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := prose + "\n" + reportBegin + "\n\nsecond figures\n" + reportEnd + "\n"
	if string(got) != want {
		t.Errorf("the report file:\n%s\nwant:\n%s", got, want)
	}
}

// TestRenderWithArgo renders made-up results with the peer's figures: every
// table of Argo Rollouts is there, beside golive's, and nothing is NaN.
func TestRenderWithArgo(t *testing.T) {
	waiting := func(count int, rss uint64, heap float64) WaitingResult {
		return WaitingResult{Waiting: count, Memory: memory{RSS: rss, HWM: rss}, HeapInuse: heap, HeapLive: heap / 2,
			Settled: time.Second, Idle: 5 * time.Second, IdleAPI: map[apiCall]int{{Verb: "update", Resource: "coordination.k8s.io/leases"}: 3}}
	}
	second := Latencies{Count: 2, P50: time.Second, P99: 2 * time.Second, Max: 2 * time.Second}
	r := Results{
		Config:  Config{Releases: []int{2}, Runs: 1, Waiting: []int{0, 10}, Idle: 5 * time.Second, Replicas: 2, Workers: 4, Argo: "rollouts-controller"},
		Machine: Machine{Cores: 2, CPU: "test", Memory: 1 << 30},
		Releases: []ReleaseResult{{
			N: 2,
			Runs: []RunResult{{FloorStaging: time.Second, GoliveStaging: 2 * time.Second, FloorProduction: time.Second,
				GoliveProduction: 2 * time.Second, ArgoPaused: time.Second, ArgoProduction: 4 * time.Second}},
			ApprovalLatency: second, WindowLatency: second, ApprovalCall: second, ArgoStartLatency: second, ArgoPromoteCall: second,
			Phases:  10,
			API:     map[apiCall]float64{{Verb: "patch", Resource: "golive.dev/updaterequests/status"}: 5},
			ArgoAPI: map[apiCall]float64{{Verb: "create", Resource: "apps/replicasets"}: 1, {Verb: "update", Resource: "argoproj.io/rollouts/status"}: 4},
		}},
		Waiting:     []WaitingResult{waiting(0, 10<<20, 4<<20), waiting(10, 11<<20, 5<<20)},
		ArgoWaiting: []WaitingResult{waiting(0, 20<<20, 8<<20), waiting(10, 22<<20, 9<<20)},
	}
	rendered := Render(r)
	for _, want := range []string{
		"| 2 | 1.0 s (1.0–1.0) | 2.0 s (2.0–2.0) | 4.0 s (4.0–4.0) | 2.00 (2.00–2.00) | 4.00 (4.00–4.00) | 0.50 (0.50–0.50) | 1.0 s (1.0–1.0) |",
		"| 2 | 1.00 s | 2.00 s | 1.00 s | 2.00 s | 2.00 s |",
		"Memory per paused Rollout, from 0 to 10: 204.8 KiB resident",
		"golive / Argo per waiting release: 0.50 resident, 1.00 live heap.",
		"| update | argoproj.io/rollouts/status | 4.00 |",
		"all requests per release, golive 5.00, Argo 5.00 (golive / Argo 1.00)",
	} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the report has no %q:\n%s", want, rendered)
		}
	}
	if strings.Contains(rendered, "NaN") || strings.Contains(rendered, "Inf") {
		t.Errorf("the report shows NaN or Inf:\n%s", rendered)
	}
	r.Config.Argo, r.ArgoWaiting = "", nil
	if rendered := Render(r); !strings.Contains(rendered, "was not measured") || strings.Contains(rendered, "Argo production") {
		t.Errorf("without the peer, the report:\n%s", rendered)
	}
}

// TestRenderWithContent renders made-up results of both scenarios: each
// per-N table and list has a row of the content releases after the plain
// ones, without the window opening they were not measured with.
func TestRenderWithContent(t *testing.T) {
	second := Latencies{Count: 2, P50: time.Second, P99: 2 * time.Second, Max: 2 * time.Second}
	release := func(goliveProduction time.Duration, api float64) ReleaseResult {
		return ReleaseResult{
			N: 2,
			Runs: []RunResult{{FloorStaging: time.Second, GoliveStaging: 2 * time.Second, FloorProduction: time.Second,
				GoliveProduction: goliveProduction}},
			ApprovalLatency: second, ApprovalCall: second, Phases: 10,
			API: map[apiCall]float64{{Verb: "patch", Resource: "golive.dev/updaterequests/status"}: api},
		}
	}
	plain := release(2*time.Second, 5)
	plain.WindowLatency = second
	r := Results{
		Config:   Config{Releases: []int{2}, Runs: 1, Waiting: []int{0}, Idle: 5 * time.Second, Replicas: 2, Workers: 4},
		Machine:  Machine{Cores: 2, CPU: "test", Memory: 1 << 30},
		Releases: []ReleaseResult{plain},
		Content:  []ReleaseResult{release(3*time.Second, 8)},
		Waiting:  []WaitingResult{{Waiting: 0, Memory: memory{RSS: 1 << 20, HWM: 1 << 20}}},
	}
	rendered := Render(r)
	for _, want := range []string{
		"| 2 | 1.0 s (1.0–1.0) | 2.0 s (2.0–2.0) | 2.00 (2.00–2.00) | 1.0 s (1.0–1.0) | 2.0 s (2.0–2.0) | 2.00 (2.00–2.00) |\n" +
			"| 2 + policy, config, migration | 1.0 s (1.0–1.0) | 2.0 s (2.0–2.0) | 2.00 (2.00–2.00) | 1.0 s (1.0–1.0) | 3.0 s (3.0–3.0) | 3.00 (3.00–3.00) |",
		"2 releases + policy, config, migration: one approval took p50 1.00 s",
		"| 2 | 1.00 s | 2.00 s | 2.00 s | 1.00 s | 2.00 s | 2.00 s |\n" +
			"| 2 + policy, config, migration | 1.00 s | 2.00 s | 2.00 s | – | – | – |",
		"| verb | resource | 2 releases | 2 releases + policy, config, migration |",
		"| patch | golive.dev/updaterequests/status | 5.00 | 8.00 |",
		"- 2 releases + policy, config, migration: 8.00 writes per release",
	} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the report has no %q:\n%s", want, rendered)
		}
	}
}

package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The markers around the part of docs/benchmarks.md that `make bench`
// writes; the text around them is written by people and kept.
const (
	reportBegin = "<!-- BEGIN make bench: generated, replaced by each run -->"
	reportEnd   = "<!-- END make bench -->"
)

// Machine is what the figures were measured on, from /proc.
type Machine struct {
	Cores int
	CPU   string
	// Memory is MemTotal, in bytes.
	Memory uint64
}

// readMachine reads the cores and their model from /proc/cpuinfo and the
// memory from /proc/meminfo.
func readMachine() (Machine, error) {
	var m Machine
	err := scanLines("/proc/cpuinfo", func(field, value string) error {
		switch field {
		case "processor":
			m.Cores++
		case "model name":
			m.CPU = value
		}
		return nil
	})
	if err != nil {
		return Machine{}, err
	}
	err = scanLines("/proc/meminfo", func(field, value string) error {
		if field != "MemTotal" {
			return nil
		}
		kib, err := strconv.ParseUint(strings.TrimSuffix(value, " kB"), 10, 64)
		m.Memory = kib * 1024
		return err
	})
	if err != nil {
		return Machine{}, err
	}
	if m.Cores == 0 || m.Memory == 0 {
		return Machine{}, errors.New("no cores in /proc/cpuinfo or no MemTotal in /proc/meminfo")
	}
	return m, nil
}

// scanLines calls each with the "field: value" lines of a /proc file.
func scanLines(path string, each func(field, value string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		field, value, found := strings.Cut(scanner.Text(), ":")
		if !found {
			continue
		}
		if err := each(strings.TrimSpace(field), strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return scanner.Err()
}

// Latencies summarize a set of durations.
type Latencies struct {
	Count         int
	P50, P99, Max time.Duration
}

// latencies are the nearest-rank percentiles of values.
func latencies(values []time.Duration) Latencies {
	if len(values) == 0 {
		return Latencies{}
	}
	sorted := slices.Sorted(slices.Values(values))
	rank := func(p float64) time.Duration {
		return sorted[max(0, int(math.Ceil(p*float64(len(sorted))))-1)]
	}
	return Latencies{Count: len(sorted), P50: rank(0.50), P99: rank(0.99), Max: sorted[len(sorted)-1]}
}

// spread is a median with the smallest and largest value.
type spread struct{ median, low, high float64 }

func spreadOf(values []float64) spread {
	if len(values) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	sorted := slices.Sorted(slices.Values(values))
	middle := len(sorted) / 2
	median := sorted[middle]
	if len(sorted)%2 == 0 {
		median = (sorted[middle-1] + sorted[middle]) / 2
	}
	return spread{median, sorted[0], sorted[len(sorted)-1]}
}

// Ratios are golive's times over the floor's, per run, staging and production.
func (r ReleaseResult) Ratios() (staging, production []float64) {
	for _, run := range r.Runs {
		staging = append(staging, run.GoliveStaging.Seconds()/run.FloorStaging.Seconds())
		production = append(production, run.GoliveProduction.Seconds()/run.FloorProduction.Seconds())
	}
	return staging, production
}

// ArgoRatios are, per run, Argo Rollouts' production time over the floor's
// and golive's over Argo's; none unless Argo was measured.
func (r ReleaseResult) ArgoRatios() (argoFloor, goliveArgo []float64) {
	for _, run := range r.Runs {
		if run.ArgoProduction <= 0 {
			continue
		}
		argoFloor = append(argoFloor, run.ArgoProduction.Seconds()/run.FloorProduction.Seconds())
		goliveArgo = append(goliveArgo, run.GoliveProduction.Seconds()/run.ArgoProduction.Seconds())
	}
	return argoFloor, goliveArgo
}

// Writes is golive's API writes per release, without the workload patches,
// and without Events too.
func (r ReleaseResult) Writes() (writes, withoutEvents float64) {
	for call, count := range r.API {
		if !call.write() || call.workloadPatch() {
			continue
		}
		writes += count
		if call.Resource != "events.k8s.io/events" && call.Resource != "core/events" {
			withoutEvents += count
		}
	}
	return writes, withoutEvents
}

// MemoryPerWaiting is how much golive's memory grew per waiting request,
// from none to the most, in bytes: resident (VmRSS), Go heap in use, Go
// heap live after the last GC.
func (r Results) MemoryPerWaiting() (rss, heapInuse, heapLive float64, waiting int) {
	return memoryPerWaiting(r.Waiting)
}

// ArgoMemoryPerWaiting is the same of Argo Rollouts per paused Rollout.
func (r Results) ArgoMemoryPerWaiting() (rss, heapInuse, heapLive float64, waiting int) {
	return memoryPerWaiting(r.ArgoWaiting)
}

func memoryPerWaiting(results []WaitingResult) (rss, heapInuse, heapLive float64, waiting int) {
	if len(results) < 2 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	first, last := results[0], results[len(results)-1]
	n := float64(last.Waiting - first.Waiting)
	return (float64(last.Memory.RSS) - float64(first.Memory.RSS)) / n, (last.HeapInuse - first.HeapInuse) / n, (last.HeapLive - first.HeapLive) / n, last.Waiting
}

// contentLabel follows N where a figure is of the content scenario
// (Results.Content).
const contentLabel = " + policy, config, migration"

// releaseRow is one scenario's figures at one N, with the label that tells
// the scenario.
type releaseRow struct {
	ReleaseResult
	label string
}

// count is the row's first cell: "500" or "500 + policy, config, migration".
func (row releaseRow) count() string { return fmt.Sprintf("%d%s", row.N, row.label) }

// releases names the row in prose and column heads.
func (row releaseRow) releases() string { return fmt.Sprintf("%d releases%s", row.N, row.label) }

// rows are the release results of both scenarios, each N's plain releases
// followed by its content releases.
func (r Results) rows() []releaseRow {
	var rows []releaseRow
	for i, release := range r.Releases {
		rows = append(rows, releaseRow{ReleaseResult: release})
		if i < len(r.Content) {
			rows = append(rows, releaseRow{ReleaseResult: r.Content[i], label: contentLabel})
		}
	}
	return rows
}

// Render writes the results as Markdown: the part of docs/benchmarks.md
// between the markers.
func Render(r Results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Measured on %s (UTC) in %s with\n`%s`\non %d cores (%s) and %s of memory; Kubernetes %s (kwok), %s",
		r.Date.UTC().Format("2006-01-02 15:04"), r.Elapsed.Round(time.Second), r.Config.Command(),
		r.Machine.Cores, r.Machine.CPU, gibibytes(float64(r.Machine.Memory)), kubernetesVersion(), runtime.Version())
	if r.Config.Argo != "" {
		p("; the peer Argo Rollouts %s", argoVersion())
	}
	p(".\n\n")

	p("### 1. Overhead over the floor\n\n")
	p("Median of %d run(s), smallest–largest in brackets.\n\n", r.Config.Runs)
	p("| releases | floor staging | golive staging | golive / floor | floor production | golive production | golive / floor |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, release := range r.rows() {
		var floorStaging, goliveStaging, floorProduction, goliveProduction []float64
		for _, run := range release.Runs {
			floorStaging = append(floorStaging, run.FloorStaging.Seconds())
			goliveStaging = append(goliveStaging, run.GoliveStaging.Seconds())
			floorProduction = append(floorProduction, run.FloorProduction.Seconds())
			goliveProduction = append(goliveProduction, run.GoliveProduction.Seconds())
		}
		staging, production := release.Ratios()
		p("| %s | %s | %s | %s | %s | %s | %s |\n", release.count(),
			seconds(spreadOf(floorStaging)), seconds(spreadOf(goliveStaging)), ratio(spreadOf(staging)),
			seconds(spreadOf(floorProduction)), seconds(spreadOf(goliveProduction)), ratio(spreadOf(production)))
	}
	p("\nThe floor: the driver patches the image of every staging Deployment, then of every production one,\n")
	p("and times until the last runs it on every replica, available. golive staging: from the first request\n")
	p("created to the last seen `AwaitingApproval`. golive production: from the first approval to the last\n")
	p("request seen `Succeeded`, the approvals included (two per release, through the admission webhook;\n")
	for _, release := range r.rows() {
		p("%s: one approval took p50 %s, p99 %s; ", release.releases(), duration(release.ApprovalCall.P50), duration(release.ApprovalCall.P99))
	}
	p("%d workers).\n\n", r.Config.Workers)
	if len(r.Content) > 0 {
		p("Rows \"+ policy, config, migration\": releases of other namespaces, each governed by a GoLivePolicy (the same two\n")
		p("approvals required), its request also changing the ConfigMap its Deployment reads (`spec.config`, new data\n")
		p("each run) and running a migration Job (`spec.migrations`) in each environment; the floor changes the\n")
		p("image of those Deployments. Neither Argo Rollouts nor the window opening is measured for them.\n\n")
	}
	argo := r.Config.Argo != ""
	if argo {
		p("Production beside the peer, Argo Rollouts, on the same cluster in the same runs:\n\n")
		p("| releases | floor production | golive production | Argo production | golive / floor | Argo / floor | golive / Argo | Argo: image change → all paused |\n")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, release := range r.Releases {
			var floorProduction, goliveProduction, argoProduction, argoPaused []float64
			for _, run := range release.Runs {
				floorProduction = append(floorProduction, run.FloorProduction.Seconds())
				goliveProduction = append(goliveProduction, run.GoliveProduction.Seconds())
				argoProduction = append(argoProduction, run.ArgoProduction.Seconds())
				argoPaused = append(argoPaused, run.ArgoPaused.Seconds())
			}
			_, production := release.Ratios()
			argoFloor, goliveArgo := release.ArgoRatios()
			p("| %d | %s | %s | %s | %s | %s | %s | %s |\n", release.N,
				seconds(spreadOf(floorProduction)), seconds(spreadOf(goliveProduction)), seconds(spreadOf(argoProduction)),
				ratio(spreadOf(production)), ratio(spreadOf(argoFloor)), ratio(spreadOf(goliveArgo)), seconds(spreadOf(argoPaused)))
		}
		p("\nArgo production: from the first promotion to the last Rollout seen `Healthy`, every replica running the\n")
		p("new image, available, the promotions included (one per release, as `kubectl argo rollouts promote` makes\n")
		p("it: a read and a status patch; ")
		for _, release := range r.Releases {
			p("%d releases: one promotion took p50 %s, p99 %s; ", release.N, duration(release.ArgoPromoteCall.P50), duration(release.ArgoPromoteCall.P99))
		}
		p("%d workers). Before it, the driver changed the\n", r.Config.Workers)
		p("Rollouts' image and waited until all were `Paused` at their pause step (last column; nothing new runs then).\n\n")
	} else {
		p("The peer, Argo Rollouts, was not measured (`%s` unset; `make bench` sets it).\n\n", envArgo)
	}

	p("### 2. Reaction latency\n\n")
	p("| releases | last approval → production start p50 | p99 | max | window opening → production start p50 | p99 | max |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, release := range r.rows() {
		a, w := release.ApprovalLatency, release.WindowLatency
		p("| %s | %s | %s | %s | %s | %s | %s |\n", release.count(),
			duration(a.P50), duration(a.P99), duration(a.Max), measured(w, w.P50), measured(w, w.P99), measured(w, w.Max))
	}
	p("\nProduction start: the driver's watch sees production's Deployment ask for the new image. Last\n")
	p("approval: the webhook accepted a release's second approval (every release of the runs above). Window\n")
	p("opening: the releases, approved while their windows were closed, wait in `Scheduled`; the windows are\n")
	p("then set to open at the next whole minute at least %s later (one more pass).\n\n", windowLead)
	if argo {
		p("| releases | golive: last approval → production start p50 | p99 | Argo: promotion → production start p50 | p99 | max |\n")
		p("|---:|---:|---:|---:|---:|---:|\n")
		for _, release := range r.Releases {
			a, g := release.ApprovalLatency, release.ArgoStartLatency
			p("| %d | %s | %s | %s | %s | %s |\n", release.N, duration(a.P50), duration(a.P99), duration(g.P50), duration(g.P99), duration(g.Max))
		}
		p("\nArgo's production start: the driver's watch sees the Rollout's new ReplicaSet asked for replicas, from\n")
		p("the promotion's status patch answered (every release of the runs above).\n\n")
	}

	p("### 3. Memory and idle cost\n\n")
	p("| requests waiting | VmRSS | VmHWM | Go heap in use | Go heap live | added and settled in | reconciles in %s idle | API requests in %s idle |\n", r.Config.Idle, r.Config.Idle)
	p("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, waiting := range r.Waiting {
		p("| %d | %s | %s | %s | %s | %s | %s | %d |\n", waiting.Waiting, mebibytes(float64(waiting.Memory.RSS)), mebibytes(float64(waiting.Memory.HWM)),
			mebibytes(waiting.HeapInuse), mebibytes(waiting.HeapLive), waiting.Settled.Round(time.Second), figures(waiting.IdleReconciles), sumCalls(waiting.IdleAPI))
	}
	rss, heapInuse, heapLive, most := r.MemoryPerWaiting()
	p("\nMemory per waiting request, from 0 to %d: %s resident (VmRSS), %s of Go heap in use, %s of Go heap live.\n",
		most, kibibytes(rss), kibibytes(heapInuse), kibibytes(heapLive))
	p("Go heap live is half `%s`, the next GC's goal (GOGC=100): the heap live after the last GC.\n", metricHeapGoal)
	p("golive is restarted before (VmHWM is this part's peak); each request waits in `Scheduled` for a\n")
	p("window three days later, %d to a namespace, each with Deployments of its own (no replicas).\n", waitingPerNamespace)
	p("Memory is read after the idle period; reconciles from `%s`, API requests from the audit log\n", metricReconciles)
	p("(client-go's `%s` by method and code: ", metricClientRequests)
	for i, waiting := range r.Waiting {
		if i > 0 {
			p("; ")
		}
		p("%d waiting: %s", waiting.Waiting, figures(waiting.IdleClientRequests))
	}
	p(").\n")
	if len(r.Waiting) > 0 {
		last := r.Waiting[len(r.Waiting)-1]
		p("Idle requests by verb and resource with %d waiting: %s.\n", last.Waiting, callList(last.IdleAPI))
	}
	if argo {
		p("\nArgo Rollouts with Rollouts paused at their pause step, measured the same way after golive's part:\n\n")
		p("| Rollouts paused | VmRSS | VmHWM | Go heap in use | Go heap live | added and settled in | reconciles in %s idle | API requests in %s idle |\n", r.Config.Idle, r.Config.Idle)
		p("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, waiting := range r.ArgoWaiting {
			p("| %d | %s | %s | %s | %s | %s | %s | %d |\n", waiting.Waiting, mebibytes(float64(waiting.Memory.RSS)), mebibytes(float64(waiting.Memory.HWM)),
				mebibytes(waiting.HeapInuse), mebibytes(waiting.HeapLive), waiting.Settled.Round(time.Second), figures(waiting.IdleReconciles), sumCalls(waiting.IdleAPI))
		}
		argoRSS, argoHeapInuse, argoHeapLive, argoMost := r.ArgoMemoryPerWaiting()
		p("\nMemory per paused Rollout, from 0 to %d: %s resident (VmRSS), %s of Go heap in use, %s of Go heap live.\n",
			argoMost, kibibytes(argoRSS), kibibytes(argoHeapInuse), kibibytes(argoHeapLive))
		p("golive / Argo per waiting release: %.2f resident, %.2f live heap.\n", rss/argoRSS, heapLive/argoHeapLive)
		p("Argo is restarted before; each Rollout (no replicas, 50 to a namespace) asks for a new image and waits at its pause step;\n")
		p("it settled when the audit log showed none of Argo's requests for %s. Reconciles from Argo's `rollout_reconcile` histogram.\n", settleQuiet)
		last := r.ArgoWaiting[len(r.ArgoWaiting)-1]
		p("Argo's idle requests by verb and resource with %d paused: %s.\n", last.Waiting, callList(last.IdleAPI))
	}

	p("\n### 4. API cost per release\n\n")
	p("golive's requests per release, from the kube-apiserver's audit log (user `%s`), over the\n", goliveUser)
	p("runs' golive parts (first request created to last `Succeeded`); lease renewals left out.\n\n")
	p("| verb | resource |")
	for _, release := range r.rows() {
		p(" %s |", release.releases())
	}
	p("\n|---|---|%s\n", strings.Repeat("---:|", len(r.rows())))
	for _, call := range allCalls(slices.Concat(r.Releases, r.Content)) {
		p("| %s | %s |", call.Verb, call.Resource)
		for _, release := range r.rows() {
			p(" %.2f |", release.API[call])
		}
		p("\n")
	}
	p("| **all** | |")
	for _, release := range r.rows() {
		p(" **%.2f** |", sumFigures(release.API))
	}
	p("\n\n")
	for _, release := range r.rows() {
		writes, withoutEvents := release.Writes()
		p("- %s: %.2f writes per release without the workload patches (%.2f without Events) over %d phases:\n",
			release.releases(), writes, withoutEvents, release.Phases)
		p("  %.2f writes per phase (%.2f without Events). Reconciles per release: %s; one reconcile took %s on average,\n",
			writes/float64(release.Phases), withoutEvents/float64(release.Phases), figures(release.Reconciles), meanSeconds(release.ReconcileSeconds))
		p("  an item waited %s in the work queue; the controllers reconciled during %s of the time, with %s worker(s).\n",
			meanSeconds(release.QueueSeconds), percents(release.Busy), figures(release.Workers))
		p("  golive's CPU time per release: %s. client-go's requests per release: %s. Lease renewals: %s per minute.\n",
			duration(time.Duration(release.CPUSeconds*float64(time.Second))), figures(release.ClientRequests), callFigures(release.BackgroundPerMinute))
	}
	if argo {
		p("\nArgo Rollouts' requests per release, from the audit log (user `%s`), over the runs' Argo parts\n", argoUser)
		p("(first image change to last Rollout `Healthy`); lease renewals left out. Argo scales its ReplicaSets itself,\n")
		p("which kube-controller-manager does for golive's Deployments (not counted there).\n\n")
		p("| verb | resource |")
		for _, release := range r.Releases {
			p(" %d releases |", release.N)
		}
		p("\n|---|---|%s\n", strings.Repeat("---:|", len(r.Releases)))
		for _, call := range allArgoCalls(r.Releases) {
			p("| %s | %s |", call.Verb, call.Resource)
			for _, release := range r.Releases {
				p(" %.2f |", release.ArgoAPI[call])
			}
			p("\n")
		}
		p("| **all** | |")
		for _, release := range r.Releases {
			p(" **%.2f** |", sumFigures(release.ArgoAPI))
		}
		p("\n\n")
		for _, release := range r.Releases {
			p("- %d releases: all requests per release, golive %.2f, Argo %.2f (golive / Argo %.2f); CPU time per release, golive %s, Argo %s;\n",
				release.N, sumFigures(release.API), sumFigures(release.ArgoAPI), sumFigures(release.API)/sumFigures(release.ArgoAPI),
				duration(time.Duration(release.CPUSeconds*float64(time.Second))), duration(time.Duration(release.ArgoCPUSeconds*float64(time.Second))))
			p("  reconciles per release, golive %.2f, Argo %.2f (Rollout reconciles).\n", sum(release.Reconciles), release.ArgoReconciles)
		}
	}
	return b.String()
}

// WriteReport puts the rendered results between the markers of the file at
// path, keeping the rest; a file without them gets them at its end.
func WriteReport(path, rendered string) error {
	section := reportBegin + "\n\n" + rendered + "\n" + reportEnd + "\n"
	existing, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		existing = []byte("# Benchmarks\n\n")
	case err != nil:
		return err
	}
	text := string(existing)
	begin, end := strings.Index(text, reportBegin), strings.Index(text, reportEnd)
	if begin >= 0 && end > begin {
		text = text[:begin] + section + strings.TrimPrefix(text[end+len(reportEnd):], "\n")
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// allCalls are the kinds of request golive made in any result, by resource and verb.
func allCalls(releases []ReleaseResult) []apiCall {
	return sortedCalls(releases, func(r ReleaseResult) map[apiCall]float64 { return r.API })
}

// allArgoCalls are those Argo Rollouts made.
func allArgoCalls(releases []ReleaseResult) []apiCall {
	return sortedCalls(releases, func(r ReleaseResult) map[apiCall]float64 { return r.ArgoAPI })
}

func sortedCalls(releases []ReleaseResult, of func(ReleaseResult) map[apiCall]float64) []apiCall {
	var calls []apiCall
	for _, release := range releases {
		for call := range of(release) {
			if !slices.Contains(calls, call) {
				calls = append(calls, call)
			}
		}
	}
	slices.SortFunc(calls, func(a, b apiCall) int {
		if c := strings.Compare(a.Resource, b.Resource); c != 0 {
			return c
		}
		return strings.Compare(a.Verb, b.Verb)
	})
	return calls
}

func kubernetesVersion() string {
	if v := os.Getenv("KUBERNETES_VERSION"); v != "" {
		return v
	}
	return "(KUBERNETES_VERSION unset)"
}

func argoVersion() string {
	if v := os.Getenv("ARGO_ROLLOUTS_VERSION"); v != "" {
		return v
	}
	return "(ARGO_ROLLOUTS_VERSION unset)"
}

func seconds(s spread) string {
	return fmt.Sprintf("%.1f s (%.1f–%.1f)", s.median, s.low, s.high)
}

func ratio(s spread) string {
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.median, s.low, s.high)
}

func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// measured is d, or a dash where l holds nothing (not measured).
func measured(l Latencies, d time.Duration) string {
	if l.Count == 0 {
		return "–"
	}
	return duration(d)
}

func percents(shares map[string]float64) string {
	return joinSorted(shares, func(v float64) string { return fmt.Sprintf("%.0f %%", 100*v) })
}

func meanSeconds(byController map[string]float64) string {
	return joinSorted(byController, func(v float64) string { return duration(time.Duration(v * float64(time.Second))) })
}

// figures lists figures by key, to two decimals, "none" without any.
func figures(byKey map[string]float64) string {
	return joinSorted(byKey, func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) })
}

func joinSorted(byKey map[string]float64, format func(float64) string) string {
	if len(byKey) == 0 {
		return "none"
	}
	var items []string
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		items = append(items, key+" "+format(byKey[key]))
	}
	return strings.Join(items, ", ")
}

// callList lists counts of requests by verb and resource, "none" without any.
func callList(counts map[apiCall]int) string {
	byKey := map[string]float64{}
	for call, count := range counts {
		byKey[call.Verb+" "+call.Resource] = float64(count)
	}
	return figures(byKey)
}

func callFigures(figuresByCall map[apiCall]float64) string {
	byKey := map[string]float64{}
	for call, value := range figuresByCall {
		byKey[call.Verb+" "+call.Resource] = value
	}
	return figures(byKey)
}

func sumCalls(counts map[apiCall]int) int {
	total := 0
	for _, count := range counts {
		total += count
	}
	return total
}

func sumFigures(byCall map[apiCall]float64) float64 {
	total := 0.0
	for _, value := range byCall {
		total += value
	}
	return total
}

func sum(byKey map[string]float64) float64 {
	total := 0.0
	for _, value := range byKey {
		total += value
	}
	return total
}

func mebibytes(bytes float64) string { return fmt.Sprintf("%.1f MiB", bytes/(1<<20)) }

func kibibytes(bytes float64) string { return fmt.Sprintf("%.1f KiB", bytes/(1<<10)) }

func gibibytes(bytes float64) string { return fmt.Sprintf("%.1f GiB", bytes/(1<<30)) }

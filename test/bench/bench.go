package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/test/cluster"
)

// podsPerNode is what each fake node holds, as test/cluster sizes it.
const podsPerNode = 110

// windowLead is the least time between the last window patched and its
// opening, so that every request waits for the opening by its own timer.
const windowLead = 15 * time.Second

// settleQuiet is how long golive's reconcile count must stand still, with
// empty work queues, for golive to count as settled.
const settleQuiet = 2 * time.Second

// Results are a run's figures.
type Results struct {
	Config  Config
	Machine Machine
	// Date is when the run started; Elapsed how long it took.
	Date    time.Time
	Elapsed time.Duration
	// Releases holds one result per number of releases (measurements 1, 2 and 4).
	Releases []ReleaseResult
	// Content holds the same per number of releases that also change their
	// configuration and run a migration, under a GoLivePolicy; without the
	// window opening and Argo Rollouts.
	Content []ReleaseResult
	// Waiting holds one result per number of waiting requests (measurement 3).
	Waiting []WaitingResult
	// ArgoWaiting holds Argo Rollouts' figures per number of Rollouts paused
	// (measurement 3 of the peer), when Config.Argo is set.
	ArgoWaiting []WaitingResult
}

// ReleaseResult is what N releases at once showed.
type ReleaseResult struct {
	N    int
	Runs []RunResult
	// ApprovalLatency is, per release and run, the time from the last
	// approval accepted by the webhook to golive patching production.
	ApprovalLatency Latencies
	// WindowLatency is, per release, the time from the window opening to
	// golive patching production, all approved while it was closed.
	WindowLatency Latencies
	// ApprovalCall is how long one approval took through the webhook.
	ApprovalCall Latencies
	// Phases is how many phases a release passed (its timeline's length).
	Phases int
	// The figures below are per release, over the runs' golive parts (from
	// the first request created to the last one Succeeded).
	//
	// Reconciles are by controller and result.
	Reconciles map[string]float64
	// ReconcileSeconds is the mean time of one reconcile, by controller.
	ReconcileSeconds map[string]float64
	// QueueSeconds is the mean time an item waited in the work queue, by controller.
	QueueSeconds map[string]float64
	// Busy is the share of the golive parts' time each controller spent
	// reconciling (the sum of its reconcile times over the wall time).
	Busy map[string]float64
	// Workers is each controller's number of workers (max concurrent reconciles).
	Workers map[string]float64
	// CPUSeconds is golive's CPU time per release (process_cpu_seconds_total).
	CPUSeconds float64
	// ClientRequests are golive's API requests as client-go counts them, by method and code.
	ClientRequests map[string]float64
	// API are golive's API requests as the audit log names them, by verb and resource.
	API map[apiCall]float64
	// BackgroundPerMinute are the requests made whatever golive does (lease
	// renewals), per minute, left out of API.
	BackgroundPerMinute map[apiCall]float64

	// The peer's figures, when Config.Argo is set. ArgoStartLatency is, per
	// Rollout and run, the time from its promotion to Argo scaling up its
	// new ReplicaSet; ArgoPromoteCall how long one promotion took.
	ArgoStartLatency, ArgoPromoteCall Latencies
	// ArgoAPI are Argo's API requests per release as the audit log names
	// them, by verb and resource, over the runs' Argo parts (from the first
	// image change to the last Rollout healthy), lease renewals left out.
	ArgoAPI map[apiCall]float64
	// ArgoCPUSeconds is Argo's CPU time per release; ArgoReconciles its
	// Rollout reconciles per release.
	ArgoCPUSeconds, ArgoReconciles float64
}

// RunResult is one run of N releases: the floor's times, golive's and,
// when measured, Argo Rollouts': from the first image change to the last
// Rollout paused (ArgoPaused), from the first promotion to the last Rollout
// healthy (ArgoProduction).
type RunResult struct {
	FloorStaging, GoliveStaging, FloorProduction, GoliveProduction time.Duration
	ArgoPaused, ArgoProduction                                     time.Duration
}

// WaitingResult is golive with a number of requests waiting in Scheduled
// for a window next week.
type WaitingResult struct {
	Waiting int
	// Memory is golive's resident memory after the idle period; HeapInuse
	// the Go heap in use then (go_memstats_heap_inuse_bytes), HeapLive the
	// heap live after the last GC (half go_memstats_next_gc_bytes).
	Memory              memory
	HeapInuse, HeapLive float64
	// Settled is how long it took to add the requests until golive was quiet.
	Settled time.Duration
	// Idle is how long golive was watched doing nothing.
	Idle time.Duration
	// IdleReconciles are by controller and result; IdleClientRequests by
	// method and code; IdleAPI by verb and resource (the audit log).
	IdleReconciles     map[string]float64
	IdleClientRequests map[string]float64
	IdleAPI            map[apiCall]int
}

// driver plays the people and the pipeline against golive on a cluster.
type driver struct {
	t      *testing.T
	cfg    Config
	cl     *cluster.Cluster
	golive *cluster.Golive
	clock  clock.Clock
	watch  *watcher
	// admin, alice, bob and carol are clients without client-side QPS limits.
	admin, alice, bob, carol client.Client
	// plain and content are the scenarios of releases measured at each N.
	plain, content *scenario
	// waiting is how many waiting requests exist.
	waiting int
	// argo is the peer, Argo Rollouts, nil unless Config.Argo is set;
	// rollouts watches its Rollouts; argoReleases and argoWaiting are how
	// many Rollouts of each scenario exist.
	argo                      *argoRollouts
	rollouts                  *rolloutWatcher
	argoReleases, argoWaiting int
}

// Run starts a kwok cluster sized for cfg (QPS limits lifted, golive's
// requests audited) and golive on it, measures, and returns the figures.
// Everything is stopped and deleted when the test ends.
func Run(t *testing.T, cfg Config) Results {
	t.Helper()
	clk := clock.RealClock{}
	results := Results{Config: cfg, Date: clk.Now()}
	machine, err := readMachine()
	if err != nil {
		t.Fatal(err)
	}
	results.Machine = machine

	cl := cluster.Start(t, cluster.Options{Name: "golive-bench", Authorization: true, Nodes: nodesFor(cfg),
		DisableQPSLimits: true, AuditPolicy: auditPolicy})
	golive := cl.StartGoliveWith(t, cluster.GoliveOptions{Metrics: true, ServiceAccountToken: true})
	d := newDriver(t, cfg, cl, golive, clk)
	if cfg.Argo != "" {
		d.argo = startArgo(t, cl, cfg.Argo)
		rollouts, err := startRolloutWatcher(t.Context(), d.config(rest.ImpersonationConfig{}), cl.Client.Scheme(), clk)
		if err != nil {
			t.Fatal(err)
		}
		d.rollouts = rollouts
	}
	for _, n := range cfg.Releases {
		release := d.measureReleases(d.plain, n)
		release.WindowLatency = d.windowRun(n)
		results.Releases = append(results.Releases, release)
		results.Content = append(results.Content, d.measureReleases(d.content, n))
	}
	results.Waiting = d.measureWaiting()
	if d.argo != nil {
		results.ArgoWaiting = d.measureArgoWaiting()
	}
	results.Elapsed = clk.Since(results.Date)
	return results
}

// nodesFor is how many fake nodes hold the largest run: every pod of both
// environments of both scenarios and of Argo's Rollouts, with a surge pod
// each during a rollout, a content release's migration pod in each
// environment, and a node spare.
func nodesFor(cfg Config) int {
	workloads := 4
	if cfg.Argo != "" {
		workloads = 5
	}
	perRelease := workloads*int(cfg.Replicas+1) + 2
	pods := cfg.maxReleases() * perRelease
	return (pods+podsPerNode-1)/podsPerNode + 1
}

func newDriver(t *testing.T, cfg Config, cl *cluster.Cluster, golive *cluster.Golive, clk clock.Clock) *driver {
	t.Helper()
	d := &driver{t: t, cfg: cfg, cl: cl, golive: golive, clock: clk, plain: plainReleases(), content: contentReleases()}
	d.admin = d.client(rest.ImpersonationConfig{})
	d.alice = d.client(rest.ImpersonationConfig{UserName: alice, Groups: []string{"system:authenticated"}})
	d.bob = d.client(rest.ImpersonationConfig{UserName: bob, Groups: []string{"system:authenticated"}})
	d.carol = d.client(rest.ImpersonationConfig{UserName: carol, Groups: []string{"system:authenticated"}})
	if err := grantPeople(t.Context(), d.admin); err != nil {
		t.Fatal(err)
	}
	watch, err := startWatcher(t.Context(), d.config(rest.ImpersonationConfig{}), cl.Client.Scheme(), clk)
	if err != nil {
		t.Fatal(err)
	}
	d.watch = watch
	return d
}

// config is the admin's config without client-side QPS limits (the API
// server's priority and fairness is off too), impersonating as given.
func (d *driver) config(impersonate rest.ImpersonationConfig) *rest.Config {
	config := rest.CopyConfig(d.cl.Config)
	config.QPS = -1
	config.Impersonate = impersonate
	return config
}

func (d *driver) client(impersonate rest.ImpersonationConfig) client.Client {
	c, err := client.New(d.config(impersonate), client.Options{Scheme: d.cl.Client.Scheme()})
	if err != nil {
		d.t.Fatal(err)
	}
	return c
}

// timeoutFor bounds a wait for n objects: generous, this is a busy 2-core machine.
func timeoutFor(n int) time.Duration { return 3*time.Minute + time.Duration(n)*time.Second }

// scenario is a kind of release measured at each N: where its releases
// live, what they are made of and what each request carries.
type scenario struct {
	// name is labelBench's value on its Deployments and requests.
	name string
	// namespace is release i's production namespace.
	namespace func(i int) string
	// create makes a release's namespaces, window and what its Deployments
	// need, in production and its staging namespace.
	create func(ctx context.Context, c client.Client, production string) error
	// deployment is a release's Deployment in namespace.
	deployment func(namespace string, replicas int32) *appsv1.Deployment
	// request is alice's request to run image; tag names the run.
	request func(production, name, image, tag string) *golivev1alpha1.UpdateRequest
	// policy, if any, governs its namespaces; created with its first releases.
	policy *golivev1alpha1.GoLivePolicy
	// withArgo: Argo Rollouts makes the same releases beside it, when Config.Argo is set.
	withArgo bool
	// ready is how many of its releases exist.
	ready int
}

// plainReleases change an image and nothing else.
func plainReleases() *scenario {
	return &scenario{
		name:      scenarioRelease,
		namespace: releaseNamespace,
		create: func(ctx context.Context, c client.Client, production string) error {
			return createNamespaces(ctx, c, production, nil, alwaysOpen())
		},
		deployment: func(namespace string, replicas int32) *appsv1.Deployment {
			return deployment(namespace, appName, scenarioRelease, replicas)
		},
		request: func(production, name, image, _ string) *golivev1alpha1.UpdateRequest {
			return updateRequest(production, name, appName, image, scenarioRelease)
		},
		withArgo: true,
	}
}

// contentReleases change an image, the configuration the Deployment reads
// and run a migration, in namespaces a GoLivePolicy governs.
func contentReleases() *scenario {
	return &scenario{
		name:      scenarioContent,
		namespace: contentNamespace,
		create: func(ctx context.Context, c client.Client, production string) error {
			if err := createNamespaces(ctx, c, production, map[string]string{labelGoverned: "true"}, alwaysOpen()); err != nil {
				return err
			}
			for _, namespace := range []string{production, stagingOf(production)} {
				if err := c.Create(ctx, initialConfig(namespace)); err != nil {
					return err
				}
			}
			return nil
		},
		deployment: func(namespace string, replicas int32) *appsv1.Deployment {
			return readingConfig(deployment(namespace, appName, scenarioContent, replicas))
		},
		request: func(production, name, image, tag string) *golivev1alpha1.UpdateRequest {
			return contentRequest(production, name, appName, image, tag)
		},
		policy: benchPolicy(),
	}
}

// measureReleases measures n releases of s at once: cfg.Runs runs of the
// floor and golive.
func (d *driver) measureReleases(s *scenario, n int) ReleaseResult {
	d.t.Helper()
	d.ensureReleases(s, n)
	if d.argo != nil && s.withArgo {
		d.ensureArgoReleases(n)
	}
	result := ReleaseResult{N: n, API: map[apiCall]float64{}, BackgroundPerMinute: map[apiCall]float64{}, ArgoAPI: map[apiCall]float64{}}
	var approvalLatencies, approvalCalls, argoStartLatencies, argoPromoteCalls []time.Duration
	var reconcileSum, reconcileCount, queueSum, queueCount map[string]float64
	var golive time.Duration
	for number := 1; number <= d.cfg.Runs; number++ {
		r := d.overheadRun(s, n, number)
		result.Runs = append(result.Runs, r.RunResult)
		approvalLatencies = append(approvalLatencies, r.approvalLatencies...)
		approvalCalls = append(approvalCalls, r.approvalCalls...)
		result.Phases = r.phases
		golive += r.to.Sub(r.from)
		for call, count := range r.api {
			if call.background() {
				result.BackgroundPerMinute[call] += float64(count)
			} else {
				result.API[call] += float64(count) / float64(n*d.cfg.Runs)
			}
		}
		result.Reconciles = add(result.Reconciles, r.delta(metricReconciles, "controller", "result"))
		result.ClientRequests = add(result.ClientRequests, r.delta(metricClientRequests, "method", "code"))
		reconcileSum = add(reconcileSum, r.delta(metricReconcileTime+"_sum", "controller"))
		reconcileCount = add(reconcileCount, r.delta(metricReconcileTime+"_count", "controller"))
		queueSum = add(queueSum, r.delta(metricQueueDuration+"_sum", "name"))
		queueCount = add(queueCount, r.delta(metricQueueDuration+"_count", "name"))
		result.CPUSeconds += r.after.total(metricCPU) - r.before.total(metricCPU)
		result.Workers = r.after.by(metricWorkers, "controller")
		argoStartLatencies = append(argoStartLatencies, r.argo.startLatencies...)
		argoPromoteCalls = append(argoPromoteCalls, r.argo.promoteCalls...)
		for call, count := range r.argo.api {
			if !call.background() {
				result.ArgoAPI[call] += float64(count) / float64(n*d.cfg.Runs)
			}
		}
		result.ArgoCPUSeconds += r.argo.cpuSeconds / float64(n*d.cfg.Runs)
		result.ArgoReconciles += r.argo.reconciles / float64(n*d.cfg.Runs)
	}
	result.ArgoStartLatency = latencies(argoStartLatencies)
	result.ArgoPromoteCall = latencies(argoPromoteCalls)
	perRelease := float64(n * d.cfg.Runs)
	result.Reconciles = scaled(result.Reconciles, perRelease)
	result.ClientRequests = scaled(result.ClientRequests, perRelease)
	result.ReconcileSeconds = means(reconcileSum, reconcileCount)
	result.Busy = scaled(reconcileSum, golive.Seconds())
	result.CPUSeconds /= perRelease
	result.QueueSeconds = means(queueSum, queueCount)
	for call, count := range result.BackgroundPerMinute {
		result.BackgroundPerMinute[call] = count / golive.Minutes()
	}
	result.ApprovalLatency = latencies(approvalLatencies)
	result.ApprovalCall = latencies(approvalCalls)
	return result
}

// means divides each sum by its count.
func means(sums, counts map[string]float64) map[string]float64 {
	result := map[string]float64{}
	for key, sum := range sums {
		if count := counts[key]; count > 0 {
			result[key] = sum / count
		}
	}
	return result
}

// ensureReleases creates the namespaces, windows and Deployments of s's
// releases up to n, and its policy with the first, and waits until they run.
func (d *driver) ensureReleases(s *scenario, n int) {
	d.t.Helper()
	if n <= s.ready {
		return
	}
	start := d.clock.Now()
	from := s.ready
	if from == 0 && s.policy != nil {
		if err := d.admin.Create(d.t.Context(), s.policy); err != nil {
			d.t.Fatalf("creating GoLivePolicy %s: %v", s.policy.Name, err)
		}
	}
	d.parallel("creating the release namespaces", n-from, func(ctx context.Context, i int) error {
		production := s.namespace(from + i)
		if err := s.create(ctx, d.admin, production); err != nil {
			return err
		}
		for _, namespace := range []string{production, stagingOf(production)} {
			if err := d.admin.Create(ctx, s.deployment(namespace, d.cfg.Replicas)); err != nil {
				return err
			}
		}
		return nil
	})
	var keys []types.NamespacedName
	for i := from; i < n; i++ {
		keys = append(keys, releaseTargets(s, i)...)
	}
	d.waitRolledOut(keys, initialImage)
	s.ready = n
	d.t.Logf("Created releases' namespaces, windows and Deployments: scenario=%s releases=%d took=%s", s.name, n-from, d.since(start))
}

// releaseTargets are release i's Deployments: production, then staging.
func releaseTargets(s *scenario, i int) []types.NamespacedName {
	production := s.namespace(i)
	return []types.NamespacedName{{Namespace: production, Name: appName}, {Namespace: stagingOf(production), Name: appName}}
}

// run is one overhead run's figures and what it observed on the way.
type run struct {
	RunResult
	approvalLatencies, approvalCalls []time.Duration
	phases                           int
	before, after                    metricSample
	from, to                         time.Time
	api                              map[apiCall]int
	// argo is the run's Argo part, zero unless measured.
	argo argoRunResult
}

// delta is what the metric name counted during the run's golive part, by the labels named.
func (r run) delta(name string, labels ...string) map[string]float64 {
	return delta(r.before.by(name, labels...), r.after.by(name, labels...))
}

// overheadRun changes the image of n releases of s bare (the floor:
// staging, then production), then through golive: n requests created, all
// AwaitingApproval, all approved, all Succeeded.
func (d *driver) overheadRun(s *scenario, n, number int) run {
	d.t.Helper()
	tag := fmt.Sprintf("n%d-r%d", n, number)
	var production, staging []types.NamespacedName
	for i := range n {
		targets := releaseTargets(s, i)
		production, staging = append(production, targets[0]), append(staging, targets[1])
	}
	var r run
	floor := imageRepo + ":floor-" + tag
	r.FloorStaging = d.bareUpdate(staging, floor)
	r.FloorProduction = d.bareUpdate(production, floor)

	image := imageRepo + ":golive-" + tag
	requests := make([]types.NamespacedName, n)
	for i := range n {
		requests[i] = types.NamespacedName{Namespace: s.namespace(i), Name: "release-" + tag}
	}
	r.before = d.scrape()
	r.from = d.clock.Now()
	d.parallel("creating the requests", n, func(ctx context.Context, i int) error {
		return d.alice.Create(ctx, s.request(requests[i].Namespace, requests[i].Name, image, tag))
	})
	r.GoliveStaging = d.waitPhase(requests, golivev1alpha1.PhaseAwaitingApproval).Sub(r.from)

	approvalsStart := d.clock.Now()
	lastApprovals, calls := d.approveAll(requests)
	r.GoliveProduction = d.waitPhase(requests, golivev1alpha1.PhaseSucceeded).Sub(approvalsStart)
	r.to = d.clock.Now()
	r.after = d.scrape()
	r.approvalCalls = calls
	for i, approved := range lastApprovals {
		r.approvalLatencies = append(r.approvalLatencies, d.productionStart(production[i], image).Sub(approved))
	}
	r.phases = d.watch.timeline(requests[0])
	api, err := countAudit(d.cl.AuditLogPath(), goliveUser, r.from, r.to)
	if err != nil {
		d.t.Fatal(err)
	}
	r.api = api
	d.deleteRequests(requests)
	d.t.Logf("Run: scenario=%s run=%d releases=%d floorStaging=%s goliveStaging=%s floorProduction=%s goliveProduction=%s",
		s.name, number, n, r.FloorStaging, r.GoliveStaging, r.FloorProduction, r.GoliveProduction)
	if d.argo != nil && s.withArgo {
		r.argo = d.argoRun(n, tag)
		r.ArgoPaused, r.ArgoProduction = r.argo.paused, r.argo.production
		d.t.Logf("Run %d of %d releases: Argo paused all in %s, promoted and healthy in %s", number, n, r.ArgoPaused, r.ArgoProduction)
	}
	return r
}

// bareUpdate sets image on every Deployment, as a pipeline would without
// golive, and returns the time until all run it, available.
func (d *driver) bareUpdate(keys []types.NamespacedName, image string) time.Duration {
	d.t.Helper()
	start := d.clock.Now()
	d.parallel("setting "+image, len(keys), func(ctx context.Context, i int) error {
		return setImage(ctx, d.admin, keys[i], image)
	})
	return d.waitRolledOut(keys, image).Sub(start)
}

// approveAll has bob and carol approve each request through the webhook,
// and returns when each request's last approval was accepted and how long
// each approval took.
func (d *driver) approveAll(requests []types.NamespacedName) (lastApprovals []time.Time, calls []time.Duration) {
	d.t.Helper()
	lastApprovals = make([]time.Time, len(requests))
	calls = make([]time.Duration, 2*len(requests))
	approvers := []struct {
		as   client.Client
		role string
	}{{d.bob, roleRnDLead}, {d.carol, roleOperations}}
	d.parallel("approving", len(requests), func(ctx context.Context, i int) error {
		for j, approver := range approvers {
			start := d.clock.Now()
			if err := approve(ctx, approver.as, requests[i], approver.role); err != nil {
				return err
			}
			calls[2*i+j] = d.clock.Since(start)
		}
		lastApprovals[i] = d.clock.Now()
		return nil
	})
	return lastApprovals, calls
}

// productionStart is when the driver saw golive ask production's Deployment
// for image.
func (d *driver) productionStart(key types.NamespacedName, image string) time.Time {
	d.t.Helper()
	at := d.watch.askedAt(key, image)
	if at.IsZero() {
		d.t.Fatalf("Deployment %s was never seen asking for %s", key, image)
	}
	return at
}

// windowRun has n releases approved while their windows are closed, opens
// the windows at the next whole minute at least windowLead after, and
// returns the times from the opening to production's start.
func (d *driver) windowRun(n int) Latencies {
	d.t.Helper()
	tag := fmt.Sprintf("n%d-window", n)
	image := imageRepo + ":golive-" + tag
	requests := make([]types.NamespacedName, n)
	for i := range n {
		requests[i] = types.NamespacedName{Namespace: releaseNamespace(i), Name: "release-" + tag}
	}
	d.setWindows(n, closedUntilNextWeek(d.clock.Now()))
	d.parallel("creating the requests", n, func(ctx context.Context, i int) error {
		return d.alice.Create(ctx, updateRequest(requests[i].Namespace, requests[i].Name, appName, image, scenarioRelease))
	})
	d.waitPhase(requests, golivev1alpha1.PhaseAwaitingApproval)
	d.approveAll(requests)
	d.waitPhase(requests, golivev1alpha1.PhaseScheduled)

	// Whole minutes: a window's schedule starts on one.
	lead := windowLead + time.Duration(n)*20*time.Millisecond
	opening := d.clock.Now().Add(lead).Truncate(time.Minute).Add(time.Minute)
	d.setWindows(n, openingAt(opening, 2*time.Hour))
	if patched := d.clock.Now(); !patched.Before(opening) {
		d.t.Fatalf("the windows were patched at %s, after their opening at %s: raise windowLead", patched, opening)
	}
	d.waitPhaseWithin(requests, golivev1alpha1.PhaseSucceeded, timeoutFor(n)+opening.Sub(d.clock.Now()))
	var waits []time.Duration
	for i := range n {
		waits = append(waits, d.productionStart(types.NamespacedName{Namespace: releaseNamespace(i), Name: appName}, image).Sub(opening))
	}
	d.setWindows(n, alwaysOpen())
	d.deleteRequests(requests)
	result := latencies(waits)
	d.t.Logf("Window opening for %d releases: production started p50 %s, max %s after it", n, result.P50, result.Max)
	return result
}

func (d *driver) setWindows(n int, spec golivev1alpha1.GoLiveWindowSpec) {
	d.t.Helper()
	d.parallel("patching the windows", n, func(ctx context.Context, i int) error {
		return setWindow(ctx, d.admin, releaseNamespace(i), spec)
	})
}

// deleteRequests deletes the requests and waits until they are gone, so
// that the next run starts from the same state.
func (d *driver) deleteRequests(requests []types.NamespacedName) {
	d.t.Helper()
	d.parallel("deleting the requests", len(requests), func(ctx context.Context, i int) error {
		request := &golivev1alpha1.UpdateRequest{}
		request.Namespace, request.Name = requests[i].Namespace, requests[i].Name
		return deleteIgnoringGone(ctx, d.admin, request)
	})
	cluster.Eventually(d.t, timeoutFor(len(requests)), fmt.Sprintf("%d requests to be deleted", len(requests)), func(context.Context) (bool, string, error) {
		gone := d.watch.goneCount(requests)
		return gone == len(requests), fmt.Sprintf("%d of %d gone", gone, len(requests)), nil
	})
}

// measureWaiting restarts golive, so that its peak memory is this
// measurement's, then adds requests that wait in Scheduled for a window next
// week, up to each count of cfg.Waiting, and measures golive's memory and
// what it does while idle at each.
func (d *driver) measureWaiting() []WaitingResult {
	d.t.Helper()
	d.golive.Kill(d.t)
	d.golive.Restart(d.t)
	return d.measureIdle(idleSubject{
		name: "golive", user: goliveUser, what: "requestsWaiting",
		add: d.addWaiting, settle: d.settle, scrape: d.scrape, pid: d.golive.PID,
		reconciles: func(sample metricSample) map[string]float64 {
			return sample.by(metricReconciles, "controller", "result")
		},
		clientRequests: func(sample metricSample) map[string]float64 {
			return sample.by(metricClientRequests, "method", "code")
		},
	})
}

// pause waits for what is measured, not for something.
func (d *driver) pause(period time.Duration) {
	d.t.Helper()
	select {
	case <-d.clock.After(period):
	case <-d.t.Context().Done():
		d.t.Fatal("the test ended during a measured period")
	}
}

// idleSubject is a controller measured with objects waiting: golive with
// requests in Scheduled, or Argo Rollouts with paused Rollouts.
type idleSubject struct {
	// name and what name it and its waiting objects (keys) in the log; user is the
	// audit log's name of it.
	name, what, user string
	// add adds waiting objects up to a count; settle waits until it is quiet.
	add    func(count int)
	settle func()
	scrape func() metricSample
	pid    func() int
	// reconciles and clientRequests read its counters from a sample
	// (clientRequests nil: not counted).
	reconciles, clientRequests func(metricSample) map[string]float64
}

// measureIdle adds waiting objects up to each count of cfg.Waiting, and
// measures the subject's memory and what it does while idle at each.
func (d *driver) measureIdle(subject idleSubject) []WaitingResult {
	d.t.Helper()
	var results []WaitingResult
	for _, count := range d.cfg.Waiting {
		start := d.clock.Now()
		subject.add(count)
		subject.settle()
		result := WaitingResult{Waiting: count, Settled: d.since(start)}
		from := d.clock.Now()
		before := subject.scrape()
		d.pause(d.cfg.Idle)
		after := subject.scrape()
		result.Idle = d.since(from)
		result.IdleReconciles = delta(subject.reconciles(before), subject.reconciles(after))
		if subject.clientRequests != nil {
			result.IdleClientRequests = delta(subject.clientRequests(before), subject.clientRequests(after))
		}
		api, err := countAudit(d.cl.AuditLogPath(), subject.user, from, d.clock.Now())
		if err != nil {
			d.t.Fatal(err)
		}
		result.IdleAPI = api
		if result.Memory, err = readMemory(subject.pid()); err != nil {
			d.t.Fatal(err)
		}
		result.HeapInuse = after.total(metricHeapInuse)
		result.HeapLive = after.total(metricHeapGoal) / 2
		results = append(results, result)
		d.t.Logf("Idle: subject=%s %s=%d VmRSS=%s VmHWM=%s heapInUse=%s reconciles=%v apiRequests=%d idle=%s",
			subject.name, subject.what, count, mebibytes(float64(result.Memory.RSS)), mebibytes(float64(result.Memory.HWM)),
			mebibytes(result.HeapInuse), sum(result.IdleReconciles), sumCalls(result.IdleAPI), result.Idle)
	}
	return results
}

// addWaiting adds waiting requests up to count: each with a Deployment of
// its own in both environments (no replicas: nothing to run), a window
// closed until next week, created, staged and approved, until all are
// Scheduled.
func (d *driver) addWaiting(count int) {
	d.t.Helper()
	from := d.waiting
	if count <= from {
		return
	}
	start := d.clock.Now()
	closed := closedUntilNextWeek(start)
	var namespaces []string
	for i := from; i < count; i++ {
		if i%waitingPerNamespace == 0 {
			namespaces = append(namespaces, waitingNamespace(i))
		}
	}
	d.parallel("creating the waiting namespaces", len(namespaces), func(ctx context.Context, i int) error {
		return createNamespaces(ctx, d.admin, namespaces[i], nil, closed)
	})
	var targets, requests []types.NamespacedName
	for i := from; i < count; i++ {
		production := waitingNamespace(i)
		targets = append(targets,
			types.NamespacedName{Namespace: production, Name: waitingDeployment(i)},
			types.NamespacedName{Namespace: stagingOf(production), Name: waitingDeployment(i)})
		requests = append(requests, types.NamespacedName{Namespace: production, Name: fmt.Sprintf("waiting-%04d", i)})
	}
	d.parallel("creating the waiting Deployments", len(targets), func(ctx context.Context, i int) error {
		return d.admin.Create(ctx, deployment(targets[i].Namespace, targets[i].Name, scenarioWaiting, 0))
	})
	d.waitRolledOut(targets, initialImage)
	image := imageRepo + ":waiting"
	d.parallel("creating the waiting requests", len(requests), func(ctx context.Context, i int) error {
		return d.alice.Create(ctx, updateRequest(requests[i].Namespace, requests[i].Name, waitingDeployment(from+i), image, scenarioWaiting))
	})
	d.waitPhase(requests, golivev1alpha1.PhaseAwaitingApproval)
	d.approveAll(requests)
	d.waitPhase(requests, golivev1alpha1.PhaseScheduled)
	d.waiting = count
	d.t.Logf("Added %d waiting requests in %s", count-from, d.since(start))
}

// settle waits until golive is quiet: its work queues empty and its
// reconcile count unchanged for settleQuiet.
func (d *driver) settle() {
	d.t.Helper()
	last, changed := -1.0, d.clock.Now()
	cluster.Eventually(d.t, 5*time.Minute, "golive to settle", func(ctx context.Context) (bool, string, error) {
		sample, err := scrape(ctx, d.golive.MetricsURL)
		if err != nil {
			return false, "", err
		}
		reconciles, depth := sample.total(metricReconciles), sample.total(metricQueueDepth)
		if reconciles != last || depth > 0 {
			last, changed = reconciles, d.clock.Now()
		}
		quiet := d.clock.Since(changed)
		return quiet >= settleQuiet, fmt.Sprintf("%v reconciles, %v queued, quiet for %s", reconciles, depth, quiet), nil
	})
}

// scrape reads golive's metrics; every figure the report needs must be there.
func (d *driver) scrape() metricSample {
	d.t.Helper()
	sample, err := scrape(d.t.Context(), d.golive.MetricsURL)
	if err != nil {
		d.t.Fatalf("scraping golive's metrics: %v", err)
	}
	for _, name := range []string{metricReconciles, metricReconcileTime + "_sum", metricQueueDuration + "_sum", metricClientRequests, metricHeapInuse, metricCPU, metricWorkers, metricHeapGoal} {
		if !sample.has(name) {
			d.t.Fatalf("golive's metrics have no %s", name)
		}
	}
	return sample
}

// waitPhase waits until every request was seen in phase and returns when
// the last one was.
func (d *driver) waitPhase(requests []types.NamespacedName, phase golivev1alpha1.Phase) time.Time {
	d.t.Helper()
	return d.waitPhaseWithin(requests, phase, timeoutFor(len(requests)))
}

func (d *driver) waitPhaseWithin(requests []types.NamespacedName, phase golivev1alpha1.Phase, timeout time.Duration) time.Time {
	d.t.Helper()
	var latest time.Time
	cluster.Eventually(d.t, timeout, fmt.Sprintf("%d requests to be %s", len(requests), phase), func(context.Context) (bool, string, error) {
		at, missing, example, err := d.watch.phaseReached(requests, phase)
		if err != nil {
			return false, "", cluster.Permanent(err)
		}
		latest = at
		return missing == 0, fmt.Sprintf("%d of %d not yet, such as %s", missing, len(requests), example), nil
	})
	return latest
}

// waitRolledOut waits until every Deployment runs image, available, and
// returns when the last one was seen so.
func (d *driver) waitRolledOut(keys []types.NamespacedName, image string) time.Time {
	d.t.Helper()
	var latest time.Time
	cluster.Eventually(d.t, timeoutFor(len(keys)), fmt.Sprintf("%d Deployments to run %s", len(keys), image), func(context.Context) (bool, string, error) {
		at, missing := d.watch.rolledOutAt(keys, image)
		latest = at
		return missing == 0, fmt.Sprintf("%d of %d not yet", missing, len(keys)), nil
	})
	return latest
}

// parallel runs do for each i in [0, n) on cfg.Workers goroutines; errors
// fail the test, naming what was being done.
func (d *driver) parallel(what string, n int, do func(ctx context.Context, i int) error) {
	d.t.Helper()
	ctx := d.t.Context()
	items := make(chan int)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(d.cfg.Workers, n) {
		wg.Go(func() {
			for i := range items {
				if err := do(ctx, i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		items <- i
	}
	close(items)
	wg.Wait()
	if len(errs) > 0 {
		d.t.Fatalf("%s: %d of %d failed, such as: %v", what, len(errs), n, errors.Join(errs[:min(3, len(errs))]...))
	}
}

func (d *driver) since(start time.Time) time.Duration {
	return d.clock.Since(start).Round(time.Millisecond)
}

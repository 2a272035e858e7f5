package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/test/cluster"
)

// The scenarios of Argo's Rollouts, as values of labelBench.
const (
	scenarioArgoRelease = "argo-release"
	scenarioArgoWaiting = "argo-waiting"
)

// argoReleaseNamespace is the namespace of Argo's release i: one Rollout,
// as golive's release i has one Deployment in production.
func argoReleaseNamespace(i int) string { return fmt.Sprintf("argo-%04d", i) }

// argoWaitingNamespace is the namespace of Argo's paused Rollout i.
func argoWaitingNamespace(i int) string {
	return fmt.Sprintf("argo-wait-%03d", i/waitingPerNamespace)
}

// rollout is a Rollout running initialImage on replicas, the canary
// strategy with a single pause step and no weight: an image change creates
// the new ReplicaSet without replicas and pauses until promoted; promoted,
// the Rollout replaces every replica, as a Deployment's rolling update does.
// Its pod template carries labelBench, so that the driver watches its
// ReplicaSets.
func rollout(namespace, name, scenario string, replicas int32) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{labelBench: scenario}},
		"spec": map[string]any{
			"replicas": int64(replicas),
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name, labelBench: scenario}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": appContainer, "image": initialImage}}},
			},
			"strategy": map[string]any{"canary": map[string]any{"steps": []any{map[string]any{"pause": map[string]any{}}}}},
		},
	}}
	u.SetGroupVersionKind(rolloutKind)
	return u
}

// setRolloutImage changes a Rollout's image as a pipeline would (a merge
// patch: a custom resource takes no strategic merge patch).
func setRolloutImage(ctx context.Context, c client.Client, key types.NamespacedName, image string) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []map[string]string{{"name": appContainer, "image": image}}}}}})
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(rolloutKind)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	return c.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch))
}

// promote does what `kubectl argo rollouts promote` does to a canary
// Rollout paused at a pause step (its PromoteRollout): it reads the Rollout,
// then clears its pause conditions through the status subresource, and
// unpauses its spec if it was paused by hand.
func promote(ctx context.Context, c client.Client, key types.NamespacedName) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(rolloutKind)
	if err := c.Get(ctx, key, u); err != nil {
		return err
	}
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "pauseConditions")
	if len(conditions) == 0 {
		return fmt.Errorf("rollout %s has no pause condition to clear", key)
	}
	if err := c.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(`{"status":{"pauseConditions":null}}`))); err != nil {
		return err
	}
	if paused, _, _ := unstructured.NestedBool(u.Object, "spec", "paused"); paused {
		return c.Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":false}}`)))
	}
	return nil
}

// argoRelease are the Rollouts of Argo's releases up to n.
func argoReleases(n int) []types.NamespacedName {
	keys := make([]types.NamespacedName, n)
	for i := range n {
		keys[i] = types.NamespacedName{Namespace: argoReleaseNamespace(i), Name: appName}
	}
	return keys
}

// ensureArgoReleases creates the namespaces and Rollouts of Argo's releases
// up to n and waits until they run.
func (d *driver) ensureArgoReleases(n int) {
	d.t.Helper()
	if n <= d.argoReleases {
		return
	}
	start := d.clock.Now()
	from := d.argoReleases
	d.parallel("creating Argo's release namespaces and Rollouts", n-from, func(ctx context.Context, i int) error {
		namespace := argoReleaseNamespace(from + i)
		if err := d.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
			return err
		}
		return d.admin.Create(ctx, rollout(namespace, appName, scenarioArgoRelease, d.cfg.Replicas))
	})
	d.waitRollouts(argoReleases(n)[from:], initialImage, healthyTimes)
	d.argoReleases = n
	d.t.Logf("Created %d Argo releases' namespaces and Rollouts in %s", n-from, d.since(start))
}

// argoRunResult is one Argo run's figures and what it observed on the way.
type argoRunResult struct {
	paused, production time.Duration
	startLatencies     []time.Duration
	promoteCalls       []time.Duration
	api                map[apiCall]int
	cpuSeconds         float64
	// reconciles is how many Rollout reconciles Argo counted.
	reconciles float64
}

// metricArgoReconciles is Argo's histogram of Rollout reconciles (its _count
// counts them).
const metricArgoReconciles = "rollout_reconcile_count"

// argoRun changes the image of n Rollouts, waits until all are paused,
// promotes them all and waits until all are healthy with it.
func (d *driver) argoRun(n int, tag string) argoRunResult {
	d.t.Helper()
	keys := argoReleases(n)
	image := imageRepo + ":argo-" + tag
	var r argoRunResult
	before := d.scrapeArgo()
	from := d.clock.Now()
	d.parallel("setting "+image+" on the Rollouts", n, func(ctx context.Context, i int) error {
		return setRolloutImage(ctx, d.admin, keys[i], image)
	})
	r.paused = d.waitRollouts(keys, image, pausedTimes).Sub(from)

	promotesStart := d.clock.Now()
	promoted, calls := make([]time.Time, n), make([]time.Duration, n)
	d.parallel("promoting the Rollouts", n, func(ctx context.Context, i int) error {
		start := d.clock.Now()
		if err := promote(ctx, d.admin, keys[i]); err != nil {
			return err
		}
		promoted[i] = d.clock.Now()
		calls[i] = promoted[i].Sub(start)
		return nil
	})
	r.production = d.waitRollouts(keys, image, healthyTimes).Sub(promotesStart)
	r.promoteCalls = calls
	to := d.clock.Now()
	for i, key := range keys {
		started := d.rollouts.startedAt(key, image)
		if started.IsZero() {
			d.t.Fatalf("Rollout %s's ReplicaSet of %s was never seen scaled up", key, image)
		}
		r.startLatencies = append(r.startLatencies, started.Sub(promoted[i]))
	}
	api, err := countAudit(d.cl.AuditLogPath(), argoUser, from, to)
	if err != nil {
		d.t.Fatal(err)
	}
	r.api = api
	after := d.scrapeArgo()
	r.cpuSeconds = after.total(metricCPU) - before.total(metricCPU)
	r.reconciles = after.total(metricArgoReconciles) - before.total(metricArgoReconciles)
	return r
}

// waitRollouts waits until every Rollout was seen as which picks with image,
// and returns when the last one was.
func (d *driver) waitRollouts(keys []types.NamespacedName, image string, which func(*rolloutSeen) map[string]time.Time) time.Time {
	d.t.Helper()
	var latest time.Time
	cluster.Eventually(d.t, timeoutFor(len(keys)), fmt.Sprintf("%d Rollouts with %s", len(keys), image), func(context.Context) (bool, string, error) {
		at, missing, example := d.rollouts.reached(keys, image, which)
		latest = at
		return missing == 0, fmt.Sprintf("%d of %d not yet, such as %s", missing, len(keys), example), nil
	})
	return latest
}

// scrapeArgo reads Argo Rollouts' metrics endpoint.
func (d *driver) scrapeArgo() metricSample {
	d.t.Helper()
	sample, err := scrape(d.t.Context(), d.argo.metricsURL)
	if err != nil {
		d.t.Fatalf("scraping Argo Rollouts' metrics: %v", err)
	}
	return sample
}

// measureArgoWaiting restarts Argo Rollouts, so that its peak memory is
// this measurement's, then adds Rollouts paused at their pause step (the
// new image asked for, without replicas), up to each count of cfg.Waiting,
// and measures its memory and API requests while idle at each.
func (d *driver) measureArgoWaiting() []WaitingResult {
	d.t.Helper()
	d.argo.restart(d.t)
	return d.measureIdle(idleSubject{
		name: "Argo", user: argoUser, what: "rolloutsPaused",
		add: d.addArgoWaiting, settle: d.settleArgo, scrape: d.scrapeArgo, pid: d.argo.pid,
		reconciles: func(sample metricSample) map[string]float64 {
			return map[string]float64{"rollout": sample.total(metricArgoReconciles)}
		},
	})
}

// addArgoWaiting adds Rollouts without replicas, 50 to a namespace, up to
// count, changes their image and waits until all are paused.
func (d *driver) addArgoWaiting(count int) {
	d.t.Helper()
	from := d.argoWaiting
	if count <= from {
		return
	}
	start := d.clock.Now()
	var namespaces []string
	for i := from; i < count; i++ {
		if i%waitingPerNamespace == 0 {
			namespaces = append(namespaces, argoWaitingNamespace(i))
		}
	}
	d.parallel("creating Argo's waiting namespaces", len(namespaces), func(ctx context.Context, i int) error {
		return d.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i]}})
	})
	var keys []types.NamespacedName
	for i := from; i < count; i++ {
		keys = append(keys, types.NamespacedName{Namespace: argoWaitingNamespace(i), Name: waitingDeployment(i)})
	}
	d.parallel("creating the waiting Rollouts", len(keys), func(ctx context.Context, i int) error {
		return d.admin.Create(ctx, rollout(keys[i].Namespace, keys[i].Name, scenarioArgoWaiting, 0))
	})
	d.waitRollouts(keys, initialImage, healthyTimes)
	image := imageRepo + ":waiting"
	d.parallel("setting "+image+" on the waiting Rollouts", len(keys), func(ctx context.Context, i int) error {
		return setRolloutImage(ctx, d.admin, keys[i], image)
	})
	d.waitRollouts(keys, image, pausedTimes)
	d.argoWaiting = count
	d.t.Logf("Added %d paused Rollouts in %s", count-from, d.since(start))
}

// settleArgo waits until Argo Rollouts is quiet: no request of its in the
// audit log, lease renewals apart, for settleQuiet. Its Events of the
// pauses trail the Rollouts' status by seconds.
func (d *driver) settleArgo() {
	d.t.Helper()
	// The audit log is read once per settleQuiet, not at every poll: it is long.
	checked := d.clock.Now()
	state := "not checked yet"
	cluster.Eventually(d.t, 5*time.Minute, "Argo Rollouts to settle", func(context.Context) (bool, string, error) {
		now := d.clock.Now()
		if now.Sub(checked) < settleQuiet {
			return false, state, nil
		}
		checked = now
		api, err := countAudit(d.cl.AuditLogPath(), argoUser, now.Add(-settleQuiet), now)
		if err != nil {
			return false, "", err
		}
		requests := 0
		for call, count := range api {
			if !call.background() {
				requests += count
			}
		}
		state = fmt.Sprintf("%d requests in the last %s", requests, settleQuiet)
		return requests == 0, state, nil
	})
}

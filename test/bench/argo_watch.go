package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rolloutKind is Argo Rollouts' Rollout; the bench reads it unstructured,
// so that golive's module does not depend on Argo's.
var rolloutKind = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"}

// The Rollout phases the driver waits for (Argo's RolloutPhase).
const (
	rolloutPaused  = "Paused"
	rolloutHealthy = "Healthy"
)

// rolloutWatcher records, from its own watches, when the driver first saw
// each Rollout paused and healthy with each image, and its ReplicaSet of
// each image scaled up: the Argo side's times, as the API shows them.
type rolloutWatcher struct {
	clock clock.PassiveClock

	mu       sync.Mutex
	rollouts map[types.NamespacedName]*rolloutSeen
}

// rolloutSeen is what the watch showed of one Rollout, by image.
type rolloutSeen struct {
	// paused and healthy hold when the Rollout was first seen in that phase,
	// its status up to date with its spec, asking for each image.
	paused, healthy map[string]time.Time
	// started holds when the Rollout's ReplicaSet of each image was first
	// seen asked for replicas: Argo's start of the update.
	started map[string]time.Time
	// state is the latest phase and message, for failure messages.
	state string
}

func newRolloutSeen() *rolloutSeen {
	return &rolloutSeen{paused: map[string]time.Time{}, healthy: map[string]time.Time{}, started: map[string]time.Time{}}
}

// startRolloutWatcher watches the driver's Rollouts and their ReplicaSets
// (those labelled labelBench) until ctx ends. The Rollout CRD must exist.
func startRolloutWatcher(ctx context.Context, config *rest.Config, scheme *runtime.Scheme, clk clock.PassiveClock) (*rolloutWatcher, error) {
	rollout := &unstructured.Unstructured{}
	rollout.SetGroupVersionKind(rolloutKind)
	w := &rolloutWatcher{clock: clk, rollouts: map[types.NamespacedName]*rolloutSeen{}}
	err := watchLabelled(ctx, config, scheme, "the driver's watches of Rollouts", map[client.Object]toolscache.ResourceEventHandlerFuncs{
		rollout: {
			AddFunc:    func(object any) { w.sawRollout(object) },
			UpdateFunc: func(_, object any) { w.sawRollout(object) },
		},
		&appsv1.ReplicaSet{}: {
			AddFunc:    func(object any) { w.sawReplicaSet(object) },
			UpdateFunc: func(_, object any) { w.sawReplicaSet(object) },
		},
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (w *rolloutWatcher) seen(key types.NamespacedName) *rolloutSeen {
	seen := w.rollouts[key]
	if seen == nil {
		seen = newRolloutSeen()
		w.rollouts[key] = seen
	}
	return seen
}

func (w *rolloutWatcher) sawRollout(object any) {
	u, ok := object.(*unstructured.Unstructured)
	if !ok {
		return
	}
	now := w.clock.Now()
	image, phase, current := rolloutState(u)
	message, _, _ := unstructured.NestedString(u.Object, "status", "message")
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen(types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()})
	seen.state = fmt.Sprintf("phase %q (%s), up to date %t", phase, message, current)
	if !current || image == "" {
		return
	}
	switch phase {
	case rolloutPaused:
		if _, found := seen.paused[image]; !found {
			seen.paused[image] = now
		}
	case rolloutHealthy:
		if _, found := seen.healthy[image]; !found && rolloutDone(u) {
			seen.healthy[image] = now
		}
	}
}

// rolloutState is the image a Rollout asks for, its phase, and whether its
// status is of its current spec: Argo's phase counts only then.
func rolloutState(u *unstructured.Unstructured) (image, phase string, current bool) {
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if len(containers) > 0 {
		if container, ok := containers[0].(map[string]any); ok {
			image, _ = container["image"].(string)
		}
	}
	phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	observed, _, _ := unstructured.NestedString(u.Object, "status", "observedGeneration")
	return image, phase, observed == strconv.FormatInt(u.GetGeneration(), 10)
}

// rolloutDone is whether every replica runs the Rollout's template,
// available, and its ReplicaSet is the stable one: the update is over.
func rolloutDone(u *unstructured.Unstructured) bool {
	replicas, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		replicas = 1
	}
	count := func(field string) int64 {
		value, _, _ := unstructured.NestedInt64(u.Object, "status", field)
		return value
	}
	current, _, _ := unstructured.NestedString(u.Object, "status", "currentPodHash")
	stable, _, _ := unstructured.NestedString(u.Object, "status", "stableRS")
	return current != "" && current == stable &&
		count("replicas") == replicas && count("updatedReplicas") == replicas && count("availableReplicas") == replicas
}

func (w *rolloutWatcher) sawReplicaSet(object any) {
	rs, ok := object.(*appsv1.ReplicaSet)
	if !ok || len(rs.Spec.Template.Spec.Containers) == 0 || ptr.Deref(rs.Spec.Replicas, 0) == 0 {
		return
	}
	owner := metav1.GetControllerOf(rs)
	if owner == nil || owner.Kind != rolloutKind.Kind {
		return
	}
	now := w.clock.Now()
	image := rs.Spec.Template.Spec.Containers[0].Image
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen(types.NamespacedName{Namespace: rs.Namespace, Name: owner.Name})
	if _, found := seen.started[image]; !found {
		seen.started[image] = now
	}
}

// reached says when every Rollout was first seen as which picks: the
// latest of those times, how many are not yet and where one of those stands.
func (w *rolloutWatcher) reached(keys []types.NamespacedName, image string, which func(*rolloutSeen) map[string]time.Time) (latest time.Time, missing int, example string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range keys {
		seen := w.rollouts[key]
		if seen == nil {
			missing++
			example = key.String() + ": not seen yet"
			continue
		}
		at, found := which(seen)[image]
		if !found {
			missing++
			example = key.String() + ": " + seen.state
			continue
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest, missing, example
}

// startedAt is when the Rollout's ReplicaSet of image was first seen asked
// for replicas. Zero if never.
func (w *rolloutWatcher) startedAt(key types.NamespacedName, image string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seen := w.rollouts[key]; seen != nil {
		return seen.started[image]
	}
	return time.Time{}
}

func pausedTimes(seen *rolloutSeen) map[string]time.Time  { return seen.paused }
func healthyTimes(seen *rolloutSeen) map[string]time.Time { return seen.healthy }

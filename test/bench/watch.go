package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// watcher records, from its own watches, when the driver first saw each
// request in each phase and each Deployment asking for and running each
// image: the times the figures are made of, as the API shows them.
type watcher struct {
	clock clock.PassiveClock

	mu          sync.Mutex
	requests    map[types.NamespacedName]*requestSeen
	deployments map[types.NamespacedName]*deploymentSeen
}

// requestSeen is what the watch showed of one request.
type requestSeen struct {
	// phases holds when each phase was first seen.
	phases map[golivev1alpha1.Phase]time.Time
	// state is the latest phase and Ready condition, for failure messages.
	state string
	// timeline is the length of the latest timeline.
	timeline int
	gone     bool
}

// deploymentSeen is what the watch showed of one Deployment, by image.
type deploymentSeen struct {
	// asked holds when the pod template first asked for each image.
	asked map[string]time.Time
	// rolledOut holds when each image was first seen rolled out and available.
	rolledOut map[string]time.Time
}

// startWatcher watches the driver's Deployments and UpdateRequests (those
// labelled labelBench) until ctx ends.
func startWatcher(ctx context.Context, config *rest.Config, scheme *runtime.Scheme, clk clock.PassiveClock) (*watcher, error) {
	w := &watcher{clock: clk, requests: map[types.NamespacedName]*requestSeen{}, deployments: map[types.NamespacedName]*deploymentSeen{}}
	err := watchLabelled(ctx, config, scheme, "the driver's watches", map[client.Object]toolscache.ResourceEventHandlerFuncs{
		&appsv1.Deployment{}: {
			AddFunc:    func(object any) { w.sawDeployment(object) },
			UpdateFunc: func(_, object any) { w.sawDeployment(object) },
		},
		&golivev1alpha1.UpdateRequest{}: {
			AddFunc:    func(object any) { w.sawRequest(object) },
			UpdateFunc: func(_, object any) { w.sawRequest(object) },
			DeleteFunc: func(object any) { w.requestGone(object) },
		},
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// watchLabelled watches the objects of each kind labelled labelBench with
// its handlers until ctx ends, and returns once the watches synced.
func watchLabelled(ctx context.Context, config *rest.Config, scheme *runtime.Scheme, what string,
	handlers map[client.Object]toolscache.ResourceEventHandlerFuncs) error {
	requirement, err := labels.NewRequirement(labelBench, selection.Exists, nil)
	if err != nil {
		return err
	}
	selector := labels.NewSelector().Add(*requirement)
	byObject := map[client.Object]cache.ByObject{}
	for kind := range handlers {
		byObject[kind] = cache.ByObject{Label: selector}
	}
	informers, err := cache.New(config, cache.Options{Scheme: scheme, ByObject: byObject})
	if err != nil {
		return err
	}
	for kind, handler := range handlers {
		informer, err := informers.GetInformer(ctx, kind)
		if err != nil {
			return err
		}
		if _, err := informer.AddEventHandler(handler); err != nil {
			return err
		}
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		return fmt.Errorf("%s did not sync", what)
	}
	return nil
}

func (w *watcher) sawDeployment(object any) {
	d, ok := object.(*appsv1.Deployment)
	if !ok || len(d.Spec.Template.Spec.Containers) == 0 {
		return
	}
	now := w.clock.Now()
	image := d.Spec.Template.Spec.Containers[0].Image
	w.mu.Lock()
	defer w.mu.Unlock()
	key := types.NamespacedName{Namespace: d.Namespace, Name: d.Name}
	seen := w.deployments[key]
	if seen == nil {
		seen = &deploymentSeen{asked: map[string]time.Time{}, rolledOut: map[string]time.Time{}}
		w.deployments[key] = seen
	}
	if _, found := seen.asked[image]; !found {
		seen.asked[image] = now
	}
	if _, found := seen.rolledOut[image]; !found && rolledOut(d) {
		seen.rolledOut[image] = now
	}
}

// rolledOut is whether every replica runs the Deployment's template and is
// available, as `kubectl rollout status` has it.
func rolledOut(d *appsv1.Deployment) bool {
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == replicas && s.Replicas == replicas && s.AvailableReplicas == replicas
}

func (w *watcher) sawRequest(object any) {
	request, ok := object.(*golivev1alpha1.UpdateRequest)
	if !ok {
		return
	}
	now := w.clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	key := types.NamespacedName{Namespace: request.Namespace, Name: request.Name}
	seen := w.requests[key]
	if seen == nil {
		seen = &requestSeen{phases: map[golivev1alpha1.Phase]time.Time{}}
		w.requests[key] = seen
	}
	phase := request.Status.Phase
	if _, found := seen.phases[phase]; !found {
		seen.phases[phase] = now
	}
	seen.state = fmt.Sprintf("phase %q", phase)
	if ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
		seen.state += fmt.Sprintf(", Ready %s (%s): %s", ready.Status, ready.Reason, ready.Message)
	}
	seen.timeline = len(request.Status.Timeline)
}

func (w *watcher) requestGone(object any) {
	if tombstone, ok := object.(toolscache.DeletedFinalStateUnknown); ok {
		object = tombstone.Obj
	}
	request, ok := object.(*golivev1alpha1.UpdateRequest)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if seen := w.requests[types.NamespacedName{Namespace: request.Namespace, Name: request.Name}]; seen != nil {
		seen.gone = true
	}
}

// phaseReached says when every request was first seen in phase: the
// latest of those times, how many have not been seen in it yet and where
// one of those stands. A request that ended in another phase is an error:
// the wait is over.
func (w *watcher) phaseReached(keys []types.NamespacedName, phase golivev1alpha1.Phase) (latest time.Time, missing int, example string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range keys {
		seen := w.requests[key]
		if seen == nil {
			missing++
			example = key.String() + ": not seen yet"
			continue
		}
		at, found := seen.phases[phase]
		if !found {
			for reached := range seen.phases {
				if reached.IsTerminal() && reached != phase {
					return time.Time{}, 0, "", fmt.Errorf("UpdateRequest %s ended %s before reaching %s: %s", key, reached, phase, seen.state)
				}
			}
			missing++
			example = key.String() + ": " + seen.state
			continue
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest, missing, example, nil
}

// timeline is the length of the request's latest timeline.
func (w *watcher) timeline(key types.NamespacedName) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seen := w.requests[key]; seen != nil {
		return seen.timeline
	}
	return 0
}

// goneCount is how many of the requests were seen deleted.
func (w *watcher) goneCount(keys []types.NamespacedName) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	gone := 0
	for _, key := range keys {
		if seen := w.requests[key]; seen != nil && seen.gone {
			gone++
		}
	}
	return gone
}

// rolledOutAt says when every Deployment was first seen rolled out with
// image: the latest of those times, and how many are not yet.
func (w *watcher) rolledOutAt(keys []types.NamespacedName, image string) (latest time.Time, missing int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range keys {
		at, found := time.Time{}, false
		if seen := w.deployments[key]; seen != nil {
			at, found = seen.rolledOut[image]
		}
		if !found {
			missing++
			continue
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest, missing
}

// askedAt is when the Deployment's template was first seen asking for
// image: when its update started. Zero if never.
func (w *watcher) askedAt(key types.NamespacedName, image string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seen := w.deployments[key]; seen != nil {
		return seen.asked[image]
	}
	return time.Time{}
}

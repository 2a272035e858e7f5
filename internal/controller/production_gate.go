package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/window"
)

// productionGate admits production starts under a window one at a time, so
// that a window's maxConcurrent and emergency budget hold with several
// workers. The window's status cannot serve: it is written by the window
// controller after it sees a start, so two requests deciding at once would
// both find room. The gate counts from the request cache instead, and
// remembers the starts it admitted until the cache shows them.
//
// One process decides (leader election), so a lock in memory is enough.
type productionGate struct {
	mu      sync.Mutex
	windows map[types.NamespacedName]*windowGate
}

// windowGate is the gate of one window.
type windowGate struct {
	mu sync.Mutex
	// admitted are the requests moved into production through this gate whose
	// start the cache may not show yet, by name.
	admitted map[string]admittedStart
}

// admittedStart is a production start recorded by a status patch.
type admittedStart struct {
	// before is the resourceVersion the start was decided on: while the cache
	// still holds it, the cache lags behind the start.
	before string
	// request is the request as patched.
	request *golivev1alpha1.UpdateRequest
}

// lock takes the gate of window and returns it, locked.
func (g *productionGate) lock(window types.NamespacedName) *windowGate {
	g.mu.Lock()
	if g.windows == nil {
		g.windows = map[types.NamespacedName]*windowGate{}
	}
	gate, ok := g.windows[window]
	if !ok {
		gate = &windowGate{admitted: map[string]admittedStart{}}
		g.windows[window] = gate
	}
	g.mu.Unlock()
	gate.mu.Lock()
	return gate
}

func (w *windowGate) unlock() { w.mu.Unlock() }

// usage counts the production updates running under the window and the
// emergency updates of its period, from the cached requests naming it, the
// starts admitted that the cache does not show yet, and the window's records
// of emergency starts (starts), which outlive deleted requests.
func (w *windowGate) usage(ctx context.Context, reader client.Reader, windowKey types.NamespacedName, starts []golivev1alpha1.EmergencyStart, period time.Duration, now time.Time) (window.Usage, error) {
	var requests golivev1alpha1.UpdateRequestList
	// Read only: the cache's objects are not copied.
	if err := reader.List(ctx, &requests, client.InNamespace(windowKey.Namespace),
		client.MatchingFields{WindowNameIndex: windowKey.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return window.Usage{}, fmt.Errorf("listing the update requests of GoLiveWindow %s: %w", windowKey.Name, err)
	}
	seen := make(map[string]bool, len(w.admitted))
	counted := make([]golivev1alpha1.UpdateRequest, 0, len(requests.Items))
	for _, request := range requests.Items {
		if admitted, ok := w.admitted[request.Name]; ok {
			seen[request.Name] = true
			if request.ResourceVersion == admitted.before {
				counted = append(counted, *admitted.request)
				continue
			}
			delete(w.admitted, request.Name) // the cache caught up
		}
		counted = append(counted, request)
	}
	for name := range w.admitted {
		if !seen[name] {
			delete(w.admitted, name) // gone, or moved to another window
		}
	}
	return window.UsageAt(counted, starts, lifecycle.RunsProductionUpdate, period, now), nil
}

// admit records that request, decided on resourceVersion before, was moved
// into production by a status patch.
func (w *windowGate) admit(request *golivev1alpha1.UpdateRequest, before string) {
	w.admitted[request.Name] = admittedStart{before: before, request: request.DeepCopy()}
}

// startsProduction tells whether decision moves request into production: only
// such decisions go through the gate.
func startsProduction(request *golivev1alpha1.UpdateRequest, decision lifecycle.Decision) bool {
	return !request.Status.Phase.TouchesProduction() && decision.Status.Phase.TouchesProduction()
}

// recordEmergencyStart adds the production start of the emergency request at
// now to the status of its window, read from the API server, before the
// request's own status records it: the budget then holds even if the request
// is deleted, and a crash in between leaves the start counted, not lost. A
// retry finds the request listed and writes nothing. The caller holds the
// window's gate, so the optimistic lock only meets the window controller.
func recordEmergencyStart(ctx context.Context, c client.Client, glw *golivev1alpha1.GoLiveWindow, request *golivev1alpha1.UpdateRequest, now time.Time) error {
	starts, changed := window.RecordEmergencyStart(glw.Status.EmergencyStarts, request, now, window.EmergencyPeriod(glw.Spec))
	if !changed {
		return nil
	}
	base := glw.DeepCopy()
	glw.Status.EmergencyStarts = starts
	if err := c.Status().Patch(ctx, glw, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("recording the emergency start on GoLiveWindow %s: %w", glw.Name, err)
	}
	return nil
}

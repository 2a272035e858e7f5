package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/window"
)

// eventActionEvaluate is the action of the Events this controller records.
const eventActionEvaluate = "Evaluate"

// GoLiveWindowReconciler keeps a GoLiveWindow's status current: whether it is
// open, its next opening and closing, the production updates running under it
// and the emergency updates of the period. It requeues for exactly the next
// instant one of these changes by the passing of time; watches on the window's
// spec and on UpdateRequests wake it for everything else.
type GoLiveWindowReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// Notifier announces changes of the window to the webhooks of the
	// requests that name it; nil sends none.
	Notifier *notify.Dispatcher
}

// +kubebuilder:rbac:groups=golive.dev,resources=golivewindows,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=golivewindows/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile evaluates one GoLiveWindow at the clock's now and patches its status.
func (r *GoLiveWindowReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)

	var glw golivev1alpha1.GoLiveWindow
	if err := r.Get(ctx, req.NamespacedName, &glw); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting GoLiveWindow %s: %w", req.NamespacedName, err)
	}

	var requests golivev1alpha1.UpdateRequestList
	if err := r.List(ctx, &requests, client.InNamespace(glw.Namespace), client.MatchingFields{WindowNameIndex: glw.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the UpdateRequests of GoLiveWindow %s: %w", req.NamespacedName, err)
	}

	now := r.Clock.Now()
	evaluation := window.Evaluate(glw.Spec, now)
	usage := window.UsageAt(requests.Items, glw.Status.EmergencyStarts, lifecycle.RunsProductionUpdate, window.EmergencyPeriod(glw.Spec), now)

	base := glw.DeepCopy()
	window.SetStatus(&glw, evaluation, usage, now)
	change := window.RecordChange(&glw, now)
	if !apiequality.Semantic.DeepEqual(base.Status, glw.Status) {
		if err := r.Status().Patch(ctx, &glw, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("patching the status of GoLiveWindow %s: %w", req.NamespacedName, err)
		}
		// Told only once recorded: a refused patch is retried and recorded then.
		if change != nil && len(base.Status.SpecDigests) > 0 {
			r.announceChange(ctx, &glw, *change, requests.Items, now)
		}
		r.recordTransitions(base, &glw)
		logger.Info("Updated go-live window status", "open", glw.Status.Open,
			"nextOpen", glw.Status.NextOpen, "nextClose", glw.Status.NextClose,
			"activeUpdates", glw.Status.ActiveUpdates, "emergencyUsed", glw.Status.EmergencyUsed)
	}

	wakeAt := window.NextChange(evaluation, usage)
	if wakeAt.IsZero() {
		logger.V(1).Info("Evaluated go-live window; nothing changes within the horizon")
		return ctrl.Result{}, nil
	}
	requeueAfter := wakeAt.Sub(now)
	logger.V(1).Info("Evaluated go-live window", "wakeAt", wakeAt, "requeueAfter", requeueAfter)
	return ctrl.Result{RequeueAfter: requeueAfter}, nil
}

// recordTransitions records an Event for each transition a user should hear
// about between the status before and after this reconcile.
func (r *GoLiveWindowReconciler) recordTransitions(before, after *golivev1alpha1.GoLiveWindow) {
	ready := meta.FindStatusCondition(after.Status.Conditions, golivev1alpha1.ConditionReady)
	if ready == nil {
		return
	}
	if before.Status.Open != after.Status.Open {
		reason := golivev1alpha1.ReasonWindowClosed
		if after.Status.Open {
			reason = golivev1alpha1.ReasonWindowOpened
		}
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, reason, eventActionEvaluate, "%s", ready.Message)
	}
	previous := meta.FindStatusCondition(before.Status.Conditions, golivev1alpha1.ConditionReady)
	if ready.Status == metav1.ConditionFalse &&
		(previous == nil || previous.Status != metav1.ConditionFalse || previous.Reason != ready.Reason) {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, ready.Reason, eventActionEvaluate, "%s", ready.Message)
	}
}

// announceChange tells of a change of the window's spec: an Event of the
// window, and a notice to the webhooks of every request that names it and
// has not ended, as for a phase change.
func (r *GoLiveWindowReconciler) announceChange(ctx context.Context, glw *golivev1alpha1.GoLiveWindow,
	change golivev1alpha1.WindowChange, requests []golivev1alpha1.UpdateRequest, now time.Time) {
	message := fmt.Sprintf("GoLiveWindow %s changed by %s at %s (generation %d): %s",
		glw.Name, change.By, change.At.UTC().Format(time.RFC3339), change.Generation, change.Summary)
	r.Recorder.Eventf(glw, nil, corev1.EventTypeNormal, golivev1alpha1.ReasonWindowChanged, eventActionEvaluate, "%s", message)
	log.FromContext(ctx).Info("Recorded a change of the go-live window", "by", change.By, "generation", change.Generation, "fields", change.Summary)
	if r.Notifier == nil {
		return
	}
	for i := range requests {
		request := &requests[i]
		if request.Status.Phase.IsTerminal() || len(request.Spec.Notify.Webhooks) == 0 {
			continue
		}
		r.Notifier.Enqueue(ctx, notify.Notice{
			Namespace: request.Namespace, Name: request.Name, UID: request.UID, Release: request.Spec.Release,
			Phase: request.Status.Phase, Reason: golivev1alpha1.ReasonWindowChanged, Message: message, Time: now,
		}, request.Spec.Notify.Webhooks)
	}
}

// windowOfRequest maps an UpdateRequest to the window it names.
func windowOfRequest(_ context.Context, object client.Object) []reconcile.Request {
	names := indexRequestByWindow(object)
	if len(names) == 0 {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: object.GetNamespace(), Name: names[0]}}}
}

// windowsOfRequests wakes the windows whose status a request's change may
// change: a request created or deleted, one that starts or ends a production
// update or an emergency one, or one that moves to another window (both). A
// request's other changes (most of its status patches) leave its window's
// status as it is, and wake nothing.
var windowsOfRequests = handler.TypedFuncs[client.Object, reconcile.Request]{
	CreateFunc: func(ctx context.Context, e event.CreateEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		addAll(queue, windowOfRequest(ctx, e.Object))
	},
	DeleteFunc: func(ctx context.Context, e event.DeleteEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		addAll(queue, windowOfRequest(ctx, e.Object))
	},
	UpdateFunc: func(ctx context.Context, e event.UpdateEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		before, beforeOK := e.ObjectOld.(*golivev1alpha1.UpdateRequest)
		after, afterOK := e.ObjectNew.(*golivev1alpha1.UpdateRequest)
		if !beforeOK || !afterOK || !changesWindowUsage(before, after) {
			return
		}
		addAll(queue, windowOfRequest(ctx, before))
		addAll(queue, windowOfRequest(ctx, after))
	},
}

// changesWindowUsage tells whether a request's change from before to after
// may change what window.UsageAt counts for its window.
func changesWindowUsage(before, after *golivev1alpha1.UpdateRequest) bool {
	startedAt := func(r *golivev1alpha1.UpdateRequest) *metav1.Time {
		if r.Status.Production == nil {
			return nil
		}
		return r.Status.Production.StartedAt
	}
	return before.Spec.Window.Name != after.Spec.Window.Name ||
		lifecycle.RunsProductionUpdate(before.Status.Phase) != lifecycle.RunsProductionUpdate(after.Status.Phase) ||
		(before.Spec.Emergency == nil) != (after.Spec.Emergency == nil) ||
		!startedAt(before).Equal(startedAt(after))
}

func addAll(queue workqueue.TypedRateLimitingInterface[reconcile.Request], requests []reconcile.Request) {
	for _, request := range requests {
		queue.Add(request)
	}
}

// SetupWithManager registers the reconciler with the manager; SetupIndexes
// must have registered WindowNameIndex.
func (r *GoLiveWindowReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		// Our own status patches do not change the generation, so they do not loop.
		For(&golivev1alpha1.GoLiveWindow{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&golivev1alpha1.UpdateRequest{}, windowsOfRequests).
		Named("golivewindow").
		WithOptions(options).
		Complete(r)
}

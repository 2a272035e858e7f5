package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"github.com/golive-dev/golive/internal/window"
)

// defaultEmergencyPeriod is the CRD's default emergency.period, also used to
// count emergency requests under a window without an emergency policy (they
// cannot start there, but a policy removed later should not hide past ones).
const defaultEmergencyPeriod = 720 * time.Hour

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
	evaluation := evaluateWindow(glw.Spec, now)
	usage := observeUpdates(requests.Items, emergencyPeriod(glw.Spec), now)

	base := glw.DeepCopy()
	setWindowStatus(&glw, evaluation, usage, now)
	if !apiequality.Semantic.DeepEqual(base.Status, glw.Status) {
		if err := r.Status().Patch(ctx, &glw, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("patching the status of GoLiveWindow %s: %w", req.NamespacedName, err)
		}
		r.recordTransitions(base, &glw)
		logger.Info("Updated go-live window status", "open", glw.Status.Open,
			"nextOpen", glw.Status.NextOpen, "nextClose", glw.Status.NextClose,
			"activeUpdates", glw.Status.ActiveUpdates, "emergencyUsed", glw.Status.EmergencyUsed)
	}

	wakeAt := earliest(evaluation.boundary, usage.changesAt)
	if wakeAt.IsZero() {
		logger.V(1).Info("Evaluated go-live window; nothing changes within the horizon")
		return ctrl.Result{}, nil
	}
	requeueAfter := wakeAt.Sub(now)
	logger.V(1).Info("Evaluated go-live window", "wakeAt", wakeAt, "requeueAfter", requeueAfter)
	return ctrl.Result{RequeueAfter: requeueAfter}, nil
}

// windowEvaluation is a window's schedule evaluated at one instant.
type windowEvaluation struct {
	// err is set when the spec cannot be compiled; it names the fields to fix.
	err error
	// location is the window's time zone, to show times as people wrote them.
	location *time.Location
	state    window.State
	// boundary is the next instant the window opens or closes; zero when that
	// is beyond window.Horizon or the spec is invalid.
	boundary time.Time
}

func evaluateWindow(spec golivev1alpha1.GoLiveWindowSpec, now time.Time) windowEvaluation {
	calendar, err := window.Compile(spec)
	if err != nil {
		return windowEvaluation{err: err}
	}
	evaluation := windowEvaluation{location: calendar.Location(), state: calendar.State(now)}
	if boundary, ok := calendar.NextBoundary(now); ok {
		evaluation.boundary = boundary
	}
	return evaluation
}

// windowUsage is what the UpdateRequests naming a window tell about it at one instant.
type windowUsage struct {
	// activeUpdates are the sorted names of the requests running a production update.
	activeUpdates []string
	// emergencyUsed counts emergency requests whose production started within the period.
	emergencyUsed int32
	// changesAt is the next instant emergencyUsed changes by the passing of time
	// alone; zero when it does not.
	changesAt time.Time
}

// emergencyPeriod is the sliding interval emergency updates are counted over.
func emergencyPeriod(spec golivev1alpha1.GoLiveWindowSpec) time.Duration {
	if spec.Emergency == nil || spec.Emergency.Period.Duration <= 0 {
		return defaultEmergencyPeriod
	}
	return spec.Emergency.Period.Duration
}

// observeUpdates counts the running production updates and the emergency
// updates of the period (now-period, now] among requests. An emergency update
// counts from its production start whatever happened next: a rolled-back
// emergency still used the budget.
func observeUpdates(requests []golivev1alpha1.UpdateRequest, period time.Duration, now time.Time) windowUsage {
	var usage windowUsage
	for i := range requests {
		request := &requests[i]
		if lifecycle.RunsProductionUpdate(request.Status.Phase) {
			usage.activeUpdates = append(usage.activeUpdates, request.Name)
		}
		if request.Spec.Emergency == nil || request.Status.Production == nil || request.Status.Production.StartedAt == nil {
			continue
		}
		startedAt := request.Status.Production.StartedAt.Time
		switch expiresAt := startedAt.Add(period); {
		case startedAt.After(now):
			// Only with clock skew between writers; it counts once now reaches it.
			usage.changesAt = earliest(usage.changesAt, startedAt)
		case expiresAt.After(now):
			usage.emergencyUsed++
			usage.changesAt = earliest(usage.changesAt, expiresAt)
		}
	}
	slices.Sort(usage.activeUpdates)
	return usage
}

// setWindowStatus derives the whole status of glw from its evaluation and usage at now.
func setWindowStatus(glw *golivev1alpha1.GoLiveWindow, evaluation windowEvaluation, usage windowUsage, now time.Time) {
	status := &glw.Status
	status.ObservedGeneration = glw.Generation
	status.ActiveUpdates = usage.activeUpdates
	status.EmergencyUsed = usage.emergencyUsed

	ready := metav1.Condition{
		Type:               golivev1alpha1.ConditionReady,
		ObservedGeneration: glw.Generation,
		// Kept by meta.SetStatusCondition unless the status changes; set here so
		// it comes from the injected clock rather than time.Now.
		LastTransitionTime: metav1.NewTime(now),
	}
	state := evaluation.state
	switch {
	case evaluation.err != nil:
		status.Open, status.NextOpen, status.NextClose = false, nil, nil
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, golivev1alpha1.ReasonInvalidSpec, evaluation.err.Error()
		if errors.Is(evaluation.err, window.ErrUnknownTimeZone) {
			ready.Reason = golivev1alpha1.ReasonUnknownTimeZone
		}
	case state.NeverOpens:
		status.Open, status.NextOpen, status.NextClose = false, nil, nil
		ready.Status, ready.Reason = metav1.ConditionFalse, golivev1alpha1.ReasonNeverOpens
		ready.Message = fmt.Sprintf("The schedule and freezes leave no opening within %s", horizonText)
	default:
		status.Open = state.Open
		status.NextOpen = timeOrNil(state.NextOpen())
		status.NextClose = timeOrNil(state.NextClose())
		ready.Status, ready.Reason = metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated
		ready.Message = describeState(state, evaluation.location)
	}

	meta.SetStatusCondition(&status.Conditions, ready)
	if ready.Status == metav1.ConditionFalse {
		// Waiting does not help: a person has to change the spec.
		stalled := ready
		stalled.Type, stalled.Status = golivev1alpha1.ConditionStalled, metav1.ConditionTrue
		meta.SetStatusCondition(&status.Conditions, stalled)
	} else {
		meta.RemoveStatusCondition(&status.Conditions, golivev1alpha1.ConditionStalled)
	}
	// Evaluating is instantaneous, so the window is never seen Reconciling.
	meta.RemoveStatusCondition(&status.Conditions, golivev1alpha1.ConditionReconciling)
}

// horizonText is window.Horizon in days, as people read it.
var horizonText = fmt.Sprintf("%d days", window.Horizon/(24*time.Hour))

// describeState is the Ready message of a valid window, with times in its zone.
func describeState(state window.State, location *time.Location) string {
	if state.Open {
		if state.Current.End.IsZero() {
			return "Open; does not close within " + horizonText
		}
		return "Open until " + state.Current.End.In(location).Format(time.RFC3339)
	}
	return "Closed; opens " + state.Next.Start.In(location).Format(time.RFC3339)
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

// earliest returns the earlier of two instants, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t}
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
// may change what observeUpdates counts for its window.
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

// Package controller holds golive's reconcilers. They are thin: they observe
// the cluster, ask the pure packages what to do next, act, and patch status.
package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/window"
)

// staleRetry is how soon a request is decided again when a decision was
// refused as made on a stale copy, or asked to observe again (ObserveAgain).
const staleRetry = 100 * time.Millisecond

// UpdateRequestReconciler drives an UpdateRequest through its phases: it
// observes the cluster, asks lifecycle.Decide what to do, records the status,
// then takes at most one idempotent step.
type UpdateRequestReconciler struct {
	client.Client
	// LiveReader reads from the API server: the cache holds workloads trimmed
	// (CacheOptions), so whole pod templates are read with it.
	LiveReader client.Reader
	Scheme     *runtime.Scheme
	Clock      clock.PassiveClock
	Recorder   events.EventRecorder
	// HTTPClient probes the HTTP checks; it must carry no credentials.
	HTTPClient *http.Client
	// LedgerKey verifies the signatures of the ledger entries.
	LedgerKey []byte
	// VolumeSnapshots is true when the cluster serves the VolumeSnapshot API
	// (SnapshotAPIServed); without it, a request that selects volumes stalls.
	VolumeSnapshots bool
	// Notifier posts the notices of phase changes to the requests' webhooks; nil sends none.
	Notifier *notify.Dispatcher
	// Metrics records the metrics of what the status patches record; nil records none.
	Metrics *metrics.Recorder
	// Records writes a request's ReleaseRecord before a deleted request goes,
	// and its journal keeps the timeline the status drops; nil keeps no records.
	Records *RecordWriter

	// gate admits production starts one at a time per window.
	gate productionGate
}

// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests/finalizers,verbs=update
// +kubebuilder:rbac:groups=golive.dev,resources=golivewindows,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=golivewindows/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=apps,resources=deployments/scale;statefulsets/scale,verbs=get;update;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete;deletecollection
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile moves one UpdateRequest on by at most one step.
func (r *UpdateRequestReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	var request golivev1alpha1.UpdateRequest
	if err := r.Get(ctx, req.NamespacedName, &request); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	deleting := !request.DeletionTimestamp.IsZero()
	if deleting && lifecycle.MayRemoveOnDelete(&request) {
		return ctrl.Result{}, r.cleanUp(ctx, &request)
	}
	// A request deleted mid-production goes on, as aborted, until it ends.
	if !deleting && !controllerutil.ContainsFinalizer(&request, golivev1alpha1.FinalizerCleanup) {
		base := request.DeepCopy()
		controllerutil.AddFinalizer(&request, golivev1alpha1.FinalizerCleanup)
		if err := r.Patch(ctx, &request, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the cleanup finalizer: %w", err)
		}
	}

	now := r.Clock.Now()
	world, rejected, err := r.observe(ctx, &request, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	world.Deleting = deleting
	for _, entry := range rejected {
		// Entries of an earlier spec are expected after a spec change; the rest are tampering.
		if entry.Reason != ledger.RejectedStaleSpec {
			r.Recorder.Eventf(&request, nil, corev1.EventTypeWarning, golivev1alpha1.ReasonLedgerEntryRejected, "Verify", "Ignored ledger entry %d: %s", entry.Index, entry.Message)
		}
	}

	decision := lifecycle.Decide(&request, world, now)
	var gate *windowGate
	release := func() {}
	defer func() { release() }()
	if startsProduction(&request, decision) {
		// Decided again behind the window's gate, on what is running now; the
		// gate is held until the status records the start.
		windowKey := types.NamespacedName{Namespace: request.Namespace, Name: request.Spec.Window.Name}
		gate = r.gate.lock(windowKey)
		release = gate.unlock
		// An emergency start reads the window from the API server: its
		// records of emergency starts must include the ones this gate wrote a
		// moment ago. Only an emergency update counts them, so the others
		// start without that round trip.
		var glw golivev1alpha1.GoLiveWindow
		if request.Spec.Emergency != nil {
			if err := r.LiveReader.Get(ctx, windowKey, &glw); err != nil {
				return ctrl.Result{}, fmt.Errorf("reading GoLiveWindow %s: %w", windowKey.Name, err)
			}
		}
		usage, err := gate.usage(ctx, r.Client, windowKey, glw.Status.EmergencyStarts, window.EmergencyPeriod(world.Window.Spec), now)
		if err != nil {
			return ctrl.Result{}, err
		}
		world.Window.ActiveUpdates, world.Window.EmergencyUsed = usage.ActiveUpdates, usage.EmergencyUsed
		decision = lifecycle.Decide(&request, world, now)
		if request.Spec.Emergency != nil && startsProduction(&request, decision) {
			if err := recordEmergencyStart(ctx, r.Client, &glw, &request, now); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	// The facts the decision recorded are signed before they are: only a signed record counts later.
	ledger.SignGateRecords(r.LedgerKey, &request, decision.Status.GateRecords)
	// Recorded before the action, so a restart knows what was about to happen.
	// The optimistic lock refuses a decision made on a stale copy of the
	// request (the cache lagging behind our own last patch); it is retried.
	if !apiequality.Semantic.DeepEqual(request.Status, decision.Status) {
		if r.Records != nil {
			if err := keepDroppedTimeline(ctx, r.Client, r.LiveReader, &request, request.Status.Timeline, decision.Status.Timeline); err != nil {
				return ctrl.Result{}, err
			}
		}
		base := request.DeepCopy()
		request.Status = decision.Status
		if err := r.Status().Patch(ctx, &request, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) {
				// Expected when the cache lags behind our last patch: decide again shortly.
				logger.V(1).Info("Decided on a stale copy of the request; deciding again")
				return ctrl.Result{RequeueAfter: staleRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("patching the status: %w", err)
		}
		if gate != nil && startsProduction(base, decision) {
			gate.admit(&request, base.ResourceVersion)
		}
		r.statusRecorded(ctx, &request, &base.Status, decision.Events, now)
	}
	release()
	release = func() {}
	for _, event := range decision.Events {
		eventType := corev1.EventTypeNormal
		if event.Warning {
			eventType = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(&request, nil, eventType, event.Reason, string(request.Status.Phase), "%s", event.Message)
	}
	if decision.Action.Kind != lifecycle.NoAction {
		logger.Info("Taking a step", "action", decision.Action.Kind, "target", decision.Action.Target, "phase", request.Status.Phase)
		if err := r.act(ctx, &request, world, decision.Action, now); err != nil {
			if apierrors.IsForbidden(err) {
				// Otherwise only golive's log would say why the request does not move.
				r.Recorder.Eventf(&request, nil, corev1.EventTypeWarning, golivev1alpha1.ReasonActionForbidden, string(request.Status.Phase),
					"The API server refused golive's step %s: %s. golive tries again until its ServiceAccount may (docs/helm.md, \"Rights per namespace\")",
					decision.Action.Kind, forbiddenMessage(err))
			}
			return ctrl.Result{}, fmt.Errorf("%s: %w", decision.Action.Kind, err)
		}
	}
	if deleting && lifecycle.MayRemoveOnDelete(&request) {
		// The deleted request has ended; our status patch wakes nothing, so look again to let it go.
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	if decision.ObserveAgain {
		// Our status patch wakes nothing either: look again for what the new phase reads.
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	return ctrl.Result{RequeueAfter: decision.RequeueAfter}, nil
}

// cleanUp deletes the verification Jobs in both namespaces, stamps the
// snapshots with their expiry, and lets the request go; the saved specs go
// with it through their owner reference.
func (r *UpdateRequestReconciler) cleanUp(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	if !controllerutil.ContainsFinalizer(request, golivev1alpha1.FinalizerCleanup) {
		return nil
	}
	for _, namespace := range []string{request.Spec.Staging.Namespace, request.Namespace} {
		if err := verify.DeleteJobs(ctx, r.Client, request, namespace); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the verification Jobs in %s: %w", namespace, err)
		}
	}
	// Snapshots outlive their request until retention; the retention reconciler deletes them.
	if err := r.markExpiry(ctx, request, r.Clock.Now()); err != nil {
		return fmt.Errorf("stamping the expiry on the snapshots: %w", err)
	}
	// Its record first: deleting a request (or its namespace) never loses it.
	if r.Records != nil {
		if _, err := r.Records.Write(ctx, request); err != nil {
			return fmt.Errorf("writing the request's record before it goes: %w", err)
		}
	}
	base := request.DeepCopy()
	controllerutil.RemoveFinalizer(request, golivev1alpha1.FinalizerCleanup)
	return r.Patch(ctx, request, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// SetupWithManager registers the reconciler with options (worker count, work
// queue); SetupIndexes must have run.
func (r *UpdateRequestReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	requestsOfWorkload := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, object client.Object) []reconcile.Request {
		kind := object.GetObjectKind().GroupVersionKind().Kind
		switch object.(type) {
		case *appsv1.Deployment:
			kind = string(golivev1alpha1.TargetDeployment)
		case *appsv1.StatefulSet:
			kind = string(golivev1alpha1.TargetStatefulSet)
		case *appsv1.DaemonSet:
			kind = string(golivev1alpha1.TargetDaemonSet)
		}
		return r.requestsMatching(ctx, client.MatchingFields{TargetIndex: targetKey(object.GetNamespace(), kind, object.GetName())})
	})
	b := ctrl.NewControllerManagedBy(mgr)
	if r.VolumeSnapshots {
		// A snapshot becoming ready (or failing) moves BackingUp on.
		b = b.Watches(&snapshotv1.VolumeSnapshot{}, handler.EnqueueRequestsFromMapFunc(requestOfLabels))
	}
	return b.
		// Spec changes and commands (annotations) matter; our own status patches do not.
		For(&golivev1alpha1.UpdateRequest{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&appsv1.Deployment{}, requestsOfWorkload, builder.WithPredicates(observedWorkloadChanged)).
		Watches(&appsv1.StatefulSet{}, requestsOfWorkload, builder.WithPredicates(observedWorkloadChanged)).
		Watches(&appsv1.DaemonSet{}, requestsOfWorkload, builder.WithPredicates(observedWorkloadChanged)).
		// The saved specs; a Job in the staging namespace has no owner, so it is mapped by labels.
		Owns(&corev1.ConfigMap{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(requestOfLabels), builder.WithPredicates(observedJobChanged)).
		// A request that ends (or goes) releases its targets to the requests waiting for them.
		Watches(&golivev1alpha1.UpdateRequest{}, handler.EnqueueRequestsFromMapFunc(r.requestsWaitingFor),
			builder.WithPredicates(releasesTargets)).
		Watches(&golivev1alpha1.GoLiveWindow{}, r.requestsOfWindows()).
		Watches(&golivev1alpha1.GoLivePolicy{}, r.requestsOfPolicies(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.PersistentVolumeClaim{}, r.requestsOfClaims(), builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesMetadata(&corev1.Namespace{}, r.requestsOfNamespace(), builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Named("updaterequest").
		WithOptions(options).
		Complete(r)
}

// forbiddenMessage is the API server's own words of a refusal, which name
// the user, the verb, the resource and the namespace.
func forbiddenMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}

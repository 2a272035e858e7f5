package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// eventActionRecord is the action of the Events about a request's record.
const eventActionRecord = "Record"

// ReleaseRecordReconciler writes the record of each request that ended, once,
// and reports it in the request's Recorded condition. A request deleted
// before it ended is recorded by the UpdateRequest reconciler before it lets
// the request go (cleanUp).
type ReleaseRecordReconciler struct {
	client.Client
	Writer   *RecordWriter
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=golive.dev,resources=releaserecords,verbs=get;list;create
// +kubebuilder:rbac:groups="",namespace=golive-system,resources=configmaps,verbs=get;create;patch

// Reconcile writes the record of an ended request unless its Recorded condition says it is written.
func (r *ReleaseRecordReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var request golivev1alpha1.UpdateRequest
	if err := r.Get(ctx, req.NamespacedName, &request); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !awaitsRecord(&request) {
		return ctrl.Result{}, nil
	}
	name, writeErr := r.Writer.Write(ctx, &request)
	condition := metav1.Condition{
		Type: golivev1alpha1.ConditionRecorded, Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonRecordWritten,
		Message:            fmt.Sprintf("Recorded as ReleaseRecord %s/%s", r.Writer.Namespace, name),
		ObservedGeneration: request.Generation, LastTransitionTime: metav1.NewTime(r.Clock.Now()),
	}
	if writeErr != nil {
		condition.Status, condition.Reason = metav1.ConditionFalse, golivev1alpha1.ReasonRecordFailed
		condition.Message = "The request's record cannot be written: " + writeErr.Error()
		if errors.Is(writeErr, ErrArchiveNamespaceMissing) {
			condition.Reason = golivev1alpha1.ReasonArchiveNamespaceMissing
			condition.Message = fmt.Sprintf("The archive namespace %s does not exist: the request's record cannot be written until it does", r.Writer.Namespace)
		}
	}
	previous := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionRecorded)
	changed := previous == nil || previous.Status != condition.Status || previous.Reason != condition.Reason || previous.Message != condition.Message
	if changed {
		base := request.DeepCopy()
		meta.SetStatusCondition(&request.Status.Conditions, condition)
		if err := r.Status().Patch(ctx, &request, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return ctrl.Result{RequeueAfter: staleRetry}, nil
			}
			return ctrl.Result{}, errors.Join(writeErr, fmt.Errorf("patching the Recorded condition: %w", err))
		}
		eventType := corev1.EventTypeNormal
		if writeErr != nil {
			eventType = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(&request, nil, eventType, condition.Reason, eventActionRecord, "%s", condition.Message)
	}
	if writeErr != nil {
		log.FromContext(ctx).Error(writeErr, "Failed to write the request's record", "archive", r.Writer.Namespace)
		return ctrl.Result{}, writeErr
	}
	return ctrl.Result{}, nil
}

// awaitsRecord reports whether request ended and its record is not known to be written.
func awaitsRecord(request *golivev1alpha1.UpdateRequest) bool {
	return request.Status.Phase.IsTerminal() &&
		!meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionRecorded)
}

// SetupWithManager registers the reconciler with options; one worker is
// enough, since the writer serialises the writes anyway.
func (r *ReleaseRecordReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	options.MaxConcurrentReconciles = 1
	return ctrl.NewControllerManagedBy(mgr).
		For(&golivev1alpha1.UpdateRequest{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(object client.Object) bool {
			request, ok := object.(*golivev1alpha1.UpdateRequest)
			return ok && awaitsRecord(request)
		}))).
		Named("releaserecord").
		WithOptions(options).
		Complete(r)
}

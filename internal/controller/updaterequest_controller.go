// Package controller holds golive's reconcilers. They are thin: they observe
// the cluster, ask the pure packages what to do next, act, and patch status.
package controller

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// UpdateRequestReconciler drives an UpdateRequest through its phases. The
// lifecycle is added by the lifecycle issue; for now it observes requests so
// that the manager, its cache and RBAC are exercised end to end.
type UpdateRequestReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes one UpdateRequest.
func (r *UpdateRequestReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var request golivev1alpha1.UpdateRequest
	if err := r.Get(ctx, req.NamespacedName, &request); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).V(1).Info("Observed update request", "release", request.Spec.Release, "phase", request.Status.Phase)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler with the manager.
func (r *UpdateRequestReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&golivev1alpha1.UpdateRequest{}).
		Named("updaterequest").
		Complete(r)
}

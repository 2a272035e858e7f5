package controller

import (
	"context"
	"fmt"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
)

// SnapshotRetentionReconciler deletes golive's VolumeSnapshots when the
// expiry stamped on them by backup.MarkExpiry has passed, and requeues for
// exactly the time left otherwise. It works from the snapshot alone, so the
// snapshots of a request that was deleted are still deleted at the end of
// their retention, and not before. A snapshot without an expiry is left alone.
type SnapshotRetentionReconciler struct {
	client.Client
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=snapshot.storage.k8s.io,resources=volumesnapshots,verbs=get;list;watch;delete

// Reconcile deletes one VolumeSnapshot if its retention has ended.
func (r *SnapshotRetentionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	snapshot := &snapshotv1.VolumeSnapshot{}
	if err := r.Get(ctx, req.NamespacedName, snapshot); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !backup.MadeByGolive(snapshot) || !snapshot.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	expiresAt, stamped, err := backup.StampedExpiry(snapshot)
	switch {
	case !stamped:
		return ctrl.Result{}, nil
	case err != nil:
		// Waiting helps nothing; a corrected annotation is a change that wakes us.
		logger.Error(err, "Ignored a VolumeSnapshot with an unreadable expiry", "value", snapshot.Annotations[backup.AnnotationExpiresAt])
		return ctrl.Result{}, nil
	}
	if left := expiresAt.Sub(r.Clock.Now()); left > 0 {
		return ctrl.Result{RequeueAfter: left}, nil
	}
	stamp := snapshot.Annotations[backup.AnnotationExpiresAt]
	if err := backup.DeleteSnapshot(ctx, r.Client, snapshot); err != nil {
		return ctrl.Result{}, fmt.Errorf("retention ended at %s: %w", stamp, err)
	}
	logger.Info("Deleted a VolumeSnapshot whose retention ended", "expiresAt", stamp,
		"request", snapshot.Labels[golivev1alpha1.LabelRequest], "requestUID", snapshot.Labels[golivev1alpha1.LabelRequestUID])
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler for the VolumeSnapshots that
// golive made, with options (work queue). The VolumeSnapshot CRD must be installed.
func (r *SnapshotRetentionReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&snapshotv1.VolumeSnapshot{}, builder.WithPredicates(predicate.NewPredicateFuncs(backup.MadeByGolive))).
		Named("snapshotretention").
		WithOptions(options).
		Complete(r)
}

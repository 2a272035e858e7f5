package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/golive-dev/golive/internal/backup"
)

// RetainedVolumeReconciler gives a PersistentVolume that a data restore
// retained its previous reclaim policy back when the expiry stamped on it by
// backup.MarkVolumesExpiry has passed (backup.ReclaimDecision), and requeues
// for exactly the time left otherwise. Like SnapshotRetentionReconciler it
// works from the volume alone, so the volumes of a request that was deleted
// are still reclaimed at the end of their retention, and not before. A
// volume without an expiry (spec.rollback.retainedVolumes: Keep), bound
// again, or whose previous policy was Retain is left alone.
type RetainedVolumeReconciler struct {
	client.Client
	Clock clock.PassiveClock
}

// Reconcile reclaims one retained PersistentVolume if its retention has ended.
func (r *RetainedVolumeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	volume := &corev1.PersistentVolume{}
	if err := r.Get(ctx, req.NamespacedName, volume); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !volume.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	now := r.Clock.Now()
	switch decision, expiresAt, reason := backup.ReclaimDecision(volume, volume.Annotations[backup.AnnotationRetainedBy], now); decision {
	case backup.ReclaimWait:
		return ctrl.Result{RequeueAfter: expiresAt.Sub(now)}, nil
	case backup.ReclaimLeave:
		logger.V(1).Info("Left a retained volume as it is", "reason", reason)
		return ctrl.Result{}, nil
	}
	if _, err := backup.ReclaimVolume(ctx, r.Client, volume, now); err != nil {
		return ctrl.Result{}, fmt.Errorf("retention ended at %s: %w", volume.Annotations[backup.AnnotationExpiresAt], err)
	}
	return ctrl.Result{}, nil
}

// retainedByGolive passes the volumes a data restore retained.
func retainedByGolive(object client.Object) bool {
	return object.GetAnnotations()[backup.AnnotationRetainedBy] != ""
}

// SetupWithManager registers the reconciler for the PersistentVolumes golive
// retained, with options (work queue). The cache holds only volumes labelled
// with a request (CacheOptions).
func (r *RetainedVolumeReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.PersistentVolume{}, builder.WithPredicates(predicate.NewPredicateFuncs(retainedByGolive))).
		Named("retainedvolume").
		WithOptions(options).
		Complete(r)
}

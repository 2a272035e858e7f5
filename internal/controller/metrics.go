package controller

import (
	"context"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// observeRecorded records the metrics of what the stored status records and
// the one before did not: phases left, a rollback started, snapshots ready.
func (r *UpdateRequestReconciler) observeRecorded(ctx context.Context, request *golivev1alpha1.UpdateRequest, before *golivev1alpha1.UpdateRequestStatus, now time.Time) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.StatusRecorded(request.Namespace, before, &request.Status, now, func(name string) (time.Time, bool) {
		var snapshot snapshotv1.VolumeSnapshot
		if err := r.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: name}, &snapshot); err != nil {
			log.FromContext(ctx).V(1).Info("Found no creation time of a ready snapshot", "volumeSnapshot", name, "error", err.Error())
			return time.Time{}, false
		}
		return snapshot.CreationTimestamp.Time, true
	})
}

package backup

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// What becomes of a volume that a data restore retained (RestoreClaim step 1)
// once its request's retention ends. Only its reclaim policy is given back:
// Kubernetes then does with the released volume what it does with any
// released volume of that policy, so golive never deletes a volume nor its
// storage itself, and never one that a claim uses.

// VolumeReclaim is what ReclaimDecision says to do with a retained volume.
type VolumeReclaim string

const (
	// ReclaimLeave: nothing to do, now or later (the reason says why).
	ReclaimLeave VolumeReclaim = "Leave"
	// ReclaimWait: the retention has not ended; look again at the expiry.
	ReclaimWait VolumeReclaim = "Wait"
	// ReclaimNow: give the volume its previous reclaim policy back.
	ReclaimNow VolumeReclaim = "Reclaim"
)

// ReclaimDecision says what to do at now with volume, retained by the request
// of UID uid: reclaim it once the expiry stamped on it has passed, if it is
// still released (its claim is gone: it is bound to no claim), golive's
// Retain is still its policy and its previous policy was not Retain. A
// volume retained by another request, without an expiry (the request said
// spec.rollback.retainedVolumes: Keep, or has not ended), or bound again is
// left alone. When an expiry is stamped, expiresAt is it.
func ReclaimDecision(volume *corev1.PersistentVolume, uid string, now time.Time) (decision VolumeReclaim, expiresAt time.Time, reason string) {
	if uid == "" || volume.Annotations[AnnotationRetainedBy] != uid {
		return ReclaimLeave, time.Time{}, "not retained by this request"
	}
	expiresAt, stamped, err := StampedExpiry(volume)
	switch {
	case err != nil:
		return ReclaimLeave, time.Time{}, err.Error()
	case !stamped:
		return ReclaimLeave, time.Time{}, "no expiry: kept"
	case now.Before(expiresAt):
		return ReclaimWait, expiresAt, "retention not ended"
	case volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain:
		return ReclaimLeave, expiresAt, "reclaim policy is " + string(volume.Spec.PersistentVolumeReclaimPolicy) + " already"
	case volume.Status.Phase != corev1.VolumeReleased:
		return ReclaimLeave, expiresAt, "not released (phase " + string(volume.Status.Phase) + "): a claim may use it"
	}
	switch previous := corev1.PersistentVolumeReclaimPolicy(volume.Annotations[AnnotationPreviousReclaimPolicy]); previous {
	case corev1.PersistentVolumeReclaimDelete:
		return ReclaimNow, expiresAt, "retention ended"
	default:
		return ReclaimLeave, expiresAt, fmt.Sprintf("its previous reclaim policy was %q: released volumes of that policy are kept", previous)
	}
}

// RetainedVolumes lists the volumes the data restore of request retained.
func RetainedVolumes(ctx context.Context, reader client.Reader, request *v1alpha1.UpdateRequest) ([]corev1.PersistentVolume, error) {
	if err := requireUID(request); err != nil {
		return nil, err
	}
	var volumes corev1.PersistentVolumeList
	if err := reader.List(ctx, &volumes, client.MatchingLabels{v1alpha1.LabelRequestUID: string(request.UID)}); err != nil {
		return nil, fmt.Errorf("listing the PersistentVolumes retained by UpdateRequest %s/%s: %w", request.Namespace, request.Name, err)
	}
	retained := volumes.Items[:0]
	for _, volume := range volumes.Items {
		if volume.Annotations[AnnotationRetainedBy] == string(request.UID) {
			retained = append(retained, volume)
		}
	}
	return retained, nil
}

// VolumesExpiryMarked tells whether every one of volumes carries its expiry,
// or needs none: the request keeps its retained volumes.
func VolumesExpiryMarked(request *v1alpha1.UpdateRequest, volumes []corev1.PersistentVolume) bool {
	if request.Spec.Rollback.RetainedVolumes == v1alpha1.KeepRetainedVolumes {
		return true
	}
	for _, volume := range volumes {
		if volume.Annotations[AnnotationExpiresAt] == "" {
			return false
		}
	}
	return true
}

// MarkVolumesExpiry stamps expiresAt on every volume retained by request, as
// it does on the snapshots (MarkExpiry), for the retained volume reconciler to
// reclaim them then; unless the request keeps them
// (spec.rollback.retainedVolumes: Keep). A stamp there already is left alone.
func MarkVolumesExpiry(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest, expiresAt time.Time) error {
	if request.Spec.Rollback.RetainedVolumes == v1alpha1.KeepRetainedVolumes {
		return nil
	}
	volumes, err := RetainedVolumes(ctx, c, request)
	if err != nil {
		return err
	}
	stamp := expiresAt.UTC().Format(time.RFC3339)
	for i := range volumes {
		volume := &volumes[i]
		if volume.Annotations[AnnotationExpiresAt] != "" {
			continue
		}
		patch := client.MergeFrom(volume.DeepCopy())
		metav1.SetMetaDataAnnotation(&volume.ObjectMeta, AnnotationExpiresAt, stamp)
		if err := c.Patch(ctx, volume, patch, client.FieldOwner(workload.FieldManager)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("stamping the expiry on PersistentVolume %s: %w", volume.Name, err)
		}
	}
	return nil
}

// ReclaimVolume gives volume its previous reclaim policy back when
// ReclaimDecision says so for the request that retained it, and reports
// whether it did. The patch is guarded by the resourceVersion read, so a
// volume bound again since is never touched.
func ReclaimVolume(ctx context.Context, c client.Client, volume *corev1.PersistentVolume, now time.Time) (bool, error) {
	decision, _, _ := ReclaimDecision(volume, volume.Annotations[AnnotationRetainedBy], now)
	if decision != ReclaimNow {
		return false, nil
	}
	previous := corev1.PersistentVolumeReclaimPolicy(volume.Annotations[AnnotationPreviousReclaimPolicy])
	patch := client.MergeFromWithOptions(volume.DeepCopy(), client.MergeFromWithOptimisticLock{})
	volume.Spec.PersistentVolumeReclaimPolicy = previous
	err := c.Patch(ctx, volume, patch, client.FieldOwner(workload.FieldManager))
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed since it was read: the change wakes whoever looks again.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("giving PersistentVolume %s its reclaim policy %s back: %w", volume.Name, previous, err)
	}
	log.FromContext(ctx).Info("Gave a retained volume its previous reclaim policy back at the end of its retention",
		"persistentVolume", volume.Name, "reclaimPolicy", previous, "expiresAt", volume.Annotations[AnnotationExpiresAt],
		"requestUID", volume.Annotations[AnnotationRetainedBy])
	return true, nil
}

// ReclaimRetainedVolumes reclaims every volume retained by request whose
// retention ended (ReclaimVolume), and reports whether none is left to reclaim.
func ReclaimRetainedVolumes(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest, now time.Time) (done bool, err error) {
	volumes, err := RetainedVolumes(ctx, c, request)
	if err != nil {
		return false, err
	}
	done = true
	for i := range volumes {
		reclaimed, err := ReclaimVolume(ctx, c, &volumes[i], now)
		if err != nil {
			return false, err
		}
		done = done && !reclaimed
	}
	return done, nil
}

// VolumesReclaimed tells whether none of volumes is left to reclaim at now.
func VolumesReclaimed(volumes []corev1.PersistentVolume, uid string, now time.Time) bool {
	for i := range volumes {
		if decision, _, _ := ReclaimDecision(&volumes[i], uid, now); decision == ReclaimNow {
			return false
		}
	}
	return true
}

package backup

import (
	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// Annotations that golive writes on the objects of a backup and a restore.
const (
	// AnnotationExpiresAt is when a VolumeSnapshot's retention ends (RFC 3339);
	// controller.SnapshotRetentionReconciler deletes the snapshot then. On a
	// retained PersistentVolume, controller.RetainedVolumeReconciler gives it its
	// previous reclaim policy back then.
	AnnotationExpiresAt = "golive.dev/expires-at"

	// AnnotationRetainedBy is the UID of the request that set a PersistentVolume's
	// reclaim policy to Retain before replacing its claim; the volume keeps the
	// data the failed version wrote until the request's retention ends
	// (spec.rollback.retainedVolumes), and golive never deletes it itself.
	AnnotationRetainedBy = "golive.dev/retained-by"

	// AnnotationPreviousReclaimPolicy is the reclaim policy a retained volume had before.
	AnnotationPreviousReclaimPolicy = "golive.dev/previous-reclaim-policy"

	// AnnotationClaimTemplate records a claim as JSON (name, labels,
	// annotations, the spec of the volume it asks for) to recreate it from
	// after it was deleted: on a VolumeSnapshot as the claim was at the backup,
	// on a retained volume as it was just before the restore.
	AnnotationClaimTemplate = "golive.dev/claim-template"

	// AnnotationRestoredFrom is the VolumeSnapshot a claim was restored from.
	AnnotationRestoredFrom = "golive.dev/restored-from"

	// AnnotationRestoredBy is the UID of the request that restored a claim; such
	// a claim is never deleted again by that request.
	AnnotationRestoredBy = "golive.dev/restored-by"

	// AnnotationPreviousVolume names, on a restored claim, the retained volume
	// that holds the data of the claim it replaced.
	AnnotationPreviousVolume = "golive.dev/previous-volume"
)

// SnapshotName is the name of the VolumeSnapshot of claim taken for the
// request called requestName: "<request>-<claim>", shortened with a hash when
// that would be too long for an object name.
func SnapshotName(requestName, claim string) string {
	return workload.ShortName(requestName+"-"+claim, workload.MaxObjectName)
}

// requestLabels name the request on every object of its backup.
func requestLabels(request *v1alpha1.UpdateRequest) map[string]string {
	return map[string]string{
		v1alpha1.LabelRequest:          request.Name,
		v1alpha1.LabelRequestNamespace: request.Namespace,
		v1alpha1.LabelRequestUID:       string(request.UID),
	}
}

package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Annotations that golive writes on the objects of a backup and a restore.
const (
	// AnnotationExpiresAt is when a VolumeSnapshot's retention ends (RFC 3339);
	// SnapshotRetentionReconciler deletes the snapshot then.
	AnnotationExpiresAt = "golive.dev/expires-at"

	// AnnotationRetainedBy is the UID of the request that set a PersistentVolume's
	// reclaim policy to Retain before replacing its claim; the volume keeps the
	// data the failed version wrote and is never deleted by golive.
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

// maxObjectName is the longest object name (a DNS subdomain).
const maxObjectName = 253

// SnapshotName is the name of the VolumeSnapshot of claim taken for the
// request called requestName: "<request>-<claim>", shortened with a hash when
// that would be too long for an object name.
func SnapshotName(requestName, claim string) string {
	return shorten(requestName+"-"+claim, maxObjectName)
}

// requestLabels name the request on every object of its backup.
func requestLabels(request *v1alpha1.UpdateRequest) map[string]string {
	return map[string]string{
		v1alpha1.LabelRequest:          request.Name,
		v1alpha1.LabelRequestNamespace: request.Namespace,
		v1alpha1.LabelRequestUID:       string(request.UID),
	}
}

// shorten returns name if it has at most limit characters, and otherwise its
// beginning followed by "-" and a hash of the whole name, limit characters in
// all. Different long names stay different, and the result stays a valid DNS
// subdomain: it begins and ends with a letter or digit.
func shorten(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])[:10]
	prefix := strings.TrimRight(name[:limit-len(hash)-1], "-._")
	return prefix + "-" + hash
}

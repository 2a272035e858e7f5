package backup

import (
	"context"
	"fmt"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// MadeByGolive tells whether golive made obj for a request.
func MadeByGolive(obj client.Object) bool {
	_, labelled := obj.GetLabels()[v1alpha1.LabelRequestUID]
	return labelled
}

// StampedExpiry reads the expiry MarkExpiry (or MarkVolumesExpiry) stamped on
// object. stamped is false when it carries none; err is set when the stamp
// cannot be read.
func StampedExpiry(object client.Object) (expiresAt time.Time, stamped bool, err error) {
	stamp, stamped := object.GetAnnotations()[AnnotationExpiresAt]
	if !stamped {
		return time.Time{}, false, nil
	}
	expiresAt, err = time.Parse(time.RFC3339, stamp)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("annotation %s: %w", AnnotationExpiresAt, err)
	}
	return expiresAt, true, nil
}

// DeleteSnapshot deletes snapshot unless its deletion is under way, and only
// the very object read, not one created since under the same name.
func DeleteSnapshot(ctx context.Context, c client.Client, snapshot *snapshotv1.VolumeSnapshot) error {
	return deleteSnapshot(ctx, c, snapshot)
}

package controller

import (
	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// requestLabelExists selects the objects golive created for a request.
var requestLabelExists = func() labels.Selector {
	requirement, err := labels.NewRequirement(golivev1alpha1.LabelRequest, selection.Exists, nil)
	utilruntime.Must(err)
	return labels.NewSelector().Add(*requirement)
}()

// CacheOptions are the manager's cache: what golive reads often, and no more.
// Only golive's own ConfigMaps, Jobs and VolumeSnapshots are cached, not every
// one in the cluster (VolumeSnapshots only when the cluster serves them);
// pods and claims are not cached at all (UncachedObjects), and namespaces only
// as metadata (approval.CheckStagingNamespace reads them so). No cached
// object keeps its managedFields: golive never reads them, and they are often
// the larger part of an object.
func CacheOptions(volumeSnapshots bool) cache.Options {
	byObject := map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {Label: requestLabelExists},
		&batchv1.Job{}:      {Label: requestLabelExists},
	}
	if volumeSnapshots {
		byObject[&snapshotv1.VolumeSnapshot{}] = cache.ByObject{Label: requestLabelExists}
	}
	return cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/workload"
)

// UncachedObjects are read from the API server rather than from the cache:
// golive reads them only while it backs up or restores a request, and
// caching them would keep every pod and claim of the cluster in memory.
func UncachedObjects() []client.Object {
	return []client.Object{&corev1.Pod{}, &corev1.PersistentVolumeClaim{}, &corev1.PersistentVolume{}, &storagev1.StorageClass{}}
}

// SnapshotAPIServed tells whether the cluster serves snapshot.storage.k8s.io/v1
// VolumeSnapshots; without them golive backs up workload specs only.
func SnapshotAPIServed(mapper meta.RESTMapper) (bool, error) {
	_, err := mapper.RESTMapping(schema.GroupKind{Group: snapshotv1.GroupName, Kind: "VolumeSnapshot"}, "v1")
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("looking up the VolumeSnapshot API: %w", err)
}

// errNoSnapshotAPI stalls a request that selects volumes in a cluster without snapshots.
var errNoSnapshotAPI = errors.New("spec.backup.volumeClaimSelector: this cluster does not serve the VolumeSnapshot API (snapshot.storage.k8s.io/v1); install the snapshot CRDs and controller, or remove the selector to back up workload specs only")

// observeBackup reads what exists of the request's backup: the saved specs
// and, for a request that selects volumes, the snapshot class, the claims and
// their snapshots; whether the targets stopped for a quiesce; and for an
// ended request whether its snapshots carry their expiry or are gone.
func (r *UpdateRequestReconciler) observeBackup(ctx context.Context, request *golivev1alpha1.UpdateRequest, needs lifecycle.Needs, world *lifecycle.World) error {
	observation := &world.Backup
	observation.SnapshotClassFound = true
	savedSpecs, notOurs, err := workload.ObserveSavedSpecs(ctx, r.Client, r.LedgerKey, request)
	if err != nil {
		return err
	}
	observation.SavedSpecs, observation.SavedSpecsNotOurs = savedSpecs, notOurs
	world.BackupsDeleted = savedSpecs == "" && world.StagingSavedSpecs.Name == ""
	if needs.Stopped {
		if observation.Stopped, observation.StoppedMessage, err = backup.Stopped(ctx, r.Client, request); err != nil {
			return err
		}
	}

	selector := request.Spec.Backup.VolumeClaimSelector
	if selector != nil && !r.VolumeSnapshots {
		world.Problems = append(world.Problems, errNoSnapshotAPI.Error())
		return nil
	}
	if needs.BackupClaims {
		class := request.Spec.Backup.VolumeSnapshotClassName
		if observation.SnapshotClassFound, err = backup.SnapshotClassExists(ctx, r.Client, class); err != nil {
			return err
		}
		if observation.Claims, err = backup.SelectClaims(ctx, r.Client, request.Namespace, selector); err != nil {
			return err
		}
	}
	if needs.Snapshots {
		if observation.Snapshots, observation.SnapshotError, err = backup.ObserveSnapshots(ctx, r.Client, r.LedgerKey, request, observation.Claims); err != nil {
			return err
		}
	}

	if needs.DataRestore && r.VolumeSnapshots {
		state, message, err := backup.ObserveRestore(ctx, r.Client, r.LedgerKey, request, request.Status.Backup.Snapshots)
		if err != nil {
			return err
		}
		restored, err := dataRestoreStateOf(state)
		if err != nil {
			return err
		}
		world.DataRestore = lifecycle.DataRestoreObservation{State: restored, Message: message}
	}

	if needs.SnapshotExpiry && r.VolumeSnapshots {
		snapshots, err := backup.ListSnapshots(ctx, r.Client, request)
		if err != nil {
			return err
		}
		volumes, err := backup.RetainedVolumes(ctx, r.Client, request)
		if err != nil {
			return err
		}
		observation.ExpiryMarked = backup.SnapshotsExpiryMarked(snapshots) && backup.VolumesExpiryMarked(request, volumes)
		world.BackupsDeleted = world.BackupsDeleted && len(snapshots) == 0 && backup.VolumesReclaimed(volumes, string(request.UID), r.Clock.Now())
	}
	return nil
}

// markExpiry stamps the expiry on the request's snapshots, and on the volumes
// its data restore retained, so that the retention reconcilers delete or
// reclaim them even once the request is gone.
func (r *UpdateRequestReconciler) markExpiry(ctx context.Context, request *golivev1alpha1.UpdateRequest, now time.Time) error {
	if !r.VolumeSnapshots {
		return nil
	}
	expiresAt := backup.Expiry(request, now)
	if err := backup.MarkExpiry(ctx, r.Client, request, expiresAt); err != nil {
		return err
	}
	return backup.MarkVolumesExpiry(ctx, r.Client, request, expiresAt)
}

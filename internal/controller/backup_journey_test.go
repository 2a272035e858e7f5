package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/verify"
)

// testSnapshotClass is the VolumeSnapshotClass of the journeys with volumes.
const testSnapshotClass = "golive-test-snapshots"

// ensureSnapshotClass creates testSnapshotClass unless an earlier test did.
func ensureSnapshotClass(t *testing.T) {
	t.Helper()
	class := &snapshotv1.VolumeSnapshotClass{ObjectMeta: metav1.ObjectMeta{Name: testSnapshotClass}, Driver: "csi.golive.dev", DeletionPolicy: snapshotv1.VolumeSnapshotContentDelete}
	if err := testenv.IgnoreAlreadyExists(env.Client.Create(t.Context(), class)); err != nil {
		t.Fatal(err)
	}
}

// eventuallyTicking is eventually for waits golive looks at again after
// lifecycle.PollInterval (pods stopping, claims restored): each poll moves the
// fake clock on by that interval.
func (j *journey) eventuallyTicking(check func(ctx context.Context) string) {
	j.t.Helper()
	eventually(j.t, func(ctx context.Context) string {
		message := check(ctx)
		if message != "" {
			j.clock.Step(lifecycle.PollInterval)
		}
		return message
	})
}

// boundClaim creates the claim name and a volume bound to it, as the
// provisioner and the volume binder would.
func (j *journey) boundClaim(name string) *corev1.PersistentVolumeClaim {
	j.t.Helper()
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: j.production, Labels: map[string]string{"app": "billing"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	j.create(claim)
	j.bind(claim)
	return claim
}

// bind plays the provisioner and the volume binder for claim.
func (j *journey) bind(claim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	j.t.Helper()
	ctx := j.t.Context()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(claim), claim); err != nil {
		j.t.Fatal(err)
	}
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pvc-" + string(claim.UID)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.golive.dev", VolumeHandle: "pvc-" + string(claim.UID)}},
		},
	}
	j.create(volume)
	claim.Spec.VolumeName = volume.Name
	if err := env.Client.Update(ctx, claim); err != nil {
		j.t.Fatal(err)
	}
	claim.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: claim.Spec.AccessModes, Capacity: corev1.ResourceList{corev1.ResourceStorage: size}}
	if err := env.Client.Status().Update(ctx, claim); err != nil {
		j.t.Fatal(err)
	}
	return volume
}

func (j *journey) replicas(namespace string) int32 {
	var deployment appsv1.Deployment
	if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: namespace, Name: "billing-api"}, &deployment); err != nil {
		j.t.Fatal(err)
	}
	return ptr.Deref(deployment.Spec.Replicas, 1)
}

// TestProductionFailureRestoresTheVolumes plays a release that quiesces and
// snapshots its volume, fails in production, and rolls back workloads and
// data; the test plays the snapshot controller, the volume binder,
// pvc-protection and the volume controller. At the end of the retention the
// failed version's volume gets its reclaim policy Delete back, unless the
// request keeps it; a volume bound to a claim is never touched.
func TestProductionFailureRestoresTheVolumes(t *testing.T) {
	for _, retained := range []golivev1alpha1.RetainedVolumesAction{golivev1alpha1.DeleteRetainedVolumes, golivev1alpha1.KeepRetainedVolumes} {
		t.Run(string(retained), func(t *testing.T) { productionFailureRestoresTheVolumes(t, retained) })
	}
}

func productionFailureRestoresTheVolumes(t *testing.T, retained golivev1alpha1.RetainedVolumesAction) {
	ensureSnapshotClass(t)
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		productionSmoke(r)
		r.Spec.Backup = golivev1alpha1.Backup{
			VolumeClaimSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}},
			VolumeSnapshotClassName: testSnapshotClass,
			Quiesce:                 golivev1alpha1.QuiesceScaleToZero,
			Retention:               metav1.Duration{Duration: 24 * time.Hour},
		}
		r.Spec.Rollback.RetainedVolumes = retained
	}))
	claim := j.boundClaim("billing-data")
	oldVolume := claim.Spec.VolumeName
	ctx := t.Context()

	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")

	// BackingUp: the replica count is recorded, the target stopped, the claim snapshotted.
	snapshotName := backup.SnapshotName(j.request.Name, "billing-data")
	var snapshot snapshotv1.VolumeSnapshot
	j.eventuallyTicking(func(ctx context.Context) string {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: snapshotName}, &snapshot); err != nil {
			return fmt.Sprintf("VolumeSnapshot %s: %v (%s)", snapshotName, err, j.describe())
		}
		return ""
	})
	request := j.current()
	if got := request.Status.Backup.QuiescedReplicas; got["Deployment/billing-api"] != 2 {
		t.Errorf("quiescedReplicas = %v, want the 2 replicas of billing-api", got)
	}
	if j.replicas(j.production) != 0 || j.image(j.production) != previousImage {
		t.Errorf("before the snapshot: billing-api asks for %d replicas of %s; want 0 of the previous image", j.replicas(j.production), j.image(j.production))
	}
	if len(snapshot.OwnerReferences) != 0 || ptr.Deref(snapshot.Spec.Source.PersistentVolumeClaimName, "") != "billing-data" {
		t.Errorf("snapshot = %+v; want the claim as source and no owner", snapshot.ObjectMeta)
	}
	// The snapshot controller: ready.
	snapshot.Status = &snapshotv1.VolumeSnapshotStatus{ReadyToUse: ptr.To(true), RestoreSize: ptr.To(resource.MustParse("1Gi"))}
	if err := env.Client.Status().Update(ctx, &snapshot); err != nil {
		t.Fatal(err)
	}

	// Updating: the new images, then the recorded replicas.
	eventually(t, func(context.Context) string {
		if image, replicas := j.image(j.production), j.replicas(j.production); image != newImage || replicas != 2 {
			return fmt.Sprintf("production runs %d of %s (%s)", replicas, image, j.describe())
		}
		return ""
	})
	j.rollOut(j.production)
	j.finishJobIn(verify.EnvironmentProduction, false)

	// RollingBack: the target stopped again, the claim restored from the snapshot.
	j.eventuallyTicking(func(ctx context.Context) string {
		var current corev1.PersistentVolumeClaim
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: "billing-data"}, &current)
		switch {
		case err == nil && current.Annotations[backup.AnnotationRestoredBy] == string(j.request.UID):
			return ""
		case err == nil && !current.DeletionTimestamp.IsZero():
			current.Finalizers = nil // pvc-protection: no pod uses it
			if err := env.Client.Update(ctx, &current); err != nil {
				return err.Error()
			}
		case err != nil && !apierrors.IsNotFound(err):
			return err.Error()
		}
		return fmt.Sprintf("claim billing-data not restored yet (%s)", j.describe())
	})
	if replicas := j.replicas(j.production); replicas != 0 {
		t.Errorf("billing-api asks for %d replicas while its claim is restored, want 0", replicas)
	}
	var restored corev1.PersistentVolumeClaim
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: "billing-data"}, &restored); err != nil {
		t.Fatal(err)
	}
	if restored.Spec.DataSource == nil || restored.Spec.DataSource.Name != snapshotName {
		t.Errorf("restored claim's data source = %+v, want VolumeSnapshot %s", restored.Spec.DataSource, snapshotName)
	}
	j.bind(&restored)

	// The previous spec, replicas included, then RolledBack.
	j.eventuallyTicking(func(context.Context) string {
		if image, replicas := j.image(j.production), j.replicas(j.production); image != previousImage || replicas != 2 {
			return fmt.Sprintf("production runs %d of %s (%s)", replicas, image, j.describe())
		}
		return ""
	})
	j.rollOut(j.production)
	j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	// Staging goes back too; then the backups' retention starts counting.
	request = j.waitForStagingRestored()
	if !request.Status.Rollback.DataRestored || request.Status.Rollback.TargetsRestored != 1 {
		t.Errorf("rollback = %+v", request.Status.Rollback)
	}
	var kept corev1.PersistentVolume
	if err := env.Client.Get(ctx, client.ObjectKey{Name: oldVolume}, &kept); err != nil || kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("the failed version's volume %s: %v, reclaim policy %s; want it kept with Retain", oldVolume, err, kept.Spec.PersistentVolumeReclaimPolicy)
	}
	// The volume controller: its claim is gone, so the volume is Released.
	// (golive may update the volume meanwhile: read it again on a conflict.)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: oldVolume}, &kept); err != nil {
			return err
		}
		kept.Status.Phase = corev1.VolumeReleased
		return env.Client.Status().Update(ctx, &kept)
	}); err != nil {
		t.Fatal(err)
	}
	// A volume that says this request retained it but is bound to a claim again.
	bound := retainedVolume(t, j.production, string(j.request.UID), "Delete", "", corev1.VolumeBound)

	// Retention: the snapshot carries its expiry, and goes with the saved specs when it passes.
	expiresAt := request.Status.Backup.ExpiresAt
	eventually(t, func(ctx context.Context) string {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: snapshotName}, &snapshot); err != nil {
			return err.Error()
		}
		if got := snapshot.Annotations[backup.AnnotationExpiresAt]; got != expiresAt.UTC().Format(time.RFC3339) {
			return fmt.Sprintf("the snapshot's expiry is %q, want %s", got, expiresAt.UTC().Format(time.RFC3339))
		}
		return ""
	})
	j.stepClockTo(expiresAt.Time)
	eventually(t, func(ctx context.Context) string {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: snapshotName}, &snapshot)
		if !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the snapshot is still there after retention: %v", err)
		}
		var saved corev1.ConfigMap
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: request.Status.Backup.SavedSpecs}, &saved); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the saved specs are still there after retention: %v", err)
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: request.Status.StagingRestore.SavedSpecs}, &saved); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the staging saved specs are still there after retention: %v", err)
		}
		if retained == golivev1alpha1.DeleteRetainedVolumes {
			if policy := reclaimPolicy(t, &kept); policy != corev1.PersistentVolumeReclaimDelete {
				return fmt.Sprintf("the failed version's volume has reclaim policy %s after retention, want Delete, its previous one", policy)
			}
		}
		return ""
	})
	if err := env.Client.Get(ctx, client.ObjectKey{Name: oldVolume}, &kept); err != nil {
		t.Fatal(err)
	}
	if retained == golivev1alpha1.KeepRetainedVolumes {
		if kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || kept.Annotations[backup.AnnotationExpiresAt] != "" {
			t.Errorf("kept volume: reclaim policy %s, expiry %q; want Retain and no expiry", kept.Spec.PersistentVolumeReclaimPolicy, kept.Annotations[backup.AnnotationExpiresAt])
		}
	} else if got := kept.Annotations[backup.AnnotationExpiresAt]; got != expiresAt.UTC().Format(time.RFC3339) {
		t.Errorf("the failed version's volume carries the expiry %q, want %s", got, expiresAt.UTC().Format(time.RFC3339))
	}
	if policy := reclaimPolicy(t, bound); policy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("the volume bound to a claim has reclaim policy %s after retention, want it untouched (Retain)", policy)
	}
}

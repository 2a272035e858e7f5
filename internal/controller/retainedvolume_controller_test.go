package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
)

// retainedVolume creates a PersistentVolume as a data restore of the request
// of uid in namespace leaves it (reclaim policy Retain, the previous one
// recorded), expiring at expiresAt unless it is empty, in phase, and returns it.
func retainedVolume(t *testing.T, namespace, uid, previous, expiresAt string, phase corev1.PersistentVolumePhase) *corev1.PersistentVolume {
	t.Helper()
	annotations := map[string]string{backup.AnnotationRetainedBy: uid, backup.AnnotationPreviousReclaimPolicy: previous}
	if expiresAt != "" {
		annotations[backup.AnnotationExpiresAt] = expiresAt
	}
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pvc-" + rand.String(10), Annotations: annotations, Labels: map[string]string{
			golivev1alpha1.LabelRequest: "billing-2-4-0", golivev1alpha1.LabelRequestNamespace: namespace, golivev1alpha1.LabelRequestUID: uid,
		}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: namespace, Name: "billing-data", UID: "a-claim-deleted-since"},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.golive.dev", VolumeHandle: "h-" + rand.String(10)}},
		},
	}
	createObject(t, volume)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), volume) })
	volume.Status.Phase = phase
	if err := env.Client.Status().Update(t.Context(), volume); err != nil {
		t.Fatal(err)
	}
	return volume
}

func reclaimPolicy(t *testing.T, volume *corev1.PersistentVolume) corev1.PersistentVolumeReclaimPolicy {
	t.Helper()
	var current corev1.PersistentVolume
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(volume), &current); err != nil {
		t.Fatal(err)
	}
	return current.Spec.PersistentVolumeReclaimPolicy
}

// TestRetainedVolumeReconciler: at its expiry a released volume retained by
// a data restore gets its previous reclaim policy back, so that Kubernetes
// deletes it with its storage; one bound again, one kept (no expiry) and one
// whose previous policy was Retain are never touched.
func TestRetainedVolumeReconciler(t *testing.T) {
	namespace := newNamespace(t)
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	clock := clocktesting.NewFakePassiveClock(now)
	reconciler := &RetainedVolumeReconciler{Client: env.Client, Clock: clock}
	const uid, expiry = "8d1f0c2a-deleted", "2026-07-09T22:00:00Z"
	expiring := retainedVolume(t, namespace, uid, "Delete", expiry, corev1.VolumeReleased)
	bound := retainedVolume(t, namespace, uid, "Delete", expiry, corev1.VolumeBound)
	kept := retainedVolume(t, namespace, uid, "Delete", "", corev1.VolumeReleased)
	wasRetain := retainedVolume(t, namespace, uid, "Retain", expiry, corev1.VolumeReleased)

	reconcile := func(volume *corev1.PersistentVolume) ctrl.Result {
		t.Helper()
		result, err := reconciler.Reconcile(t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(volume)})
		if err != nil {
			t.Fatalf("Reconcile(%s) = %v", volume.Name, err)
		}
		return result
	}

	if result := reconcile(expiring); result.RequeueAfter != 90*time.Minute || reclaimPolicy(t, expiring) != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("Reconcile() 90m before the expiry = %+v, policy %s; want a requeue after exactly 90m and Retain", result, reclaimPolicy(t, expiring))
	}
	clock.SetTime(now.Add(90 * time.Minute))
	if result := reconcile(expiring); result.RequeueAfter != 0 || reclaimPolicy(t, expiring) != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("Reconcile() at the expiry = %+v, policy %s; want Delete, its previous policy, and no requeue", result, reclaimPolicy(t, expiring))
	}
	clock.SetTime(now.Add(1000 * time.Hour))
	for name, volume := range map[string]*corev1.PersistentVolume{"bound to a claim": bound, "kept": kept, "Retain before": wasRetain} {
		if result := reconcile(volume); result.RequeueAfter != 0 || reclaimPolicy(t, volume) != corev1.PersistentVolumeReclaimRetain {
			t.Errorf("Reconcile() of a volume %s = %+v, policy %s; want it left with Retain", name, result, reclaimPolicy(t, volume))
		}
	}
}

// TestRetainedVolumeReconcilerInAManager runs the reconciler as the manager
// does: the volumes retained by a request that no longer exists are reclaimed
// at their expiry.
func TestRetainedVolumeReconcilerInAManager(t *testing.T) {
	namespace := newNamespace(t)
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	expired := retainedVolume(t, namespace, "8d1f0c2a-deleted", "Delete", "2026-07-09T20:00:00Z", corev1.VolumeReleased)
	pending := retainedVolume(t, namespace, "8d1f0c2a-deleted", "Delete", "2026-07-09T22:00:00Z", corev1.VolumeReleased)

	startManager(t, []string{namespace}, func(mgr ctrl.Manager) error {
		reconciler := &RetainedVolumeReconciler{Client: mgr.GetClient(), Clock: clocktesting.NewFakePassiveClock(now)}
		return reconciler.SetupWithManager(mgr, controller.Options{})
	})
	eventually(t, func(context.Context) string {
		if policy := reclaimPolicy(t, expired); policy != corev1.PersistentVolumeReclaimDelete {
			return fmt.Sprintf("the expired volume's reclaim policy is %s, want Delete", policy)
		}
		return ""
	})
	if policy := reclaimPolicy(t, pending); policy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("the volume whose retention has not ended has reclaim policy %s, want Retain", policy)
	}
}

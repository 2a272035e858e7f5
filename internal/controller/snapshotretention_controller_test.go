package controller

import (
	"context"
	"testing"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/testenv"
)

// requestSnapshot is a VolumeSnapshot as backup.EnsureSnapshots makes them,
// for a request that need not exist any more; expiresAt is stamped unless empty.
func requestSnapshot(name, namespace, expiresAt string) *snapshotv1.VolumeSnapshot {
	snapshot := &snapshotv1.VolumeSnapshot{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{
			golivev1alpha1.LabelRequest: "billing-2-4-0", golivev1alpha1.LabelRequestNamespace: namespace, golivev1alpha1.LabelRequestUID: "8d1f0c2a-deleted",
		}},
		Spec: snapshotv1.VolumeSnapshotSpec{
			Source:                  snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To("data-billing-db-0")},
			VolumeSnapshotClassName: ptr.To("csi-hostpath-snapclass"),
		},
	}
	if expiresAt != "" {
		snapshot.Annotations = map[string]string{backup.AnnotationExpiresAt: expiresAt}
	}
	return snapshot
}

// createObject creates obj or fails the test.
func createObject(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatalf("Creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func TestSnapshotRetentionReconciler(t *testing.T) {
	namespace := newNamespace(t)
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	clock := clocktesting.NewFakePassiveClock(now)
	reconciler := &SnapshotRetentionReconciler{Client: env.Client, Clock: clock}
	expiring := requestSnapshot("billing-2-4-0-data-billing-db-0", namespace, "2026-07-09T22:00:00Z")
	unstamped := requestSnapshot("billing-2-4-0-data-billing-db-1", namespace, "")
	createObject(t, expiring)
	createObject(t, unstamped)

	reconcile := func(snapshot *snapshotv1.VolumeSnapshot) ctrl.Result {
		t.Helper()
		result, err := reconciler.Reconcile(t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(snapshot)})
		if err != nil {
			t.Fatalf("Reconcile(%s) = %v", snapshot.Name, err)
		}
		return result
	}
	exists := func(snapshot *snapshotv1.VolumeSnapshot) bool {
		t.Helper()
		err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(snapshot), &snapshotv1.VolumeSnapshot{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	if result := reconcile(expiring); result.RequeueAfter != 90*time.Minute || !exists(expiring) {
		t.Errorf("Reconcile() 90m before the expiry = %+v, exists %t; want a requeue after exactly 90m and the snapshot kept", result, exists(expiring))
	}
	clock.SetTime(now.Add(90*time.Minute - time.Second))
	if result := reconcile(expiring); result.RequeueAfter != time.Second || !exists(expiring) {
		t.Errorf("Reconcile() 1s before the expiry = %+v, exists %t; want a requeue after exactly 1s and the snapshot kept", result, exists(expiring))
	}
	clock.SetTime(now.Add(90 * time.Minute))
	if result := reconcile(expiring); result.RequeueAfter != 0 || exists(expiring) {
		t.Errorf("Reconcile() at the expiry = %+v, exists %t; want the snapshot deleted and no requeue", result, exists(expiring))
	}
	clock.SetTime(now.Add(1000 * time.Hour))
	if result := reconcile(unstamped); result.RequeueAfter != 0 || !exists(unstamped) {
		t.Errorf("Reconcile() of a snapshot without expiry = %+v, exists %t; want it left alone", result, exists(unstamped))
	}
	if result := reconcile(expiring); result != (ctrl.Result{}) {
		t.Errorf("Reconcile() of a deleted snapshot = %+v, want nothing", result)
	}
}

// TestSnapshotRetentionReconcilerEdges covers what needs no API server.
func TestSnapshotRetentionReconcilerEdges(t *testing.T) {
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	unlabelled := requestSnapshot("someone-elses", "billing", "2026-07-01T00:00:00Z")
	unlabelled.Labels = nil
	tests := []struct {
		name     string
		snapshot *snapshotv1.VolumeSnapshot
		wantKept bool
	}{
		{"not made by golive", unlabelled, true},
		{"unreadable expiry", requestSnapshot("unreadable", "billing", "next thursday"), true},
		{"expired long ago", requestSnapshot("expired", "billing", "2026-07-01T00:00:00+02:00"), false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(test.snapshot).Build()
			reconciler := &SnapshotRetentionReconciler{Client: c, Clock: clocktesting.NewFakePassiveClock(now)}
			result, err := reconciler.Reconcile(t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(test.snapshot)})
			if err != nil || result != (ctrl.Result{}) {
				t.Errorf("Reconcile() = %+v, %v; want no requeue and no error", result, err)
			}
			err = c.Get(t.Context(), client.ObjectKeyFromObject(test.snapshot), &snapshotv1.VolumeSnapshot{})
			if kept := err == nil; kept != test.wantKept {
				t.Errorf("After Reconcile() the snapshot exists: %t (%v), want %t", kept, err, test.wantKept)
			}
		})
	}
}

// TestSnapshotRetentionReconcilerInAManager runs the reconciler as the
// manager does, so that the watch and its label filter are covered: the
// snapshots of a request that no longer exists are deleted at their expiry.
func TestSnapshotRetentionReconcilerInAManager(t *testing.T) {
	namespace := newNamespace(t)
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	expired := requestSnapshot("billing-2-4-0-data-billing-db-0", namespace, "2026-07-09T20:00:00Z")
	pending := requestSnapshot("billing-2-4-0-data-billing-db-1", namespace, "2026-07-09T22:00:00Z")
	foreign := requestSnapshot("nightly-data-billing-db-0", namespace, "2026-07-01T00:00:00Z")
	foreign.Labels = nil
	for _, snapshot := range []*snapshotv1.VolumeSnapshot{expired, pending, foreign} {
		createObject(t, snapshot)
	}

	startManager(t, []string{namespace}, func(mgr ctrl.Manager) error {
		reconciler := &SnapshotRetentionReconciler{Client: mgr.GetClient(), Clock: clocktesting.NewFakePassiveClock(now)}
		return reconciler.SetupWithManager(mgr, controller.Options{})
	})

	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(expired), &snapshotv1.VolumeSnapshot{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("Waiting for the expired snapshot to be deleted: %v", err)
	}
	for _, kept := range []*snapshotv1.VolumeSnapshot{pending, foreign} {
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(kept), &snapshotv1.VolumeSnapshot{}); err != nil {
			t.Errorf("Getting VolumeSnapshot %s: %v", kept.Name, err)
		}
	}
}

package backup_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/ledger"
)

func TestSelectClaims(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newClaim("data-billing-db-1", namespace, "1Gi"))
	create(t, newClaim("data-billing-db-0", namespace, "1Gi"))
	create(t, newClaim("cache", namespace, "1Gi", func(c *corev1.PersistentVolumeClaim) { c.Labels = map[string]string{"app": "cache"} }))

	tests := []struct {
		name     string
		selector *metav1.LabelSelector
		want     []string
	}{
		{"matching labels, sorted", &metav1.LabelSelector{MatchLabels: billingLabels}, []string{"data-billing-db-0", "data-billing-db-1"}},
		{"no selector selects none", nil, nil},
		{"an empty selector selects all", &metav1.LabelSelector{}, []string{"cache", "data-billing-db-0", "data-billing-db-1"}},
		{"nothing matches", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ledger"}}, []string{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := backup.SelectClaims(t.Context(), env.Client, namespace, test.selector)
			if err != nil {
				t.Fatalf("SelectClaims() = %v", err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("SelectClaims() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnsureSnapshots(t *testing.T) {
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	claims := []string{"data-billing-db-0", "data-billing-db-1"}

	if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, claims); err != nil {
		t.Fatalf("EnsureSnapshots() = %v", err)
	}

	var first []snapshotv1.VolumeSnapshot
	for _, claim := range claims {
		snapshot := get(t, &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: "billing-2-4-0-" + claim, Namespace: namespace}})
		first = append(first, *snapshot)
		wantLabels := map[string]string{
			v1alpha1.LabelRequest:          "billing-2-4-0",
			v1alpha1.LabelRequestNamespace: namespace,
			v1alpha1.LabelRequestUID:       string(request.UID),
			v1alpha1.LabelSpecHash:         ledger.ShortSpecHash(ledger.SpecHash(&request.Spec)),
		}
		if diff := cmp.Diff(wantLabels, snapshot.Labels); diff != "" {
			t.Errorf("VolumeSnapshot %s labels (-want +got):\n%s", snapshot.Name, diff)
		}
		wantSpec := snapshotv1.VolumeSnapshotSpec{
			Source:                  snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To(claim)},
			VolumeSnapshotClassName: ptr.To(snapshotClass),
		}
		if diff := cmp.Diff(wantSpec, snapshot.Spec); diff != "" {
			t.Errorf("VolumeSnapshot %s spec (-want +got):\n%s", snapshot.Name, diff)
		}
		if len(snapshot.OwnerReferences) > 0 {
			t.Errorf("VolumeSnapshot %s has owners %v: deleting the request would delete it before its retention ends", snapshot.Name, snapshot.OwnerReferences)
		}
	}

	// Again, as after a crash: the snapshots are the same objects, unchanged.
	if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, claims); err != nil {
		t.Fatalf("EnsureSnapshots() again = %v", err)
	}
	for _, before := range first {
		after := get(t, before.DeepCopy())
		if after.UID != before.UID || after.ResourceVersion != before.ResourceVersion {
			t.Errorf("EnsureSnapshots() again replaced or changed VolumeSnapshot %s", before.Name)
		}
	}
	var all snapshotv1.VolumeSnapshotList
	if err := env.Client.List(t.Context(), &all, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != len(claims) {
		t.Errorf("There are %d VolumeSnapshots after two calls, want %d", len(all.Items), len(claims))
	}
}

func TestEnsureSnapshotsConflict(t *testing.T) {
	tests := []struct {
		name     string
		labels   map[string]string
		wantText string
	}{
		{"made by someone else", nil, "is not golive's (signature does not match)"},
		{"planted with the labels of an earlier request of the same name", map[string]string{
			v1alpha1.LabelRequest: "billing-2-4-0", v1alpha1.LabelRequestUID: "0b4d6c1e-earlier",
		}, "is not golive's (signature does not match)"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			namespace := newNamespace(t)
			request := newUpdateRequest(t, namespace, "billing-2-4-0")
			name := backup.SnapshotName(request.Name, "data-billing-db-0")
			foreign := &snapshotv1.VolumeSnapshot{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: test.labels},
				Spec:       snapshotv1.VolumeSnapshotSpec{Source: snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To("data-billing-db-0")}},
			}
			create(t, foreign)

			err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, []string{"data-billing-db-0"})
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), test.wantText) {
				t.Errorf("EnsureSnapshots() = %v, want an error naming VolumeSnapshot %s that %s", err, name, test.wantText)
			}
			_, message, err := backup.ObserveSnapshots(t.Context(), env.Client, signingKey, request, []string{"data-billing-db-0"})
			if err != nil {
				t.Fatalf("ObserveSnapshots() = %v", err)
			}
			if !strings.Contains(message, name) || !strings.Contains(message, test.wantText) {
				t.Errorf("ObserveSnapshots() message = %q, want it to name VolumeSnapshot %s that %s", message, name, test.wantText)
			}
			if after := get(t, foreign.DeepCopy()); after.ResourceVersion != foreign.ResourceVersion {
				t.Errorf("The foreign VolumeSnapshot was changed")
			}
		})
	}
}

func TestObserveSnapshots(t *testing.T) {
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	claims := []string{"data-billing-db-0", "data-billing-db-1", "data-billing-db-2"}
	if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, claims[:2]); err != nil {
		t.Fatalf("EnsureSnapshots() = %v", err)
	}
	snapshot0 := backup.SnapshotName(request.Name, claims[0])
	snapshot1 := backup.SnapshotName(request.Name, claims[1])

	observe := func() ([]v1alpha1.SnapshotStatus, string) {
		t.Helper()
		snapshots, message, err := backup.ObserveSnapshots(t.Context(), env.Client, signingKey, request, claims)
		if err != nil {
			t.Fatalf("ObserveSnapshots() = %v", err)
		}
		return snapshots, message
	}

	// Just created; the third claim's snapshot is not taken yet.
	snapshots, message := observe()
	want := []v1alpha1.SnapshotStatus{{Claim: claims[0], VolumeSnapshot: snapshot0}, {Claim: claims[1], VolumeSnapshot: snapshot1}}
	if diff := cmp.Diff(want, snapshots); diff != "" || message != "" {
		t.Errorf("ObserveSnapshots() of new snapshots = %q (-want +got):\n%s", message, diff)
	}

	// One is cut but not ready yet, the other ready.
	setSnapshotStatus(t, namespace, snapshot0, snapshotv1.VolumeSnapshotStatus{ReadyToUse: ptr.To(false)})
	setSnapshotStatus(t, namespace, snapshot1, readySnapshot("2Gi"))
	snapshots, message = observe()
	want = []v1alpha1.SnapshotStatus{{Claim: claims[0], VolumeSnapshot: snapshot0}, {Claim: claims[1], VolumeSnapshot: snapshot1, ReadyToUse: true, RestoreSize: "2Gi"}}
	if diff := cmp.Diff(want, snapshots); diff != "" || message != "" {
		t.Errorf("ObserveSnapshots() of one ready snapshot = %q (-want +got):\n%s", message, diff)
	}

	// The first fails.
	setSnapshotStatus(t, namespace, snapshot0, snapshotv1.VolumeSnapshotStatus{
		ReadyToUse: ptr.To(false),
		Error:      &snapshotv1.VolumeSnapshotError{Time: ptr.To(metav1.Now()), Message: ptr.To("rpc error: code = Internal desc = disk full")},
	})
	_, message = observe()
	for _, part := range []string{snapshot0, claims[0], "disk full"} {
		if !strings.Contains(message, part) {
			t.Errorf("ObserveSnapshots() message = %q, want it to name %q", message, part)
		}
	}
}

func TestMarkExpiryAndDeleteSnapshots(t *testing.T) {
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	other := newUpdateRequest(t, namespace, "billing-2-5-0")
	claims := []string{"data-billing-db-0", "data-billing-db-1"}
	for _, r := range []*v1alpha1.UpdateRequest{request, other} {
		if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, r, claims); err != nil {
			t.Fatalf("EnsureSnapshots(%s) = %v", r.Name, err)
		}
	}
	expiresAt := time.Date(2026, 7, 16, 22, 0, 0, 0, time.FixedZone("CEST", 2*60*60))

	if err := backup.MarkExpiry(t.Context(), env.Client, request, expiresAt); err != nil {
		t.Fatalf("MarkExpiry() = %v", err)
	}
	for _, r := range []*v1alpha1.UpdateRequest{request, other} {
		want := ""
		if r == request {
			want = "2026-07-16T20:00:00Z"
		}
		for _, claim := range claims {
			snapshot := get(t, &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: backup.SnapshotName(r.Name, claim), Namespace: namespace}})
			if got := snapshot.Annotations[backup.AnnotationExpiresAt]; got != want {
				t.Errorf("VolumeSnapshot %s expires at %q, want %q", snapshot.Name, got, want)
			}
		}
	}

	// The snapshot controller protects a snapshot while it is used as a source.
	protected := get(t, &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: backup.SnapshotName(request.Name, claims[0]), Namespace: namespace}})
	protected.Finalizers = []string{"snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"}
	if err := env.Client.Update(t.Context(), protected); err != nil {
		t.Fatal(err)
	}

	gone, err := backup.DeleteSnapshots(t.Context(), env.Client, request)
	if err != nil || gone {
		t.Fatalf("DeleteSnapshots() = %t, %v; want false (there were snapshots to delete)", gone, err)
	}
	gone, err = backup.DeleteSnapshots(t.Context(), env.Client, request)
	if err != nil || gone {
		t.Fatalf("DeleteSnapshots() with a protected snapshot = %t, %v; want false until it is gone", gone, err)
	}
	protected = get(t, protected)
	protected.Finalizers = nil
	if err := env.Client.Update(t.Context(), protected); err != nil {
		t.Fatal(err)
	}
	gone, err = backup.DeleteSnapshots(t.Context(), env.Client, request)
	if err != nil || !gone {
		t.Fatalf("DeleteSnapshots() once all are gone = %t, %v; want true", gone, err)
	}
	for _, claim := range claims {
		err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: backup.SnapshotName(request.Name, claim)}, &snapshotv1.VolumeSnapshot{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("VolumeSnapshot of %s of the deleted request: %v, want not found", claim, err)
		}
		get(t, &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: backup.SnapshotName(other.Name, claim), Namespace: namespace}})
	}
}

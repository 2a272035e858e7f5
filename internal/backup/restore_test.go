package backup_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
)

// backedUpClaim is a bound claim of the StatefulSet billing-db with a ready
// snapshot of restoreSize taken for request: what a rollback starts from.
func backedUpClaim(t *testing.T, request *v1alpha1.UpdateRequest, name, size, restoreSize string, change ...func(*corev1.PersistentVolumeClaim)) (*corev1.PersistentVolumeClaim, *corev1.PersistentVolume, v1alpha1.SnapshotStatus) {
	t.Helper()
	claim := newClaim(name, request.Namespace, size, change...)
	create(t, claim)
	volume := bindClaim(t, claim)
	if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, []string{name}); err != nil {
		t.Fatalf("EnsureSnapshots() = %v", err)
	}
	snapshotName := backup.SnapshotName(request.Name, name)
	setSnapshotStatus(t, request.Namespace, snapshotName, readySnapshot(restoreSize))
	return get(t, claim), volume, v1alpha1.SnapshotStatus{Claim: name, VolumeSnapshot: snapshotName, ReadyToUse: true, RestoreSize: restoreSize}
}

// restoreStep calls RestoreClaim and checks the state it reports and that
// its message contains wantText.
func restoreStep(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus, wantState backup.RestoreState, wantText string) {
	t.Helper()
	state, message, err := backup.RestoreClaim(t.Context(), env.Client, signingKey, request, snapshot)
	if err != nil {
		t.Fatalf("RestoreClaim() = %v", err)
	}
	if state != wantState || !strings.Contains(message, wantText) {
		t.Fatalf("RestoreClaim() = %s, %q; want %s, a message with %q", state, message, wantState, wantText)
	}
}

// claimOrNil reads a claim, nil when there is none.
func claimOrNil(t *testing.T, namespace, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	claim := &corev1.PersistentVolumeClaim{}
	err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, claim)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return claim
}

func TestRestoreClaimStepByStep(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	create(t, newStatefulSet("billing-db", namespace, 0, map[string]string{"app": "billing", "component": "db"}))
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	// The claim of ordinal 0 of the StatefulSet's claim template "data"; the
	// snapshot needs more room than the claim asks for.
	old, oldVolume, snapshot := backedUpClaim(t, request, "data-billing-db-0", "1Gi", "1536Mi")
	// A pod of the failed version, still stopping.
	pod := newPod("billing-db-0", namespace, map[string]string{"app": "billing"}, old.Name)
	create(t, pod)

	observeRestore(t, request, snapshot, backup.RestoreInProgress, "claim data-billing-db-0 is not restored from VolumeSnapshot billing-2-4-0-data-billing-db-0 yet")
	// 1. The volume is kept, whatever happens to the claim.
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Retain")
	volume := get(t, oldVolume.DeepCopy())
	if volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("The old volume's reclaim policy is %s, want Retain", volume.Spec.PersistentVolumeReclaimPolicy)
	}
	wantAnnotations := map[string]string{
		backup.AnnotationRetainedBy:            string(request.UID),
		backup.AnnotationPreviousReclaimPolicy: "Delete",
	}
	for key, want := range wantAnnotations {
		if got := volume.Annotations[key]; got != want {
			t.Errorf("The old volume's annotation %s = %q, want %q", key, got, want)
		}
	}
	if got := volume.Labels[v1alpha1.LabelRequestUID]; got != string(request.UID) {
		t.Errorf("The old volume's label %s = %q, want the request's UID", v1alpha1.LabelRequestUID, got)
	}

	// 2. Not while a pod uses the claim.
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Waiting for pods billing-db-0 to stop using claim data-billing-db-0")
	if get(t, old.DeepCopy()).DeletionTimestamp != nil {
		t.Fatalf("RestoreClaim() deleted a claim in use")
	}
	deletePods(t, pod)

	// 3. The claim is deleted; kubernetes.io/pvc-protection holds it a little longer.
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Deleted claim data-billing-db-0")
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "kubernetes.io/pvc-protection")
	completeClaimDeletion(t, namespace, old.Name)
	if claimOrNil(t, namespace, old.Name) != nil {
		t.Fatalf("The old claim is still there")
	}

	// 4. After a crash right after the deletion, the next call recreates the claim from the snapshot.
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Created claim data-billing-db-0 from VolumeSnapshot billing-2-4-0-data-billing-db-0")
	restored := claimOrNil(t, namespace, old.Name)
	if restored == nil {
		t.Fatalf("RestoreClaim() did not recreate the claim")
	}
	if restored.UID == old.UID {
		t.Fatalf("The restored claim is the old one")
	}
	group := snapshotv1.GroupName
	wantSpec := corev1.PersistentVolumeClaimSpec{
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1536Mi")}},
		StorageClassName: ptr.To(storageClass),
		VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
		DataSource:       &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "VolumeSnapshot", Name: snapshot.VolumeSnapshot},
		DataSourceRef:    &corev1.TypedObjectReference{APIGroup: &group, Kind: "VolumeSnapshot", Name: snapshot.VolumeSnapshot},
	}
	if diff := cmp.Diff(wantSpec, restored.Spec); diff != "" {
		t.Errorf("The restored claim's spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(old.Labels, restored.Labels); diff != "" {
		t.Errorf("The restored claim's labels (-old +restored):\n%s", diff)
	}
	wantRestoredAnnotations := map[string]string{
		"team.example.com/owner":        "billing",
		backup.AnnotationRestoredFrom:   snapshot.VolumeSnapshot,
		backup.AnnotationRestoredBy:     string(request.UID),
		backup.AnnotationPreviousVolume: oldVolume.Name,
	}
	if diff := cmp.Diff(wantRestoredAnnotations, restored.Annotations); diff != "" {
		t.Errorf("The restored claim's annotations, without those of the binding (-want +got):\n%s", diff)
	}

	// 5. Waiting for the binding, as often as the caller asks: nothing is deleted or created again.
	for range 2 {
		restoreStep(t, request, snapshot, backup.RestoreInProgress, "Waiting for claim data-billing-db-0 restored from VolumeSnapshot billing-2-4-0-data-billing-db-0 to be bound")
	}
	observeRestore(t, request, snapshot, backup.RestoreInProgress, "to be bound")
	newVolume := bindClaim(t, restored)
	observeRestore(t, request, snapshot, backup.Restored, "")
	restoreStep(t, request, snapshot, backup.Restored, "Claim data-billing-db-0 was restored")
	restoreStep(t, request, snapshot, backup.Restored, "")
	if now := get(t, restored.DeepCopy()); now.UID != restored.UID || now.Spec.VolumeName != newVolume.Name {
		t.Errorf("The restored claim was replaced after it was restored")
	}
	kept := get(t, oldVolume.DeepCopy())
	if kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("The old volume's reclaim policy is %s at the end, want Retain", kept.Spec.PersistentVolumeReclaimPolicy)
	}
	if sts := get(t, newStatefulSet("billing-db", namespace, 0, nil)); sts.Spec.VolumeClaimTemplates[0].Name+"-billing-db-0" != restored.Name {
		t.Errorf("The restored claim %s is not the StatefulSet's claim of ordinal 0", restored.Name)
	}
}

func TestRestoreClaimAfterACrashAfterCreating(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	old, _, snapshot := backedUpClaim(t, request, "data-billing-db-0", "2Gi", "1Gi")

	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Retain")
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Deleted claim")
	completeClaimDeletion(t, namespace, old.Name)
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Created claim")
	created := claimOrNil(t, namespace, old.Name)
	if got := created.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("The restored claim asks for %s, want the old claim's 2Gi (more than the restore size)", got.String())
	}

	// A crash after the create: the claim carries the restore annotations, so
	// the next calls recognise it and never delete or create it again.
	for range 3 {
		restoreStep(t, request, snapshot, backup.RestoreInProgress, "to be bound")
	}
	if now := claimOrNil(t, namespace, old.Name); now == nil || now.UID != created.UID || !now.DeletionTimestamp.IsZero() {
		t.Errorf("The restored claim was deleted or replaced after a crash")
	}
	var volumes corev1.PersistentVolumeList
	if err := env.Client.List(t.Context(), &volumes, client.MatchingLabels{v1alpha1.LabelRequestUID: string(request.UID)}); err != nil {
		t.Fatal(err)
	}
	if len(volumes.Items) != 1 {
		t.Errorf("%d volumes are retained by the request, want only the old one", len(volumes.Items))
	}
}

func TestRestoreClaimWaitingForFirstConsumer(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	old, _, snapshot := backedUpClaim(t, request, "data-billing-db-0", "1Gi", "1Gi", func(c *corev1.PersistentVolumeClaim) {
		c.Spec.StorageClassName = ptr.To(lateStorageClass)
	})
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Retain")
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Deleted claim")
	completeClaimDeletion(t, namespace, old.Name)
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Created claim")
	// With the workloads at zero nothing would ever bind it: it is restored as far as it can be.
	restoreStep(t, request, snapshot, backup.Restored, "when a pod uses it")
}

func TestRestoreClaimRefuses(t *testing.T) {
	storageClasses(t)
	tests := []struct {
		name     string
		prepare  func(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus) v1alpha1.SnapshotStatus
		wantText string
	}{
		{
			name: "snapshot not ready",
			prepare: func(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus) v1alpha1.SnapshotStatus {
				setSnapshotStatus(t, request.Namespace, snapshot.VolumeSnapshot, snapshotv1.VolumeSnapshotStatus{ReadyToUse: ptr.To(false)})
				return snapshot
			},
			wantText: "is not ready to use",
		},
		{
			name: "snapshot missing",
			prepare: func(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus) v1alpha1.SnapshotStatus {
				deleted := &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: snapshot.VolumeSnapshot, Namespace: request.Namespace}}
				if err := env.Client.Delete(t.Context(), deleted); err != nil {
					t.Fatal(err)
				}
				return snapshot
			},
			wantText: "does not exist",
		},
		{
			name: "snapshot of someone else",
			prepare: func(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus) v1alpha1.SnapshotStatus {
				foreign := &snapshotv1.VolumeSnapshot{
					ObjectMeta: metav1.ObjectMeta{Name: "nightly-data-billing-db-0", Namespace: request.Namespace},
					Spec:       snapshotv1.VolumeSnapshotSpec{Source: snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To(snapshot.Claim)}},
				}
				create(t, foreign)
				setSnapshotStatus(t, request.Namespace, foreign.Name, readySnapshot("1Gi"))
				snapshot.VolumeSnapshot = foreign.Name
				return snapshot
			},
			wantText: "is not golive's (signature does not match)",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			namespace := newNamespace(t)
			request := newUpdateRequest(t, namespace, "billing-2-4-0")
			claim, volume, snapshot := backedUpClaim(t, request, "data-billing-db-0", "1Gi", "1Gi")
			snapshot = test.prepare(t, request, snapshot)

			for range 2 {
				restoreStep(t, request, snapshot, backup.RestoreFailed, test.wantText)
			}
			if now := get(t, claim.DeepCopy()); now.ResourceVersion != claim.ResourceVersion {
				t.Errorf("RestoreClaim() changed the claim although it refused")
			}
			if now := get(t, volume.DeepCopy()); now.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
				t.Errorf("RestoreClaim() changed the volume although it refused")
			}
		})
	}

	// A snapshot taken while its claim did not exist records no claim.
	unrecorded := func(t *testing.T) (*v1alpha1.UpdateRequest, v1alpha1.SnapshotStatus) {
		t.Helper()
		namespace := newNamespace(t)
		request := newUpdateRequest(t, namespace, "billing-2-4-0")
		claim := "data-billing-db-0"
		if err := backup.EnsureSnapshots(t.Context(), env.Client, signingKey, request, []string{claim}); err != nil {
			t.Fatal(err)
		}
		snapshot := v1alpha1.SnapshotStatus{Claim: claim, VolumeSnapshot: backup.SnapshotName(request.Name, claim)}
		setSnapshotStatus(t, namespace, snapshot.VolumeSnapshot, readySnapshot("1Gi"))
		return request, snapshot
	}
	t.Run("claim not bound and not recorded", func(t *testing.T) {
		request, snapshot := unrecorded(t)
		claim := newClaim(snapshot.Claim, request.Namespace, "1Gi")
		create(t, claim)
		restoreStep(t, request, snapshot, backup.RestoreFailed, "has no volume, and nothing records how to recreate it")
		if now := get(t, claim.DeepCopy()); now.ResourceVersion != claim.ResourceVersion {
			t.Errorf("RestoreClaim() changed the unbound claim although it refused")
		}
	})
	t.Run("claim gone and not recorded", func(t *testing.T) {
		request, snapshot := unrecorded(t)
		restoreStep(t, request, snapshot, backup.RestoreFailed, "does not exist, and nothing records how to recreate it")
		if claimOrNil(t, request.Namespace, snapshot.Claim) != nil {
			t.Errorf("RestoreClaim() created a claim it knows nothing about")
		}
	})
}

// TestRestoreClaimDeletedBySomeoneElse: a StatefulSet whose claims are
// deleted when it scales down (whenScaled: Delete) leaves nothing to retain;
// the claim is recreated as the snapshot recorded it at the backup, also when
// an empty claim took its place meanwhile.
func TestRestoreClaimDeletedBySomeoneElse(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	old, oldVolume, snapshot := backedUpClaim(t, request, "data-billing-db-0", "1Gi", "1Gi")
	if err := env.Client.Delete(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	completeClaimDeletion(t, namespace, old.Name)
	if err := env.Client.Delete(t.Context(), oldVolume); err != nil {
		t.Fatal(err)
	}
	// The StatefulSet scaled up for a moment and made a new, empty claim, never bound.
	create(t, newClaim(old.Name, namespace, "1Gi", func(c *corev1.PersistentVolumeClaim) { c.Annotations = nil }))

	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Deleted claim data-billing-db-0")
	completeClaimDeletion(t, namespace, old.Name)
	restoreStep(t, request, snapshot, backup.RestoreInProgress, "Created claim data-billing-db-0")
	restored := claimOrNil(t, namespace, old.Name)
	if diff := cmp.Diff(old.Labels, restored.Labels); diff != "" {
		t.Errorf("The restored claim's labels (-at the backup +restored):\n%s", diff)
	}
	wantAnnotations := map[string]string{
		"team.example.com/owner":      "billing",
		backup.AnnotationRestoredFrom: snapshot.VolumeSnapshot,
		backup.AnnotationRestoredBy:   string(request.UID),
	}
	if diff := cmp.Diff(wantAnnotations, restored.Annotations); diff != "" {
		t.Errorf("The restored claim's annotations (-want +got):\n%s", diff)
	}
	if got := ptr.Deref(restored.Spec.StorageClassName, ""); got != storageClass {
		t.Errorf("The restored claim's storage class = %q, want %q", got, storageClass)
	}
	bindClaim(t, restored)
	restoreStep(t, request, snapshot, backup.Restored, "")
}

func TestRestoreClaims(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	create(t, newStatefulSet("billing-db", namespace, 0, map[string]string{"app": "billing", "component": "db"}))
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	var snapshots []v1alpha1.SnapshotStatus
	for _, name := range []string{"data-billing-db-0", "data-billing-db-1"} {
		_, _, snapshot := backedUpClaim(t, request, name, "1Gi", "1Gi")
		snapshots = append(snapshots, snapshot)
	}

	restoreAll := func() (backup.RestoreState, string) {
		t.Helper()
		state, message, err := backup.RestoreClaims(t.Context(), env.Client, signingKey, request, snapshots)
		if err != nil {
			t.Fatalf("RestoreClaims() = %v", err)
		}
		return state, message
	}
	for _, want := range []string{"Retain", "Deleted claim"} {
		if state, message := restoreAll(); state != backup.RestoreInProgress || strings.Count(message, want) != 2 {
			t.Fatalf("RestoreClaims() = %s, %q; want both claims at %q", state, message, want)
		}
	}
	for _, snapshot := range snapshots {
		completeClaimDeletion(t, namespace, snapshot.Claim)
	}
	if state, message := restoreAll(); state != backup.RestoreInProgress || strings.Count(message, "Created claim") != 2 {
		t.Fatalf("RestoreClaims() = %s, %q; want both claims created", state, message)
	}
	bindClaim(t, claimOrNil(t, namespace, snapshots[0].Claim))
	if state, message := restoreAll(); state != backup.RestoreInProgress || !strings.Contains(message, snapshots[1].Claim) || strings.Contains(message, snapshots[0].Claim) {
		t.Fatalf("RestoreClaims() with one claim bound = %s, %q; want it to wait for the other only", state, message)
	}
	bindClaim(t, claimOrNil(t, namespace, snapshots[1].Claim))
	if state, message := restoreAll(); state != backup.Restored {
		t.Fatalf("RestoreClaims() with both claims bound = %s, %q; want Restored", state, message)
	}
}

// observeRestore checks what ObserveRestore tells, and that it changed nothing.
func observeRestore(t *testing.T, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus, want backup.RestoreState, text string) {
	t.Helper()
	before := claimOrNil(t, request.Namespace, snapshot.Claim)
	state, message, err := backup.ObserveRestore(t.Context(), env.Client, signingKey, request, []v1alpha1.SnapshotStatus{snapshot})
	if err != nil || state != want || !strings.Contains(message, text) {
		t.Errorf("ObserveRestore() = %s, %q, %v; want %s and %q", state, message, err, want, text)
	}
	after := claimOrNil(t, request.Namespace, snapshot.Claim)
	if (before == nil) != (after == nil) || (before != nil && before.ResourceVersion != after.ResourceVersion) {
		t.Errorf("ObserveRestore() changed claim %s", snapshot.Claim)
	}
}

// A claim may name any PersistentVolume (spec.volumeName is set by whoever
// creates the claim): only a volume whose claimRef is that very claim
// (namespace, name and UID) is retained or released by a restore.
func TestRestoreClaimRefusesAVolumeBoundToAnotherClaim(t *testing.T) {
	storageClasses(t)
	namespace := newNamespace(t)
	request := newUpdateRequest(t, namespace, "billing-2-4-0")
	claim, volume, snapshot := backedUpClaim(t, request, "data-billing-db-0", "1Gi", "1Gi")

	// The volume the claim names is bound to someone else's claim.
	victim := get(t, volume)
	victim.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: "payroll", Name: "ledger-db", UID: "uid-payroll"}
	if err := env.Client.Update(t.Context(), victim); err != nil {
		t.Fatalf("Binding the volume to another claim: %v", err)
	}

	restoreStep(t, request, snapshot, backup.RestoreFailed, "which is not bound to it (its claimRef is payroll/ledger-db (uid uid-payroll))")
	after := get(t, victim)
	if after.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || after.Annotations[backup.AnnotationRetainedBy] != "" {
		t.Errorf("the restore touched PersistentVolume %s: reclaim policy %s, annotations %v",
			victim.Name, after.Spec.PersistentVolumeReclaimPolicy, after.Annotations)
	}
	if claimOrNil(t, namespace, claim.Name) == nil {
		t.Errorf("the restore deleted claim %s", claim.Name)
	}
}

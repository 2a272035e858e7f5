package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/workload"
)

// +kubebuilder:rbac:groups=snapshot.storage.k8s.io,resources=volumesnapshots,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=snapshot.storage.k8s.io,resources=volumesnapshotclasses,verbs=get;list;watch

// SnapshotClassExists tells whether the VolumeSnapshotClass name exists.
func SnapshotClassExists(ctx context.Context, reader client.Reader, name string) (bool, error) {
	err := reader.Get(ctx, client.ObjectKey{Name: name}, &snapshotv1.VolumeSnapshotClass{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting VolumeSnapshotClass %s: %w", name, err)
	}
	return true, nil
}

// EnsureSnapshots creates the VolumeSnapshot of every claim that has none yet,
// in the request's namespace with the class spec.backup.volumeSnapshotClassName.
// The snapshots carry the request's labels but no owner reference: they
// outlive the request until their retention ends. Each records its claim as it
// is (AnnotationClaimTemplate), so that a restore can recreate a claim that
// someone else deleted meanwhile.
//
// A snapshot of that name that exists already is accepted only when it was
// made for this request (its UID label) from the same claim; any other is a
// conflict, reported as an error naming it, and left alone.
//
// golive signs each snapshot at creation (AnnotationSignature, with the
// ledger key) over the request, the spec hash, its name, its source claim and
// class; a snapshot without a valid signature is not golive's and is never
// used as the backup nor restored from.
func EnsureSnapshots(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, claims []string) error {
	if err := requireUID(request); err != nil {
		return err
	}
	for _, claim := range claims {
		if err := ensureSnapshot(ctx, c, signingKey, request, claim); err != nil {
			return err
		}
	}
	return nil
}

func ensureSnapshot(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, claim string) error {
	key := client.ObjectKey{Namespace: request.Namespace, Name: SnapshotName(request.Name, claim)}
	existing := &snapshotv1.VolumeSnapshot{}
	err := c.Get(ctx, key, existing)
	if err == nil {
		return checkOwnSnapshot(signingKey, existing, request, claim)
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("getting VolumeSnapshot %s: %w", key, err)
	}
	labels := requestLabels(request)
	labels[v1alpha1.LabelSpecHash] = ledger.ShortSpecHash(ledger.SpecHash(&request.Spec))
	snapshot := &snapshotv1.VolumeSnapshot{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: labels, Annotations: map[string]string{}},
		Spec:       snapshotv1.VolumeSnapshotSpec{Source: snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To(claim)}},
	}
	if class := request.Spec.Backup.VolumeSnapshotClassName; class != "" {
		snapshot.Spec.VolumeSnapshotClassName = ptr.To(class)
	}
	source := &corev1.PersistentVolumeClaim{}
	err = c.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: claim}, source)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("getting claim %s/%s: %w", request.Namespace, claim, err)
	}
	// A missing claim is the snapshot controller's to report, on the snapshot.
	if err == nil {
		template, err := json.Marshal(claimTemplate(source, nil))
		if err != nil {
			return fmt.Errorf("encoding claim %s/%s: %w", request.Namespace, claim, err)
		}
		snapshot.Annotations[AnnotationClaimTemplate] = string(template)
	}
	signed, err := signedSnapshot(snapshot)
	if err != nil {
		return err
	}
	snapshot.Annotations[v1alpha1.AnnotationSignature] = ledger.SignObject(signingKey, signed)
	err = c.Create(ctx, snapshot, client.FieldOwner(workload.FieldManager))
	if apierrors.IsAlreadyExists(err) {
		// Made by an earlier call whose result a cached read did not show yet, or by someone else.
		if err := c.Get(ctx, key, existing); err != nil {
			return fmt.Errorf("VolumeSnapshot %s exists but could not be read: %w", key, err)
		}
		return checkOwnSnapshot(signingKey, existing, request, claim)
	}
	if err != nil {
		return fmt.Errorf("creating VolumeSnapshot %s of claim %s: %w", key, claim, err)
	}
	return nil
}

// signedSnapshot is what golive's signature on a snapshot covers: the request
// and spec from its labels, its name, and its source claim and class.
func signedSnapshot(snapshot *snapshotv1.VolumeSnapshot) (ledger.SignedObject, error) {
	digest, err := ledger.ContentDigest([]string{
		ptr.Deref(snapshot.Spec.Source.PersistentVolumeClaimName, ""), ptr.Deref(snapshot.Spec.VolumeSnapshotClassName, ""),
	})
	if err != nil {
		return ledger.SignedObject{}, err
	}
	return ledger.SignedObject{
		RequestUID: snapshot.Labels[v1alpha1.LabelRequestUID], SpecHash: snapshot.Labels[v1alpha1.LabelSpecHash],
		Kind: "VolumeSnapshot", Namespace: snapshot.Namespace, Name: snapshot.Name, ContentDigest: digest,
	}, nil
}

// checkOwnSnapshot tells why an existing snapshot is not the one of claim
// made for request: golive did not sign it, or signed it for another request
// or claim.
func checkOwnSnapshot(signingKey []byte, snapshot *snapshotv1.VolumeSnapshot, request *v1alpha1.UpdateRequest, claim string) error {
	signed, err := signedSnapshot(snapshot)
	if err != nil {
		return err
	}
	if !ledger.VerifyObject(signingKey, signed, snapshot.Annotations[v1alpha1.AnnotationSignature]) {
		return fmt.Errorf("VolumeSnapshot %s/%s is not golive's (signature does not match); golive will not use it — delete it",
			snapshot.Namespace, snapshot.Name)
	}
	if uid := snapshot.Labels[v1alpha1.LabelRequestUID]; uid != string(request.UID) {
		owner := "no UpdateRequest"
		if uid != "" {
			owner = fmt.Sprintf("UpdateRequest %s (uid %s)", snapshot.Labels[v1alpha1.LabelRequest], uid)
		}
		return fmt.Errorf("VolumeSnapshot %s/%s exists and belongs to %s, not to UpdateRequest %s (uid %s)",
			snapshot.Namespace, snapshot.Name, owner, request.Name, request.UID)
	}
	if source := ptr.Deref(snapshot.Spec.Source.PersistentVolumeClaimName, ""); source != claim {
		return fmt.Errorf("VolumeSnapshot %s/%s exists and is a snapshot of claim %q, not of claim %s",
			snapshot.Namespace, snapshot.Name, source, claim)
	}
	return nil
}

// ObserveSnapshots reads the snapshots of claims made for request, in the
// order of claims; a claim whose snapshot does not exist yet is left out.
// message says, naming snapshot and claim, what makes the backup fail: a
// snapshot that reports an error and is not ready, one that is being deleted,
// and a snapshot of that name that belongs to someone else. err is for
// failures to read, which are worth retrying.
//
// The snapshot controller retries a failed snapshot and clears its error when
// it succeeds; a caller that fails the backup on message does not wait for that.
func ObserveSnapshots(ctx context.Context, reader client.Reader, signingKey []byte, request *v1alpha1.UpdateRequest, claims []string) (snapshots []v1alpha1.SnapshotStatus, message string, err error) {
	var problems []string
	for _, claim := range claims {
		snapshot := &snapshotv1.VolumeSnapshot{}
		key := client.ObjectKey{Namespace: request.Namespace, Name: SnapshotName(request.Name, claim)}
		if err := reader.Get(ctx, key, snapshot); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, "", fmt.Errorf("getting VolumeSnapshot %s: %w", key, err)
		}
		if err := checkOwnSnapshot(signingKey, snapshot, request, claim); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		observed := snapshotStatus(snapshot, claim)
		snapshots = append(snapshots, observed)
		switch {
		case !snapshot.DeletionTimestamp.IsZero():
			problems = append(problems, fmt.Sprintf("VolumeSnapshot %s of claim %s is being deleted", snapshot.Name, claim))
		case !observed.ReadyToUse && snapshot.Status != nil && snapshot.Status.Error != nil && snapshot.Status.Error.Message != nil:
			problems = append(problems, fmt.Sprintf("VolumeSnapshot %s of claim %s failed: %s", snapshot.Name, claim, *snapshot.Status.Error.Message))
		}
	}
	return snapshots, strings.Join(problems, "; "), nil
}

// snapshotStatus is what status records of a snapshot.
func snapshotStatus(snapshot *snapshotv1.VolumeSnapshot, claim string) v1alpha1.SnapshotStatus {
	observed := v1alpha1.SnapshotStatus{Claim: claim, VolumeSnapshot: snapshot.Name}
	if status := snapshot.Status; status != nil {
		observed.ReadyToUse = ptr.Deref(status.ReadyToUse, false)
		if status.RestoreSize != nil {
			observed.RestoreSize = status.RestoreSize.String()
		}
	}
	return observed
}

// Expiry is when the backup of request expires, for a request that ended (or
// is being deleted) at now: status.backup.expiresAt once set, which never
// moves, else now plus spec.backup.retention.
func Expiry(request *v1alpha1.UpdateRequest, now time.Time) time.Time {
	if request.Status.Backup != nil && request.Status.Backup.ExpiresAt != nil {
		return request.Status.Backup.ExpiresAt.Time
	}
	return now.Add(request.Spec.Backup.Retention.Duration)
}

// SnapshotsExpiryMarked tells whether every one of snapshots carries its
// expiry (MarkExpiry); true when there is none.
func SnapshotsExpiryMarked(snapshots []snapshotv1.VolumeSnapshot) bool {
	for _, snapshot := range snapshots {
		if snapshot.Annotations[AnnotationExpiresAt] == "" {
			return false
		}
	}
	return true
}

// MarkExpiry stamps expiresAt on every snapshot of request, as the annotation
// golive.dev/expires-at, for controller.SnapshotRetentionReconciler to delete them then.
// The caller passes status.backup.expiresAt, which is fixed once set, when the
// request ends (and, at the latest, when the request is being deleted).
// Snapshots that carry that expiry already are left alone.
func MarkExpiry(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest, expiresAt time.Time) error {
	snapshots, err := ListSnapshots(ctx, c, request)
	if err != nil {
		return err
	}
	stamp := expiresAt.UTC().Format(time.RFC3339)
	for i := range snapshots {
		snapshot := &snapshots[i]
		if snapshot.Annotations[AnnotationExpiresAt] == stamp || !snapshot.DeletionTimestamp.IsZero() {
			continue
		}
		patch := client.MergeFrom(snapshot.DeepCopy())
		metav1.SetMetaDataAnnotation(&snapshot.ObjectMeta, AnnotationExpiresAt, stamp)
		if err := c.Patch(ctx, snapshot, patch, client.FieldOwner(workload.FieldManager)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("stamping the expiry on VolumeSnapshot %s/%s: %w", snapshot.Namespace, snapshot.Name, err)
		}
	}
	return nil
}

// DeleteSnapshots deletes every snapshot of request (found by its UID label)
// and reports gone once none is left. A snapshot may outlive its deletion for
// a while (the snapshot controller's finalizers); gone stays false until then.
func DeleteSnapshots(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest) (gone bool, err error) {
	snapshots, err := ListSnapshots(ctx, c, request)
	if err != nil {
		return false, err
	}
	for i := range snapshots {
		if err := deleteSnapshot(ctx, c, &snapshots[i]); err != nil {
			return false, err
		}
	}
	return len(snapshots) == 0, nil
}

// deleteSnapshot deletes snapshot unless its deletion is under way, and only
// the very object read, not one created since under the same name.
func deleteSnapshot(ctx context.Context, c client.Client, snapshot *snapshotv1.VolumeSnapshot) error {
	if !snapshot.DeletionTimestamp.IsZero() {
		return nil
	}
	err := c.Delete(ctx, snapshot, client.Preconditions{UID: ptr.To(snapshot.UID)})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting VolumeSnapshot %s/%s: %w", snapshot.Namespace, snapshot.Name, err)
	}
	return nil
}

// ListSnapshots lists the snapshots made for request, by its UID label.
func ListSnapshots(ctx context.Context, reader client.Reader, request *v1alpha1.UpdateRequest) ([]snapshotv1.VolumeSnapshot, error) {
	if err := requireUID(request); err != nil {
		return nil, err
	}
	var snapshots snapshotv1.VolumeSnapshotList
	if err := reader.List(ctx, &snapshots, client.InNamespace(request.Namespace), client.MatchingLabels{v1alpha1.LabelRequestUID: string(request.UID)}); err != nil {
		return nil, fmt.Errorf("listing the VolumeSnapshots of UpdateRequest %s/%s: %w", request.Namespace, request.Name, err)
	}
	return snapshots.Items, nil
}

// requireUID refuses a request that was never stored: its objects would carry
// an empty UID label and be found by any other such request.
func requireUID(request *v1alpha1.UpdateRequest) error {
	if request.UID == "" {
		return errors.New("UpdateRequest " + request.Namespace + "/" + request.Name + " has no UID")
	}
	return nil
}

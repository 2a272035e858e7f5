package backup

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch

// RestoreState is where the restore of one claim from its snapshot stands.
type RestoreState string

const (
	// RestoreInProgress: a step was taken, or the restore waits for something
	// outside golive (pods that use the claim, its deletion, its binding). Call again.
	RestoreInProgress RestoreState = "InProgress"
	// Restored: the claim was recreated from its snapshot and is bound, or
	// binds when a pod uses it (a storage class that waits for the first consumer).
	Restored RestoreState = "Restored"
	// RestoreFailed: the restore cannot go on, and the message says why.
	// Nothing more is changed; calling again gives the same answer until
	// someone repairs what the message names.
	RestoreFailed RestoreState = "Failed"
)

// bindingAnnotationPrefixes mark the annotations that the volume binding and
// provisioning write on a claim; a recreated claim must start without them.
var bindingAnnotationPrefixes = []string{"pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/"}

// betaStorageClassAnnotation names the storage class of claims made before spec.storageClassName existed.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

// RestoreClaim takes the next step to replace the claim of snapshot (an entry
// of status.backup.snapshots) in the request's namespace with one restored
// from the VolumeSnapshot, and says where it stands. Each call observes the
// claim, its volume and the snapshot, and takes at most one step:
//
//  1. Set the reclaim policy of the claim's PersistentVolume to Retain, and
//     record on it the request (AnnotationRetainedBy, request labels) and the
//     claim as it is (AnnotationClaimTemplate): the failed version's data is
//     kept, whoever deletes the claim, and the claim can be recreated after a
//     crash that follows its deletion.
//  2. Wait until no pod uses the claim (ClaimUsers). The caller scales the
//     workloads that mount it to zero first; RestoreClaim never stops pods.
//  3. Delete the claim, guarded by its UID; its deletion completes when the
//     kubernetes.io/pvc-protection finalizer sees no pod using it.
//  4. Create the claim again from its record (on the retained volume, else on
//     the snapshot), with the same name, labels, annotations (without those of
//     the volume binding), storage class, access modes, volume mode and a size
//     of at least the snapshot's restore size, from the VolumeSnapshot, marked
//     with AnnotationRestoredFrom, AnnotationRestoredBy and
//     AnnotationPreviousVolume. A claim so marked is never deleted again.
//  5. Wait until the new claim is bound: Restored.
//
// A StatefulSet's claims are restored under the same names, so the
// StatefulSet uses them again when it scales back up. Before the claim is
// touched, the snapshot must be this request's and ready to use.
func RestoreClaim(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, snapshot v1alpha1.SnapshotStatus) (state RestoreState, message string, err error) {
	if err := requireUID(request); err != nil {
		return RestoreFailed, "", err
	}
	r := restore{c: c, key: signingKey, request: request, snapshot: snapshot, uid: string(request.UID)}
	key := client.ObjectKey{Namespace: request.Namespace, Name: snapshot.Claim}
	claim := &corev1.PersistentVolumeClaim{}
	if err := c.Get(ctx, key, claim); apierrors.IsNotFound(err) {
		claim = nil
	} else if err != nil {
		return RestoreInProgress, "", fmt.Errorf("getting claim %s: %w", key, err)
	}

	if claim != nil && claim.Annotations[AnnotationRestoredBy] == r.uid {
		return r.binding(ctx, claim)
	}
	volumeSnapshot, failure, err := r.readySnapshot(ctx)
	if err != nil {
		return RestoreInProgress, "", err
	}
	if failure != "" {
		return RestoreFailed, failure, nil
	}
	if claim == nil {
		return r.create(ctx, volumeSnapshot)
	}
	return r.replace(ctx, claim, volumeSnapshot)
}

// RestoreClaims takes the next step of RestoreClaim for every snapshot. It is
// Restored when every claim is, Failed when one failed (the others still go
// on, so no claim is left deleted because another one failed), and in
// progress otherwise; message names the claims that are not restored.
func RestoreClaims(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, snapshots []v1alpha1.SnapshotStatus) (state RestoreState, message string, err error) {
	var tally restoreTally
	for _, snapshot := range snapshots {
		state, message, err := RestoreClaim(ctx, c, signingKey, request, snapshot)
		if err != nil {
			return RestoreInProgress, "", err
		}
		tally.add(snapshot.Claim, state, message)
	}
	state, message = tally.result()
	return state, message, nil
}

// restoreTally gathers the states of several claims' restores into one.
type restoreTally struct{ failed, waiting, restored []string }

func (t *restoreTally) add(claim string, state RestoreState, message string) {
	switch state {
	case RestoreFailed:
		t.failed = append(t.failed, message)
	case RestoreInProgress:
		t.waiting = append(t.waiting, message)
	default:
		t.restored = append(t.restored, claim)
	}
}

// result is Failed when a claim failed, in progress while one is, and
// Restored when every claim is; the message names the claims that are not.
func (t *restoreTally) result() (RestoreState, string) {
	switch {
	case len(t.failed) > 0:
		return RestoreFailed, strings.Join(t.failed, "; ")
	case len(t.waiting) > 0:
		return RestoreInProgress, strings.Join(t.waiting, "; ")
	}
	return Restored, "Restored " + strings.Join(t.restored, ", ") + " from their snapshots"
}

// ObserveRestore tells, without changing anything, where the restore of the
// snapshotted claims stands: Restored when this request recreated every claim
// from its snapshot and each is bound; Failed when one cannot be restored
// (the message says why, as RestoreClaim would); in progress otherwise.
func ObserveRestore(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, snapshots []v1alpha1.SnapshotStatus) (state RestoreState, message string, err error) {
	if err := requireUID(request); err != nil {
		return RestoreFailed, "", err
	}
	var tally restoreTally
	for _, snapshot := range snapshots {
		r := restore{c: c, key: signingKey, request: request, snapshot: snapshot, uid: string(request.UID)}
		claim := &corev1.PersistentVolumeClaim{}
		err := c.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: snapshot.Claim}, claim)
		if err != nil && !apierrors.IsNotFound(err) {
			return RestoreInProgress, "", fmt.Errorf("getting claim %s/%s: %w", request.Namespace, snapshot.Claim, err)
		}
		if err == nil && claim.Annotations[AnnotationRestoredBy] == r.uid {
			state, message, err := r.binding(ctx, claim)
			if err != nil {
				return RestoreInProgress, "", err
			}
			tally.add(snapshot.Claim, state, message)
			continue
		}
		_, failure, err := r.readySnapshot(ctx)
		if err != nil {
			return RestoreInProgress, "", err
		}
		if failure != "" {
			tally.add(snapshot.Claim, RestoreFailed, failure)
			continue
		}
		tally.add(snapshot.Claim, RestoreInProgress, fmt.Sprintf("claim %s is not restored from VolumeSnapshot %s yet", snapshot.Claim, snapshot.VolumeSnapshot))
	}
	state, message = tally.result()
	return state, message, nil
}

// restore is one call of RestoreClaim.
type restore struct {
	c        client.Client
	key      []byte
	request  *v1alpha1.UpdateRequest
	snapshot v1alpha1.SnapshotStatus
	uid      string
}

// readySnapshot reads the VolumeSnapshot and says why it cannot serve the restore.
func (r *restore) readySnapshot(ctx context.Context) (*snapshotv1.VolumeSnapshot, string, error) {
	key := client.ObjectKey{Namespace: r.request.Namespace, Name: r.snapshot.VolumeSnapshot}
	volumeSnapshot := &snapshotv1.VolumeSnapshot{}
	if err := r.c.Get(ctx, key, volumeSnapshot); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("VolumeSnapshot %s of claim %s does not exist; the claim was left as it is", key.Name, r.snapshot.Claim), nil
		}
		return nil, "", fmt.Errorf("getting VolumeSnapshot %s: %w", key, err)
	}
	if err := checkOwnSnapshot(r.key, volumeSnapshot, r.request, r.snapshot.Claim); err != nil {
		return nil, err.Error() + "; the claim was left as it is", nil
	}
	if !volumeSnapshot.DeletionTimestamp.IsZero() {
		return nil, fmt.Sprintf("VolumeSnapshot %s of claim %s is being deleted; the claim was left as it is", key.Name, r.snapshot.Claim), nil
	}
	if !snapshotStatus(volumeSnapshot, r.snapshot.Claim).ReadyToUse {
		return nil, fmt.Sprintf("VolumeSnapshot %s of claim %s is not ready to use; the claim was left as it is", key.Name, r.snapshot.Claim), nil
	}
	return volumeSnapshot, "", nil
}

// replace keeps the volume of a claim that was not restored yet and deletes the claim.
func (r *restore) replace(ctx context.Context, claim *corev1.PersistentVolumeClaim, volumeSnapshot *snapshotv1.VolumeSnapshot) (RestoreState, string, error) {
	logger := log.FromContext(ctx)
	volume, err := r.volumeOf(ctx, claim)
	if err != nil {
		return RestoreInProgress, "", err
	}
	// The claim names its volume, but only the volume's claimRef proves the
	// binding: a claim may name any PersistentVolume, and golive must never
	// retain or release a volume bound to someone else's claim.
	if volume != nil && !boundTo(volume, claim) {
		return RestoreFailed, fmt.Sprintf("Claim %s names PersistentVolume %s, which is not bound to it (its claimRef is %s); "+
			"golive did not touch the volume and left the claim as it is", claim.Name, volume.Name, describeClaimRef(volume.Spec.ClaimRef)), nil
	}
	if volume == nil {
		// No volume, no data to keep; but the claim must be recreated from a record.
		if _, _, err := r.record(ctx, volumeSnapshot); apierrors.IsNotFound(err) {
			return RestoreFailed, fmt.Sprintf("Claim %s has no volume, and nothing records how to recreate it; it was left as it is", claim.Name), nil
		} else if err != nil {
			return RestoreInProgress, "", err
		}
	} else if !r.retains(volume) {
		if err := r.retain(ctx, claim, volume); err != nil {
			return RestoreInProgress, "", err
		}
		logger.Info("Retained the volume of a claim to restore", "claim", claim.Name, "persistentVolume", volume.Name)
		return RestoreInProgress, fmt.Sprintf("Set the reclaim policy of PersistentVolume %s of claim %s to Retain", volume.Name, claim.Name), nil
	}

	if !claim.DeletionTimestamp.IsZero() {
		return RestoreInProgress, fmt.Sprintf("Waiting for the deletion of claim %s to complete (finalizers %s)", claim.Name, strings.Join(claim.Finalizers, ", ")), nil
	}
	users, err := ClaimUsers(ctx, r.c, claim.Namespace, claim.Name)
	if err != nil {
		return RestoreInProgress, "", err
	}
	if len(users) > 0 {
		return RestoreInProgress, fmt.Sprintf("Waiting for pods %s to stop using claim %s", strings.Join(users, ", "), claim.Name), nil
	}
	// Guarded by the UID: a stale read must never delete a claim created since.
	err = r.c.Delete(ctx, claim, client.Preconditions{UID: ptr.To(claim.UID)})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return RestoreInProgress, "", fmt.Errorf("deleting claim %s/%s to restore it: %w", claim.Namespace, claim.Name, err)
	}
	logger.Info("Deleted a claim to restore it from its snapshot", "claim", claim.Name, "volumeSnapshot", r.snapshot.VolumeSnapshot)
	return RestoreInProgress, fmt.Sprintf("Deleted claim %s to restore it from VolumeSnapshot %s", claim.Name, r.snapshot.VolumeSnapshot), nil
}

// volumeOf reads the volume the claim is bound to; nil when it is not bound
// or its volume is gone (a lost claim).
func (r *restore) volumeOf(ctx context.Context, claim *corev1.PersistentVolumeClaim) (*corev1.PersistentVolume, error) {
	if claim.Spec.VolumeName == "" {
		return nil, nil
	}
	volume := &corev1.PersistentVolume{}
	if err := r.c.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, volume); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("getting PersistentVolume %s of claim %s: %w", claim.Spec.VolumeName, claim.Name, err)
	}
	return volume, nil
}

// boundTo tells whether volume's claimRef is claim, by namespace, name and UID.
func boundTo(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) bool {
	ref := volume.Spec.ClaimRef
	return ref != nil && ref.UID == claim.UID && ref.Namespace == claim.Namespace && ref.Name == claim.Name
}

func describeClaimRef(ref *corev1.ObjectReference) string {
	if ref == nil {
		return "empty"
	}
	return fmt.Sprintf("%s/%s (uid %s)", ref.Namespace, ref.Name, ref.UID)
}

// retains tells whether volume was retained by this request, with the claim recorded.
func (r *restore) retains(volume *corev1.PersistentVolume) bool {
	return volume.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain &&
		volume.Annotations[AnnotationRetainedBy] == r.uid && volume.Annotations[AnnotationClaimTemplate] != ""
}

// retain sets the reclaim policy of the claim's volume to Retain and records
// the request and the claim on it. The record is written once: after a crash
// the claim may be gone or be another one.
func (r *restore) retain(ctx context.Context, claim *corev1.PersistentVolumeClaim, volume *corev1.PersistentVolume) error {
	patch := client.MergeFrom(volume.DeepCopy())
	if volume.Annotations[AnnotationRetainedBy] != r.uid || volume.Annotations[AnnotationClaimTemplate] == "" {
		template, err := json.Marshal(claimTemplate(claim, volume))
		if err != nil {
			return fmt.Errorf("encoding claim %s: %w", claim.Name, err)
		}
		metav1.SetMetaDataAnnotation(&volume.ObjectMeta, AnnotationRetainedBy, r.uid)
		metav1.SetMetaDataAnnotation(&volume.ObjectMeta, AnnotationPreviousReclaimPolicy, string(volume.Spec.PersistentVolumeReclaimPolicy))
		metav1.SetMetaDataAnnotation(&volume.ObjectMeta, AnnotationClaimTemplate, string(template))
		for key, value := range requestLabels(r.request) {
			metav1.SetMetaDataLabel(&volume.ObjectMeta, key, value)
		}
	}
	volume.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	if err := r.c.Patch(ctx, volume, patch, client.FieldOwner(workload.FieldManager)); err != nil {
		return fmt.Errorf("retaining PersistentVolume %s of claim %s: %w", volume.Name, claim.Name, err)
	}
	return nil
}

// claimTemplate is what a claim is recreated from: its name, labels,
// annotations without those of the volume binding, and the parts of its spec
// that say what volume it asks for; not its volume, selector or data source.
func claimTemplate(claim *corev1.PersistentVolumeClaim, volume *corev1.PersistentVolume) *corev1.PersistentVolumeClaim {
	annotations := maps.Clone(claim.Annotations)
	maps.DeleteFunc(annotations, func(key, _ string) bool {
		return key == AnnotationRestoredFrom || key == AnnotationRestoredBy || key == AnnotationPreviousVolume ||
			slices.ContainsFunc(bindingAnnotationPrefixes, func(prefix string) bool { return strings.HasPrefix(key, prefix) })
	})
	storageClass := claim.Spec.StorageClassName
	if storageClass == nil {
		if beta, found := claim.Annotations[betaStorageClassAnnotation]; found {
			storageClass = ptr.To(beta)
		} else if volume != nil && volume.Spec.StorageClassName != "" {
			storageClass = ptr.To(volume.Spec.StorageClassName)
		}
	}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:        claim.Name,
			Namespace:   claim.Namespace,
			Labels:      maps.Clone(claim.Labels),
			Annotations: annotations,
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:               slices.Clone(claim.Spec.AccessModes),
			Resources:                 *claim.Spec.Resources.DeepCopy(),
			StorageClassName:          storageClass,
			VolumeMode:                claim.Spec.VolumeMode,
			VolumeAttributesClassName: claim.Spec.VolumeAttributesClassName,
		},
	}
}

// record is the claim as it is to be recreated, and the volume retained
// with its data, if any. The record on a volume that this request retained
// shows the claim as it was just before the restore; should there be several
// (someone recreated the claim meanwhile), the oldest volume's. Without one
// (the claim was deleted by someone else, as a StatefulSet does with its
// claims when whenScaled is Delete), the record on the snapshot shows the
// claim as it was at the backup. apierrors.IsNotFound is true of the error
// when there is neither.
func (r *restore) record(ctx context.Context, volumeSnapshot *snapshotv1.VolumeSnapshot) (*corev1.PersistentVolumeClaim, *corev1.PersistentVolume, error) {
	var volumes corev1.PersistentVolumeList
	if err := r.c.List(ctx, &volumes, client.MatchingLabels{v1alpha1.LabelRequestUID: r.uid}); err != nil {
		return nil, nil, fmt.Errorf("listing the PersistentVolumes retained by UpdateRequest %s/%s: %w", r.request.Namespace, r.request.Name, err)
	}
	slices.SortFunc(volumes.Items, func(a, b corev1.PersistentVolume) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	for i := range volumes.Items {
		volume := &volumes.Items[i]
		if volume.Annotations[AnnotationRetainedBy] != r.uid {
			continue
		}
		if template := r.decodeTemplate(volume.Annotations[AnnotationClaimTemplate]); template != nil {
			return template, volume, nil
		}
	}
	if template := r.decodeTemplate(volumeSnapshot.Annotations[AnnotationClaimTemplate]); template != nil {
		return template, nil, nil
	}
	return nil, nil, apierrors.NewNotFound(corev1.Resource("persistentvolumeclaims"), r.snapshot.Claim)
}

// decodeTemplate reads a recorded claim; nil when it is not the claim restored here.
func (r *restore) decodeTemplate(encoded string) *corev1.PersistentVolumeClaim {
	if encoded == "" {
		return nil
	}
	template := &corev1.PersistentVolumeClaim{}
	if err := json.Unmarshal([]byte(encoded), template); err != nil {
		return nil
	}
	if template.Namespace != r.request.Namespace || template.Name != r.snapshot.Claim {
		return nil
	}
	return template
}

// create recreates the deleted claim from its record, restored from the snapshot.
func (r *restore) create(ctx context.Context, volumeSnapshot *snapshotv1.VolumeSnapshot) (RestoreState, string, error) {
	template, volume, err := r.record(ctx, volumeSnapshot)
	if apierrors.IsNotFound(err) {
		return RestoreFailed, fmt.Sprintf("Claim %s does not exist, and nothing records how to recreate it", r.snapshot.Claim), nil
	}
	if err != nil {
		return RestoreInProgress, "", err
	}
	size, found := template.Spec.Resources.Requests[corev1.ResourceStorage]
	var restoreSize *resource.Quantity
	if volumeSnapshot.Status != nil {
		restoreSize = volumeSnapshot.Status.RestoreSize
	}
	if restoreSize == nil {
		if parsed, err := resource.ParseQuantity(r.snapshot.RestoreSize); err == nil {
			restoreSize = &parsed
		}
	}
	if restoreSize != nil && (!found || restoreSize.Cmp(size) > 0) {
		size, found = *restoreSize, true
	}
	if !found {
		return RestoreFailed, fmt.Sprintf("The record of claim %s requests no storage, and VolumeSnapshot %s has no restore size", r.snapshot.Claim, volumeSnapshot.Name), nil
	}

	claim := template.DeepCopy()
	if claim.Spec.Resources.Requests == nil {
		claim.Spec.Resources.Requests = corev1.ResourceList{}
	}
	claim.Spec.Resources.Requests[corev1.ResourceStorage] = size
	group := snapshotv1.GroupName
	claim.Spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "VolumeSnapshot", Name: volumeSnapshot.Name}
	claim.Spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: &group, Kind: "VolumeSnapshot", Name: volumeSnapshot.Name}
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, AnnotationRestoredFrom, volumeSnapshot.Name)
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, AnnotationRestoredBy, r.uid)
	previousVolume := ""
	if volume != nil {
		previousVolume = volume.Name
		metav1.SetMetaDataAnnotation(&claim.ObjectMeta, AnnotationPreviousVolume, previousVolume)
	}
	err = r.c.Create(ctx, claim, client.FieldOwner(workload.FieldManager))
	if apierrors.IsAlreadyExists(err) {
		// Created by an earlier call that a cached read did not show yet, or by
		// someone else: the next call reads which.
		return RestoreInProgress, fmt.Sprintf("Waiting to read claim %s, which exists again", claim.Name), nil
	}
	if err != nil {
		return RestoreInProgress, "", fmt.Errorf("creating claim %s/%s from VolumeSnapshot %s: %w", claim.Namespace, claim.Name, volumeSnapshot.Name, err)
	}
	log.FromContext(ctx).Info("Created a claim from its snapshot", "claim", claim.Name, "volumeSnapshot", volumeSnapshot.Name,
		"size", size.String(), "previousVolume", previousVolume)
	return RestoreInProgress, fmt.Sprintf("Created claim %s from VolumeSnapshot %s", claim.Name, volumeSnapshot.Name), nil
}

// binding says whether a claim that this request restored is bound.
func (r *restore) binding(ctx context.Context, claim *corev1.PersistentVolumeClaim) (RestoreState, string, error) {
	if from := claim.Annotations[AnnotationRestoredFrom]; from != r.snapshot.VolumeSnapshot {
		return RestoreFailed, fmt.Sprintf("Claim %s was restored by this request from VolumeSnapshot %q, not from %s", claim.Name, from, r.snapshot.VolumeSnapshot), nil
	}
	switch claim.Status.Phase {
	case corev1.ClaimBound:
		return Restored, fmt.Sprintf("Claim %s was restored from VolumeSnapshot %s", claim.Name, r.snapshot.VolumeSnapshot), nil
	case corev1.ClaimLost:
		return RestoreFailed, fmt.Sprintf("Claim %s restored from VolumeSnapshot %s lost its volume", claim.Name, r.snapshot.VolumeSnapshot), nil
	}
	waitsForConsumer, err := r.waitsForFirstConsumer(ctx, claim)
	if err != nil {
		return RestoreInProgress, "", err
	}
	if waitsForConsumer {
		return Restored, fmt.Sprintf("Claim %s was created from VolumeSnapshot %s; its storage class provisions it when a pod uses it", claim.Name, r.snapshot.VolumeSnapshot), nil
	}
	return RestoreInProgress, fmt.Sprintf("Waiting for claim %s restored from VolumeSnapshot %s to be bound", claim.Name, r.snapshot.VolumeSnapshot), nil
}

// waitsForFirstConsumer tells whether the claim's storage class binds only
// when a pod uses the claim: with the workloads scaled to zero it would
// wait for ever.
func (r *restore) waitsForFirstConsumer(ctx context.Context, claim *corev1.PersistentVolumeClaim) (bool, error) {
	name := ptr.Deref(claim.Spec.StorageClassName, "")
	if name == "" {
		return false, nil
	}
	class := &storagev1.StorageClass{}
	if err := r.c.Get(ctx, client.ObjectKey{Name: name}, class); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("getting StorageClass %s of claim %s: %w", name, claim.Name, err)
	}
	return ptr.Deref(class.VolumeBindingMode, storagev1.VolumeBindingImmediate) == storagev1.VolumeBindingWaitForFirstConsumer, nil
}

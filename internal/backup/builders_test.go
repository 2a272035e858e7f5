package backup_test

import (
	"testing"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/testenv"
)

const (
	snapshotClass = "csi-hostpath-snapclass"
	// storageClass binds at once; lateStorageClass when the first pod uses a claim.
	storageClass     = "csi-hostpath-sc"
	lateStorageClass = "csi-hostpath-late"
	csiDriver        = "hostpath.csi.k8s.io"
)

var billingLabels = map[string]string{"app": "billing"}

// signingKey signs the snapshots of these tests, as the ledger key does golive's.
var signingKey = []byte("a signing key for the tests only")

// create creates obj or fails the test.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatalf("Creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// get reads obj again or fails the test.
func get[T client.Object](t *testing.T, obj T) T {
	t.Helper()
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("Getting %T %s: %v", obj, obj.GetName(), err)
	}
	return obj
}

// storageClasses creates the cluster's storage classes once.
func storageClasses(t *testing.T) {
	t.Helper()
	for name, mode := range map[string]storagev1.VolumeBindingMode{storageClass: storagev1.VolumeBindingImmediate, lateStorageClass: storagev1.VolumeBindingWaitForFirstConsumer} {
		class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: csiDriver, VolumeBindingMode: ptr.To(mode)}
		if err := testenv.IgnoreAlreadyExists(env.Client.Create(t.Context(), class)); err != nil {
			t.Fatalf("Creating StorageClass %s: %v", name, err)
		}
	}
}

// newClaim is a claim of size in the storage class storageClass, labelled
// app=billing like a StatefulSet's claim template.
func newClaim(name, namespace, size string, change ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels:      map[string]string{"app": "billing", "role": "db"},
			Annotations: map[string]string{"team.example.com/owner": "billing"},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
			StorageClassName: ptr.To(storageClass),
			VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
		},
	}
	for _, c := range change {
		c(claim)
	}
	return claim
}

// bindClaim plays the external provisioner and the volume binder: it creates
// a volume for claim (reclaim policy Delete, as dynamically provisioned
// volumes have) and binds the two, with the annotations binding writes.
func bindClaim(t *testing.T, claim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	t.Helper()
	claim = get(t, claim)
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pvc-" + string(claim.UID)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              ptr.Deref(claim.Spec.StorageClassName, ""),
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: csiDriver, VolumeHandle: string(claim.UID)}},
		},
	}
	create(t, volume)
	volume.Status.Phase = corev1.VolumeBound
	if err := env.Client.Status().Update(t.Context(), volume); err != nil {
		t.Fatalf("Setting the status of PersistentVolume %s: %v", volume.Name, err)
	}
	claim.Spec.VolumeName = volume.Name
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, "pv.kubernetes.io/bind-completed", "yes")
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, "pv.kubernetes.io/bound-by-controller", "yes")
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, "volume.kubernetes.io/storage-provisioner", csiDriver)
	metav1.SetMetaDataAnnotation(&claim.ObjectMeta, "volume.beta.kubernetes.io/storage-provisioner", csiDriver)
	if err := env.Client.Update(t.Context(), claim); err != nil {
		t.Fatalf("Binding claim %s: %v", claim.Name, err)
	}
	claim.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: claim.Spec.AccessModes, Capacity: corev1.ResourceList{corev1.ResourceStorage: size}}
	if err := env.Client.Status().Update(t.Context(), claim); err != nil {
		t.Fatalf("Setting the status of claim %s: %v", claim.Name, err)
	}
	return volume
}

// completeClaimDeletion plays the pvc-protection controller: no pod uses
// the deleted claim any more, so its finalizer goes and so does the claim.
func completeClaimDeletion(t *testing.T, namespace, name string) {
	t.Helper()
	claim := get(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}})
	if claim.DeletionTimestamp.IsZero() {
		t.Fatalf("Claim %s is not being deleted", name)
	}
	claim.Finalizers = nil
	if err := env.Client.Update(t.Context(), claim); err != nil {
		t.Fatalf("Removing the finalizers of claim %s: %v", name, err)
	}
}

// setSnapshotStatus plays the snapshot controller.
func setSnapshotStatus(t *testing.T, namespace, name string, status snapshotv1.VolumeSnapshotStatus) {
	t.Helper()
	snapshot := get(t, &snapshotv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}})
	snapshot.Status = &status
	if err := env.Client.Status().Update(t.Context(), snapshot); err != nil {
		t.Fatalf("Setting the status of VolumeSnapshot %s: %v", name, err)
	}
}

// readySnapshot is the status of a snapshot cut and ready, of restoreSize.
func readySnapshot(restoreSize string) snapshotv1.VolumeSnapshotStatus {
	return snapshotv1.VolumeSnapshotStatus{
		BoundVolumeSnapshotContentName: ptr.To("snapcontent-1"),
		ReadyToUse:                     ptr.To(true),
		RestoreSize:                    ptr.To(resource.MustParse(restoreSize)),
	}
}

// newPod is a pod labelled labels that mounts claims.
func newPod(name, namespace string, labels map[string]string, claims ...string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/billing:2.3.0"}}},
	}
	for _, claim := range claims {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         claim,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}},
		})
	}
	return pod
}

// deletePods plays the workload controllers and the kubelet: the pods are
// gone (pods not scheduled to a node are deleted at once).
func deletePods(t *testing.T, pods ...*corev1.Pod) {
	t.Helper()
	for _, pod := range pods {
		if err := env.Client.Delete(t.Context(), pod); err != nil {
			t.Fatalf("Deleting pod %s: %v", pod.Name, err)
		}
	}
}

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/billing:2.3.0"}}},
	}
}

func newDeployment(name, namespace string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels),
		},
	}
}

// newStatefulSet has the claim template "data": its pods use the claims data-<name>-<ordinal>.
func newStatefulSet(name, namespace string, replicas int32, labels map[string]string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels}, ServiceName: name, Template: podTemplate(labels),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{*newClaim("data", "", "1Gi")},
		},
	}
}

func newDaemonSet(name, namespace string, labels map[string]string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels)},
	}
}

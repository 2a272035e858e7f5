package backup

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestClaimTemplate(t *testing.T) {
	requests := corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}
	volume := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{StorageClassName: "from-volume"}}
	claim := func(storageClass *string, annotations map[string]string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{
				Name: "data-billing-db-0", Namespace: "billing", UID: "1c0d", ResourceVersion: "42",
				Labels: map[string]string{"app": "billing"}, Annotations: annotations,
				Finalizers: []string{"kubernetes.io/pvc-protection"},
			},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}, Resources: requests,
				StorageClassName: storageClass, VolumeMode: ptr.To(corev1.PersistentVolumeBlock),
				VolumeName: "pvc-1c0d", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"disk": "fast"}},
			},
		}
	}
	template := func(storageClass string, annotations map[string]string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "data-billing-db-0", Namespace: "billing", Labels: map[string]string{"app": "billing"}, Annotations: annotations},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}, Resources: requests,
				StorageClassName: ptr.To(storageClass), VolumeMode: ptr.To(corev1.PersistentVolumeBlock),
			},
		}
	}
	binding := map[string]string{
		"pv.kubernetes.io/bind-completed":               "yes",
		"pv.kubernetes.io/bound-by-controller":          "yes",
		"volume.kubernetes.io/selected-node":            "node-1",
		"volume.kubernetes.io/storage-provisioner":      "hostpath.csi.k8s.io",
		"volume.beta.kubernetes.io/storage-provisioner": "hostpath.csi.k8s.io",
		AnnotationRestoredFrom:                          "billing-2-3-0-data-billing-db-0",
		AnnotationRestoredBy:                            "0b4d",
		AnnotationPreviousVolume:                        "pvc-0b4d",
		"team.example.com/owner":                        "billing",
	}

	tests := []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		want  *corev1.PersistentVolumeClaim
	}{
		{
			name:  "binding and earlier restore annotations are dropped",
			claim: claim(ptr.To("fast"), binding),
			want:  template("fast", map[string]string{"team.example.com/owner": "billing"}),
		},
		{
			name:  "the storage class of the beta annotation",
			claim: claim(nil, map[string]string{"volume.beta.kubernetes.io/storage-class": "legacy"}),
			want:  template("legacy", map[string]string{}),
		},
		{
			name:  "the storage class of the volume",
			claim: claim(nil, nil),
			want:  template("from-volume", nil),
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if diff := cmp.Diff(test.want, claimTemplate(test.claim, volume)); diff != "" {
				t.Errorf("claimTemplate() (-want +got):\n%s", diff)
			}
		})
	}
}

package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestClaimsMounted(t *testing.T) {
	claimVolume := func(name, claim string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
	}
	deployment := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		claimVolume("data", "billing-data"),
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cache", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		claimVolume("data-again", "billing-data"),
	}}}}}
	if diff := cmp.Diff([]string{"billing-data"}, ClaimsMounted(deployment)); diff != "" {
		t.Errorf("a Deployment's claims (-want +got):\n%s", diff)
	}

	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "billing-db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:             ptr.To(int32(2)),
			Ordinals:             &appsv1.StatefulSetOrdinals{Start: 3},
			Template:             corev1.PodTemplateSpec{Spec: corev1.PodSpec{Volumes: []corev1.Volume{claimVolume("shared", "billing-shared")}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}, {ObjectMeta: metav1.ObjectMeta{Name: "wal"}}},
		},
	}
	want := []string{"billing-shared", "data-billing-db-3", "data-billing-db-4", "wal-billing-db-3", "wal-billing-db-4"}
	if diff := cmp.Diff(want, ClaimsMounted(statefulSet)); diff != "" {
		t.Errorf("a StatefulSet's claims (-want +got):\n%s", diff)
	}
}

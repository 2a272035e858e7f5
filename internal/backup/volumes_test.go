package backup_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/internal/backup"
)

func TestReclaimDecision(t *testing.T) {
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	volume := func(change func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
		v := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pvc-1", Annotations: map[string]string{
				backup.AnnotationRetainedBy: "uid-1", backup.AnnotationPreviousReclaimPolicy: "Delete", backup.AnnotationExpiresAt: "2026-07-09T20:00:00Z",
			}},
			Spec:   corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased},
		}
		if change != nil {
			change(v)
		}
		return v
	}
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		uid    string
		want   backup.VolumeReclaim
	}{
		{"released after its expiry, Delete before", volume(nil), "uid-1", backup.ReclaimNow},
		{"retained by another request", volume(nil), "uid-2", backup.ReclaimLeave},
		{"before its expiry", volume(func(v *corev1.PersistentVolume) { v.Annotations[backup.AnnotationExpiresAt] = "2026-07-09T22:00:00Z" }), "uid-1", backup.ReclaimWait},
		{"without an expiry (kept)", volume(func(v *corev1.PersistentVolume) { delete(v.Annotations, backup.AnnotationExpiresAt) }), "uid-1", backup.ReclaimLeave},
		{"with an unreadable expiry", volume(func(v *corev1.PersistentVolume) { v.Annotations[backup.AnnotationExpiresAt] = "soon" }), "uid-1", backup.ReclaimLeave},
		{"bound to a claim again", volume(func(v *corev1.PersistentVolume) { v.Status.Phase = corev1.VolumeBound }), "uid-1", backup.ReclaimLeave},
		{"made available again", volume(func(v *corev1.PersistentVolume) { v.Status.Phase = corev1.VolumeAvailable }), "uid-1", backup.ReclaimLeave},
		{"Retain before", volume(func(v *corev1.PersistentVolume) { v.Annotations[backup.AnnotationPreviousReclaimPolicy] = "Retain" }), "uid-1", backup.ReclaimLeave},
		{"its policy changed since", volume(func(v *corev1.PersistentVolume) {
			v.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
		}), "uid-1", backup.ReclaimLeave},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got, _, reason := backup.ReclaimDecision(test.volume, test.uid, now); got != test.want {
				t.Errorf("ReclaimDecision() = %s (%s), want %s", got, reason, test.want)
			}
		})
	}
}

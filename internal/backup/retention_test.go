package backup_test

import (
	"testing"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
)

// requestSnapshot is a VolumeSnapshot as EnsureSnapshots makes them, for a
// request that need not exist any more; expiresAt is stamped unless empty.
func requestSnapshot(name, namespace, expiresAt string) *snapshotv1.VolumeSnapshot {
	snapshot := &snapshotv1.VolumeSnapshot{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{
			v1alpha1.LabelRequest: "billing-2-4-0", v1alpha1.LabelRequestNamespace: namespace, v1alpha1.LabelRequestUID: "8d1f0c2a-deleted",
		}},
		Spec: snapshotv1.VolumeSnapshotSpec{
			Source:                  snapshotv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To("data-billing-db-0")},
			VolumeSnapshotClassName: ptr.To(snapshotClass),
		},
	}
	if expiresAt != "" {
		snapshot.Annotations = map[string]string{backup.AnnotationExpiresAt: expiresAt}
	}
	return snapshot
}

func TestMadeByGolive(t *testing.T) {
	unlabelled := requestSnapshot("someone-elses", "billing", "")
	unlabelled.Labels = nil
	if backup.MadeByGolive(unlabelled) {
		t.Error("MadeByGolive() of a snapshot without the request UID label = true, want false")
	}
	if !backup.MadeByGolive(requestSnapshot("billing-2-4-0-data-billing-db-0", "billing", "")) {
		t.Error("MadeByGolive() of a request's snapshot = false, want true")
	}
}

func TestStampedExpiry(t *testing.T) {
	tests := []struct {
		name        string
		stamp       string
		want        time.Time
		wantStamped bool
		wantErr     bool
	}{
		{"none", "", time.Time{}, false, false},
		{"UTC", "2026-07-09T22:00:00Z", time.Date(2026, 7, 9, 22, 0, 0, 0, time.UTC), true, false},
		{"with an offset", "2026-07-01T00:00:00+02:00", time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC), true, false},
		{"unreadable", "next thursday", time.Time{}, true, true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, stamped, err := backup.StampedExpiry(requestSnapshot("snapshot", "billing", test.stamp))
			if !got.Equal(test.want) || stamped != test.wantStamped || (err != nil) != test.wantErr {
				t.Errorf("StampedExpiry() = %v, %t, %v; want %v, %t, error %t", got, stamped, err, test.want, test.wantStamped, test.wantErr)
			}
		})
	}
}

package backup_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC)
	recorded := now.Add(-time.Hour)
	tests := []struct {
		name   string
		status v1alpha1.UpdateRequestStatus
		want   time.Time
	}{
		{"no backup recorded", v1alpha1.UpdateRequestStatus{}, now.Add(168 * time.Hour)},
		{"no expiry recorded", v1alpha1.UpdateRequestStatus{Backup: &v1alpha1.BackupStatus{}}, now.Add(168 * time.Hour)},
		{"the recorded expiry never moves", v1alpha1.UpdateRequestStatus{Backup: &v1alpha1.BackupStatus{ExpiresAt: &metav1.Time{Time: recorded}}}, recorded},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Retention(168 * time.Hour).
				Mutate(func(r *v1alpha1.UpdateRequest) { r.Status = test.status }).Obj()
			if got := backup.Expiry(request, now); !got.Equal(test.want) {
				t.Errorf("Expiry() = %v, want %v", got, test.want)
			}
		})
	}
}

func TestSnapshotsExpiryMarked(t *testing.T) {
	marked := requestSnapshot("marked", "billing", "2026-07-16T20:30:00Z")
	unmarked := requestSnapshot("unmarked", "billing", "")
	tests := []struct {
		name      string
		snapshots []snapshotv1.VolumeSnapshot
		want      bool
	}{
		{"none", nil, true},
		{"all marked", []snapshotv1.VolumeSnapshot{*marked, *marked}, true},
		{"one unmarked", []snapshotv1.VolumeSnapshot{*marked, *unmarked}, false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := backup.SnapshotsExpiryMarked(test.snapshots); got != test.want {
				t.Errorf("SnapshotsExpiryMarked() = %t, want %t", got, test.want)
			}
		})
	}
}

func TestListSnapshots(t *testing.T) {
	mine := requestSnapshot("billing-2-4-0-data-billing-db-0", "billing", "")
	mine.Labels[v1alpha1.LabelRequestUID] = "uid-mine"
	other := requestSnapshot("other-data-billing-db-0", "billing", "")
	other.Labels[v1alpha1.LabelRequestUID] = "uid-other"
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(mine, other).Build()
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").UID("uid-mine").Obj()

	snapshots, err := backup.ListSnapshots(t.Context(), c, request)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, snapshot := range snapshots {
		names = append(names, snapshot.Name)
	}
	if diff := cmp.Diff([]string{mine.Name}, names); diff != "" {
		t.Errorf("ListSnapshots() mismatch (-want +got):\n%s", diff)
	}

	request.UID = ""
	if _, err := backup.ListSnapshots(t.Context(), c, request); err == nil {
		t.Error("ListSnapshots() of a request without UID succeeded, want an error")
	}
}

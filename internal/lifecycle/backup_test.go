package lifecycle

import (
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideBackup(t *testing.T) {
	testDecide(t, []decideCase{
		// BackingUp.
		{
			name:    "specs saved and no volumes to snapshot, production updates its first target",
			request: func(r *golivev1alpha1.UpdateRequest) { inProduction(r, golivev1alpha1.PhaseBackingUp, monday) },
			world:   func(w *World) { w.Backup.SavedSpecs = "billing-2-4-0-saved-specs" },
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 0}, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionBackedUp, metav1.ConditionTrue)
				if d.Status.Backup.SavedSpecs != "billing-2-4-0-saved-specs" || d.Status.Backup.CompletedAt == nil {
					t.Errorf("backup = %+v", d.Status.Backup)
				}
			}},
		},
		{
			name: "snapshots not ready yet are ensured and waited for until the backup timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "billing-2-4-0-data-billing-db-0"}}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: TakeSnapshots}, requeue: 20 * time.Minute},
		},
		{
			name: "a failed snapshot rolls back before any target changed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.SnapshotError = "snapshot of data-billing-db-0 failed: no space"
				restored(w.Production.Targets)
			},
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, message: "Backup failed: snapshot of data-billing-db-0 failed"},
		},
		{
			name: "a quiesce records the replica counts, then stops the targets",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
			},
			world: func(w *World) {
				w.Backup.SavedSpecs = "saved"
				w.Production.Targets[0].Replicas, w.Production.Targets[1].Replicas = 3, 2
				w.Backup.StoppedMessage = "Waiting for Deployment billing-api to scale to zero"
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "Stopping the targets before the snapshots: Waiting for Deployment billing-api", check: func(t *testing.T, d Decision) {
					want := map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}
					if !maps.Equal(d.Status.Backup.QuiescedReplicas, want) {
						t.Errorf("quiescedReplicas = %v, want %v", d.Status.Backup.QuiescedReplicas, want)
					}
				}},
		},
		{
			name: "recorded replica counts are never overwritten by the zero of a stopped target",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
				r.Status.Backup = &golivev1alpha1.BackupStatus{QuiescedReplicas: map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}}
			},
			world: func(w *World) { w.Backup.SavedSpecs = "saved" },
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: StopTargets}, requeue: PollInterval, check: func(t *testing.T, d Decision) {
				if got := d.Status.Backup.QuiescedReplicas["Deployment/billing-api"]; got != 3 {
					t.Errorf("quiescedReplicas = %v", d.Status.Backup.QuiescedReplicas)
				}
			}},
		},
		{
			name: "stopped targets are snapshotted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
				r.Status.Backup = &golivev1alpha1.BackupStatus{QuiescedReplicas: map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims, w.Backup.Stopped = "saved", []string{"data-billing-db-0"}, true
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: TakeSnapshots}, requeue: 20 * time.Minute},
		},
		{
			name: "targets that do not stop within the backup timeout fail the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-BackupTimeout))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.StoppedMessage = "saved", "Waiting for 1 pod of StatefulSet billing-db to stop"
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1},
				message: "the targets did not stop within 30m0s: Waiting for 1 pod of StatefulSet billing-db to stop"},
		},
		{
			name: "a quiesced target is scaled back once it runs the new images",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
				r.Status.Backup.QuiescedReplicas = map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}
			},
			world: func(w *World) { applied(w.Production.Targets, Healthy, Healthy) },
			want:  want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ResumeTarget, Target: 0}, message: `Scaling Deployment "billing-api" back to 3 replicas`},
		},
		{
			name: "ready snapshots complete the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "s", ReadyToUse: true, RestoreSize: "1Gi"}}
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction}, check: func(t *testing.T, d Decision) {
				if len(d.Status.Backup.Snapshots) != 1 || d.Status.Backup.Snapshots[0].RestoreSize != "1Gi" {
					t.Errorf("backup.snapshots = %+v", d.Status.Backup.Snapshots)
				}
			}},
		},
	})
}

package lifecycle

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideRollback(t *testing.T) {
	testDecide(t, []decideCase{
		// RollingBack.
		{
			name:    "rollback restores the targets in reverse order, each healthy before the next",
			request: rollingBack,
			world: func(w *World) {
				w.Production.Targets[1].Restored = true
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 0}, check: func(t *testing.T, d Decision) {
				if got := d.Status.Rollback.TargetsRestored; got != 1 {
					t.Errorf("rollback.targetsRestored = %d, want 1", got)
				}
			}},
		},
		{
			name:    "rollback waits for a restored target to roll out",
			request: rollingBack,
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Production.Targets[1].Health = Progressing
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, message: `Rolling back (production verification failed): waiting for the restored StatefulSet "billing-db" to roll out`},
		},
		{
			name:    "a restored target that fails to roll out stalls the rollback for a person",
			request: rollingBack,
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Production.Targets[1].Health = Failed
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, stalled: golivev1alpha1.ReasonFailed},
		},
		{
			name: "with snapshots and restoreData Auto, the targets are stopped before their volumes are restored",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.Production.Targets[0].Replicas, w.Production.Targets[1].Replicas = 3, 2
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "stopping the targets to restore their volumes"},
		},
		{
			name: "the targets stopped, the volumes are restored, looked at again shortly",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.DataRestore = DataRestoreObservation{State: DataRestoreInProgress, Message: "Waiting for pods billing-db-0 to stop using claim data"}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreData}, requeue: PollInterval,
				message: "restoring the volumes from their snapshots: Waiting for pods billing-db-0"},
		},
		{
			name: "a volume that cannot be restored stalls the rollback for a person",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.DataRestore = DataRestoreObservation{State: DataRestoreFailed, Message: "VolumeSnapshot s of claim data does not exist"}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, stalled: golivev1alpha1.ReasonFailed, message: "the volumes cannot be restored: VolumeSnapshot s"},
		},
		{
			name: "with restoreData Never, the workloads alone are rolled back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataNever
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) { restored(w.Production.Targets) },
			// Ended with snapshots: they are stamped with their expiry at once.
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, action: Action{Kind: MarkExpiry}},
		},
		{
			name: "snapshots already stamped with their expiry are left alone until retention",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataNever
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Backup.ExpiryMarked = true
			},
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour},
		},
		{
			name: "a backup that failed restores no data: production was not touched",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.CompletedAt = nil
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s"}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
		{
			name: "data restored, the saved specs are re-applied, replica counts included",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) { w.DataRestore.State = DataRestored },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, check: func(t *testing.T, d Decision) {
				if !d.Status.Rollback.DataRestored {
					t.Errorf("rollback.dataRestored is not recorded: %+v", d.Status.Rollback)
				}
			}},
		},
		{
			name: "data restored and the targets healthy again, the rollback completes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
				r.Status.Rollback.DataRestored = true
			},
			world: func(w *World) { restored(w.Production.Targets) },
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, action: Action{Kind: MarkExpiry}, message: "Rolled back: production verification failed", check: func(t *testing.T, d Decision) {
				if !d.Status.Rollback.DataRestored || d.Status.Rollback.CompletedAt == nil || d.Status.Rollback.TargetsRestored != 2 {
					t.Errorf("rollback = %+v", d.Status.Rollback)
				}
				wantCondition(t, d, golivev1alpha1.ConditionRolledBack, metav1.ConditionTrue)
			}},
		},
	})
}

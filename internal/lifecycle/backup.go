package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func (d *decider) backingUp() {
	backup := d.status.Backup
	if backup == nil {
		backup = &golivev1alpha1.BackupStatus{}
		d.status.Backup = backup
	}
	if d.world.Backup.SavedSpecsNotOurs != "" && backup.SavedSpecs == "" {
		// Saving is production's first step: nothing was changed yet.
		message := "Backup stopped before production changed: " + d.world.Backup.SavedSpecsNotOurs
		if stalled := meta.FindStatusCondition(d.status.Conditions, golivev1alpha1.ConditionStalled); stalled == nil || stalled.Message != message {
			d.warn(golivev1alpha1.ReasonPlantedObject, d.world.Backup.SavedSpecsNotOurs)
		}
		d.stall(golivev1alpha1.ReasonPlantedObject, message)
		return
	}
	if d.world.Backup.SavedSpecs == "" {
		d.act(SaveSpecs, 0)
		d.progress(golivev1alpha1.ReasonProgressing, "Saving the production workload specs")
		return
	}
	backup.SavedSpecs = d.world.Backup.SavedSpecs
	deadline := backupDeadline(&d.status)
	if d.spec.Backup.Quiesce == golivev1alpha1.QuiesceScaleToZero && !d.quiesced(backup, deadline) {
		return
	}
	if len(d.spec.Backup.Jobs) > 0 && !d.backupJobsDone(backup, deadline) {
		return
	}
	if d.spec.Backup.VolumeClaimSelector != nil {
		backup.Snapshots = d.world.Backup.Snapshots
		if d.world.Backup.SnapshotError != "" {
			d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, d.world.Backup.SnapshotError)
			d.startRollback(golivev1alpha1.ReasonSnapshotFailed, "Backup failed: "+d.world.Backup.SnapshotError, Actor)
			return
		}
		if !allSnapshotsReady(d.world.Backup.Claims, d.world.Backup.Snapshots) {
			if !d.now.Before(deadline) {
				message := fmt.Sprintf("Backup failed: the snapshots were not ready within %s", BackupTimeout)
				d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, message)
				d.startRollback(golivev1alpha1.ReasonSnapshotFailed, message, Actor)
				return
			}
			d.act(TakeSnapshots, 0)
			d.waitUntil(deadline)
			d.progress(golivev1alpha1.ReasonProgressing, "Waiting for the volume snapshots to be ready")
			return
		}
	}
	backup.CompletedAt = d.timestamp()
	d.gate(golivev1alpha1.ConditionBackedUp, true, golivev1alpha1.ReasonSucceeded, backedUpMessage(d.spec))
	d.enter(golivev1alpha1.PhaseUpdating, golivev1alpha1.ReasonBackedUp, "Backup completed; updating production")
}

// quiesced stops the targets before the snapshots, their replica counts
// recorded first so that production is brought back to them; it reports
// whether they are stopped.
func (d *decider) quiesced(backup *golivev1alpha1.BackupStatus, deadline time.Time) bool {
	if backup.QuiescedReplicas == nil {
		backup.QuiescedReplicas = map[string]int32{}
		for i, target := range d.spec.Targets {
			backup.QuiescedReplicas[QuiesceKey(target)] = observed(d.world.Production.Targets, i).Replicas
		}
	}
	if d.world.Backup.Stopped {
		return true
	}
	if !d.now.Before(deadline) {
		message := fmt.Sprintf("Backup failed: the targets did not stop within %s: %s", BackupTimeout, d.world.Backup.StoppedMessage)
		d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, message)
		d.startRollback(golivev1alpha1.ReasonSnapshotFailed, message, Actor)
		return false
	}
	d.act(StopTargets, 0)
	d.waitUntil(d.now.Add(PollInterval))
	d.progress(golivev1alpha1.ReasonProgressing, "Stopping the targets before the snapshots: "+d.world.Backup.StoppedMessage)
	return false
}

// QuiesceKey is the key of target in status.backup.quiescedReplicas: "Kind/name".
func QuiesceKey(target golivev1alpha1.Target) string {
	return string(target.Kind) + "/" + target.Name
}

func allSnapshotsReady(claims []string, snapshots []golivev1alpha1.SnapshotStatus) bool {
	for _, claim := range claims {
		i := slices.IndexFunc(snapshots, func(s golivev1alpha1.SnapshotStatus) bool { return s.Claim == claim })
		if i < 0 || !snapshots[i].ReadyToUse {
			return false
		}
	}
	return true
}

// backedUpMessage says what the completed backup holds.
func backedUpMessage(spec *golivev1alpha1.UpdateRequestSpec) string {
	if len(spec.Backup.Jobs) > 0 {
		return "Workload specs saved, backup Jobs completed and volume snapshots ready"
	}
	return "Workload specs saved and volume snapshots ready"
}

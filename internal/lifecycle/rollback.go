package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// rollingBack restores the data first, with the targets stopped so that
// neither version writes to a claim being replaced; then re-applies the
// saved specs (replica counts included) in reverse order, each healthy
// before the next; then records the rollback as complete.
func (d *decider) rollingBack() {
	rollback := d.status.Rollback
	because := "Rolling back (" + rollback.Reason + "): "
	if d.restoresData() && !rollback.DataRestored {
		switch restore := d.world.DataRestore; restore.State {
		case DataRestored:
			rollback.DataRestored = true
		case DataRestoreFailed:
			d.stall(golivev1alpha1.ReasonFailed, "Rollback: the volumes cannot be restored: "+restore.Message)
			return
		default:
			d.waitUntil(d.now.Add(PollInterval))
			if !d.targetsScaledToZero() {
				d.act(StopTargets, 0)
				d.progress(golivev1alpha1.ReasonProgressing, because+"stopping the targets to restore their volumes")
				return
			}
			d.act(RestoreData, 0)
			d.progress(golivev1alpha1.ReasonProgressing, because+"restoring the volumes from their snapshots: "+restore.Message)
			return
		}
	}
	if d.runsRollbackJobs() && !d.rollbackJobsDone(rollback, because) {
		return
	}
	if d.status.Backup != nil && d.status.Backup.SavedSpecs != "" {
		last := len(d.spec.Targets) - 1
		for i := last; i >= 0; i-- {
			target, t := d.spec.Targets[i], observed(d.world.Production.Targets, i)
			if !t.Restored {
				rollback.TargetsRestored = int32(last - i)
				d.act(RestoreTarget, i)
				// Entered in this decision, the restore was not observed: a
				// target the release never changed (a failed migration) is
				// restored without a write, which no watch reports.
				d.observeAgain = d.observeAgain || !ObservationsNeeded(d.request, d.world.SpecHash).SavedSpecRestored
				d.progress(golivev1alpha1.ReasonProgressing, because+fmt.Sprintf("restoring %s %q", target.Kind, target.Name))
				return
			}
			if t.Health == Failed {
				d.stall(golivev1alpha1.ReasonFailed, fmt.Sprintf("Rollback: %s %q runs its previous spec but fails to roll out: %s", target.Kind, target.Name, t.Message))
				return
			}
			if t.Health != Healthy {
				d.progress(golivev1alpha1.ReasonProgressing, because+fmt.Sprintf("waiting for the restored %s %q to roll out", target.Kind, target.Name))
				return
			}
		}
		rollback.TargetsRestored = int32(len(d.spec.Targets))
	}
	rollback.CompletedAt = d.timestamp()
	d.gate(golivev1alpha1.ConditionRolledBack, true, golivev1alpha1.ReasonSucceeded, "The previous workloads run again: "+rollback.Reason)
	d.end(golivev1alpha1.PhaseRolledBack, golivev1alpha1.ReasonFailed, "Rolled back: "+rollback.Reason, Actor)
}

// restoresData says whether the rollback restores volumes: a completed
// backup with snapshots (a backup that failed left production untouched),
// and restoreData Auto, or BeforeAcceptance while production has not passed
// its verification.
func (d *decider) restoresData() bool {
	backup := d.status.Backup
	if backup == nil || backup.CompletedAt == nil || len(backup.Snapshots) == 0 {
		return false
	}
	switch d.spec.Rollback.RestoreData {
	case golivev1alpha1.RestoreDataAuto:
		return true
	case golivev1alpha1.RestoreDataBeforeAcceptance:
		return d.status.Production == nil || d.status.Production.VerifiedAt == nil
	}
	return false
}

// dataAtStake says, on entering AwaitingAcceptance, what a rollback from
// now on does to the data production writes: people should know before
// they reject. Empty when no volume would be restored.
func (d *decider) dataAtStake() string {
	if !d.restoresData() {
		return ""
	}
	return fmt.Sprintf("; a rejection, abort or timeout now restores the volumes from the snapshots of %s, so what production writes meanwhile "+
		"leaves production (it stays on the retained volumes of this version; spec.rollback.restoreData: BeforeAcceptance would keep it)",
		d.status.Backup.CompletedAt.UTC().Format(time.RFC3339))
}

// targetsScaledToZero reports whether every production target asks for no replicas.
func (d *decider) targetsScaledToZero() bool {
	for i, target := range d.spec.Targets {
		if target.Kind != golivev1alpha1.TargetDaemonSet && observed(d.world.Production.Targets, i).Replicas > 0 {
			return false
		}
	}
	return true
}

// fail ends a request that failed in env: before production it is Failed
// (production untouched); in production it rolls back.
func (d *decider) fail(env environment, reason, message string) {
	if env == productionEnvironment {
		d.gate(golivev1alpha1.ConditionUpdated, false, reason, message)
		d.startRollback(reason, message, Actor)
		return
	}
	d.gate(golivev1alpha1.ConditionStagingVerified, false, reason, message)
	d.end(golivev1alpha1.PhaseFailed, reason, message+"; production was not touched", Actor)
}

func (d *decider) startRollback(reason, message, actor string) {
	d.status.Rollback = &golivev1alpha1.RollbackStatus{Reason: message, StartedAt: d.timestamp()}
	d.gate(golivev1alpha1.ConditionRolledBack, false, golivev1alpha1.ReasonProgressing, "Rolling back: "+message)
	d.enterAs(golivev1alpha1.PhaseRollingBack, reason, "Rolling back: "+message, actor)
}

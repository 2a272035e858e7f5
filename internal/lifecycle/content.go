package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// contentReady makes sure what the release carries besides images is in
// place in env before its first target changes: the copies of spec.config
// exist, and every Job of spec.migrations completed, in order. It reports
// whether they are. A failed migration fails env: Failed in staging, a
// rollback (data included) in production. Migrations count against the
// environment's verify.timeout, as its rollout does.
func (d *decider) contentReady(env environment) bool {
	if !carriesContent(d.spec) {
		return true
	}
	record, observation, namespace, _ := d.environment(env)
	if !d.contentObserved(env) {
		// Entered in this very decision: the controller did not read the copies or the Jobs.
		d.observeAgain = true
		d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Updating namespace %q", namespace))
		return false
	}
	if len(d.spec.Config) > 0 {
		if problems := d.world.Config.Problems; d.status.Config == nil && len(problems) > 0 {
			d.stall(golivev1alpha1.ReasonReferenceNotFound, fmt.Sprintf("Stopped before namespace %q changed: %s", namespace, strings.Join(problems, "; ")))
			return false
		}
		if d.status.Config == nil {
			// Recorded once per spec: production gets the very copies staging verified.
			d.status.Config = slices.Clone(d.world.Config.Copies)
		}
		if observation.ConfigNotOurs != "" {
			message := fmt.Sprintf("Stopped before namespace %q changed: %s", namespace, observation.ConfigNotOurs)
			if stalled := meta.FindStatusCondition(d.status.Conditions, golivev1alpha1.ConditionStalled); stalled == nil || stalled.Message != message {
				d.warn(golivev1alpha1.ReasonPlantedObject, observation.ConfigNotOurs)
			}
			d.stall(golivev1alpha1.ReasonPlantedObject, message)
			return false
		}
		if !observation.ConfigCopied {
			d.act(EnsureConfig, 0)
			// Nothing golive watches tells when they are made (it may not
			// watch Secrets): it looks again right after the action.
			d.observeAgain = true
			d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Creating the release's configuration in namespace %q", namespace))
			return false
		}
	}
	if len(d.spec.Migrations) == 0 {
		return true
	}
	record.Migrations = jobResults(d.spec.Migrations, record.Migrations, observation.Migrations)
	deadline := verificationDeadline(d.spec, &d.status, env.name)
	for i, migration := range d.spec.Migrations {
		result := record.Migrations[i]
		switch result.Result {
		case golivev1alpha1.CheckPassed:
			continue
		case golivev1alpha1.CheckFailed:
			d.fail(env, golivev1alpha1.ReasonMigrationFailed, fmt.Sprintf("Migration %q failed in namespace %q: %s", migration.Name, namespace, result.Message))
			return false
		}
		if !d.now.Before(deadline) {
			timeout := d.spec.Staging.Verify.Timeout.Duration
			if env == productionEnvironment {
				timeout = d.spec.Verify.Timeout.Duration
			}
			d.fail(env, golivev1alpha1.ReasonMigrationFailed, fmt.Sprintf("Migration %q did not complete in namespace %q within %s: %s",
				migration.Name, namespace, timeout, result.Message))
			return false
		}
		d.act(env.migrate, i)
		d.waitUntil(deadline)
		d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Running migration %q in namespace %q", migration.Name, namespace))
		return false
	}
	return true
}

// contentObserved reports whether the controller observed env's copies and
// migrations for this decision, as ObservationsNeeded asked it to.
func (d *decider) contentObserved(env environment) bool {
	needs := ObservationsNeeded(d.request, d.world.SpecHash)
	if env == productionEnvironment {
		return needs.ProductionContent
	}
	return needs.StagingContent
}

// jobResults is the result of each Job of a release (a migration, a backup
// or restore Job), in spec order: a result once final is kept (its Job may be
// gone), otherwise what was observed.
func jobResults(migrations []golivev1alpha1.ReleaseJob, recorded, observed []golivev1alpha1.CheckStatus) []golivev1alpha1.CheckStatus {
	find := func(results []golivev1alpha1.CheckStatus, name string) (golivev1alpha1.CheckStatus, bool) {
		i := slices.IndexFunc(results, func(r golivev1alpha1.CheckStatus) bool { return r.Name == name })
		if i < 0 {
			return golivev1alpha1.CheckStatus{}, false
		}
		return results[i], true
	}
	results := make([]golivev1alpha1.CheckStatus, len(migrations))
	for i, migration := range migrations {
		results[i] = golivev1alpha1.CheckStatus{Name: migration.Name, Result: golivev1alpha1.CheckPending}
		if previous, ok := find(recorded, migration.Name); ok && (previous.Result == golivev1alpha1.CheckPassed || previous.Result == golivev1alpha1.CheckFailed) {
			results[i] = previous
		} else if now, ok := find(observed, migration.Name); ok {
			results[i] = now
		}
	}
	return results
}

// backupJobsDone runs spec.backup.jobs in order, after the quiesce and
// before the snapshots, within the backup's deadline; it reports whether
// every one completed. A failure rolls back before any target changed.
func (d *decider) backupJobsDone(backup *golivev1alpha1.BackupStatus, deadline time.Time) bool {
	if !ObservationsNeeded(d.request, d.world.SpecHash).BackupJobs {
		d.observeAgain = true
		d.progress(golivev1alpha1.ReasonProgressing, "Backing up")
		return false
	}
	backup.Jobs = jobResults(d.spec.Backup.Jobs, backup.Jobs, d.world.Backup.Jobs)
	for i, job := range d.spec.Backup.Jobs {
		result := backup.Jobs[i]
		failure := ""
		switch {
		case result.Result == golivev1alpha1.CheckPassed:
			continue
		case result.Result == golivev1alpha1.CheckFailed:
			failure = fmt.Sprintf("Backup failed: backup Job %q failed: %s", job.Name, result.Message)
		case !d.now.Before(deadline):
			failure = fmt.Sprintf("Backup failed: backup Job %q did not complete within %s: %s", job.Name, BackupTimeout, result.Message)
		}
		if failure != "" {
			d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonBackupJobFailed, failure)
			d.startRollback(golivev1alpha1.ReasonBackupJobFailed, failure, Actor)
			return false
		}
		d.act(RunBackupJob, i)
		d.waitUntil(deadline)
		d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Running backup Job %q", job.Name))
		return false
	}
	return true
}

// runsRollbackJobs says whether the rollback runs spec.rollback.jobs: the
// backup completed (what they restore was saved), and restoreData allows a
// restore now, as for the volumes.
func (d *decider) runsRollbackJobs() bool {
	backup := d.status.Backup
	if len(d.spec.Rollback.Jobs) == 0 || backup == nil || backup.CompletedAt == nil {
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

// rollbackJobsDone runs spec.rollback.jobs in order; it reports whether every
// one completed. A failed one stops the rollback for a person: the targets
// are not rolled back onto data that was not restored.
func (d *decider) rollbackJobsDone(rollback *golivev1alpha1.RollbackStatus, because string) bool {
	if !ObservationsNeeded(d.request, d.world.SpecHash).RollbackJobs {
		d.observeAgain = true
		d.progress(golivev1alpha1.ReasonProgressing, because+"restoring the data of the backup Jobs")
		return false
	}
	rollback.Jobs = jobResults(d.spec.Rollback.Jobs, rollback.Jobs, d.world.RollbackJobs)
	for i, job := range d.spec.Rollback.Jobs {
		switch result := rollback.Jobs[i]; result.Result {
		case golivev1alpha1.CheckPassed:
			continue
		case golivev1alpha1.CheckFailed:
			d.stall(golivev1alpha1.ReasonRestoreJobFailed, fmt.Sprintf("Rollback: restore Job %q failed: %s; the targets are not rolled back until the data is restored", job.Name, result.Message))
			return false
		}
		d.act(RunRollbackJob, i)
		d.progress(golivev1alpha1.ReasonProgressing, because+fmt.Sprintf("running restore Job %q", job.Name))
		return false
	}
	return true
}

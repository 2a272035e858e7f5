package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// The copy of billing-config that release 2.4.0 uses.
var billingConfigCopy = golivev1alpha1.ConfigCopyStatus{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config",
	Copy: "billing-config-0123456789", Keys: []string{"LOG_LEVEL", "SCHEMA"}}

// withContent gives the request a ConfigMap and two migrations, schema then reindex.
func withContent(r *golivev1alpha1.UpdateRequest) {
	r.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config",
		Data: map[string]string{"LOG_LEVEL": "info", "SCHEMA": "42"}}}
	r.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema"}, {Name: "reindex"}}
}

// contentWorld is a cluster where the copy is named and exists in both environments.
func contentWorld(w *World) {
	w.Config.Copies = []golivev1alpha1.ConfigCopyStatus{billingConfigCopy}
	w.Staging.ConfigCopied, w.Production.ConfigCopied = true, true
}

func migrations(schema, reindex golivev1alpha1.CheckResult) []golivev1alpha1.CheckStatus {
	var results []golivev1alpha1.CheckStatus
	if schema != "" {
		results = append(results, golivev1alpha1.CheckStatus{Name: "schema", Result: schema, Message: "Job billing-2-4-0-schema " + string(schema)})
	}
	if reindex != "" {
		results = append(results, golivev1alpha1.CheckStatus{Name: "reindex", Result: reindex, Message: "Job billing-2-4-0-reindex " + string(reindex)})
	}
	return results
}

func wantMigrations(t *testing.T, got []golivev1alpha1.CheckStatus, want ...golivev1alpha1.CheckResult) {
	t.Helper()
	var results []golivev1alpha1.CheckResult
	for _, r := range got {
		results = append(results, r.Result)
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("migration results (-want +got):\n%s", diff)
	}
}

func TestDecideReleaseContent(t *testing.T) {
	inStagingWithContent := func(r *golivev1alpha1.UpdateRequest) {
		withContent(r)
		inStaging(r, monday.Add(-time.Minute))
	}
	inUpdatingWithContent := func(r *golivev1alpha1.UpdateRequest) {
		withContent(r)
		inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
		r.Status.Config = []golivev1alpha1.ConfigCopyStatus{billingConfigCopy}
	}
	testDecide(t, []decideCase{
		// Configuration.
		{
			name:    "a Secret source that does not exist stalls the request in Pending, naming it",
			request: withContent,
			world: func(w *World) {
				w.Config.Problems = []string{`spec.config[1].fromSecret: Secret "billing-credentials-2-5-0" not found in namespace "billing"`}
			},
			want: want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `Secret "billing-credentials-2-5-0" not found`},
		},
		{
			name:    "staging entered in this decision looks again for the copies and the migrations before it changes anything",
			request: withContent,
			world:   contentWorld,
			want: want{phase: golivev1alpha1.PhaseStaging, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: the copies and migrations of staging were never read")
				}
			}},
		},
		{
			name:    "staging creates the copies first and records them, so production gets the same",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.ConfigCopied = false
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: EnsureConfig}, message: "Creating the release's configuration", check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: nothing golive watches tells when the copies exist")
				}
				if diff := cmp.Diff([]golivev1alpha1.ConfigCopyStatus{billingConfigCopy}, d.Status.Config); diff != "" {
					t.Errorf("status.config (-want +got):\n%s", diff)
				}
			}},
		},
		{
			name: "a copy once recorded stays what the release uses, whatever golive would name it now",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inUpdatingWithContent(r)
			},
			world: func(w *World) {
				contentWorld(w)
				w.Config.Copies[0].Copy = "billing-config-ffffffffff"
				w.Production.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckPassed)
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 0}, check: func(t *testing.T, d Decision) {
				if got := d.Status.Config[0].Copy; got != billingConfigCopy.Copy {
					t.Errorf("status.config[0].copy = %s, want %s", got, billingConfigCopy.Copy)
				}
			}},
		},
		{
			name:    "an object at a copy's name with other content is never used: staging stalls before it changes",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.ConfigCopied = false
				w.Staging.ConfigNotOurs = `ConfigMap "billing-config-0123456789" in namespace "billing-grey" holds other content than its name says`
			},
			want: want{phase: golivev1alpha1.PhaseStaging, stalled: golivev1alpha1.ReasonPlantedObject, message: "holds other content", check: func(t *testing.T, d Decision) {
				wantEvent(t, d, true, golivev1alpha1.ReasonPlantedObject)
			}},
		},
		{
			name: "a Secret source deleted after Pending stalls staging before anything is copied",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStagingWithContent(r)
			},
			world: func(w *World) {
				w.Config.Problems = []string{`spec.config[1].fromSecret: Secret "creds-2-5-0" not found in namespace "billing"`}
			},
			want: want{phase: golivev1alpha1.PhaseStaging, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `Secret "creds-2-5-0" not found`},
		},
		{
			name: "a spec change before production forgets the copies, which the new spec names again",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStagingWithContent(r)
				r.Status.Config = []golivev1alpha1.ConfigCopyStatus{billingConfigCopy}
			},
			world: func(w *World) {
				w.SpecHash = "sha256:changed"
				contentWorld(w)
			},
			want: want{phase: golivev1alpha1.PhaseStaging, check: func(t *testing.T, d Decision) {
				if d.Status.Config != nil {
					t.Errorf("status.config = %+v, want none until staging records the new spec's", d.Status.Config)
				}
			}},
		},

		// Migrations in staging.
		{
			name:    "staging runs the first migration before any grey target changes",
			request: inStagingWithContent,
			world:   contentWorld,
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: RunStagingMigration, Target: 0}, requeue: 9 * time.Minute,
				message: `Running migration "schema" in namespace "billing-grey"`, check: func(t *testing.T, d Decision) {
					wantMigrations(t, d.Status.Staging.Migrations, golivev1alpha1.CheckPending, golivev1alpha1.CheckPending)
				}},
		},
		{
			name:    "the next migration runs once the one before completed",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckRunning)
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: RunStagingMigration, Target: 1}, requeue: 9 * time.Minute,
				message: `Running migration "reindex"`, check: func(t *testing.T, d Decision) {
					wantMigrations(t, d.Status.Staging.Migrations, golivev1alpha1.CheckPassed, golivev1alpha1.CheckRunning)
				}},
		},
		{
			name:    "every migration completed: the grey targets change",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckPassed)
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}},
		},
		{
			name: "a completed migration whose Job is gone stays completed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStagingWithContent(r)
				r.Status.Staging.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckPassed)
			},
			world: func(w *World) {
				contentWorld(w)
				w.Staging.Migrations = nil
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}},
		},
		{
			name:    "a failed migration in staging ends the request Failed, production untouched",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.Migrations = migrations(golivev1alpha1.CheckFailed, "")
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonMigrationFailed, message: `Migration "schema" failed in namespace "billing-grey"`, check: func(t *testing.T, d Decision) {
				wantEvent(t, d, true, golivev1alpha1.ReasonMigrationFailed)
				if !strings.Contains(d.Status.Timeline[len(d.Status.Timeline)-1].Message, "production was not touched") {
					t.Errorf("the outcome does not say production was not touched: %+v", d.Status.Timeline[len(d.Status.Timeline)-1])
				}
				if d.Status.Production != nil {
					t.Errorf("status.production = %+v, want none", d.Status.Production)
				}
			}},
		},
		{
			name:    "a migration still running at staging's verify.timeout fails the request",
			request: inStagingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Staging.Migrations = migrations(golivev1alpha1.CheckRunning, "")
			},
			now:  monday.Add(9 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonMigrationFailed, message: `Migration "schema" did not complete in namespace "billing-grey" within 10m0s`},
		},

		// Migrations in production.
		{
			name:    "production runs the migrations after the backup, before any target changes",
			request: inUpdatingWithContent,
			world:   contentWorld,
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: RunProductionMigration, Target: 0}, requeue: 9 * time.Minute,
				message: `Running migration "schema" in namespace "billing"`},
		},
		{
			name: "production entered in this decision looks again for its copies and migrations",
			request: func(r *golivev1alpha1.UpdateRequest) {
				withContent(r)
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-2*time.Minute))
				r.Status.Config = []golivev1alpha1.ConfigCopyStatus{billingConfigCopy}
			},
			world: func(w *World) {
				contentWorld(w)
				w.Backup.SavedSpecs = "billing-2-4-0-saved-specs"
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: the copies and migrations of production were never read")
				}
			}},
		},
		{
			name:    "production whose copies are gone creates them again before the migrations",
			request: inUpdatingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Production.ConfigCopied = false
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: EnsureConfig}, message: `Creating the release's configuration in namespace "billing"`},
		},
		{
			name:    "a failed migration in production rolls back, data included",
			request: inUpdatingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Production.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckFailed)
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1},
				message: `Migration "reindex" failed in namespace "billing"`, check: func(t *testing.T, d Decision) {
					wantEvent(t, d, true, golivev1alpha1.ReasonMigrationFailed)
					if d.Status.Rollback == nil || !strings.Contains(d.Status.Rollback.Reason, `Migration "reindex" failed`) {
						t.Errorf("rollback = %+v", d.Status.Rollback)
					}
					wantMigrations(t, d.Status.Production.Migrations, golivev1alpha1.CheckPassed, golivev1alpha1.CheckFailed)
					if !d.ObserveAgain {
						t.Error("observeAgain = false: restoring a target the release never changed writes nothing, and no watch reports it")
					}
				}},
		},
		{
			name: "a failed production migration restores the snapshots first",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inUpdatingWithContent(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataAuto
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "snap", ReadyToUse: true}}
			},
			world: func(w *World) {
				contentWorld(w)
				w.Production.Migrations = migrations(golivev1alpha1.CheckFailed, "")
				w.Production.Targets[1].Replicas = 1
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "stopping the targets to restore their volumes"},
		},
		{
			name:    "every production migration completed: the targets change",
			request: inUpdatingWithContent,
			world: func(w *World) {
				contentWorld(w)
				w.Production.Migrations = migrations(golivev1alpha1.CheckPassed, golivev1alpha1.CheckPassed)
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 0}},
		},
	})
}

// withDataJobs gives the request a backup Job that dumps the external
// database and a rollback Job that restores the dump.
func withDataJobs(r *golivev1alpha1.UpdateRequest) {
	r.Spec.Backup.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-dump"}}
	r.Spec.Rollback.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-restore"}}
	r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataAuto
}

func jobResult(name string, result golivev1alpha1.CheckResult) []golivev1alpha1.CheckStatus {
	return []golivev1alpha1.CheckStatus{{Name: name, Result: result, Message: "Job " + name + " " + string(result)}}
}

func TestDecideDataJobs(t *testing.T) {
	backingUp := func(r *golivev1alpha1.UpdateRequest) {
		withDataJobs(r)
		inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-2*time.Minute))
	}
	savedSpecs := func(w *World) { w.Backup.SavedSpecs = "billing-2-4-0-saved-specs" }
	rollingBackWithBackup := func(r *golivev1alpha1.UpdateRequest) {
		withDataJobs(r)
		rollingBack(r)
	}
	testDecide(t, []decideCase{
		{
			name:    "the backup Jobs run once the specs are saved, within the backup's deadline",
			request: backingUp,
			world:   savedSpecs,
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: RunBackupJob, Target: 0}, requeue: BackupTimeout - 2*time.Minute,
				message: `Running backup Job "pg-dump"`},
		},
		{
			name:    "a failed backup Job rolls back before any target changed",
			request: backingUp,
			world: func(w *World) {
				savedSpecs(w)
				w.Backup.Jobs = jobResult("pg-dump", golivev1alpha1.CheckFailed)
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: `backup Job "pg-dump" failed`, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionBackedUp, "False")
				wantEvent(t, d, true, golivev1alpha1.ReasonBackupJobFailed)
			}},
		},
		{
			name:    "a backup Job still running at the backup's deadline fails the backup",
			request: backingUp,
			world: func(w *World) {
				savedSpecs(w)
				w.Backup.Jobs = jobResult("pg-dump", golivev1alpha1.CheckRunning)
			},
			now:  monday.Add(BackupTimeout),
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: `backup Job "pg-dump" did not complete within 30m0s`},
		},
		{
			name:    "the backup Jobs completed: production is updated, and status.backup records them",
			request: backingUp,
			world: func(w *World) {
				savedSpecs(w)
				w.Backup.Jobs = jobResult("pg-dump", golivev1alpha1.CheckPassed)
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 0}, check: func(t *testing.T, d Decision) {
				wantMigrations(t, d.Status.Backup.Jobs, golivev1alpha1.CheckPassed)
				wantCondition(t, d, golivev1alpha1.ConditionBackedUp, "True")
			}},
		},
		{
			name:    "a rollback after a completed backup runs the restore Jobs before the targets",
			request: rollingBackWithBackup,
			world:   func(w *World) {},
			want:    want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RunRollbackJob, Target: 0}, message: `running restore Job "pg-restore"`},
		},
		{
			name:    "the restore Jobs completed: the targets are rolled back, last first",
			request: rollingBackWithBackup,
			world:   func(w *World) { w.RollbackJobs = jobResult("pg-restore", golivev1alpha1.CheckPassed) },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, check: func(t *testing.T, d Decision) {
				wantMigrations(t, d.Status.Rollback.Jobs, golivev1alpha1.CheckPassed)
			}},
		},
		{
			name:    "a failed restore Job stops the rollback for a person before the targets",
			request: rollingBackWithBackup,
			world:   func(w *World) { w.RollbackJobs = jobResult("pg-restore", golivev1alpha1.CheckFailed) },
			want:    want{phase: golivev1alpha1.PhaseRollingBack, stalled: golivev1alpha1.ReasonRestoreJobFailed, message: `restore Job "pg-restore" failed`},
		},
		{
			name: "restoreData Never runs no restore Job",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBackWithBackup(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataNever
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
		{
			name: "the volumes are restored before the restore Jobs run",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBackWithBackup(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "snap", ReadyToUse: true}}
			},
			world: func(w *World) { w.Production.Targets[1].Replicas = 1 },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "stopping the targets to restore their volumes"},
		},
		{
			name: "a rollback entered in this decision looks for the restore Jobs before it acts",
			request: func(r *golivev1alpha1.UpdateRequest) {
				withDataJobs(r)
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				w.Production.Verification = VerificationObservation{State: VerificationFailed, Message: "smoke failed"}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: the restore Jobs were never read")
				}
			}},
		},
	})
}

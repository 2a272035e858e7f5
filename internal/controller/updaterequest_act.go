package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// act takes the one step the lifecycle decided, after its status was recorded.
// Every step is idempotent, so one repeated after a crash does no harm.
func (r *UpdateRequestReconciler) act(ctx context.Context, request *golivev1alpha1.UpdateRequest, world lifecycle.World, action lifecycle.Action, now time.Time) error {
	switch action.Kind {
	case lifecycle.SaveStagingSpecs:
		_, err := workload.SaveStagingSpecs(ctx, r.Client, r.LiveReader, r.LedgerKey, request, request.Spec.Targets, r.Scheme)
		return err
	case lifecycle.RestoreStagingTarget:
		return workload.RestoreStagingTarget(ctx, r.Client, r.LiveReader, r.LedgerKey, request, request.Spec.Targets[action.Target])
	case lifecycle.EnsureConfig:
		return r.ensureConfig(ctx, request)
	case lifecycle.RunStagingMigration:
		return r.ensureReleaseJob(ctx, request, verify.EnvironmentStaging, request.Spec.Staging.Namespace, migrationCheckPrefix, request.Spec.Migrations, action.Target)
	case lifecycle.RunProductionMigration:
		return r.ensureReleaseJob(ctx, request, verify.EnvironmentProduction, request.Namespace, migrationCheckPrefix, request.Spec.Migrations, action.Target)
	case lifecycle.RunBackupJob:
		return r.ensureReleaseJob(ctx, request, verify.EnvironmentProduction, request.Namespace, backupCheckPrefix, request.Spec.Backup.Jobs, action.Target)
	case lifecycle.RunRollbackJob:
		return r.ensureReleaseJob(ctx, request, verify.EnvironmentProduction, request.Namespace, restoreCheckPrefix, request.Spec.Rollback.Jobs, action.Target)
	case lifecycle.ApplyStaging:
		return r.applyRelease(ctx, request, request.Spec.Targets[action.Target], request.Spec.Staging.Namespace)
	case lifecycle.ApplyProduction:
		return r.applyRelease(ctx, request, request.Spec.Targets[action.Target], request.Namespace)
	case lifecycle.VerifyStaging:
		return r.ensureJobs(ctx, request, verify.EnvironmentStaging, request.Spec.Staging.Namespace,
			request.Spec.Staging.Verify, request.Status.Staging.Checks, now)
	case lifecycle.VerifyProduction:
		return r.ensureJobs(ctx, request, verify.EnvironmentProduction, request.Namespace,
			request.Spec.Verify, request.Status.Production.Checks, now)
	case lifecycle.SaveSpecs:
		_, err := workload.SaveSpecs(ctx, r.Client, r.LiveReader, r.LedgerKey, request, request.Namespace, request.Spec.Targets, r.Scheme)
		return err
	case lifecycle.RestoreTarget:
		return workload.RestoreTarget(ctx, r.Client, r.LiveReader, r.LedgerKey, request, request.Status.Backup.SavedSpecs, request.Namespace, request.Spec.Targets[action.Target])
	case lifecycle.StopTargets:
		return backup.StopTargets(ctx, r.Client, request)
	case lifecycle.TakeSnapshots:
		return backup.EnsureSnapshots(ctx, r.Client, r.LedgerKey, request, world.Backup.Claims)
	case lifecycle.ResumeTarget:
		target := request.Spec.Targets[action.Target]
		return workload.Scale(ctx, r.Client, target, request.Namespace, request.Status.Backup.QuiescedReplicas[lifecycle.QuiesceKey(target)])
	case lifecycle.RestoreData:
		state, message, err := backup.RestoreClaims(ctx, r.Client, r.LedgerKey, request, request.Status.Backup.Snapshots)
		if err == nil {
			log.FromContext(ctx).Info("Restoring the volumes", "state", state, "progress", message)
		}
		return err
	case lifecycle.MarkExpiry:
		return r.markExpiry(ctx, request, now)
	case lifecycle.DeleteBackups:
		if r.VolumeSnapshots {
			if _, err := backup.DeleteSnapshots(ctx, r.Client, request); err != nil {
				return err
			}
			if _, err := backup.ReclaimRetainedVolumes(ctx, r.Client, request, now); err != nil {
				return err
			}
		}
		// Before the saved specs, which name the copies the release replaced.
		if err := workload.DeleteConfigCopies(ctx, r.Client, r.LiveReader, request); err != nil {
			return err
		}
		if err := workload.DeleteStagingSavedSpecs(ctx, r.Client, r.LedgerKey, request); err != nil {
			return err
		}
		return workload.DeleteSavedSpecs(ctx, r.Client, r.LedgerKey, request)
	}
	return fmt.Errorf("unknown action %q", action.Kind)
}

// ensureJobs creates the verification Jobs that are due, after deleting
// golive's Jobs of earlier specs. A stale Job at a due Job's name is deleted
// (the Job's deletion wakes the request to create the new one); a Job there
// that is not golive's is left alone, reported by jobCheck, and never counted.
func (r *UpdateRequestReconciler) ensureJobs(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string,
	spec golivev1alpha1.Verification, checks []golivev1alpha1.CheckStatus, now time.Time) error {
	seal := r.seal(request, env)
	if err := verify.DeleteStaleJobs(ctx, r.Client, seal, request, env, namespace); err != nil {
		return err
	}
	for _, job := range verify.JobsDue(now, lifecycle.VerificationStart(request, lifecycle.Environment(env)), spec, checks) {
		_, err := verify.EnsureJob(ctx, r.Client, r.Scheme, seal, request, env, namespace, job)
		switch {
		case errors.Is(err, verify.ErrForeignJob):
			log.FromContext(ctx).Info("Left a Job that is not golive's alone", "check", job.Name, "reason", err.Error())
		case errors.Is(err, verify.ErrStaleJob):
			var stale batchv1.Job
			key := types.NamespacedName{Namespace: namespace, Name: verify.AttemptJobName(request.Name, env, job.Name, seal.SpecHash, seal.Attempt)}
			if err := r.Get(ctx, key, &stale); err != nil {
				return client.IgnoreNotFound(err)
			}
			if err := verify.DeleteJob(ctx, r.Client, &stale); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("ensuring the verification Job of check %s: %w", job.Name, err)
		}
	}
	return nil
}

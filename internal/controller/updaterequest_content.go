package controller

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// The prefixes that name a release's Jobs apart from the verification checks
// ("migrate-<name>"): the webhook refuses a check of such a name.
const (
	migrationCheckPrefix = "migrate-"
	backupCheckPrefix    = "backup-"
	restoreCheckPrefix   = "restore-"
)

// observeContent reads what an environment holds of the release's content:
// whether the copies of its configuration exist there, and its migrations' Jobs.
func (r *UpdateRequestReconciler) observeContent(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string,
	copies []golivev1alpha1.ConfigCopyStatus, record *golivev1alpha1.EnvironmentStatus, observation *lifecycle.EnvironmentObservation) error {
	if recorded := request.Status.Config; recorded != nil {
		copies = recorded
	}
	var err error
	if observation.ConfigCopied, observation.ConfigNotOurs, err = workload.ObserveConfigCopies(ctx, r.Client, r.LiveReader, namespace, copies); err != nil {
		return err
	}
	var recorded []golivev1alpha1.CheckStatus
	if record != nil {
		recorded = record.Migrations
	}
	observation.Migrations, err = r.observeReleaseJobs(ctx, request, env, namespace, migrationCheckPrefix, request.Spec.Migrations, recorded, copies)
	return err
}

// observeReleaseJobs reads the Jobs of a release's jobs (migrations, backup
// or restore Jobs, told apart by prefix) whose recorded result is not final.
func (r *UpdateRequestReconciler) observeReleaseJobs(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace, prefix string,
	jobs []golivev1alpha1.ReleaseJob, recorded []golivev1alpha1.CheckStatus, copies []golivev1alpha1.ConfigCopyStatus) ([]golivev1alpha1.CheckStatus, error) {
	var results []golivev1alpha1.CheckStatus
	for _, job := range jobs {
		previous := verify.FindCheck(recorded, job.Name)
		if verify.IsFinal(previous) {
			continue
		}
		state, err := r.jobCheck(ctx, request, releaseJobSeal(r.seal(request, env)), env, namespace, releaseJob(prefix, job, copies), previous)
		if err != nil {
			return nil, err
		}
		state.Name = job.Name
		results = verify.SetCheck(results, state)
	}
	return results, nil
}

// observeDataJobs reads the Jobs of spec.backup.jobs while the request backs
// up, and of spec.rollback.jobs in a rollback.
func (r *UpdateRequestReconciler) observeDataJobs(ctx context.Context, request *golivev1alpha1.UpdateRequest, needs lifecycle.Needs, world *lifecycle.World) error {
	var err error
	if needs.BackupJobs {
		var recorded []golivev1alpha1.CheckStatus
		if request.Status.Backup != nil {
			recorded = request.Status.Backup.Jobs
		}
		if world.Backup.Jobs, err = r.observeReleaseJobs(ctx, request, verify.EnvironmentProduction, request.Namespace, backupCheckPrefix,
			request.Spec.Backup.Jobs, recorded, request.Status.Config); err != nil {
			return err
		}
	}
	if needs.RollbackJobs {
		if world.RollbackJobs, err = r.observeReleaseJobs(ctx, request, verify.EnvironmentProduction, request.Namespace, restoreCheckPrefix,
			request.Spec.Rollback.Jobs, request.Status.Rollback.Jobs, request.Status.Config); err != nil {
			return err
		}
	}
	return nil
}

// ensureReleaseJob creates the Job of jobs[index] (told apart by prefix) in
// namespace; one golive made for an earlier spec at its name is deleted first
// (its deletion wakes the request to create the new one).
func (r *UpdateRequestReconciler) ensureReleaseJob(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace, prefix string,
	jobs []golivev1alpha1.ReleaseJob, index int) error {
	seal := releaseJobSeal(r.seal(request, env))
	job := releaseJob(prefix, jobs[index], request.Status.Config)
	_, err := verify.EnsureJob(ctx, r.Client, r.Scheme, seal, request, env, namespace, job)
	switch {
	case errors.Is(err, verify.ErrForeignJob):
		// Reported by the observation, which keeps the Job Pending.
		return nil
	case errors.Is(err, verify.ErrStaleJob):
		var stale batchv1.Job
		key := types.NamespacedName{Namespace: namespace, Name: verify.JobName(request.Name, env, job.Name, seal.SpecHash)}
		if err := r.Get(ctx, key, &stale); err != nil {
			return client.IgnoreNotFound(err)
		}
		return verify.DeleteJob(ctx, r.Client, &stale)
	case err != nil:
		return fmt.Errorf("ensuring Job %s: %w", job.Name, err)
	}
	return nil
}

// releaseJobSeal is the seal of a release's Job (a migration, a backup or
// restore Job): it runs once per spec and environment, whatever the
// verification attempt.
func releaseJobSeal(seal verify.Seal) verify.Seal {
	seal.Attempt = 0
	return seal
}

// releaseJob is the Job a release's job runs, as a check named
// "<prefix><name>": its template points at the release's copies of
// configuration, as the targets do.
func releaseJob(prefix string, job golivev1alpha1.ReleaseJob, copies []golivev1alpha1.ConfigCopyStatus) golivev1alpha1.VerificationJob {
	template := job.Template.DeepCopy()
	releasecontent.Rewrite(&template.Spec.Template.Spec, workload.Renames(copies))
	return golivev1alpha1.VerificationJob{Name: prefix + job.Name, Template: *template}
}

// ensureConfig creates the copies of the release's configuration in both environments.
func (r *UpdateRequestReconciler) ensureConfig(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	err := workload.EnsureConfigCopies(ctx, r.Client, r.LiveReader, request, request.Spec.Staging.Namespace, request.Namespace)
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w; golive needs create on secrets (and get on the source) where the release carries a Secret, as docs/release-content.md shows", err)
	}
	return err
}

// applyRelease points the target in namespace at the release's configuration, then applies its images.
func (r *UpdateRequestReconciler) applyRelease(ctx context.Context, request *golivev1alpha1.UpdateRequest, target golivev1alpha1.Target, namespace string) error {
	if err := workload.ApplyConfig(ctx, r.Client, r.LiveReader, target, namespace, workload.Renames(request.Status.Config)); err != nil {
		return err
	}
	return workload.ApplyImages(ctx, r.Client, target, namespace)
}

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

// migrationCheckPrefix names a migration's Job apart from the verification
// checks: "migrate-<name>" (the webhook refuses a check of that name).
const migrationCheckPrefix = "migrate-"

// observeContent reads what an environment holds of the release's content:
// whether the copies of its configuration exist there, and its migrations' Jobs.
func (r *UpdateRequestReconciler) observeContent(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string,
	copies []golivev1alpha1.ConfigCopyStatus, record *golivev1alpha1.EnvironmentStatus, observation *lifecycle.EnvironmentObservation) error {
	if recorded := request.Status.Config; recorded != nil {
		copies = recorded
	}
	var err error
	if observation.ConfigCopied, observation.ConfigNotOurs, err = workload.ObserveConfigCopies(ctx, r.LiveReader, namespace, copies); err != nil {
		return err
	}
	for _, migration := range request.Spec.Migrations {
		var previous verify.CheckState
		if record != nil {
			previous = verify.FindCheck(record.Migrations, migration.Name)
		}
		if verify.IsFinal(previous) {
			continue
		}
		job := migrationJob(request, migration, copies)
		state, err := r.jobCheck(ctx, request, migrationSeal(r.seal(request, env)), env, namespace, job, previous)
		if err != nil {
			return err
		}
		state.Name = migration.Name
		observation.Migrations = verify.SetCheck(observation.Migrations, state)
	}
	return nil
}

// ensureMigration creates the Job of spec.migrations[index] in namespace; one
// golive made for an earlier spec at its name is deleted first (its deletion
// wakes the request to create the new one).
func (r *UpdateRequestReconciler) ensureMigration(ctx context.Context, request *golivev1alpha1.UpdateRequest, env, namespace string, index int) error {
	seal := migrationSeal(r.seal(request, env))
	job := migrationJob(request, request.Spec.Migrations[index], request.Status.Config)
	_, err := verify.EnsureJob(ctx, r.Client, r.Scheme, seal, request, env, namespace, job)
	switch {
	case errors.Is(err, verify.ErrForeignJob):
		// Reported by the observation, which keeps the migration Pending.
		return nil
	case errors.Is(err, verify.ErrStaleJob):
		var stale batchv1.Job
		key := types.NamespacedName{Namespace: namespace, Name: verify.JobName(request.Name, env, job.Name, seal.SpecHash)}
		if err := r.Get(ctx, key, &stale); err != nil {
			return client.IgnoreNotFound(err)
		}
		return verify.DeleteJob(ctx, r.Client, &stale)
	case err != nil:
		return fmt.Errorf("ensuring the Job of migration %s: %w", request.Spec.Migrations[index].Name, err)
	}
	return nil
}

// migrationSeal is the seal of a migration's Job: a migration runs once per
// spec and environment, whatever the verification attempt.
func migrationSeal(seal verify.Seal) verify.Seal {
	seal.Attempt = 0
	return seal
}

// migrationJob is the Job a migration runs, as a check named
// "migrate-<name>": its template points at the release's copies of
// configuration, as the targets do.
func migrationJob(request *golivev1alpha1.UpdateRequest, migration golivev1alpha1.ReleaseJob, copies []golivev1alpha1.ConfigCopyStatus) golivev1alpha1.VerificationJob {
	template := migration.Template.DeepCopy()
	releasecontent.Rewrite(&template.Spec.Template.Spec, workload.Renames(copies))
	return golivev1alpha1.VerificationJob{Name: migrationCheckPrefix + migration.Name, Template: *template}
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

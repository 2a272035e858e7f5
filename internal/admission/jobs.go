package admission

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Verification Jobs run with no more right than their author: golive creates
// them with its own rights, in the staging and the production namespace, long
// before anyone approves. So the user who writes (or changes) a Job template
// must be allowed to create Jobs in the namespace it runs in, and to run as
// the ServiceAccount it names.
//
// The ServiceAccount check asks for the verb impersonate on
// serviceaccounts/<name>: anyone who may create pods in a namespace can run
// its ServiceAccounts anyway, so the real escalation is into another
// namespace, which the Jobs check stops; impersonate is Kubernetes' explicit
// right to act as a ServiceAccount (the built-in edit role grants it).

// jobEnvironment is the verification Jobs of one environment of a request and
// the namespace they run in.
type jobEnvironment struct {
	// path is the field of the Jobs, for messages: spec.staging.verify.jobs.
	path      string
	namespace string
	jobs      []golivev1alpha1.VerificationJob
}

func stagingJobs(request *golivev1alpha1.UpdateRequest) jobEnvironment {
	return jobEnvironment{path: "spec.staging.verify.jobs", namespace: request.Spec.Staging.Namespace, jobs: request.Spec.Staging.Verify.Jobs}
}

func productionJobs(request *golivev1alpha1.UpdateRequest) jobEnvironment {
	return jobEnvironment{path: "spec.verify.jobs", namespace: request.Namespace, jobs: request.Spec.Verify.Jobs}
}

// releaseJobs are a release's Jobs at path, which run in namespace.
func releaseJobs(path, namespace string, releaseJobs []golivev1alpha1.ReleaseJob) jobEnvironment {
	jobs := make([]golivev1alpha1.VerificationJob, len(releaseJobs))
	for i, job := range releaseJobs {
		jobs[i] = golivev1alpha1.VerificationJob{Name: job.Name, Template: job.Template}
	}
	return jobEnvironment{path: path, namespace: namespace, jobs: jobs}
}

// changedJobEnvironments lists the environments of request whose Jobs its
// author must be allowed to run: all of them at creation (stored is nil), and
// on an update those whose Job templates or namespace changed.
func changedJobEnvironments(stored, request *golivev1alpha1.UpdateRequest) []jobEnvironment {
	var changed []jobEnvironment
	stagingMigrations := func(r *golivev1alpha1.UpdateRequest) jobEnvironment {
		return releaseJobs("spec.migrations", r.Spec.Staging.Namespace, r.Spec.Migrations)
	}
	productionMigrations := func(r *golivev1alpha1.UpdateRequest) jobEnvironment {
		return releaseJobs("spec.migrations", r.Namespace, r.Spec.Migrations)
	}
	backupJobs := func(r *golivev1alpha1.UpdateRequest) jobEnvironment {
		return releaseJobs("spec.backup.jobs", r.Namespace, r.Spec.Backup.Jobs)
	}
	rollbackJobs := func(r *golivev1alpha1.UpdateRequest) jobEnvironment {
		return releaseJobs("spec.rollback.jobs", r.Namespace, r.Spec.Rollback.Jobs)
	}
	for _, of := range []func(*golivev1alpha1.UpdateRequest) jobEnvironment{stagingJobs, productionJobs, stagingMigrations, productionMigrations, backupJobs, rollbackJobs} {
		after := of(request)
		if len(after.jobs) == 0 {
			continue
		}
		if stored != nil {
			before := of(stored)
			if before.namespace == after.namespace && apiequality.Semantic.DeepEqual(before.jobs, after.jobs) {
				continue
			}
		}
		changed = append(changed, after)
	}
	return changed
}

// checkJobAuthor refuses a request whose new or changed verification Jobs
// user could not run themselves: create Jobs in the environment's namespace,
// and impersonate each ServiceAccount a template names (other than default).
func (w *Webhooks) checkJobAuthor(ctx context.Context, stored, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) error {
	for _, environment := range changedJobEnvironments(stored, request) {
		createJobs := authorizationv1.ResourceAttributes{
			Namespace: environment.namespace, Verb: "create", Group: "batch", Resource: "jobs",
		}
		allowed, reason, err := w.Access.Allowed(ctx, user, createJobs)
		if err != nil {
			return err
		}
		if !allowed {
			return refused("%s: %s may not create Jobs in namespace %s, where these Jobs run (needs create on jobs.batch)%s",
				environment.path, user.Username, environment.namespace, because(reason))
		}
		for i, job := range environment.jobs {
			field, account := serviceAccountOf(job)
			if account == "" || account == "default" {
				continue
			}
			useAccount := authorizationv1.ResourceAttributes{
				Namespace: environment.namespace, Verb: "impersonate", Resource: "serviceaccounts", Name: account,
			}
			allowed, reason, err := w.Access.Allowed(ctx, user, useAccount)
			if err != nil {
				return err
			}
			if !allowed {
				return refused("%s[%d].template.spec.template.spec.%s: %s may not use ServiceAccount %s in namespace %s (needs impersonate on serviceaccounts/%s)%s",
					environment.path, i, field, user.Username, account, environment.namespace, account, because(reason))
			}
		}
	}
	return nil
}

// serviceAccountOf is the ServiceAccount a Job's pods run as and the pod
// field that names it; the API server still honours the deprecated
// serviceAccount when serviceAccountName is empty.
func serviceAccountOf(job golivev1alpha1.VerificationJob) (field, account string) {
	pod := job.Template.Spec.Template.Spec
	if pod.ServiceAccountName != "" {
		return "serviceAccountName", pod.ServiceAccountName
	}
	return "serviceAccount", pod.DeprecatedServiceAccount
}

// because appends the authorizer's reason to a refusal, when it gave one.
func because(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf(" (%s)", reason)
}

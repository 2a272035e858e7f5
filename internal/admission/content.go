package admission

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/workload"
)

// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get

// releaseJobsByPrefix are a release's Jobs with the prefix that names each
// apart from the verification checks (internal/controller): a check may not
// take such a name.
func releaseJobsByPrefix(request *golivev1alpha1.UpdateRequest) map[string][]golivev1alpha1.ReleaseJob {
	return map[string][]golivev1alpha1.ReleaseJob{
		"migrate-": request.Spec.Migrations,
		"backup-":  request.Spec.Backup.Jobs,
		"restore-": request.Spec.Rollback.Jobs,
	}
}

// checkContent refuses what a release carries besides images when golive
// could not carry it out as written: a spec.config entry that no target
// references in the request's namespace (the release would change nothing),
// and a verification check named like a migration's Job. Targets that do not
// exist are left to the controller, which stalls on them.
func (w *Webhooks) checkContent(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	for _, verification := range []struct {
		path string
		jobs []golivev1alpha1.VerificationJob
	}{{"spec.staging.verify.jobs", request.Spec.Staging.Verify.Jobs}, {"spec.verify.jobs", request.Spec.Verify.Jobs}} {
		for i, job := range verification.jobs {
			for prefix, releaseJobs := range releaseJobsByPrefix(request) {
				for _, releaseJob := range releaseJobs {
					if job.Name == prefix+releaseJob.Name {
						return refused("%s[%d].name: %q is the name of the Job golive runs for %q; name the check otherwise", verification.path, i, job.Name, releaseJob.Name)
					}
				}
			}
		}
	}
	if len(request.Spec.Config) == 0 {
		return nil
	}
	referenced := make([]bool, len(request.Spec.Config))
	found := false
	for _, target := range request.Spec.Targets {
		object, err := workload.Get(ctx, w.Reader, target, request.Namespace)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		found = true
		template := workload.PodTemplate(object)
		for i, entry := range request.Spec.Config {
			referenced[i] = referenced[i] || releasecontent.References(&template.Spec, entry.Kind, entry.Name)
		}
	}
	if !found {
		return nil
	}
	for i, entry := range request.Spec.Config {
		if !referenced[i] {
			return refused("spec.config[%d].name: no target references %s %q in namespace %s (envFrom, env valueFrom, volumes, projected volumes): "+
				"the release would change nothing; reference it from a target or remove the entry", i, entry.Kind, entry.Name, request.Namespace)
		}
	}
	return nil
}

// checkContentAuthor refuses a release whose Secrets or migrations its
// author could not handle themselves: golive copies a Secret into the
// staging namespace and runs migrations with its own rights, so the author
// must be allowed to get each fromSecret (the migrations' Jobs are checked
// with the verification Jobs, checkJobAuthor).
func (w *Webhooks) checkContentAuthor(ctx context.Context, stored, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) error {
	for i, entry := range request.Spec.Config {
		if entry.Kind != golivev1alpha1.ConfigKindSecret || (stored != nil && secretCopied(stored, request, entry)) {
			continue
		}
		getSecret := authorizationv1.ResourceAttributes{Namespace: request.Namespace, Verb: "get", Resource: "secrets", Name: entry.FromSecret}
		allowed, reason, err := w.Access.Allowed(ctx, user, getSecret)
		if err != nil {
			return err
		}
		if !allowed {
			return refused("spec.config[%d].fromSecret: %s may not read Secret %s in namespace %s, which golive would copy into namespace %s (needs get on secrets/%s)%s",
				i, user.Username, entry.FromSecret, request.Namespace, request.Spec.Staging.Namespace, entry.FromSecret, because(reason))
		}
	}
	return nil
}

// secretCopied reports whether stored already carried entry, with the same
// source and into the same staging namespace: its author was checked then.
func secretCopied(stored, request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.ConfigEntry) bool {
	if stored.Spec.Staging.Namespace != request.Spec.Staging.Namespace {
		return false
	}
	for _, before := range stored.Spec.Config {
		if before.Kind == entry.Kind && before.Name == entry.Name && before.FromSecret == entry.FromSecret {
			return true
		}
	}
	return false
}

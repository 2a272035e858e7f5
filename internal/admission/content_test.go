package admission

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// configuredDeployment creates billing-api in namespace reading the
// ConfigMap billing-config (envFrom) and the Secret billing-credentials (a volume).
func (f *fixture) configuredDeployment(namespace string) {
	f.t.Helper()
	f.createDeployment(namespace, "billing-api", "api")
	var deployment appsv1.Deployment
	if err := f.env.Client.Get(f.t.Context(), client.ObjectKey{Namespace: namespace, Name: "billing-api"}, &deployment); err != nil {
		f.t.Fatal(err)
	}
	base := deployment.DeepCopy()
	spec := &deployment.Spec.Template.Spec
	spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}
	spec.Volumes = []corev1.Volume{{Name: "credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "billing-credentials"}}}}
	if err := f.env.Client.Patch(f.t.Context(), &deployment, client.MergeFrom(base)); err != nil {
		f.t.Fatal(err)
	}
}

// What a release carries besides images is refused when it would change
// nothing or clash with a check, and when its author could not copy the
// Secret or run the migration themselves.
func TestReleaseContentAdmission(t *testing.T) {
	f := newFixture(t)
	grey := f.namespace + "-grey"
	f.configuredDeployment(f.namespace)
	configMap := func(name string) func(*golivev1alpha1.UpdateRequest) {
		return func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Config = append(r.Spec.Config, golivev1alpha1.ConfigEntry{Kind: golivev1alpha1.ConfigKindConfigMap, Name: name, Data: map[string]string{"LOG_LEVEL": "info"}})
		}
	}
	secret := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Config = append(r.Spec.Config, golivev1alpha1.ConfigEntry{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-4-0"})
	}
	migration := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema", Template: verificationJob("schema", "").Template}}
	}

	f.create(alice, f.request("referenced").Mutate(configMap("billing-config")).Obj())

	err := f.as(t, alice).Create(t.Context(), f.request("unreferenced").Mutate(configMap("billing-config")).Mutate(configMap("billing-settings")).Obj())
	wantRefused(t, err, `spec.config[1].name: no target references ConfigMap "billing-settings" in namespace `+f.namespace)

	// A ConfigMap of that name is not the Secret the target reads.
	err = f.as(t, alice).Create(t.Context(), f.request("wrong-kind").Mutate(configMap("billing-credentials")).Obj())
	wantRefused(t, err, `spec.config[0].name: no target references ConfigMap "billing-credentials"`)

	err = f.as(t, alice).Create(t.Context(), f.request("secret").Mutate(secret).Obj())
	wantRefused(t, err, "spec.config[0].fromSecret: "+alice+" may not read Secret billing-credentials-2-4-0 in namespace "+f.namespace+
		", which golive would copy into namespace "+grey)

	err = f.as(t, alice).Create(t.Context(), f.request("clash").Mutate(migration).Mutate(stagingJob(verificationJob("migrate-schema", ""))).Obj())
	wantRefused(t, err, `spec.staging.verify.jobs[0].name: "migrate-schema" is the name of the Job golive runs for "schema"`)

	err = f.as(t, alice).Create(t.Context(), f.request("migration").Mutate(migration).Obj())
	wantRefused(t, err, "spec.migrations: "+alice+" may not create Jobs in namespace "+grey)

	f.env.BindClusterRole(t, grey, "test-job-author", alice)
	f.env.BindClusterRole(t, f.namespace, "test-job-author", alice)
	f.env.WaitForAccess(t, alice, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "create", Group: "batch", Resource: "jobs"})
	f.create(alice, f.request("migration").Mutate(migration).Obj())
}

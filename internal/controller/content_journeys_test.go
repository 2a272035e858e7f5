package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/verify"
)

// The configuration of release 2.4.0: billing-config with its full data, and
// billing-credentials taken from the Secret billing-credentials-2-4-0.
var releaseConfig = map[string]string{"LOG_LEVEL": "info", "SCHEMA": "42"}

// withContent carries configuration and a schema migration with the release.
func withContent(r *golivev1alpha1.UpdateRequest) {
	r.Spec.Config = []golivev1alpha1.ConfigEntry{
		{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Data: releaseConfig},
		{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-4-0"},
	}
	r.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema", Template: smokeJob("billing-migrate:2.4.0").Template}}
	// The migration reads the configuration too, and gets the release's.
	r.Spec.Migrations[0].Template.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}
}

// configuredDeployment has billing-api read billing-config (envFrom, and a
// volume) and billing-credentials (a volume) in both namespaces, as the
// version before the release does, and creates the release's Secret source.
func configuredDeployment(j *journey) {
	j.t.Helper()
	ctx := j.t.Context()
	for _, namespace := range []string{j.production, j.staging} {
		j.create(&corev1.ConfigMap{ObjectMeta: objectMeta(namespace, "billing-config"), Data: map[string]string{"LOG_LEVEL": "debug", "SCHEMA": "41"}})
		j.create(&corev1.Secret{ObjectMeta: objectMeta(namespace, "billing-credentials"), Data: map[string][]byte{"password": []byte("old")}})
		var deployment appsv1.Deployment
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "billing-api"}, &deployment); err != nil {
			j.t.Fatal(err)
		}
		base := deployment.DeepCopy()
		spec := &deployment.Spec.Template.Spec
		spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}
		spec.Volumes = []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}},
			{Name: "credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "billing-credentials"}}},
		}
		if err := env.Client.Patch(ctx, &deployment, client.MergeFrom(base)); err != nil {
			j.t.Fatal(err)
		}
		j.rollOut(namespace)
	}
	j.create(&corev1.Secret{ObjectMeta: objectMeta(j.production, "billing-credentials-2-4-0"), Data: map[string][]byte{"password": []byte("s3cret-2.4.0")}})
}

// configMapCopy and secretCopy are the names golive gives the release's copies.
var (
	configMapCopy = releasecontent.CopyName("billing-config", releasecontent.ContentHash(releaseConfig, nil))
	secretCopy    = releasecontent.CopyName("billing-credentials", releasecontent.ContentHash(nil, map[string][]byte{"password": []byte("s3cret-2.4.0")}))
)

// configOf is what Deployment billing-api in namespace reads: its envFrom
// ConfigMap, its config volume's ConfigMap, its credentials volume's Secret.
func (j *journey) configOf(namespace string) []string {
	var deployment appsv1.Deployment
	if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: namespace, Name: "billing-api"}, &deployment); err != nil {
		return []string{err.Error()}
	}
	spec := deployment.Spec.Template.Spec
	return []string{spec.Containers[0].EnvFrom[0].ConfigMapRef.Name, spec.Volumes[0].ConfigMap.Name, spec.Volumes[1].Secret.SecretName}
}

// waitForConfig waits until billing-api in namespace reads configMap and secret.
func (j *journey) waitForConfig(namespace, configMap, secret string) {
	j.t.Helper()
	want := []string{configMap, configMap, secret}
	eventually(j.t, func(context.Context) string {
		if got := j.configOf(namespace); !slices.Equal(got, want) {
			return fmt.Sprintf("billing-api in %s reads %v, want %v (request: %s)", namespace, got, want, j.describe())
		}
		return ""
	})
}

// wantCopies fails unless both copies exist in namespace, immutable, with the release's content.
func (j *journey) wantCopies(namespace string) {
	j.t.Helper()
	ctx := j.t.Context()
	var configMap corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: configMapCopy}, &configMap); err != nil {
		j.t.Fatalf("the ConfigMap copy in %s: %v", namespace, err)
	}
	if !ptr.Deref(configMap.Immutable, false) || configMap.Data["SCHEMA"] != "42" || configMap.Labels[golivev1alpha1.LabelConfigOf] != "billing-config" {
		j.t.Errorf("the ConfigMap copy in %s: immutable %v, data %v, labels %v", namespace, configMap.Immutable, configMap.Data, configMap.Labels)
	}
	var secret corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: secretCopy}, &secret); err != nil {
		j.t.Fatalf("the Secret copy in %s: %v", namespace, err)
	}
	if !ptr.Deref(secret.Immutable, false) || string(secret.Data["password"]) != "s3cret-2.4.0" {
		j.t.Errorf("the Secret copy in %s: immutable %v, data %v", namespace, secret.Immutable, secret.Data)
	}
}

func objectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// contentJourney is a journey of a release that carries configuration and a migration.
func contentJourney(t *testing.T, options ...journeyOption) *journey {
	return newJourney(t, append([]journeyOption{withBeforeRequest(configuredDeployment), withRequest(func(r *golivev1alpha1.UpdateRequest) {
		withContent(r)
		productionSmoke(r)
	})}, options...)...)
}

// contentRollbackScript plays a release with configuration and a migration
// whose production rollout fails: the migrations ran in both environments
// before their targets changed, and the rollback brings the previous
// configuration back with the previous images.
func contentRollbackScript(t *testing.T, j *journey) {
	// Staging: the copies come first, then the migration, then the grey target.
	j.finishCheckJob(verify.EnvironmentStaging, "migrate-schema", true)
	j.waitForConfig(j.staging, configMapCopy, secretCopy)
	j.wantCopies(j.staging)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	// Production is untouched until it starts: the copy there is unused.
	j.productionUntouched()
	if got := j.configOf(j.production); !slices.Equal(got, []string{"billing-config", "billing-config", "billing-credentials"}) {
		t.Errorf("production reads %v before it started", got)
	}
	j.approve("bob", "rnd-lead")
	j.finishCheckJob(verify.EnvironmentProduction, "migrate-schema", true)
	j.waitForImage(j.production, newImage)
	j.waitForConfig(j.production, configMapCopy, secretCopy)
	// Made with staging's, or, after a crash, when production started.
	j.wantCopies(j.production)
	j.failRollout(j.production)
	// The saved spec points at the previous objects: the rollback restores configuration.
	j.waitForImageAndRollOut(j.production, previousImage)
	j.waitForConfig(j.production, "billing-config", "billing-credentials")
	request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	j.waitForImage(j.staging, previousImage)
	j.waitForConfig(j.staging, "billing-config", "billing-credentials")
	request = j.waitForStagingRestored()

	wantConfig := []golivev1alpha1.ConfigCopyStatus{
		{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Copy: configMapCopy, Keys: []string{"LOG_LEVEL", "SCHEMA"}},
		{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: secretCopy, Keys: []string{"password"}},
	}
	if !slices.EqualFunc(request.Status.Config, wantConfig, func(a, b golivev1alpha1.ConfigCopyStatus) bool {
		return a.Kind == b.Kind && a.Name == b.Name && a.Copy == b.Copy && slices.Equal(a.Keys, b.Keys)
	}) {
		t.Errorf("status.config = %+v, want %+v", request.Status.Config, wantConfig)
	}
	for _, record := range []*golivev1alpha1.EnvironmentStatus{request.Status.Staging, request.Status.Production} {
		if len(record.Migrations) != 1 || record.Migrations[0].Name != "schema" || record.Migrations[0].Result != golivev1alpha1.CheckPassed {
			t.Errorf("migrations = %+v, want schema Passed", record.Migrations)
		}
	}
}

// A release's configuration is copied into both environments, the targets
// point at the copies once the migrations completed, and a rollback points
// them at the previous objects again.
func TestConfigChangeAppliedAndRolledBack(t *testing.T) {
	j := contentJourney(t)
	contentRollbackScript(t, j)
}

// A migration that fails in staging ends the request Failed before any grey
// target changed; production is untouched.
func TestMigrationFailureInStaging(t *testing.T) {
	j := contentJourney(t)
	j.finishCheckJob(verify.EnvironmentStaging, "migrate-schema", false)
	request := j.waitForPhase(golivev1alpha1.PhaseFailed)
	j.waitForEvents(golivev1alpha1.ReasonMigrationFailed)
	j.productionUntouched()
	if got := j.image(j.staging); got != previousImage {
		t.Errorf("staging runs %s, want %s: a grey target changed before the migration completed", got, previousImage)
	}
	for _, namespace := range []string{j.staging, j.production} {
		if got := j.configOf(namespace); !slices.Equal(got, []string{"billing-config", "billing-config", "billing-credentials"}) {
			t.Errorf("%s reads %v, want the previous configuration", namespace, got)
		}
	}
	if m := request.Status.Staging.Migrations; len(m) != 1 || m[0].Result != golivev1alpha1.CheckFailed {
		t.Errorf("staging migrations = %+v, want schema Failed", m)
	}
	if request.Status.Production != nil {
		t.Errorf("status.production = %+v: production started", request.Status.Production)
	}
}

// A migration that fails in production rolls back before any target
// changed: the targets keep the previous images and configuration.
func TestMigrationFailureInProduction(t *testing.T) {
	j := contentJourney(t)
	j.finishCheckJob(verify.EnvironmentStaging, "migrate-schema", true)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.finishCheckJob(verify.EnvironmentProduction, "migrate-schema", false)
	request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	j.waitForEvents(golivev1alpha1.ReasonMigrationFailed)
	j.productionUntouched()
	if got := j.configOf(j.production); !slices.Equal(got, []string{"billing-config", "billing-config", "billing-credentials"}) {
		t.Errorf("production reads %v, want the previous configuration", got)
	}
	if m := request.Status.Production.Migrations; len(m) != 1 || m[0].Result != golivev1alpha1.CheckFailed {
		t.Errorf("production migrations = %+v, want schema Failed", m)
	}
	want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", "ProductionStarted", "BackedUp",
		golivev1alpha1.ReasonMigrationFailed, golivev1alpha1.ReasonFailed}
	if got := timelineEvents(request); !slices.Equal(got, want[:min(len(got), len(want))]) || len(got) < len(want) {
		t.Errorf("timeline = %v, want it to begin with %v", got, want)
	}
}

// A Secret source that does not exist stalls the request in Pending, naming it.
func TestMissingSecretSourceStalls(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-4-0"}}
	}))
	j.waitForReady(golivev1alpha1.ReasonReferenceNotFound, `spec.config[0].fromSecret: Secret "billing-credentials-2-4-0" not found in namespace "`+j.production+`"`)
	if stalled := j.current().Status.Conditions; !slices.ContainsFunc(stalled, func(c metav1.Condition) bool {
		return c.Type == golivev1alpha1.ConditionStalled && c.Status == "True"
	}) {
		t.Errorf("conditions = %+v, want Stalled", stalled)
	}
}

// waitForReleaseJob waits until golive created the production Job of check
// ("backup-<name>", "restore-<name>") for the request's current spec.
func (j *journey) waitForReleaseJob(check string) {
	j.t.Helper()
	eventually(j.t, func(ctx context.Context) string {
		request := j.current()
		name := verify.JobName(request.Name, verify.EnvironmentProduction, check, ledger.SpecHash(&request.Spec))
		var job batchv1.Job
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: name}, &job); err != nil {
			return fmt.Sprintf("the %s Job: %v (request: %s)", check, err, j.describe())
		}
		return ""
	})
}

// The backup Jobs run before production changes, and on the rollback the
// restore Jobs run before the targets go back.
func TestBackupAndRestoreJobsOrder(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Backup.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-dump", Template: smokeJob("postgres:16").Template}}
		r.Spec.Rollback.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-restore", Template: smokeJob("postgres:16").Template}}
	}))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")

	j.waitForReleaseJob("backup-pg-dump")
	j.waitForReady(golivev1alpha1.ReasonProgressing, `Running backup Job "pg-dump"`)
	j.productionUntouched()
	j.finishCheckJob(verify.EnvironmentProduction, "backup-pg-dump", true)
	j.waitForImage(j.production, newImage)
	j.failRollout(j.production)

	j.waitForReleaseJob("restore-pg-restore")
	j.waitForReady(golivev1alpha1.ReasonProgressing, `running restore Job "pg-restore"`)
	if got := j.image(j.production); got != newImage {
		t.Errorf("production runs %s while the restore Job runs, want %s: the targets went back before the data", got, newImage)
	}
	j.finishCheckJob(verify.EnvironmentProduction, "restore-pg-restore", true)
	j.waitForImageAndRollOut(j.production, previousImage)
	request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	if jobs := request.Status.Backup.Jobs; len(jobs) != 1 || jobs[0].Name != "pg-dump" || jobs[0].Result != golivev1alpha1.CheckPassed {
		t.Errorf("status.backup.jobs = %+v", jobs)
	}
	if jobs := request.Status.Rollback.Jobs; len(jobs) != 1 || jobs[0].Name != "pg-restore" || jobs[0].Result != golivev1alpha1.CheckPassed {
		t.Errorf("status.rollback.jobs = %+v", jobs)
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/test/cluster"
)

// contentRequestName is the release that carries configuration, a schema
// migration and the dump and restore of data outside volumes.
const contentRequestName = "billing-2-5-0"

// releaseJob is a Job template kwok completes, reading billing-config.
func releaseJob(name string) golivev1alpha1.ReleaseJob {
	return golivev1alpha1.ReleaseJob{Name: name, Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		BackoffLimit: ptr.To(int32(0)),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: name, Image: "billing-db-tools:2.5.0", Args: []string{name},
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}}}}},
	}}}
}

// TestReleaseContentRollsBackConfigurationAndData is release 2.5.0 of the
// database: it changes billing-config, migrates the schema on the database
// volume in each environment before the targets change, dumps the external
// data before production, fails production's verification, and is rolled
// back: the volume holds the bytes from before the migration, the database
// reads the previous ConfigMap, and the restore Job ran before the workload
// went back.
func TestReleaseContentRollsBackConfigurationAndData(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-content", Authorization: true})
	cl.StartCSI(t)
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)
	c := cl.Client
	ctx := t.Context()

	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the migrated schema lost a column", http.StatusInternalServerError)
	}))
	t.Cleanup(health.Close)

	j := &journey{release: &release{t: t, c: c, key: client.ObjectKey{Namespace: production, Name: contentRequestName}}}
	namespaces(t, c, production)
	bindPeople(t, c, production)
	create(t, c, alwaysOpenWindow(production, windowName))
	for _, namespace := range []string{production, staging} {
		create(t, c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "billing-config"},
			Data: map[string]string{"SCHEMA": "41", "LOG_LEVEL": "debug"}})
		database := statefulSet(namespace)
		database.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}
		create(t, c, database)
	}
	for _, namespace := range []string{production, staging} {
		j.waitForPod(t, namespace, previousImage)
	}

	// What the running version wrote before the release.
	volume := cl.BoundVolume(t, production, claim, timeout)
	dir := cl.VolumeDir(t, volume)
	cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), randomBytes(t, 1<<20))
	cluster.WriteFile(t, filepath.Join(dir, "schema-version"), []byte("41\n"))
	before := cluster.Digests(t, dir)

	releaseConfig := map[string]string{"SCHEMA": "42", "LOG_LEVEL": "info"}
	configCopy := releasecontent.CopyName("billing-config", releasecontent.ContentHash(releaseConfig, nil))
	request := testfixtures.MakeUpdateRequest(production, contentRequestName).
		Release("2.5.0").
		Target(golivev1alpha1.TargetStatefulSet, database, map[string]string{container: newImage}).
		Staging(staging).Approval(roleRnDLead, 1).Window(windowName).
		ConfigMap("billing-config", releaseConfig).
		SnapshotVolumes(map[string]string{"app": "billing"}, cluster.VolumeSnapshotClass).
		Quiesce(golivev1alpha1.QuiesceScaleToZero).Retention(time.Hour).
		VerifyTimeout(verifyTimeout).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Migrations = []golivev1alpha1.ReleaseJob{releaseJob("schema")}
			r.Spec.Backup.Jobs = []golivev1alpha1.ReleaseJob{releaseJob("pg-dump")}
			r.Spec.Rollback.Jobs = []golivev1alpha1.ReleaseJob{releaseJob("pg-restore")}
			r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: health.URL + "/healthz", Period: metav1.Duration{Duration: time.Second}}}
		}).Obj()
	if err := as(t, cl, alice).Create(ctx, request); err != nil {
		t.Fatalf("alice creating the request: %v", err)
	}

	// Staging: the migration ran before the grey database changed, which now reads the copy.
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.waitForPod(t, staging, newImage)
	wantConfigMapOf(t, c, staging, configCopy)
	approve(t, cl, bob, j.key, roleRnDLead, "migration tested on grey")

	// Production: after the backup (the dump Job and the snapshot), the
	// migration Job runs; the test plays its write into the database volume,
	// which kwok's pods cannot do.
	migration := waitForReleaseJob(t, j, production, "migrate-schema")
	if current := boundVolumeName(t, c); current != volume.Name {
		t.Fatalf("claim %s is bound to %s while the migration runs, want %s", claim, current, volume.Name)
	}
	cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), []byte("rows migrated to schema 42"))
	cluster.WriteFile(t, filepath.Join(dir, "schema-version"), []byte("42\n"))
	t.Logf("played migration Job %s: schema 42 on volume %s", migration, volume.Name)
	j.waitForPod(t, production, newImage)
	wantConfigMapOf(t, c, production, configCopy)

	// The health check never passes: RollingBack, then RolledBack.
	rolledBack := j.waitForPhaseWithin(golivev1alpha1.PhaseRolledBack, verifyTimeout+timeout)
	t.Logf("the request's timeline:\n%s", timeline(rolledBack))

	t.Run("the migrations and the backup and restore Jobs ran", func(t *testing.T) {
		passed := func(results []golivev1alpha1.CheckStatus, name string) bool {
			return len(results) == 1 && results[0].Name == name && results[0].Result == golivev1alpha1.CheckPassed
		}
		if !passed(rolledBack.Status.Staging.Migrations, "schema") || !passed(rolledBack.Status.Production.Migrations, "schema") {
			t.Errorf("migrations: staging %+v, production %+v; want schema Passed in both", rolledBack.Status.Staging.Migrations, rolledBack.Status.Production.Migrations)
		}
		if !passed(rolledBack.Status.Backup.Jobs, "pg-dump") {
			t.Errorf("status.backup.jobs = %+v, want pg-dump Passed", rolledBack.Status.Backup.Jobs)
		}
		if !passed(rolledBack.Status.Rollback.Jobs, "pg-restore") {
			t.Errorf("status.rollback.jobs = %+v, want pg-restore Passed", rolledBack.Status.Rollback.Jobs)
		}
		restore := verify.JobName(contentRequestName, verify.EnvironmentProduction, "restore-pg-restore", ledger.SpecHash(&rolledBack.Spec))
		var job batchv1.Job
		if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: restore}, &job); err != nil || job.Status.Succeeded != 1 {
			t.Errorf("the restore Job %s: %v, succeeded %d", restore, err, job.Status.Succeeded)
		}
	})

	t.Run("the volume holds the bytes from before the migration", func(t *testing.T) {
		newVolume := cl.BoundVolume(t, production, claim, timeout)
		if newVolume.Name == volume.Name {
			t.Fatalf("claim %s is still bound to the migrated volume %s", claim, volume.Name)
		}
		if got := cluster.Digests(t, cl.VolumeDir(t, newVolume)); got != before {
			t.Errorf("the restored volume %s differs from the data before the migration:\n got:\n%s\nwant:\n%s", newVolume.Name, got, before)
		}
	})

	t.Run("the database reads the previous ConfigMap and runs the previous version", func(t *testing.T) {
		wantConfigMapOf(t, c, production, "billing-config")
		j.waitForPod(t, production, previousImage)
		wantConfigMapOf(t, c, staging, "billing-config")
	})
}

// wantConfigMapOf waits until the database's pod template in namespace reads configMap.
func wantConfigMapOf(t *testing.T, c client.Client, namespace, configMap string) {
	t.Helper()
	cluster.Eventually(t, timeout, fmt.Sprintf("StatefulSet %s/%s to read ConfigMap %s", namespace, database, configMap), func(ctx context.Context) (bool, string, error) {
		var sts appsv1.StatefulSet
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: database}, &sts); err != nil {
			return false, "", err
		}
		var names []string
		for _, from := range sts.Spec.Template.Spec.Containers[0].EnvFrom {
			if from.ConfigMapRef != nil {
				names = append(names, from.ConfigMapRef.Name)
			}
		}
		return slices.Equal(names, []string{configMap}), fmt.Sprintf("reads %v", names), nil
	})
}

// waitForReleaseJob waits until golive created the Job of check in namespace
// for the request's current spec, and returns its name.
func waitForReleaseJob(t *testing.T, j *journey, namespace, check string) string {
	t.Helper()
	var name string
	cluster.Eventually(t, timeout, fmt.Sprintf("the Job of %s in %s", check, namespace), func(ctx context.Context) (bool, string, error) {
		request := j.current()
		env := verify.EnvironmentProduction
		if namespace == staging {
			env = verify.EnvironmentStaging
		}
		name = verify.JobName(request.Name, env, check, ledger.SpecHash(&request.Spec))
		err := j.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &batchv1.Job{})
		return err == nil, "request: " + j.describe(), client.IgnoreNotFound(err)
	})
	return name
}

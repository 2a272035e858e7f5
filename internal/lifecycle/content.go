package lifecycle

import (
	"fmt"
	"slices"
	"strings"

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
	record.Migrations = migrationResults(d.spec.Migrations, record.Migrations, observation.Migrations)
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

// migrationResults is the result of each migration, in spec order: a result
// once final is kept (its Job may be gone), otherwise what was observed.
func migrationResults(migrations []golivev1alpha1.ReleaseJob, recorded, observed []golivev1alpha1.CheckStatus) []golivev1alpha1.CheckStatus {
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

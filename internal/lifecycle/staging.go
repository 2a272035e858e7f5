package lifecycle

import (
	"fmt"
	"strings"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// environment says which environment applyTargets and verify work on.
type environment struct {
	name        Environment
	apply       ActionKind
	migrate     ActionKind
	verify      ActionKind
	nextPhase   golivev1alpha1.Phase
	updatedGate string
}

var (
	stagingEnvironment = environment{name: Staging, apply: ApplyStaging, migrate: RunStagingMigration, verify: VerifyStaging,
		nextPhase: golivev1alpha1.PhaseVerifyingStaging}
	productionEnvironment = environment{name: Production, apply: ApplyProduction, migrate: RunProductionMigration, verify: VerifyProduction,
		nextPhase: golivev1alpha1.PhaseVerifying, updatedGate: golivev1alpha1.ConditionUpdated}
)

// rollingOut is the progress message from a target's update until it rolled
// out: the same throughout, and without the rollout's counts, so that the
// rollout's every tick is not a status write.
func rollingOut(target golivev1alpha1.Target, namespace string) string {
	return fmt.Sprintf("Rolling out %s %q in namespace %q", target.Kind, target.Name, namespace)
}

// applyTargets updates the targets one after another, each rolled out before
// the next, within the environment's verify.timeout.
func (d *decider) applyTargets(env environment) {
	if env == stagingEnvironment && !d.stagingSpecsSaved() {
		return
	}
	if !d.contentReady(env) {
		return
	}
	record, observation, namespace, verification := d.environment(env)
	deadline := verificationDeadline(d.spec, &d.status, env.name)
	for i, target := range d.spec.Targets {
		t := observed(observation.Targets, i)
		if !t.ImagesApplied {
			// Recorded before the apply, so a restart knows how far the update got.
			record.TargetsApplied = int32(i)
			d.act(env.apply, i)
			d.progress(golivev1alpha1.ReasonProgressing, rollingOut(target, namespace))
			return
		}
		if want, quiesced := d.quiescedReplicas(env, target); quiesced && t.Replicas != want {
			d.act(ResumeTarget, i)
			d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Scaling %s %q back to %d replicas", target.Kind, target.Name, want))
			return
		}
		if t.Health == Failed {
			d.fail(env, golivev1alpha1.ReasonVerificationFailed, fmt.Sprintf("%s %q in namespace %q failed to roll out: %s", target.Kind, target.Name, namespace, t.Message))
			return
		}
		if t.Health != Healthy {
			if !d.now.Before(deadline) {
				d.fail(env, golivev1alpha1.ReasonVerificationFailed, fmt.Sprintf("%s %q in namespace %q did not roll out within %s: %s",
					target.Kind, target.Name, namespace, verification.Timeout.Duration, t.Message))
				return
			}
			d.waitUntil(deadline)
			d.progress(golivev1alpha1.ReasonProgressing, rollingOut(target, namespace))
			return
		}
	}
	record.TargetsApplied = int32(len(d.spec.Targets))
	record.UpdatedAt = d.timestamp()
	if env.updatedGate != "" {
		d.gate(env.updatedGate, true, golivev1alpha1.ReasonSucceeded, "Every production target runs the new images")
	}
	d.enter(env.nextPhase, golivev1alpha1.ReasonVerifying, fmt.Sprintf("Every target in namespace %q runs the new images; verifying", namespace))
}

// quiescedReplicas is the count target had before the quiesce, in production.
func (d *decider) quiescedReplicas(env environment, target golivev1alpha1.Target) (int32, bool) {
	if env != productionEnvironment || d.status.Backup == nil {
		return 0, false
	}
	want, found := d.status.Backup.QuiescedReplicas[QuiesceKey(target)]
	return want, found
}

// environment returns the status record, observation, namespace and verification of env.
func (d *decider) environment(env environment) (*golivev1alpha1.EnvironmentStatus, EnvironmentObservation, string, golivev1alpha1.Verification) {
	if env == productionEnvironment {
		return d.status.Production, d.world.Production, d.request.Namespace, d.spec.Verify
	}
	return d.status.Staging, d.world.Staging, d.spec.Staging.Namespace, d.spec.Staging.Verify
}

// verify follows an environment's verification; it reports the outcome once known.
func (d *decider) verify(env environment) (passed bool, failure string) {
	record, observation, namespace, verification := d.environment(env)
	if !d.verificationObserved(env) {
		// Entered in this very decision, as when the environment ran the
		// images already: the controller read no checks, and no rollout or
		// Job will wake the request, so it looks again at once.
		d.observeAgain = true
		d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Verifying namespace %q", namespace))
		return false, ""
	}
	record.Checks = observation.Verification.Checks
	switch observation.Verification.State {
	case VerificationPassed:
		return true, ""
	case VerificationFailed:
		return false, fmt.Sprintf("%s verification failed: %s", env.name, observation.Verification.Message)
	case VerificationInconclusive:
		if retry, ok := d.pendingRetry(record); ok {
			d.retryVerification(env, record, retry)
			return false, ""
		}
		// Neither passed nor failed: a person decides, and the timeout waits.
		d.stall(golivev1alpha1.ReasonVerificationInconclusive, fmt.Sprintf("%s verification is inconclusive: %s; retry it with %s or abort the request with %s",
			env.name, observation.Verification.Message, golivev1alpha1.AnnotationRetry, golivev1alpha1.AnnotationAbort))
		return false, ""
	}
	deadline := verificationDeadline(d.spec, &d.status, env.name)
	if !d.now.Before(deadline) {
		return false, fmt.Sprintf("%s verification did not pass within %s: %s", env.name, verification.Timeout.Duration, observation.Verification.Message)
	}
	d.act(env.verify, 0)
	d.waitUntil(deadline)
	d.waitUntil(observation.Verification.NextProbeAt)
	message := fmt.Sprintf("Verifying namespace %q", namespace)
	if planted := observation.Verification.Planted; len(planted) > 0 {
		message += ": " + strings.Join(planted, "; ")
	}
	d.progress(golivev1alpha1.ReasonProgressing, message)
	return false, ""
}

// verificationObserved reports whether the controller observed env's
// verification for this decision, as ObservationsNeeded asked it to.
func (d *decider) verificationObserved(env environment) bool {
	needs := ObservationsNeeded(d.request, d.world.SpecHash)
	if env == productionEnvironment {
		return needs.ProductionVerification
	}
	return needs.StagingVerification
}

func (d *decider) verifyStaging() {
	passed, failure := d.verify(stagingEnvironment)
	switch {
	case failure != "":
		d.fail(stagingEnvironment, golivev1alpha1.ReasonVerificationFailed, failure)
	case passed:
		d.gate(golivev1alpha1.ConditionStagingVerified, true, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")
		d.recordGate(golivev1alpha1.GateStagingVerified)
		// This decision saw the verification pass itself, from what golive
		// observed and checked; the record it signs with this status says the same.
		d.world.Attested.StagingVerifiedAt = d.now
		if reverifying(&d.status) {
			// The soak counts from the first verification and the approvals
			// stand: back to the schedule, without soaking again.
			d.status.Staging.ReverifiedAt = d.timestamp()
			d.enter(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonStagingReverified, "Staging passed its verification again")
			return
		}
		d.status.Staging.VerifiedAt = d.timestamp()
		if d.world.Attested.StagingFirstVerifiedAt.IsZero() {
			d.world.Attested.StagingFirstVerifiedAt = d.now
		}
		d.enter(golivev1alpha1.PhaseSoaking, golivev1alpha1.ReasonStagingVerified, "Staging passed its verification")
	}
}

func (d *decider) soaking() {
	if end := soakEnd(d.spec, &d.status); d.now.Before(end) {
		d.waitUntil(end)
		d.progress(golivev1alpha1.ReasonSoaking, "Soaking until "+end.UTC().Format(time.RFC3339))
		return
	}
	d.enter(golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.ReasonSoakCompleted, "Soak completed; waiting for approvals")
}

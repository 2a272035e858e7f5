package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// BackupTimeout bounds BackingUp: snapshots not ready by then fail the backup,
// and production is rolled back before any target changed.
const BackupTimeout = 30 * time.Minute

// PollInterval is how soon a request looks again while it waits for
// something golive does not watch: pods stopping, claims being restored.
const PollInterval = 2 * time.Second

// expectedDurationMargin is added to the production verify.timeout when
// spec.window.expectedDuration is unset.
const expectedDurationMargin = 15 * time.Minute

// maxSteps bounds the phases one decision may pass through without an action.
const maxSteps = 16

// Decide returns what to do for request, given the world observed at now.
func Decide(request *golivev1alpha1.UpdateRequest, world World, now time.Time) Decision {
	d := &decider{
		request: request,
		spec:    &request.Spec,
		world:   world,
		now:     now,
		status:  *request.Status.DeepCopy(),
	}
	d.status.ObservedGeneration = request.Generation
	if d.status.RequestedBy == "" {
		d.status.RequestedBy = world.RequestedBy
	}
	if d.status.Phase == "" {
		d.status.SpecHash = world.SpecHash
		d.enter(golivev1alpha1.PhasePending, "Created", "Update request for release "+request.Spec.Release+" created")
	}
	d.run()
	d.setConditions()
	decision := Decision{Status: d.status, Action: d.action, Events: d.events}
	if !d.wakeAt.IsZero() && d.wakeAt.After(now) {
		decision.RequeueAfter = d.wakeAt.Sub(now)
	}
	return decision
}

// decider holds one decision in the making.
type decider struct {
	request *golivev1alpha1.UpdateRequest
	spec    *golivev1alpha1.UpdateRequestSpec
	world   World
	now     time.Time

	status golivev1alpha1.UpdateRequestStatus
	action Action
	events []Event
	// wakeAt is when a time-based wait ends.
	wakeAt time.Time
	// progress says what the request is doing or waiting for (reason, message).
	progressReason, progressMessage string
	// stalledReason is set when only a person can unblock the request.
	stalledReason, stalledMessage string
	// approvals is the tally of the verified approvals, counted once per decision.
	approvals approvalTally
}

func (d *decider) run() {
	if d.status.Phase.IsTerminal() {
		d.ended()
		return
	}
	if d.specChanged() {
		return
	}
	d.approvals = d.tallyApprovals()
	if d.commanded() {
		return
	}
	for range maxSteps {
		before := d.status.Phase
		switch before {
		case golivev1alpha1.PhasePending:
			d.pending()
		case golivev1alpha1.PhaseStaging:
			d.applyTargets(stagingEnvironment)
		case golivev1alpha1.PhaseVerifyingStaging:
			d.verifyStaging()
		case golivev1alpha1.PhaseSoaking:
			d.soaking()
		case golivev1alpha1.PhaseAwaitingApproval:
			d.awaitingApproval()
		case golivev1alpha1.PhaseScheduled:
			d.scheduled()
		case golivev1alpha1.PhaseBackingUp:
			d.backingUp()
		case golivev1alpha1.PhaseUpdating:
			d.applyTargets(productionEnvironment)
		case golivev1alpha1.PhaseVerifying:
			d.verifyProduction()
		case golivev1alpha1.PhaseAwaitingAcceptance:
			d.awaitingAcceptance()
		case golivev1alpha1.PhaseRollingBack:
			d.rollingBack()
		}
		// Continue only through phases that ended without an action or a wait.
		if d.status.Phase == before || d.status.Phase.IsTerminal() || d.action.Kind != NoAction {
			if d.status.Phase.IsTerminal() {
				d.ended()
			}
			return
		}
	}
}

// specChanged restarts a request whose spec changed before production; the
// approvals were bound to the old spec. From BackingUp on the webhook refuses
// spec changes; should one get through, the request stops for a person.
func (d *decider) specChanged() bool {
	if d.status.SpecHash == "" {
		d.status.SpecHash = d.world.SpecHash
	}
	if d.status.SpecHash == d.world.SpecHash {
		return false
	}
	if d.status.Phase.TouchesProduction() {
		d.stall(golivev1alpha1.ReasonInvalidSpec,
			"spec: changed after production started; it is immutable from BackingUp on, restore it to continue")
		return true
	}
	hadApprovals := len(d.status.Approvals) > 0
	d.status.SpecHash = d.world.SpecHash
	d.status.Staging, d.status.Schedule, d.status.Approvals, d.status.ApprovalSummary = nil, nil, nil, ""
	for _, gate := range []string{golivev1alpha1.ConditionStagingVerified, golivev1alpha1.ConditionApproved, golivev1alpha1.ConditionScheduled} {
		meta.RemoveStatusCondition(&d.status.Conditions, gate)
	}
	message := "The spec changed; starting again from Pending"
	if hadApprovals {
		message += "; earlier approvals no longer count"
		d.warn(golivev1alpha1.ReasonApprovalsInvalidated, "The spec changed, so the approvals given for the previous spec no longer count")
	}
	d.enter(golivev1alpha1.PhasePending, "SpecChanged", message)
	return false
}

// commanded carries out abort and reject; it reports whether the decision is made.
func (d *decider) commanded() bool {
	phase := d.status.Phase
	if abort, ok := d.lastCommand(ActionAbort, ""); ok {
		reason := fmt.Sprintf("Aborted by %s: %s", abort.User, abort.Comment)
		switch {
		case !phase.TouchesProduction():
			d.end(golivev1alpha1.PhaseAborted, golivev1alpha1.ReasonAborted, reason, abort.User)
			return true
		case phase != golivev1alpha1.PhaseRollingBack:
			d.startRollback(golivev1alpha1.ReasonAborted, reason, abort.User)
			return false
		}
	}
	if reject, ok := d.lastCommand(ActionReject, ""); ok {
		reason := fmt.Sprintf("Rejected by %s (%s): %s", reject.User, reject.Role, reject.Comment)
		switch {
		case !phase.TouchesProduction():
			d.end(golivev1alpha1.PhaseRejected, golivev1alpha1.ReasonRejected, reason, reject.User)
			return true
		case phase == golivev1alpha1.PhaseAwaitingAcceptance && d.spec.Acceptance != nil && reject.Role == d.spec.Acceptance.Role:
			d.startRollback(golivev1alpha1.ReasonRejected, reason, reject.User)
			return false
		}
	}
	return false
}

func (d *decider) pending() {
	var problems []string
	staging := d.spec.Staging.Namespace
	switch {
	case !d.world.StagingNamespace.Found:
		problems = append(problems, fmt.Sprintf("spec.staging.namespace: namespace %q not found", staging))
	case !d.world.StagingNamespace.OptedIn:
		problems = append(problems, fmt.Sprintf("spec.staging.namespace: namespace %q lacks the label %s=%s",
			staging, golivev1alpha1.LabelStagingFor, d.request.Namespace))
	}
	if !d.world.Window.Found {
		problems = append(problems, fmt.Sprintf("spec.window.name: GoLiveWindow %q not found in namespace %q", d.spec.Window.Name, d.request.Namespace))
	} else if _, err := window.Compile(d.world.Window.Spec); err != nil {
		problems = append(problems, fmt.Sprintf("spec.window.name: GoLiveWindow %q is invalid: %v", d.spec.Window.Name, err))
	} else if d.spec.Emergency != nil && d.world.Window.Spec.Emergency == nil {
		problems = append(problems, fmt.Sprintf("spec.emergency: GoLiveWindow %q allows no emergency updates", d.spec.Window.Name))
	}
	for i, target := range d.spec.Targets {
		problems = append(problems, targetProblems(i, target, d.request.Namespace, observed(d.world.Production.Targets, i))...)
		problems = append(problems, targetProblems(i, target, staging, observed(d.world.Staging.Targets, i))...)
	}
	if backup := d.spec.Backup; backup.VolumeClaimSelector != nil {
		if !d.world.Backup.SnapshotClassFound {
			problems = append(problems, fmt.Sprintf("spec.backup.volumeSnapshotClassName: VolumeSnapshotClass %q not found", backup.VolumeSnapshotClassName))
		}
		if len(d.world.Backup.Claims) == 0 {
			problems = append(problems, fmt.Sprintf("spec.backup.volumeClaimSelector: selects no PersistentVolumeClaim in namespace %q", d.request.Namespace))
		}
	}
	problems = append(problems, d.world.Problems...)
	if len(problems) > 0 {
		reason := golivev1alpha1.ReasonReferenceNotFound
		switch {
		case d.world.StagingNamespace.Found && !d.world.StagingNamespace.OptedIn:
			reason = golivev1alpha1.ReasonStagingNotOptedIn
		case len(d.world.Problems) > 0:
			reason = golivev1alpha1.ReasonInvalidSpec
		}
		d.stall(reason, strings.Join(problems, "; "))
		return
	}
	if d.world.LockedBy != "" {
		d.wait(golivev1alpha1.ReasonTargetLocked, fmt.Sprintf("UpdateRequest %q holds one of the targets; waiting until it ends", d.world.LockedBy))
		return
	}
	if d.spec.Suspend {
		d.wait(golivev1alpha1.ReasonSuspended, "Suspended before staging")
		return
	}
	d.status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: d.timestamp()}
	d.enter(golivev1alpha1.PhaseStaging, "StagingStarted", "Updating the staging namespace "+staging)
}

func targetProblems(i int, target golivev1alpha1.Target, namespace string, observation TargetObservation) []string {
	if !observation.Found {
		return []string{fmt.Sprintf("spec.targets[%d]: %s %q not found in namespace %q", i, target.Kind, target.Name, namespace)}
	}
	var problems []string
	for _, container := range observation.MissingContainers {
		problems = append(problems, fmt.Sprintf("spec.targets[%d].images: %s %q in namespace %q has no container %q",
			i, target.Kind, target.Name, namespace, container))
	}
	return problems
}

func observed(targets []TargetObservation, i int) TargetObservation {
	if i < len(targets) {
		return targets[i]
	}
	return TargetObservation{}
}

// environment says which environment applyTargets works on.
type environment struct {
	name        string
	apply       ActionKind
	verify      ActionKind
	nextPhase   golivev1alpha1.Phase
	updatedGate string
}

var (
	stagingEnvironment = environment{name: "staging", apply: ApplyStaging, verify: VerifyStaging,
		nextPhase: golivev1alpha1.PhaseVerifyingStaging}
	productionEnvironment = environment{name: "production", apply: ApplyProduction, verify: VerifyProduction,
		nextPhase: golivev1alpha1.PhaseVerifying, updatedGate: golivev1alpha1.ConditionUpdated}
)

// verificationDeadline is when env's verify.timeout, rollouts included, runs
// out: it counts for staging from its first change, for production from the
// end of the backup.
func (d *decider) verificationDeadline(env environment) time.Time {
	if env == productionEnvironment {
		return d.status.Backup.CompletedAt.Add(d.spec.Verify.Timeout.Duration)
	}
	return d.status.Staging.StartedAt.Add(d.spec.Staging.Verify.Timeout.Duration)
}

// rollingOut is the progress message from a target's update until it rolled
// out: the same throughout, and without the rollout's counts, so that the
// rollout's every tick is not a status write.
func rollingOut(target golivev1alpha1.Target, namespace string) string {
	return fmt.Sprintf("Rolling out %s %q in namespace %q", target.Kind, target.Name, namespace)
}

// applyTargets updates the targets one after another, each rolled out before
// the next, within the environment's verify.timeout.
func (d *decider) applyTargets(env environment) {
	record, observation, namespace, verification := d.environment(env)
	deadline := d.verificationDeadline(env)
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
	d.enter(env.nextPhase, "Verifying", fmt.Sprintf("Every target in namespace %q runs the new images; verifying", namespace))
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
	record.Checks = observation.Verification.Checks
	switch observation.Verification.State {
	case VerificationPassed:
		record.VerifiedAt = d.timestamp()
		return true, ""
	case VerificationFailed:
		return false, fmt.Sprintf("%s verification failed: %s", env.name, observation.Verification.Message)
	}
	deadline := d.verificationDeadline(env)
	if !d.now.Before(deadline) {
		return false, fmt.Sprintf("%s verification did not pass within %s: %s", env.name, verification.Timeout.Duration, observation.Verification.Message)
	}
	d.act(env.verify, 0)
	d.waitUntil(deadline)
	d.waitUntil(observation.Verification.NextProbeAt)
	d.progress(golivev1alpha1.ReasonProgressing, fmt.Sprintf("Verifying namespace %q", namespace))
	return false, ""
}

func (d *decider) verifyStaging() {
	passed, failure := d.verify(stagingEnvironment)
	switch {
	case failure != "":
		d.fail(stagingEnvironment, golivev1alpha1.ReasonVerificationFailed, failure)
	case passed:
		d.gate(golivev1alpha1.ConditionStagingVerified, true, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")
		d.enter(golivev1alpha1.PhaseSoaking, "StagingVerified", "Staging passed its verification")
	}
}

// soakEnd is when production may start at the earliest after staging verified.
func (d *decider) soakEnd() time.Time {
	verified := d.status.Staging.VerifiedAt.Time
	if d.spec.Emergency != nil {
		return verified
	}
	return verified.Add(d.spec.Staging.Soak.Duration)
}

func (d *decider) soaking() {
	if end := d.soakEnd(); d.now.Before(end) {
		d.waitUntil(end)
		d.progress(golivev1alpha1.ReasonSoaking, "Soaking until "+end.UTC().Format(time.RFC3339))
		return
	}
	d.enter(golivev1alpha1.PhaseAwaitingApproval, "SoakCompleted", "Soak completed; waiting for approvals")
}

func (d *decider) awaitingApproval() {
	tally := d.approvals
	if !tally.satisfied {
		d.gate(golivev1alpha1.ConditionApproved, false, golivev1alpha1.ReasonAwaitingApproval, tally.missing)
		d.progress(golivev1alpha1.ReasonAwaitingApproval, tally.missing)
		return
	}
	d.gate(golivev1alpha1.ConditionApproved, true, golivev1alpha1.ReasonSucceeded, "Every required role approved")
	d.enter(golivev1alpha1.PhaseScheduled, "Approved", "Every required role approved")
}

// expectedDuration is how much of the open window production needs.
func (d *decider) expectedDuration() time.Duration {
	if d.spec.Window.ExpectedDuration != nil {
		return d.spec.Window.ExpectedDuration.Duration
	}
	return d.spec.Verify.Timeout.Duration + expectedDurationMargin
}

func (d *decider) scheduled() {
	if !d.world.Window.Found {
		d.stall(golivev1alpha1.ReasonReferenceNotFound, fmt.Sprintf("spec.window.name: GoLiveWindow %q not found in namespace %q", d.spec.Window.Name, d.request.Namespace))
		return
	}
	calendar, err := window.Compile(d.world.Window.Spec)
	if err != nil {
		d.stall(golivev1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.window.name: GoLiveWindow %q is invalid: %v", d.spec.Window.Name, err))
		return
	}
	tally := d.approvals
	need := d.expectedDuration()
	schedule := &golivev1alpha1.ScheduleStatus{Window: d.spec.Window.Name}
	if d.status.Schedule != nil {
		schedule.NoticeSentAt = d.status.Schedule.NoticeSentAt
	}
	d.status.Schedule = schedule

	var plannedStart time.Time
	if d.spec.Emergency != nil {
		plannedStart = latest(d.soakEnd(), tally.lastAt)
		schedule.NotBefore, schedule.PlannedStart = timePtr(plannedStart), timePtr(plannedStart)
		policy := d.world.Window.Spec.Emergency
		if policy == nil {
			d.stall(golivev1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.emergency: GoLiveWindow %q allows no emergency updates", d.spec.Window.Name))
			return
		}
		if d.world.Window.EmergencyUsed >= policy.MaxPerPeriod {
			d.gate(golivev1alpha1.ConditionScheduled, false, golivev1alpha1.ReasonEmergencyBudgetExhausted, "")
			d.wait(golivev1alpha1.ReasonEmergencyBudgetExhausted, fmt.Sprintf("GoLiveWindow %q allows %d emergency updates per %s and %d were used",
				d.spec.Window.Name, policy.MaxPerPeriod, policy.Period.Duration, d.world.Window.EmergencyUsed))
			return
		}
	} else {
		notBefore := latest(d.soakEnd(), tally.lastAt.Add(d.world.Window.Spec.LeadTime.Duration))
		schedule.NotBefore = timePtr(notBefore)
		from := notBefore
		// Lead time is notice before an opening starts; without it any open window will do.
		if leadTime := d.world.Window.Spec.LeadTime.Duration; leadTime > 0 {
			opening, ok := calendar.NextOpeningAfter(tally.lastAt, leadTime)
			if !ok {
				d.stall(golivev1alpha1.ReasonNeverOpens, fmt.Sprintf("GoLiveWindow %q has no opening at least %s after the last approval within %s",
					d.spec.Window.Name, leadTime, window.Horizon))
				return
			}
			from = latest(from, opening.Start)
		}
		// A planned start that has passed (the window closed meanwhile) moves on.
		from = latest(from, d.now)
		if calendar.Fits(from, need) {
			plannedStart = from
		} else if fitting, ok := calendar.NextFitting(from, need); ok {
			plannedStart = latest(fitting.Start, from)
		} else {
			d.stall(golivev1alpha1.ReasonNeverOpens, fmt.Sprintf("GoLiveWindow %q has no opening with %s left after %s within %s",
				d.spec.Window.Name, need, from.UTC().Format(time.RFC3339), window.Horizon))
			return
		}
		schedule.PlannedStart = timePtr(plannedStart)
	}
	d.gate(golivev1alpha1.ConditionScheduled, true, golivev1alpha1.ReasonSucceeded, "Planned start "+plannedStart.UTC().Format(time.RFC3339))
	if d.now.Before(plannedStart) {
		d.waitUntil(plannedStart)
		d.announce(plannedStart)
		if freeze, frozen := calendar.FrozenAt(d.now); frozen && d.spec.Emergency == nil {
			d.progress(golivev1alpha1.ReasonFrozen, fmt.Sprintf("A freeze of GoLiveWindow %q forbids production changes until %s; planned start %s",
				d.spec.Window.Name, freeze.End.UTC().Format(time.RFC3339), plannedStart.UTC().Format(time.RFC3339)))
			return
		}
		d.progress(golivev1alpha1.ReasonWindowClosed, "Waiting for the go-live window; planned start "+plannedStart.UTC().Format(time.RFC3339))
		return
	}
	maxConcurrent := max(d.world.Window.Spec.MaxConcurrent, 1)
	running := slices.DeleteFunc(slices.Clone(d.world.Window.ActiveUpdates), func(name string) bool { return name == d.request.Name })
	if int32(len(running)) >= maxConcurrent {
		d.wait(golivev1alpha1.ReasonConcurrencyLimit, fmt.Sprintf("GoLiveWindow %q allows %d production updates at once; running: %s",
			d.spec.Window.Name, maxConcurrent, strings.Join(running, ", ")))
		return
	}
	if d.spec.Suspend {
		d.wait(golivev1alpha1.ReasonSuspended, "Suspended before production")
		return
	}
	d.status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: d.timestamp()}
	d.enter(golivev1alpha1.PhaseBackingUp, "ProductionStarted", "Backing up before updating production")
}

func (d *decider) backingUp() {
	backup := d.status.Backup
	if backup == nil {
		backup = &golivev1alpha1.BackupStatus{}
		d.status.Backup = backup
	}
	if d.world.Backup.SavedSpecs == "" {
		d.act(SaveSpecs, 0)
		d.progress(golivev1alpha1.ReasonProgressing, "Saving the production workload specs")
		return
	}
	backup.SavedSpecs = d.world.Backup.SavedSpecs
	deadline := d.status.Production.StartedAt.Add(BackupTimeout)
	if d.spec.Backup.Quiesce == golivev1alpha1.QuiesceScaleToZero && !d.quiesced(backup, deadline) {
		return
	}
	if d.spec.Backup.VolumeClaimSelector != nil {
		backup.Snapshots = d.world.Backup.Snapshots
		if d.world.Backup.SnapshotError != "" {
			d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, d.world.Backup.SnapshotError)
			d.startRollback(golivev1alpha1.ReasonSnapshotFailed, "Backup failed: "+d.world.Backup.SnapshotError, Actor)
			return
		}
		if !allSnapshotsReady(d.world.Backup.Claims, d.world.Backup.Snapshots) {
			if !d.now.Before(deadline) {
				message := fmt.Sprintf("Backup failed: the snapshots were not ready within %s", BackupTimeout)
				d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, message)
				d.startRollback(golivev1alpha1.ReasonSnapshotFailed, message, Actor)
				return
			}
			d.act(TakeSnapshots, 0)
			d.waitUntil(deadline)
			d.progress(golivev1alpha1.ReasonProgressing, "Waiting for the volume snapshots to be ready")
			return
		}
	}
	backup.CompletedAt = d.timestamp()
	d.gate(golivev1alpha1.ConditionBackedUp, true, golivev1alpha1.ReasonSucceeded, "Workload specs saved and volume snapshots ready")
	d.enter(golivev1alpha1.PhaseUpdating, "BackedUp", "Backup completed; updating production")
}

// quiesced stops the targets before the snapshots, their replica counts
// recorded first so that production is brought back to them; it reports
// whether they are stopped.
func (d *decider) quiesced(backup *golivev1alpha1.BackupStatus, deadline time.Time) bool {
	if backup.QuiescedReplicas == nil {
		backup.QuiescedReplicas = map[string]int32{}
		for i, target := range d.spec.Targets {
			backup.QuiescedReplicas[QuiesceKey(target)] = observed(d.world.Production.Targets, i).Replicas
		}
	}
	if d.world.Backup.Stopped {
		return true
	}
	if !d.now.Before(deadline) {
		message := fmt.Sprintf("Backup failed: the targets did not stop within %s: %s", BackupTimeout, d.world.Backup.StoppedMessage)
		d.gate(golivev1alpha1.ConditionBackedUp, false, golivev1alpha1.ReasonSnapshotFailed, message)
		d.startRollback(golivev1alpha1.ReasonSnapshotFailed, message, Actor)
		return false
	}
	d.act(StopTargets, 0)
	d.waitUntil(d.now.Add(PollInterval))
	d.progress(golivev1alpha1.ReasonProgressing, "Stopping the targets before the snapshots: "+d.world.Backup.StoppedMessage)
	return false
}

// QuiesceKey is the key of target in status.backup.quiescedReplicas: "Kind/name".
func QuiesceKey(target golivev1alpha1.Target) string {
	return string(target.Kind) + "/" + target.Name
}

func allSnapshotsReady(claims []string, snapshots []golivev1alpha1.SnapshotStatus) bool {
	for _, claim := range claims {
		i := slices.IndexFunc(snapshots, func(s golivev1alpha1.SnapshotStatus) bool { return s.Claim == claim })
		if i < 0 || !snapshots[i].ReadyToUse {
			return false
		}
	}
	return true
}

func (d *decider) verifyProduction() {
	passed, failure := d.verify(productionEnvironment)
	switch {
	case failure != "":
		d.gate(golivev1alpha1.ConditionVerified, false, golivev1alpha1.ReasonVerificationFailed, failure)
		d.startRollback(golivev1alpha1.ReasonVerificationFailed, failure, Actor)
	case passed && d.spec.Acceptance != nil:
		d.gate(golivev1alpha1.ConditionVerified, true, golivev1alpha1.ReasonSucceeded, "Production passed its verification")
		d.enter(golivev1alpha1.PhaseAwaitingAcceptance, "Verified", "Production passed its verification; waiting for acceptance by "+d.spec.Acceptance.Role)
	case passed:
		d.gate(golivev1alpha1.ConditionVerified, true, golivev1alpha1.ReasonSucceeded, "Production passed its verification")
		d.end(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Production passed its verification", Actor)
	}
}

func (d *decider) awaitingAcceptance() {
	acceptance := d.spec.Acceptance
	if accept, ok := d.lastCommand(ActionAccept, acceptance.Role); ok {
		message := fmt.Sprintf("Accepted by %s: %s", accept.User, accept.Comment)
		d.gate(golivev1alpha1.ConditionAccepted, true, golivev1alpha1.ReasonSucceeded, message)
		d.end(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, message, accept.User)
		return
	}
	deadline := d.status.Production.VerifiedAt.Add(acceptance.Timeout.Duration)
	if d.now.Before(deadline) {
		d.waitUntil(deadline)
		d.progress(golivev1alpha1.ReasonWaiting, fmt.Sprintf("Waiting for acceptance by %s until %s", acceptance.Role, deadline.UTC().Format(time.RFC3339)))
		return
	}
	message := fmt.Sprintf("Nobody of role %s accepted or rejected within %s", acceptance.Role, acceptance.Timeout.Duration)
	if acceptance.OnTimeout == golivev1alpha1.RollBackOnTimeout {
		d.gate(golivev1alpha1.ConditionAccepted, false, golivev1alpha1.ReasonAcceptanceTimedOut, message)
		d.startRollback(golivev1alpha1.ReasonAcceptanceTimedOut, message, Actor)
		return
	}
	d.gate(golivev1alpha1.ConditionAccepted, true, golivev1alpha1.ReasonAcceptanceTimedOut, message+"; accepted as spec.acceptance.onTimeout says")
	d.end(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, message+"; accepted", Actor)
}

// rollingBack restores the data first, with the targets stopped so that
// neither version writes to a claim being replaced; then re-applies the
// saved specs (replica counts included) in reverse order, each healthy
// before the next; then records the rollback as complete.
func (d *decider) rollingBack() {
	rollback := d.status.Rollback
	because := "Rolling back (" + rollback.Reason + "): "
	if d.restoresData() && !rollback.DataRestored {
		switch restore := d.world.DataRestore; restore.State {
		case DataRestored:
			rollback.DataRestored = true
		case DataRestoreFailed:
			d.stall(golivev1alpha1.ReasonFailed, "Rollback: the volumes cannot be restored: "+restore.Message)
			return
		default:
			d.waitUntil(d.now.Add(PollInterval))
			if !d.targetsScaledToZero() {
				d.act(StopTargets, 0)
				d.progress(golivev1alpha1.ReasonProgressing, because+"stopping the targets to restore their volumes")
				return
			}
			d.act(RestoreData, 0)
			d.progress(golivev1alpha1.ReasonProgressing, because+"restoring the volumes from their snapshots: "+restore.Message)
			return
		}
	}
	if d.status.Backup != nil && d.status.Backup.SavedSpecs != "" {
		last := len(d.spec.Targets) - 1
		for i := last; i >= 0; i-- {
			target, t := d.spec.Targets[i], observed(d.world.Production.Targets, i)
			if !t.Restored {
				rollback.TargetsRestored = int32(last - i)
				d.act(RestoreTarget, i)
				d.progress(golivev1alpha1.ReasonProgressing, because+fmt.Sprintf("restoring %s %q", target.Kind, target.Name))
				return
			}
			if t.Health == Failed {
				d.stall(golivev1alpha1.ReasonFailed, fmt.Sprintf("Rollback: %s %q runs its previous spec but fails to roll out: %s", target.Kind, target.Name, t.Message))
				return
			}
			if t.Health != Healthy {
				d.progress(golivev1alpha1.ReasonProgressing, because+fmt.Sprintf("waiting for the restored %s %q to roll out", target.Kind, target.Name))
				return
			}
		}
		rollback.TargetsRestored = int32(len(d.spec.Targets))
	}
	rollback.CompletedAt = d.timestamp()
	d.gate(golivev1alpha1.ConditionRolledBack, true, golivev1alpha1.ReasonSucceeded, "The previous workloads run again: "+rollback.Reason)
	d.end(golivev1alpha1.PhaseRolledBack, golivev1alpha1.ReasonFailed, "Rolled back: "+rollback.Reason, Actor)
}

// restoresData says whether the rollback restores volumes: restoreData Auto,
// and a completed backup (a backup that failed left production untouched).
func (d *decider) restoresData() bool {
	backup := d.status.Backup
	return d.spec.Rollback.RestoreData == golivev1alpha1.RestoreDataAuto &&
		backup != nil && backup.CompletedAt != nil && len(backup.Snapshots) > 0
}

// targetsScaledToZero reports whether every production target asks for no replicas.
func (d *decider) targetsScaledToZero() bool {
	for i, target := range d.spec.Targets {
		if target.Kind != golivev1alpha1.TargetDaemonSet && observed(d.world.Production.Targets, i).Replicas > 0 {
			return false
		}
	}
	return true
}

// ended keeps an ended request's backups for the retention, then deletes them.
func (d *decider) ended() {
	if d.status.CompletedAt == nil {
		d.status.CompletedAt = d.timestamp()
	}
	backup := d.status.Backup
	if backup == nil || (backup.SavedSpecs == "" && len(backup.Snapshots) == 0) {
		return
	}
	if backup.ExpiresAt == nil {
		backup.ExpiresAt = timePtr(d.status.CompletedAt.Add(d.spec.Backup.Retention.Duration))
	}
	if d.now.Before(backup.ExpiresAt.Time) {
		d.waitUntil(backup.ExpiresAt.Time)
		if len(backup.Snapshots) > 0 && !d.world.Backup.ExpiryMarked {
			d.act(MarkExpiry, 0)
		}
		return
	}
	if !d.world.BackupsDeleted {
		d.act(DeleteBackups, 0)
	}
}

// fail ends a request that failed in env: before production it is Failed
// (production untouched); in production it rolls back.
func (d *decider) fail(env environment, reason, message string) {
	if env == productionEnvironment {
		d.gate(golivev1alpha1.ConditionUpdated, false, reason, message)
		d.startRollback(reason, message, Actor)
		return
	}
	d.gate(golivev1alpha1.ConditionStagingVerified, false, reason, message)
	d.end(golivev1alpha1.PhaseFailed, reason, message+"; production was not touched", Actor)
}

func (d *decider) startRollback(reason, message, actor string) {
	d.status.Rollback = &golivev1alpha1.RollbackStatus{Reason: message, StartedAt: d.timestamp()}
	d.gate(golivev1alpha1.ConditionRolledBack, false, golivev1alpha1.ReasonProgressing, "Rolling back: "+message)
	d.enterAs(golivev1alpha1.PhaseRollingBack, reason, "Rolling back: "+message, actor)
}

// end moves the request to a terminal phase.
func (d *decider) end(phase golivev1alpha1.Phase, reason, message, actor string) {
	d.status.CompletedAt = d.timestamp()
	d.progress(reason, message)
	d.enterAs(phase, reason, message, actor)
}

// lastCommand returns the newest verified command of action (for role, when given).
func (d *decider) lastCommand(action CommandAction, role string) (Command, bool) {
	for i := len(d.world.Commands) - 1; i >= 0; i-- {
		command := d.world.Commands[i]
		if command.Action == action && (role == "" || command.Role == role) {
			return command, true
		}
	}
	return Command{}, false
}

// approvalTally is the approvals counted against the quorum.
type approvalTally struct {
	satisfied bool
	// missing says which roles still need approvals.
	missing string
	// lastAt is when the last counted approval came.
	lastAt time.Time
}

// tallyApprovals counts each person once, towards the first role they approved
// for that still needs them, never the requester unless self-approval is
// allowed, and mirrors the counted approvals into the status.
func (d *decider) tallyApprovals() approvalTally {
	type need struct {
		roles    []string
		required int32
		got      int32
	}
	var needs []*need
	for _, quorum := range d.spec.Approvals.Required {
		needs = append(needs, &need{roles: []string{quorum.Role}, required: quorum.Count})
	}
	if d.spec.Emergency != nil && d.world.Window.Spec.Emergency != nil {
		needs = append(needs, &need{roles: d.world.Window.Spec.Emergency.Roles, required: 1})
	}
	var records []golivev1alpha1.ApprovalRecord
	var tally approvalTally
	counted := map[string]bool{}
	for _, command := range d.world.Commands {
		if command.Action != ActionApprove || counted[command.User] {
			continue
		}
		if command.User == d.status.RequestedBy && !d.spec.Approvals.AllowSelfApproval {
			continue
		}
		for _, n := range needs {
			if n.got < n.required && slices.Contains(n.roles, command.Role) {
				n.got++
				counted[command.User] = true
				records = append(records, golivev1alpha1.ApprovalRecord{Role: command.Role, User: command.User, At: metav1.NewTime(command.At), Comment: command.Comment})
				tally.lastAt = latest(tally.lastAt, command.At)
				break
			}
		}
	}
	var got, required int32
	var missing []string
	for _, n := range needs {
		got += n.got
		required += n.required
		if n.got < n.required {
			missing = append(missing, fmt.Sprintf("%s %d/%d", strings.Join(n.roles, " or "), n.got, n.required))
		}
	}
	tally.satisfied = len(missing) == 0
	if !tally.satisfied {
		tally.missing = "Waiting for approvals: " + strings.Join(missing, ", ")
	}
	d.status.Approvals = records
	d.status.ApprovalSummary = fmt.Sprintf("%d/%d", got, required)
	return tally
}

// enter moves the request to phase, recording it in the timeline and an Event.
func (d *decider) enter(phase golivev1alpha1.Phase, event, message string) {
	d.enterAs(phase, event, message, Actor)
}

func (d *decider) enterAs(phase golivev1alpha1.Phase, event, message, actor string) {
	if d.status.Phase == phase {
		return
	}
	previous := d.status.Phase
	d.status.Phase = phase
	d.status.Timeline = append(d.status.Timeline, golivev1alpha1.TimelineEntry{
		At: metav1.NewTime(d.now), Phase: phase, Actor: actor, Event: event, Message: message,
	})
	if excess := len(d.status.Timeline) - TimelineLimit; excess > 0 {
		d.status.Timeline = slices.Delete(d.status.Timeline, 0, excess)
	}
	warning := false
	switch phase {
	case golivev1alpha1.PhaseFailed, golivev1alpha1.PhaseRollingBack, golivev1alpha1.PhaseRolledBack,
		golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted:
		warning = true
	}
	d.events = append(d.events, Event{Warning: warning, Reason: event, Message: message, Phase: phase, PreviousPhase: previous, Notify: true})
}

func (d *decider) warn(reason, message string) {
	d.events = append(d.events, Event{Warning: true, Reason: reason, Message: message, Phase: d.status.Phase})
}

// act chooses the one action of this decision.
func (d *decider) act(kind ActionKind, target int) {
	d.action = Action{Kind: kind, Target: target}
}

// waitUntil lets the controller look again at t (the earliest of several waits wins).
func (d *decider) waitUntil(t time.Time) {
	if t.IsZero() {
		return
	}
	if d.wakeAt.IsZero() || t.Before(d.wakeAt) {
		d.wakeAt = t
	}
}

// wait records a wait that a watch ends (a person, another request, the window's status).
func (d *decider) wait(reason, message string) {
	d.progress(reason, message)
}

func (d *decider) progress(reason, message string) {
	d.progressReason, d.progressMessage = reason, message
}

// stall records that only a person can unblock the request; nothing is changed.
func (d *decider) stall(reason, message string) {
	d.stalledReason, d.stalledMessage = reason, message
	d.progress(reason, message)
}

func (d *decider) timestamp() *metav1.Time {
	return timePtr(d.now)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// BackupTimeout bounds BackingUp: snapshots not ready by then fail the backup,
// and production is rolled back before any target changed.
const BackupTimeout = 30 * time.Minute

// PollInterval is how soon a request looks again while it waits for
// something golive does not watch: pods stopping, claims being restored.
const PollInterval = 2 * time.Second

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
		d.status.RequestedBy, d.status.SubmittedBy = world.RequestedBy, world.SubmittedBy
	}
	if d.status.Phase == "" {
		d.status.SpecHash = world.SpecHash
		d.enter(golivev1alpha1.PhasePending, golivev1alpha1.ReasonCreated, "Update request for release "+request.Spec.Release+" created")
	}
	d.run()
	d.setConditions()
	decision := Decision{Status: d.status, Action: d.action, Events: d.events, ObserveAgain: d.observeAgain}
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
	// observeAgain: the decision reached a step whose observations it lacks.
	observeAgain bool
	// progress says what the request is doing or waiting for (reason, message).
	progressReason, progressMessage string
	// stalledReason is set when only a person can unblock the request.
	stalledReason, stalledMessage string
	// approvals is the tally of the verified approvals, counted once per decision;
	// expiredApprovals are those a policy's expireAfter no longer counts.
	approvals        Tally
	expiredApprovals []Command
	// goAwaited: this decision left the request waiting for go (AwaitingGo).
	goAwaited bool
}

func (d *decider) run() {
	if d.status.Phase.IsTerminal() {
		d.ended()
		return
	}
	if d.untrustedProduction() {
		return
	}
	if d.specChanged() {
		return
	}
	d.approvals = d.tallyApprovals()
	if d.commanded() {
		if d.status.Phase.IsTerminal() {
			d.ended()
		}
		return
	}
	if d.policiesNotMet() {
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
		case golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseAwaitingGo:
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
	d.status.Staging, d.status.Schedule, d.status.Approvals, d.status.ApprovalSummary, d.status.Supervision = nil, nil, nil, "", nil
	d.status.Config = nil
	for _, gate := range []string{golivev1alpha1.ConditionStagingVerified, golivev1alpha1.ConditionApproved, golivev1alpha1.ConditionScheduled} {
		meta.RemoveStatusCondition(&d.status.Conditions, gate)
	}
	message := "The spec changed; starting again from Pending"
	if hadApprovals {
		message += "; earlier approvals no longer count"
		d.warn(golivev1alpha1.ReasonApprovalsInvalidated, "The spec changed, so the approvals given for the previous spec no longer count")
	}
	d.enter(golivev1alpha1.PhasePending, golivev1alpha1.ReasonSpecChanged, message)
	return false
}

// DeletedMessage is the rollback's reason when the request was deleted mid-production.
const DeletedMessage = "the request was deleted"

// MayRemoveOnDelete tells whether a deleted request may go at once: it has not
// touched production, or its production update has ended. Otherwise it is
// kept (by its finalizer) until the rollback World.Deleting starts has ended,
// so that production does not keep an unverified version and the saved specs
// the rollback needs are not collected with the request. Likewise a request
// that is to put the staging targets back (StagingRestorePending) is kept,
// ended as aborted, until it has.
func MayRemoveOnDelete(request *golivev1alpha1.UpdateRequest) bool {
	phase := request.Status.Phase
	return (!phase.TouchesProduction() || phase.IsTerminal()) && !StagingRestorePending(request)
}

// commanded carries out abort and reject, and the abort a deletion stands for; it reports whether the decision is
// made. A command counts only in a phase that allows it (CommandAllowed, the
// rule the webhook admits commands by); what it does depends on whether
// production has been touched.
func (d *decider) commanded() bool {
	phase := d.status.Phase
	if d.world.Deleting && !phase.TouchesProduction() && stagingRestorePending(d.spec, &d.status) {
		// Kept only to put the staging targets back (MayRemoveOnDelete): it ends as aborted.
		d.end(golivev1alpha1.PhaseAborted, golivev1alpha1.ReasonAborted, "Aborted: "+DeletedMessage, Actor)
		return true
	}
	if d.world.Deleting && phase.TouchesProduction() && phase != golivev1alpha1.PhaseRollingBack {
		// Deleting counts as an abort: production goes back before the request does.
		d.startRollback(golivev1alpha1.ReasonAborted, DeletedMessage, Actor)
		return false
	}
	if abort, ok := d.lastCommand(ActionAbort, ""); ok && phaseAllows(phase, d.spec, true, ActionAbort, abort.Role) == nil {
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
	if reject, ok := d.lastCommand(ActionReject, ""); ok && phaseAllows(phase, d.spec, true, ActionReject, reject.Role) == nil {
		reason := fmt.Sprintf("Rejected by %s (%s)", reject.User, reject.Role) + withComment(reject.Comment, "without a reason")
		if !phase.TouchesProduction() {
			d.end(golivev1alpha1.PhaseRejected, golivev1alpha1.ReasonRejected, reason, reject.User)
			return true
		}
		// Only the acceptance role, in AwaitingAcceptance, rejects a production it can see.
		d.startRollback(golivev1alpha1.ReasonRejected, reason, reject.User)
		return false
	}
	return false
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

// withComment is ": comment", or ", " and what stands in for a missing one,
// so that a command given without a comment still reads as a sentence.
func withComment(comment, without string) string {
	if comment == "" {
		return ", " + without
	}
	return ": " + comment
}

// policiesNotMet stalls a request that has not reached production and no
// longer meets the policies of its namespace (a policy changed, or a
// namespace's labels): nothing changes until the spec or the policy does.
// Started ones finish under the rules they started with (status.policies).
func (d *decider) policiesNotMet() bool {
	if d.status.Phase.TouchesProduction() || d.status.Phase.IsTerminal() || len(d.world.PolicyViolations) == 0 {
		return false
	}
	d.stall(golivev1alpha1.ReasonPolicyNotMet, "The request does not meet the policies of its namespace: "+strings.Join(d.world.PolicyViolations, "; "))
	return true
}

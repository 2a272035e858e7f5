package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func (d *decider) verifyProduction() {
	passed, failure := d.verify(productionEnvironment)
	if passed {
		d.status.Production.VerifiedAt = d.timestamp()
	}
	switch {
	case failure != "":
		d.gate(golivev1alpha1.ConditionVerified, false, golivev1alpha1.ReasonVerificationFailed, failure)
		d.startRollback(golivev1alpha1.ReasonVerificationFailed, failure, Actor)
	case passed && d.spec.Acceptance != nil:
		d.gate(golivev1alpha1.ConditionVerified, true, golivev1alpha1.ReasonSucceeded, "Production passed its verification")
		d.enter(golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.ReasonVerified, "Production passed its verification; waiting for acceptance by "+d.spec.Acceptance.Role+d.dataAtStake())
	case passed:
		d.gate(golivev1alpha1.ConditionVerified, true, golivev1alpha1.ReasonSucceeded, "Production passed its verification")
		d.end(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Production passed its verification", Actor)
	}
}

func (d *decider) awaitingAcceptance() {
	acceptance := d.spec.Acceptance
	if accept, ok := d.lastCommand(ActionAccept, acceptance.Role); ok {
		message := "Accepted by " + accept.User + withComment(accept.Comment, "without a comment")
		d.gate(golivev1alpha1.ConditionAccepted, true, golivev1alpha1.ReasonSucceeded, message)
		d.end(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, message, accept.User)
		return
	}
	deadline := acceptanceDeadline(d.spec, &d.status)
	if d.now.Before(deadline) {
		d.waitUntil(deadline)
		d.progress(golivev1alpha1.ReasonWaiting, fmt.Sprintf("Waiting for acceptance by %s until %s%s", acceptance.Role, deadline.UTC().Format(time.RFC3339), d.dataAtStake()))
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

package lifecycle

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// approvalPhases are the phases in which approvals are taken: staging is
// verified and production has not started.
var approvalPhases = []golivev1alpha1.Phase{
	golivev1alpha1.PhaseSoaking, golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseAwaitingGo,
}

// CommandRefusal says why the request's phase does not allow a command now.
type CommandRefusal struct {
	Message string
	// Later is true when a later phase allows the command: an approval
	// before staging is verified for the current spec.
	Later bool
}

func (r *CommandRefusal) Error() string { return r.Message }

// CommandAllowed applies the phase rules of DESIGN.md ("Approvals and
// commands") to a command for role: approvals only once staging is verified
// for the spec with hash specHash and until production starts; a rejection
// before production, or by the acceptance role in AwaitingAcceptance; an
// acceptance only in AwaitingAcceptance; a go only in AwaitingGo; a retry
// only while a verification is stalled as VerificationInconclusive; an abort
// until the request ends. It
// returns nil or a *CommandRefusal. Who may give the command is not its
// concern: that is for RBAC and the webhook.
func CommandAllowed(request *golivev1alpha1.UpdateRequest, action CommandAction, role, specHash string) error {
	phase := request.Status.Phase
	if phase == "" {
		phase = golivev1alpha1.PhasePending // not seen by the controller yet
	}
	verified := request.Status.SpecHash == specHash &&
		meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionStagingVerified)
	if refusal := phaseAllows(phase, &request.Spec, verified, action, role); refusal != nil {
		return refusal
	}
	if action == ActionRetry && inconclusiveStall(&request.Status) == nil {
		return &CommandRefusal{Message: fmt.Sprintf(
			"retry is possible only while the verification is stalled as %s (Stalled condition); the request in %s is not",
			golivev1alpha1.ReasonVerificationInconclusive, phase)}
	}
	return nil
}

// phaseAllows is CommandAllowed for a phase; stagingVerified says whether
// staging passed for the current spec.
func phaseAllows(phase golivev1alpha1.Phase, spec *golivev1alpha1.UpdateRequestSpec, stagingVerified bool,
	action CommandAction, role string) *CommandRefusal {
	refuse := func(format string, args ...any) *CommandRefusal {
		return &CommandRefusal{Message: fmt.Sprintf(format, args...)}
	}
	// An acceptance says why it is refused with its own words, also once ended.
	if phase.IsTerminal() && action != ActionAccept {
		return refuse("the request has ended (%s)", phase)
	}
	switch action {
	case ActionApprove:
		switch {
		case phase.TouchesProduction():
			return refuse("production has started (%s): approvals are closed", phase)
		case !slices.Contains(approvalPhases, phase) || !stagingVerified:
			refusal := refuse("staging is not verified for the current spec yet (phase %s): approvals open once it is", phase)
			refusal.Later = true
			return refusal
		}
	case ActionReject:
		acceptance := acceptanceRole(spec)
		switch {
		case phase == golivev1alpha1.PhaseAwaitingAcceptance && role != acceptance:
			return refuse("production is awaiting acceptance: only the acceptance role %s may reject it now", acceptance)
		case phase.TouchesProduction() && phase != golivev1alpha1.PhaseAwaitingAcceptance:
			return refuse("production has started (%s): it can be rejected only by the acceptance role in AwaitingAcceptance, or aborted with %s",
				phase, golivev1alpha1.AnnotationAbort)
		}
	case ActionAccept:
		switch {
		case spec.Acceptance == nil:
			return refuse("this request has no acceptance step (spec.acceptance)")
		case phase != golivev1alpha1.PhaseAwaitingAcceptance:
			return refuse("acceptance is possible only in AwaitingAcceptance; the request is in %s", phase)
		}
	case ActionGo:
		if phase != golivev1alpha1.PhaseAwaitingGo {
			refusal := refuse("go is possible only in AwaitingGo, once the window is open and every other gate passed (where a GoLivePolicy asks for supervision); the request is in %s", phase)
			refusal.Later = !phase.TouchesProduction()
			return refusal
		}
	case ActionRetry:
		if phase != golivev1alpha1.PhaseVerifyingStaging && phase != golivev1alpha1.PhaseVerifying {
			return refuse("retry is possible only while a verification is stalled as %s in %s or %s; the request is in %s",
				golivev1alpha1.ReasonVerificationInconclusive, golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.PhaseVerifying, phase)
		}
	case ActionAbort:
	default:
		return refuse("unknown command %q", action)
	}
	return nil
}

// acceptanceRole is spec's acceptance role, empty without acceptance.
func acceptanceRole(spec *golivev1alpha1.UpdateRequestSpec) string {
	if spec.Acceptance == nil {
		return ""
	}
	return spec.Acceptance.Role
}

// inconclusiveStall is the Stalled condition of status when it says the
// verification is inconclusive, else nil.
func inconclusiveStall(status *golivev1alpha1.UpdateRequestStatus) *metav1.Condition {
	stalled := meta.FindStatusCondition(status.Conditions, golivev1alpha1.ConditionStalled)
	if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != golivev1alpha1.ReasonVerificationInconclusive {
		return nil
	}
	return stalled
}

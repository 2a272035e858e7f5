package lifecycle

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestCommandAllowed(t *testing.T) {
	request := func(phase golivev1alpha1.Phase) *testfixtures.UpdateRequestWrapper {
		return testfixtures.MakeUpdateRequest("billing", "r").Approval("rnd-lead", 1).
			Acceptance("business-owner", 0, golivev1alpha1.AcceptOnTimeout).SpecHash(hash).Phase(phase)
	}
	verified := func(phase golivev1alpha1.Phase) *golivev1alpha1.UpdateRequest {
		return request(phase).Condition(golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "").Obj()
	}
	inconclusive := func(phase golivev1alpha1.Phase) *golivev1alpha1.UpdateRequest {
		return request(phase).Condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, golivev1alpha1.ReasonVerificationInconclusive, "").Obj()
	}
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		action  CommandAction
		role    string
		want    *CommandRefusal
	}{
		{name: "approve once staging is verified", request: verified(golivev1alpha1.PhaseAwaitingApproval), action: ActionApprove, role: "rnd-lead"},
		{name: "approve while scheduled", request: verified(golivev1alpha1.PhaseScheduled), action: ActionApprove, role: "rnd-lead"},
		{name: "approve before staging is verified, later", request: request("").Obj(), action: ActionApprove, role: "rnd-lead",
			want: &CommandRefusal{Message: "staging is not verified for the current spec yet (phase Pending): approvals open once it is", Later: true}},
		{name: "approve while soaking", request: verified(golivev1alpha1.PhaseSoaking), action: ActionApprove, role: "rnd-lead",
			want: nil},
		{name: "approve once production started", request: verified(golivev1alpha1.PhaseUpdating), action: ActionApprove, role: "rnd-lead",
			want: &CommandRefusal{Message: "production has started (Updating): approvals are closed"}},
		{name: "approve once ended", request: verified(golivev1alpha1.PhaseRejected), action: ActionApprove, role: "rnd-lead",
			want: &CommandRefusal{Message: "the request has ended (Rejected)"}},
		{name: "reject before production", request: request(golivev1alpha1.PhaseStaging).Obj(), action: ActionReject, role: "rnd-lead"},
		{name: "reject by the acceptance role in AwaitingAcceptance", request: request(golivev1alpha1.PhaseAwaitingAcceptance).Obj(), action: ActionReject, role: "business-owner"},
		{name: "reject by another role in AwaitingAcceptance", request: request(golivev1alpha1.PhaseAwaitingAcceptance).Obj(), action: ActionReject, role: "rnd-lead",
			want: &CommandRefusal{Message: "production is awaiting acceptance: only the acceptance role business-owner may reject it now"}},
		{name: "reject during production", request: request(golivev1alpha1.PhaseVerifying).Obj(), action: ActionReject, role: "business-owner",
			want: &CommandRefusal{Message: "production has started (Verifying): it can be rejected only by the acceptance role in AwaitingAcceptance, or aborted with golive.dev/abort"}},
		{name: "accept in AwaitingAcceptance", request: request(golivev1alpha1.PhaseAwaitingAcceptance).Obj(), action: ActionAccept},
		{name: "accept earlier", request: request(golivev1alpha1.PhaseVerifying).Obj(), action: ActionAccept,
			want: &CommandRefusal{Message: "acceptance is possible only in AwaitingAcceptance; the request is in Verifying"}},
		{name: "accept once ended", request: request(golivev1alpha1.PhaseSucceeded).Obj(), action: ActionAccept,
			want: &CommandRefusal{Message: "acceptance is possible only in AwaitingAcceptance; the request is in Succeeded"}},
		{name: "accept without an acceptance step", request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingAcceptance).Obj(),
			action: ActionAccept, want: &CommandRefusal{Message: "this request has no acceptance step (spec.acceptance)"}},
		{name: "retry an inconclusive staging verification", request: inconclusive(golivev1alpha1.PhaseVerifyingStaging), action: ActionRetry},
		{name: "retry an inconclusive production verification", request: inconclusive(golivev1alpha1.PhaseVerifying), action: ActionRetry},
		{name: "retry a verification that is not stalled", request: request(golivev1alpha1.PhaseVerifying).Obj(), action: ActionRetry,
			want: &CommandRefusal{Message: "retry is possible only while the verification is stalled as VerificationInconclusive (Stalled condition); the request in Verifying is not"}},
		{name: "retry a verification stalled for another reason", action: ActionRetry,
			request: request(golivev1alpha1.PhaseVerifyingStaging).Condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, golivev1alpha1.ReasonPlantedObject, "").Obj(),
			want:    &CommandRefusal{Message: "retry is possible only while the verification is stalled as VerificationInconclusive (Stalled condition); the request in VerifyingStaging is not"}},
		{name: "retry outside a verification", request: inconclusive(golivev1alpha1.PhaseRollingBack), action: ActionRetry,
			want: &CommandRefusal{Message: "retry is possible only while a verification is stalled as VerificationInconclusive in VerifyingStaging or Verifying; the request is in RollingBack"}},
		{name: "retry once ended", request: inconclusive(golivev1alpha1.PhaseAborted), action: ActionRetry,
			want: &CommandRefusal{Message: "the request has ended (Aborted)"}},
		{name: "abort during a rollback", request: request(golivev1alpha1.PhaseRollingBack).Obj(), action: ActionAbort},
		{name: "abort once ended", request: request(golivev1alpha1.PhaseAborted).Obj(), action: ActionAbort,
			want: &CommandRefusal{Message: "the request has ended (Aborted)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *CommandRefusal
			if err := CommandAllowed(tc.request, tc.action, tc.role, hash); err != nil {
				got = err.(*CommandRefusal)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CommandAllowed (-want +got):\n%s", diff)
			}
		})
	}
	// A verification of an earlier spec does not open approvals.
	if err := CommandAllowed(verified(golivev1alpha1.PhaseSoaking), ActionApprove, "rnd-lead", "sha256:next"); err == nil {
		t.Error("approvals open with staging verified for an earlier spec")
	}
}

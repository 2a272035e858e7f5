package lifecycle

import (
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A policy that changed under a request: requests that have not reached
// production stop, started and ended ones go on under the rules they had.
func TestDecidePolicyViolations(t *testing.T) {
	violated := func(w *World) {
		w.PolicyViolations = []string{"spec.approvals.required: policy production-apps requires role operations-office (count 2)"}
	}
	testDecide(t, []decideCase{
		{
			name: "a request waiting for approvals stalls, naming the policy and the field",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: violated,
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, stalled: golivev1alpha1.ReasonPolicyNotMet,
				message: "policy production-apps requires role operations-office (count 2)"},
		},
		{
			name: "a request in production finishes under the rules it started with",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-time.Minute))
			},
			world: func(w *World) {
				violated(w)
				applied(w.Production.Targets, Healthy, Healthy)
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, action: Action{Kind: VerifyProduction}, requeue: 10 * time.Minute},
		},
		{
			name:    "an ended request keeps its outcome, not PolicyNotMet, and still puts staging back",
			request: endedInStaging(golivev1alpha1.PhaseFailed),
			world: func(w *World) {
				violated(w)
				greyRestore()(w)
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: string(golivev1alpha1.PhaseFailed), action: Action{Kind: RestoreStagingTarget, Target: 0}},
		},
	})
}

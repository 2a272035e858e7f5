package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideStaging(t *testing.T) {
	testDecide(t, []decideCase{
		// Staging.
		{
			name:    "staging applies the next target once the previous one rolled out",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world:   func(w *World) { w.Staging.Targets[0].ImagesApplied = true },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 1}, check: func(t *testing.T, d Decision) {
				if got := d.Status.Staging.TargetsApplied; got != 1 {
					t.Errorf("staging.targetsApplied = %d, want 1", got)
				}
			}},
		},
		{
			name:    "staging waits for a rollout until exactly the verify timeout",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-4*time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets, Progressing)
				w.Staging.Targets[0].Message = "1 of 2 replicas updated"
			},
			want: want{phase: golivev1alpha1.PhaseStaging, requeue: 6 * time.Minute, message: `Rolling out Deployment "billing-api" in namespace "billing-grey"`},
		},
		{
			name:    "a failed staging rollout fails the request; production is untouched",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets, Healthy, Failed)
				w.Staging.Targets[1].Message = "progress deadline exceeded"
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "production was not touched", check: func(t *testing.T, d Decision) {
				if d.Status.Production != nil || d.Status.CompletedAt == nil {
					t.Errorf("production = %v, completedAt = %v; want nil and set", d.Status.Production, d.Status.CompletedAt)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonVerificationFailed)
			}},
		},
		{
			name:    "a staging rollout past the verify timeout fails",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-10*time.Minute)) },
			world:   func(w *World) { applied(w.Staging.Targets, Healthy, Progressing) },
			want:    want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "did not roll out within 10m0s"},
		},
		{
			name:    "staging rolled out starts the verification and waits for the next probe",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationRunning, NextProbeAt: monday.Add(10 * time.Second)}
			},
			want: want{phase: golivev1alpha1.PhaseVerifyingStaging, action: Action{Kind: VerifyStaging}, requeue: 10 * time.Second},
		},
		{
			// A re-release: the grey environment runs the images already, so
			// the first decision goes from Pending to VerifyingStaging, for
			// which the controller read no checks (issue 24).
			name:    "a grey environment that already runs the images enters verifying and looks again for its checks",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status = golivev1alpha1.UpdateRequestStatus{} },
			world:   func(w *World) { applied(w.Staging.Targets) },
			want: want{phase: golivev1alpha1.PhaseVerifyingStaging, message: `Verifying namespace "billing-grey"`, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: nothing wakes a request whose checks were never read")
				}
				timelineEvents(t, d, "Created", "StagingStarted", "Verifying")
			}},
		},

		// VerifyingStaging and Soaking.
		{
			name: "staging verified starts the soak, waiting exactly for its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationPassed, Checks: []golivev1alpha1.CheckStatus{{Name: "smoke", Result: golivev1alpha1.CheckPassed}}}
			},
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: 48 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue)
				if diff := cmp.Diff([]golivev1alpha1.CheckStatus{{Name: "smoke", Result: golivev1alpha1.CheckPassed}}, d.Status.Staging.Checks); diff != "" {
					t.Errorf("staging.checks (-want +got):\n%s", diff)
				}
			}},
		},
		{
			name: "a failed staging verification fails the request",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				w.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: `Job "smoke" failed: BackoffLimitExceeded`}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: `staging verification failed: Job "smoke" failed`},
		},
		{
			name: "a staging verification past its timeout fails",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-11*time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				w.Staging.Verification = VerificationObservation{State: VerificationRunning, Message: `http check "health": 2/3 successes`}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "did not pass within 10m0s"},
		},
		{
			name: "soaking waits exactly until the soak ends",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-47*time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: time.Hour},
		},
		{
			name: "approvals given while soaking are counted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-47*time.Hour))
			},
			world: func(w *World) { w.Commands = []Command{approve("bob", "rnd-lead", monday)} },
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: time.Hour, check: func(t *testing.T, d Decision) {
				if d.Status.ApprovalSummary != "1/2" {
					t.Errorf("approvalSummary = %q, want 1/2", d.Status.ApprovalSummary)
				}
			}},
		},
		{
			name: "the soak over, the request waits for approvals",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-48*time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "Waiting for approvals: rnd-lead 0/1, operations-office 0/1", check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionApproved, metav1.ConditionFalse)
			}},
		},
	})
}

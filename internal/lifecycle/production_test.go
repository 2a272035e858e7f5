package lifecycle

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideProduction(t *testing.T) {
	testDecide(t, []decideCase{
		// Updating and Verifying.
		{
			name: "production updates the next target once the previous one rolled out",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) { w.Production.Targets[0].ImagesApplied = true },
			want:  want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 1}},
		},
		{
			name: "a failed production rollout rolls back, the last target first",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) { applied(w.Production.Targets, Failed, Progressing) },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, check: func(t *testing.T, d Decision) {
				if d.Status.Rollback == nil || !strings.Contains(d.Status.Rollback.Reason, "failed to roll out") {
					t.Errorf("rollback = %+v", d.Status.Rollback)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonVerificationFailed)
			}},
		},
		{
			name: "production rolled out starts its verification",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets)
				w.Production.Verification.State = VerificationRunning
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, action: Action{Kind: VerifyProduction}, requeue: 9 * time.Minute, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionUpdated, metav1.ConditionTrue)
			}},
		},
		{
			name: "production that already runs the images enters verifying and looks again for its checks",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-2*time.Minute))
			},
			world: func(w *World) {
				w.Backup.SavedSpecs = "billing-2-4-0-saved-specs"
				applied(w.Production.Targets)
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, message: `Verifying namespace "billing"`, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false: nothing wakes a request whose checks were never read")
				}
			}},
		},
		{
			name: "an inconclusive production verification stops for a person, naming the check, also past its timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
			},
			world: func(w *World) {
				w.Production.Verification.State = VerificationInconclusive
				w.Production.Verification.Message = "metric check error-rate is inconclusive (query up): 4 inconclusive (limit 3)"
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, stalled: golivev1alpha1.ReasonVerificationInconclusive,
				message: "production verification is inconclusive: metric check error-rate is inconclusive (query up)", check: func(t *testing.T, d Decision) {
					if d.Action.Kind != NoAction || d.Status.Rollback != nil {
						t.Errorf("action %v, rollback %+v: an inconclusive verification neither acts nor rolls back", d.Action, d.Status.Rollback)
					}
					wantEvent(t, d, true, golivev1alpha1.ReasonVerificationInconclusive)
				}},
		},
		{
			name: "an inconclusive production verification that a person aborted rolls back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
			},
			world: func(w *World) {
				w.Production.Verification.State = VerificationInconclusive
				w.Commands = []Command{{Action: ActionAbort, User: "alice", Comment: "Prometheus is down, roll back", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
		{
			name: "production verified without acceptance succeeds and keeps the backups for the retention",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) { w.Production.Verification.State = VerificationPassed },
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionReady, metav1.ConditionTrue)
				if meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionReconciling) != nil {
					t.Error("a succeeded request must not be Reconciling")
				}
				if got := d.Status.Backup.ExpiresAt; got == nil || !got.Time.Equal(monday.Add(168*time.Hour)) {
					t.Errorf("backup.expiresAt = %v", got)
				}
			}},
		},
		{
			name: "production verified with acceptance waits exactly the acceptance timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
				r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business-owner", Timeout: duration(24 * time.Hour), OnTimeout: golivev1alpha1.AcceptOnTimeout}
			},
			world: func(w *World) { w.Production.Verification.State = VerificationPassed },
			want:  want{phase: golivev1alpha1.PhaseAwaitingAcceptance, requeue: 24 * time.Hour, message: "Waiting for acceptance by business-owner"},
		},
		{
			name: "a failed production verification rolls back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				w.Production.Verification = VerificationObservation{State: VerificationFailed, Message: `http check "health": status 500`}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "production verification failed"},
		},

		// AwaitingAcceptance.
		{
			name:    "acceptance by the acceptance role succeeds",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionAccept, User: "erin", Role: "business-owner", Comment: "all good", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionAccepted, metav1.ConditionTrue)
				if last := d.Status.Timeline[len(d.Status.Timeline)-1]; last.Actor != "erin" {
					t.Errorf("the timeline names %q, want erin", last.Actor)
				}
			}},
		},
		{
			name:    "a rejection by the acceptance role rolls back",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionReject, User: "erin", Role: "business-owner", Comment: "invoices wrong", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "Rejected by erin (business-owner): invoices wrong"},
		},
		{
			name:    "an acceptance timeout with onTimeout Accept succeeds",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			now:     monday.Add(25 * time.Hour),
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				if c := meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionAccepted); c == nil || c.Reason != golivev1alpha1.ReasonAcceptanceTimedOut {
					t.Errorf("Accepted = %+v, want reason AcceptanceTimedOut", c)
				}
			}},
		},
		{
			name:    "an acceptance timeout with onTimeout RollBack rolls back",
			request: awaitingAcceptance(golivev1alpha1.RollBackOnTimeout),
			now:     monday.Add(25 * time.Hour),
			want:    want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
	})
}

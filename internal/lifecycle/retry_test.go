package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideRetry(t *testing.T) {
	// stalledSince records the Stalled condition an inconclusive verification left at since.
	stalledSince := func(r *golivev1alpha1.UpdateRequest, since time.Time) {
		r.Status.Conditions = append(r.Status.Conditions, metav1.Condition{
			Type: golivev1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonVerificationInconclusive,
			Message: "production verification is inconclusive", LastTransitionTime: metav1.NewTime(since),
		})
	}
	inconclusiveChecks := []golivev1alpha1.CheckStatus{
		{Name: golivev1alpha1.RolloutCheckName, Result: golivev1alpha1.CheckPassed},
		{Name: "health", Result: golivev1alpha1.CheckPassed},
		{Name: "error-rate", Result: golivev1alpha1.CheckInconclusive, Message: "4 inconclusive (limit 3)"},
	}
	inconclusive := func(observation *EnvironmentObservation) {
		observation.Verification = VerificationObservation{State: VerificationInconclusive, Checks: inconclusiveChecks,
			Message: "metric check error-rate is inconclusive (query up): 4 inconclusive (limit 3)"}
	}
	retry := func(at time.Time) Command {
		return Command{Action: ActionRetry, User: "carol", Comment: "Prometheus is back", At: at}
	}
	// restarted checks what a retry acted on leaves: the inconclusive check
	// dropped with its measurements, the others kept, the retry recorded
	// as acted on, in the timeline by the person and as an Event.
	restarted := func(record func(Decision) *golivev1alpha1.EnvironmentStatus, retriedAt time.Time) func(*testing.T, Decision) {
		return func(t *testing.T, d Decision) {
			t.Helper()
			if diff := cmp.Diff(inconclusiveChecks[:2], record(d).Checks); diff != "" {
				t.Errorf("checks after the retry (-want +got):\n%s", diff)
			}
			if got := record(d).RetriedAt; got == nil || !got.Time.Equal(retriedAt) {
				t.Errorf("retriedAt = %v, want %v", got, retriedAt)
			}
			if len(d.Status.Timeline) == 0 {
				t.Fatal("no timeline entry for the retry")
			}
			last := d.Status.Timeline[len(d.Status.Timeline)-1]
			if last.Event != golivev1alpha1.ReasonVerificationRetried || last.Actor != "carol" || !strings.Contains(last.Message, "Prometheus is back") {
				t.Errorf("last timeline entry = %+v", last)
			}
			wantEvent(t, d, false, golivev1alpha1.ReasonVerificationRetried)
			if !d.ObserveAgain {
				t.Error("observeAgain = false: the dropped checks are measured again only once the controller looks again")
			}
		}
	}
	production := func(d Decision) *golivev1alpha1.EnvironmentStatus { return d.Status.Production }
	testDecide(t, []decideCase{
		{
			name: "a retry given while production's verification is stalled starts it again, also past its timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
				stalledSince(r, monday.Add(-10*time.Minute))
			},
			world: func(w *World) {
				inconclusive(&w.Production)
				w.Commands = []Command{retry(monday.Add(-time.Minute))}
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, message: "production verification retried by carol: Prometheus is back",
				check: restarted(production, monday.Add(-time.Minute))},
		},
		{
			name: "a retry given while staging's verification is stalled starts it again",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Hour))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
				stalledSince(r, monday.Add(-10*time.Minute))
			},
			world: func(w *World) {
				applied(w.Staging.Targets)
				inconclusive(&w.Staging)
				w.Commands = []Command{retry(monday.Add(-time.Minute))}
			},
			want: want{phase: golivev1alpha1.PhaseVerifyingStaging, message: "staging verification retried by carol",
				check: restarted(func(d Decision) *golivev1alpha1.EnvironmentStatus { return d.Status.Staging }, monday.Add(-time.Minute))},
		},
		{
			name: "a retry older than the stall, given for staging, does nothing in production",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
				r.Status.Staging.RetriedAt = at(monday.Add(-80 * time.Hour))
				stalledSince(r, monday.Add(-10*time.Minute))
			},
			world: func(w *World) {
				inconclusive(&w.Production)
				w.Commands = []Command{retry(monday.Add(-80 * time.Hour))}
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, stalled: golivev1alpha1.ReasonVerificationInconclusive,
				message: "retry it with golive.dev/retry or abort the request with golive.dev/abort", check: func(t *testing.T, d Decision) {
					if d.Status.Production.RetriedAt != nil || len(d.Status.Production.Checks) != len(inconclusiveChecks) {
						t.Errorf("production = %+v: a retry older than the stall changed it", d.Status.Production)
					}
				}},
		},
		{
			name: "a retry acted on once does not restart the verification again when it stalls again",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
				r.Status.Production.RetriedAt = at(monday.Add(-5 * time.Minute))
				// Stalled again within the second of the retry.
				stalledSince(r, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				inconclusive(&w.Production)
				w.Commands = []Command{retry(monday.Add(-5 * time.Minute))}
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, stalled: golivev1alpha1.ReasonVerificationInconclusive, check: func(t *testing.T, d Decision) {
				if len(d.Status.Production.Checks) != len(inconclusiveChecks) {
					t.Errorf("checks = %+v: a retry was acted on twice", d.Status.Production.Checks)
				}
			}},
		},
		{
			name: "after a retry verify.timeout counts from the retry",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
				r.Status.Production.RetriedAt = at(monday.Add(-time.Minute))
			},
			world: func(w *World) {
				w.Production.Verification = VerificationObservation{State: VerificationRunning, Checks: inconclusiveChecks[:2]}
				w.Commands = []Command{retry(monday.Add(-time.Minute))}
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, action: Action{Kind: VerifyProduction}, requeue: 9 * time.Minute},
		},
		{
			name: "a retried verification still fails once verify.timeout passed since the retry",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-2*time.Hour))
				r.Status.Production.RetriedAt = at(monday.Add(-10 * time.Minute))
			},
			world: func(w *World) {
				w.Production.Verification = VerificationObservation{State: VerificationRunning, Checks: inconclusiveChecks[:2]}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "did not pass within 10m0s"},
		},
	})
}

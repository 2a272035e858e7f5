package lifecycle

import (
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestMayRemoveOnDelete(t *testing.T) {
	for _, phase := range PhaseOrder() {
		request := newRequest()
		request.Status.Phase = phase
		want := !phase.TouchesProduction() || phase.IsTerminal()
		if got := MayRemoveOnDelete(request); got != want {
			t.Errorf("MayRemoveOnDelete(%s) = %v, want %v", phase, got, want)
		}
	}
	for phase, want := range map[golivev1alpha1.Phase]bool{
		golivev1alpha1.PhasePending: true, golivev1alpha1.PhaseScheduled: true,
		golivev1alpha1.PhaseBackingUp: false, golivev1alpha1.PhaseVerifying: false,
		golivev1alpha1.PhaseAwaitingAcceptance: false, golivev1alpha1.PhaseRollingBack: false,
		golivev1alpha1.PhaseSucceeded: true, golivev1alpha1.PhaseRolledBack: true,
	} {
		request := newRequest()
		request.Status.Phase = phase
		if got := MayRemoveOnDelete(request); got != want {
			t.Errorf("MayRemoveOnDelete(%s) = %v, want %v", phase, got, want)
		}
	}
}

// A request deleted while production changes is aborted: it rolls back first.
func TestDecideDeleting(t *testing.T) {
	rollsBack := func(t *testing.T, d Decision) {
		if d.Status.Rollback == nil || d.Status.Rollback.Reason != DeletedMessage {
			t.Errorf("rollback = %+v, want one for %q", d.Status.Rollback, DeletedMessage)
		}
		wantEvent(t, d, true, golivev1alpha1.ReasonAborted)
	}
	testDecide(t, []decideCase{
		{
			name: "deleted in Verifying: rolls back with the deletion as the reason",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets, Healthy, Healthy)
				w.Production.Verification.State = VerificationRunning
				w.Deleting = true
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: DeletedMessage, check: rollsBack},
		},
		{
			name:    "deleted in AwaitingAcceptance: rolls back",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				applied(w.Production.Targets, Healthy, Healthy)
				w.Deleting = true
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: DeletedMessage, check: rollsBack},
		},
		{
			name:    "deleted in RollingBack: the rollback goes on, its reason kept",
			request: rollingBack,
			world: func(w *World) {
				w.Production.Targets[1].Restored = true
				w.Deleting = true
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 0}, check: func(t *testing.T, d Decision) {
				if d.Status.Rollback.Reason != "production verification failed" {
					t.Errorf("rollback reason = %q, want the original one", d.Status.Rollback.Reason)
				}
			}},
		},
		{
			name:    "deleted in RollingBack with everything restored: ends RolledBack, then may go",
			request: rollingBack,
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Deleting = true
			},
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, message: "Rolled back", requeue: 7 * 24 * time.Hour, check: func(t *testing.T, d Decision) {
				if !MayRemoveOnDelete(&golivev1alpha1.UpdateRequest{Status: d.Status}) {
					t.Errorf("MayRemoveOnDelete after the rollback = false, want true")
				}
			}},
		},
		{
			name: "not deleted: Verifying goes on",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets, Healthy, Healthy)
				w.Production.Verification.State = VerificationRunning
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, action: Action{Kind: VerifyProduction}, requeue: 6 * time.Minute},
		},
		{
			name: "deleted in AwaitingApproval: nothing to roll back (the controller lets it go at once)",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) { w.Deleting = true },
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, check: func(t *testing.T, d Decision) {
				if d.Status.Rollback != nil {
					t.Errorf("rollback = %+v, want none before production", d.Status.Rollback)
				}
			}},
		},
	})
}

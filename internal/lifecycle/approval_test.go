package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideApproval(t *testing.T) {
	testDecide(t, []decideCase{
		// AwaitingApproval.
		{
			name: "one of two roles approved keeps waiting and shows 1/2",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) { w.Commands = []Command{approve("bob", "rnd-lead", monday)} },
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "operations-office 0/1", check: func(t *testing.T, d Decision) {
				want := []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob", At: metav1.NewTime(monday)}}
				if diff := cmp.Diff(want, d.Status.Approvals); diff != "" || d.Status.ApprovalSummary != "1/2" {
					t.Errorf("approvals (-want +got):\n%s summary %q", diff, d.Status.ApprovalSummary)
				}
			}},
		},
		{
			name: "the requester's own approval does not count",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("alice", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "rnd-lead 0/1"},
		},
		{
			name: "one person approving for two roles counts once",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("bob", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "operations-office 0/1"},
		},
		{
			name: "the quorum reached, production is scheduled for the next opening of the window",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-time.Hour)), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Sub(monday), message: "planned start 2026-11-26T19:00:00Z", check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionApproved, metav1.ConditionTrue)
				wantCondition(t, d, golivev1alpha1.ConditionScheduled, metav1.ConditionTrue)
				if d.Status.Schedule.PlannedStart == nil || !d.Status.Schedule.PlannedStart.Time.Equal(plannedThursday) {
					t.Errorf("plannedStart = %v, want %v", d.Status.Schedule.PlannedStart, plannedThursday)
				}
			}},
		},
		{
			name: "a request allowed to self-approve counts the requester",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
				r.Spec.Approvals.AllowSelfApproval = true
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("alice", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
	})
}

package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideSchedule(t *testing.T) {
	testDecide(t, []decideCase{
		// Scheduled.
		{
			name: "an open window with time left starts production with the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}, check: func(t *testing.T, d Decision) {
				if d.Status.Production == nil || !d.Status.Production.StartedAt.Equal(at(monday)) {
					t.Errorf("production.startedAt = %v, want %v", d.Status.Production, monday)
				}
			}},
		},
		{
			name: "lead time pushes the start to an opening far enough after the last approval",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec.LeadTime = duration(96 * time.Hour)
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Add(7 * 24 * time.Hour).Sub(monday)},
		},
		{
			name: "an open window without the expected duration left waits for the next opening",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, plannedThursday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			now:  plannedThursday.Add(2*time.Hour + 30*time.Minute),
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: 7*24*time.Hour - 2*time.Hour - 30*time.Minute},
		},
		{
			name: "a freeze moves the planned start past its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "black-friday", Start: "2026-11-26T00:00", End: "2026-11-30T00:00"}}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Add(7 * 24 * time.Hour).Sub(monday)},
		},
		{
			name: "during a freeze the request says so and waits for its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "month-end", Start: "2026-11-23T00:00", End: "2026-11-24T06:00"}}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			// The window's zone is Europe/Berlin, an hour ahead of UTC in November.
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC).Sub(monday),
				message: "forbids production changes until 2026-11-24T05:00:00Z; planned start 2026-11-24T05:00:00Z"},
		},
		{
			name: "the window's concurrency cap makes production wait, woken by the window's status",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Window.ActiveUpdates = []string{"billing-2-4-0", "payments-1-2"}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "allows 1 production updates at once; running: payments-1-2"},
		},
		{
			name: "a planned start that came while production waits for room in the window stays as planned",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, plannedThursday.Add(-72*time.Hour))
				r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NotBefore: at(plannedThursday), PlannedStart: at(plannedThursday)}
			},
			world: func(w *World) {
				w.Window.ActiveUpdates = []string{"payments-1-2"}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			now: plannedThursday.Add(25 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "allows 1 production updates at once; running: payments-1-2",
				check: func(t *testing.T, d Decision) {
					if got := d.Status.Schedule.PlannedStart; got == nil || !got.Equal(at(plannedThursday)) {
						t.Errorf("plannedStart = %v, want the %v planned before the opening", got, plannedThursday)
					}
				}},
		},
		{
			name: "a suspended request does not start production",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
				r.Spec.Suspend = true
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "Suspended before production"},
		},

		// Emergency.
		{
			name: "an emergency skips the soak",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) { w.Staging.Verification.State = VerificationPassed },
			want:  want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "cto 0/1"},
		},
		{
			name: "an emergency approved before staging passed starts production in the decision that verifies staging",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				w.Staging.Verification.State = VerificationPassed
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday), approve("dave", "cto", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs},
				check: func(t *testing.T, d Decision) {
					var gates []golivev1alpha1.Gate
					for _, record := range d.Status.GateRecords {
						gates = append(gates, record.Gate)
					}
					if diff := cmp.Diff([]golivev1alpha1.Gate{golivev1alpha1.GateStagingVerified, golivev1alpha1.GateProductionStarted}, gates); diff != "" {
						t.Errorf("gate records (-want +got):\n%s", diff)
					}
				}},
		},
		{
			name: "an emergency needs one approval from an emergency role and ignores the closed window",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-time.Hour))
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				w.Window.EmergencyUsed = 1
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday), approve("dave", "cto", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name: "an emergency beyond the window's budget waits",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-time.Hour))
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				w.Window.EmergencyUsed = 2
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday), approve("dave", "cto", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "allows 2 emergency updates per 720h0m0s and 2 were used"},
		},
	})
}

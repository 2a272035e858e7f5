package lifecycle

import (
	"strings"
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A policy's notice.minLead: production starts only that long after a notice
// that announced it.
func TestPolicyNoticeLead(t *testing.T) {
	lead := NoticeLead{After: 12 * time.Hour, Policy: "production-apps"}
	scheduledAndApproved := func(r *golivev1alpha1.UpdateRequest) {
		stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
	}
	approvedWorld := func(w *World) {
		w.Window.Spec = alwaysOpen()
		w.NoticeMinLead = lead
		w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
	}
	testDecide(t, []decideCase{
		{
			name:    "without a notice yet, golive gives it now and plans the start after the lead",
			request: scheduledAndApproved,
			world:   approvedWorld,
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: 12 * time.Hour,
				message: "Waiting for the notice lead: policy production-apps gives at least 12h notice (given 2026-11-23T10:00:00Z); planned start 2026-11-23T22:00:00Z",
				check: func(t *testing.T, d Decision) {
					if s := d.Status.Schedule; s.NoticeSentAt == nil || !s.NoticeSentAt.Equal(at(monday)) || !s.PlannedStart.Equal(at(monday.Add(12*time.Hour))) {
						t.Errorf("schedule = %+v, want the notice now and the start 12h later", s)
					}
					var notice *Event
					for i := range d.Events {
						if d.Events[i].Reason == ReasonGoLiveNotice {
							notice = &d.Events[i]
						}
					}
					if notice == nil || !notice.Notify || !strings.Contains(notice.Message, "policy production-apps gives at least 12h notice") {
						t.Errorf("notice = %+v", notice)
					}
				}},
		},
		{
			name: "the lead passed since the notice: production starts",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduledAndApproved(r)
				r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NoticeSentAt: at(monday.Add(-12 * time.Hour))}
			},
			world: approvedWorld,
			want:  want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name: "a notice an hour ago holds the start for eleven more",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduledAndApproved(r)
				r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NoticeSentAt: at(monday.Add(-time.Hour))}
			},
			world: approvedWorld,
			want:  want{phase: golivev1alpha1.PhaseScheduled, requeue: 11 * time.Hour, message: "Waiting for the notice lead"},
		},
		{
			name: "an emergency does not wait for the notice",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduledAndApproved(r)
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				approvedWorld(w)
				w.Commands = append(w.Commands, approve("dave", "cto", monday))
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
	})
}

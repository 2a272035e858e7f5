package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func leads(durations ...time.Duration) []golivev1alpha1.NoticeLead {
	var out []golivev1alpha1.NoticeLead
	for _, d := range durations {
		out = append(out, golivev1alpha1.NoticeLead{Duration: metav1.Duration{Duration: d}})
	}
	return out
}

// notices returns the Events of d that go to the request's webhooks.
func notices(d Decision) []Event {
	var out []Event
	for _, event := range d.Events {
		if event.Notify {
			out = append(out, event)
		}
	}
	return out
}

func TestAdvanceNotices(t *testing.T) {
	// The Thursday window opens at 19:00 UTC; the request is approved and scheduled for it.
	plannedStart := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)
	thursday := func(hour, minute int) time.Time { return time.Date(2026, 11, 26, hour, minute, 0, 0, time.UTC) }
	notice := func(in string) Event {
		return Event{
			Reason:  ReasonGoLiveNotice,
			Message: `Release 2.4.0 goes live at 2026-11-26T19:00:00Z, in ` + in + ` (GoLiveWindow "thursday-evening")`,
			Phase:   golivev1alpha1.PhaseScheduled,
			Notify:  true,
		}
	}
	cases := []struct {
		name         string
		notifyBefore []golivev1alpha1.NoticeLead
		sentAt       *time.Time
		now          time.Time
		wantNotices  []Event
		wantSentAt   *time.Time
		wantRequeue  time.Duration
	}{
		{
			name:         "no notice is due yet: the decision wakes when the first one is",
			notifyBefore: leads(12 * time.Hour),
			now:          monday,
			wantRequeue:  thursday(7, 0).Sub(monday),
		},
		{
			name:         "a notice due now goes out and is recorded; the next wake is the planned start",
			notifyBefore: leads(12 * time.Hour),
			now:          thursday(7, 0),
			wantNotices:  []Event{notice("12h")},
			wantSentAt:   new(thursday(7, 0)),
			wantRequeue:  12 * time.Hour,
		},
		{
			name:         "a notice already sent is not sent again; the decision wakes for the next one",
			notifyBefore: leads(24*time.Hour, time.Hour),
			sentAt:       new(thursday(-5, 0)),
			now:          thursday(7, 0),
			wantSentAt:   new(thursday(-5, 0)),
			wantRequeue:  11 * time.Hour,
		},
		{
			name:         "the second notice goes out at its time",
			notifyBefore: leads(24*time.Hour, time.Hour),
			sentAt:       new(thursday(-5, 0)),
			now:          thursday(18, 0),
			wantNotices:  []Event{notice("1h")},
			wantSentAt:   new(thursday(18, 0)),
			wantRequeue:  time.Hour,
		},
		{
			name:         "several overdue notices make one",
			notifyBefore: leads(48*time.Hour, 24*time.Hour, 12*time.Hour),
			now:          thursday(8, 30),
			wantNotices:  []Event{notice("10h30m")},
			wantSentAt:   new(thursday(8, 30)),
			wantRequeue:  10*time.Hour + 30*time.Minute,
		},
		{
			name:         "a notice sent after the last due time counts for it",
			notifyBefore: leads(12 * time.Hour),
			sentAt:       new(thursday(7, 30)),
			now:          thursday(8, 0),
			wantSentAt:   new(thursday(7, 30)),
			wantRequeue:  11 * time.Hour,
		},
		{
			name:         "a planned start that moved a week on is announced again",
			notifyBefore: leads(12 * time.Hour),
			sentAt:       new(thursday(7, 0).Add(-7 * 24 * time.Hour)),
			now:          thursday(7, 0),
			wantNotices:  []Event{notice("12h")},
			wantSentAt:   new(thursday(7, 0)),
			wantRequeue:  12 * time.Hour,
		},
		{
			name:         "a window without notifyBefore sends nothing",
			notifyBefore: nil,
			now:          thursday(18, 59),
			wantRequeue:  time.Minute,
		},
		{
			name:         "under a minute before the start, the notice says seconds",
			notifyBefore: leads(time.Minute),
			now:          thursday(18, 59).Add(15 * time.Second),
			wantNotices:  []Event{notice("45s")},
			wantSentAt:   new(thursday(18, 59).Add(15 * time.Second)),
			wantRequeue:  45 * time.Second,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request := newRequest()
			stagingVerified(request, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			request.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", PlannedStart: at(plannedStart)}
			if tc.sentAt != nil {
				request.Status.Schedule.NoticeSentAt = at(*tc.sentAt)
			}
			world := newWorld()
			world.Window.Spec.NotifyBefore = tc.notifyBefore
			world.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}

			d := Decide(request, world, tc.now)
			if d.Status.Phase != golivev1alpha1.PhaseScheduled {
				t.Fatalf("phase %s, want Scheduled", d.Status.Phase)
			}
			if diff := cmp.Diff(tc.wantNotices, notices(d)); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
			var sentAt *time.Time
			if d.Status.Schedule.NoticeSentAt != nil {
				sentAt = &d.Status.Schedule.NoticeSentAt.Time
			}
			if diff := cmp.Diff(tc.wantSentAt, sentAt); diff != "" {
				t.Errorf("noticeSentAt (-want +got):\n%s", diff)
			}
			if d.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeue after %s, want %s", d.RequeueAfter, tc.wantRequeue)
			}

			// Deciding again on the recorded status sends nothing more.
			request.Status = d.Status
			if again := notices(Decide(request, world, tc.now)); len(again) != 0 {
				t.Errorf("a repeated decision sent %+v", again)
			}
		})
	}
}

// Phase changes reach the webhooks with the phase they left; other Events do not.
func TestPhaseChangesAreNotified(t *testing.T) {
	request := newRequest()
	request.Status = golivev1alpha1.UpdateRequestStatus{}
	d := Decide(request, newWorld(), monday)
	want := []Event{
		{Reason: "Created", Message: "Update request for release 2.4.0 created", Phase: golivev1alpha1.PhasePending, Notify: true},
		{Reason: "StagingStarted", Message: "Updating the staging namespace billing-grey", Phase: golivev1alpha1.PhaseStaging,
			PreviousPhase: golivev1alpha1.PhasePending, Notify: true},
	}
	if diff := cmp.Diff(want, d.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// A spec change after approvals warns (not a notice) and restarts from Pending (a notice).
	request = newRequest()
	stagingVerified(request, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
	request.Status.Approvals = []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob", At: metav1.NewTime(monday)}}
	world := newWorld()
	world.SpecHash = "sha256:changed"
	d = Decide(request, world, monday)
	var warnings, changes []string
	for _, event := range d.Events {
		if event.Notify {
			changes = append(changes, string(event.PreviousPhase)+">"+string(event.Phase))
		} else {
			warnings = append(warnings, event.Reason)
		}
	}
	if diff := cmp.Diff([]string{golivev1alpha1.ReasonApprovalsInvalidated}, warnings); diff != "" {
		t.Errorf("Events not notified (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"AwaitingApproval>Pending", "Pending>Staging"}, changes); diff != "" {
		t.Errorf("phase changes notified (-want +got):\n%s", diff)
	}
}

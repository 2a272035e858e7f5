package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
)

// ReasonGoLiveNotice is the Event of an advance notice: the window's
// notifyBefore announces the planned start to the request's webhooks.
const ReasonGoLiveNotice = golivev1alpha1.ReasonGoLiveNotice

// announce sends the window's advance notices of plannedStart, which lies
// ahead: each notifyBefore lead makes a notice due at plannedStart minus the
// lead. The latest due notice goes out once, when it is later than
// status.schedule.noticeSentAt, so several overdue notices make one; the
// decision wakes exactly when the next one is due.
func (d *decider) announce(plannedStart time.Time) {
	var lastDue, nextDue time.Time
	for _, lead := range d.world.Window.Spec.NotifyBefore {
		due := plannedStart.Add(-lead.Duration.Duration)
		switch {
		case due.After(d.now):
			if nextDue.IsZero() || due.Before(nextDue) {
				nextDue = due
			}
		case due.After(lastDue):
			lastDue = due
		}
	}
	d.waitUntil(nextDue)
	schedule := d.status.Schedule
	if lastDue.IsZero() || (schedule.NoticeSentAt != nil && !lastDue.After(schedule.NoticeSentAt.Time)) {
		return
	}
	// Recorded with the notice, so it goes out at most once, even across restarts.
	schedule.NoticeSentAt = d.timestamp()
	d.events = append(d.events, Event{
		Reason: ReasonGoLiveNotice,
		Message: fmt.Sprintf("Release %s goes live at %s, in %s (GoLiveWindow %q)",
			d.spec.Release, plannedStart.UTC().Format(time.RFC3339), durationfmt.Rough(plannedStart.Sub(d.now)), d.spec.Window.Name),
		Phase:  d.status.Phase,
		Notify: true,
	})
}

// NoticeLead is a GoLivePolicy's notice.minLead, the longest of the policies
// selecting the request's namespace: production starts only this long after
// the notice that announced it.
type NoticeLead struct {
	After  time.Duration
	Policy string
}

// policyNoticeAt is when the notice a policy asks for was given, and
// whether it is due now (none given yet). An emergency does not wait for a
// notice: it is announced when it starts (the phase change), as documented.
func (d *decider) policyNoticeAt(emergency bool) (at time.Time, due bool) {
	if d.world.NoticeMinLead.After <= 0 || emergency {
		return time.Time{}, false
	}
	if schedule := d.status.Schedule; schedule != nil && schedule.NoticeSentAt != nil {
		return schedule.NoticeSentAt.Time, false
	}
	return d.now, true
}

// noticeBy is the earliest start the notice allows; zero without one.
func noticeBy(noticeAt time.Time, lead NoticeLead) time.Time {
	if noticeAt.IsZero() {
		return time.Time{}
	}
	return noticeAt.Add(lead.After)
}

// policyNotice gives the notice a policy asks for, now, for the start planned
// with it: an Event always, and the request's webhooks. Recorded in the same
// status patch, so it goes out once, even across restarts.
func (d *decider) policyNotice(plannedStart time.Time) {
	d.status.Schedule.NoticeSentAt = d.timestamp()
	lead := d.world.NoticeMinLead
	d.events = append(d.events, Event{
		Reason: ReasonGoLiveNotice,
		Message: fmt.Sprintf("Release %s goes live at %s at the earliest, in %s (GoLiveWindow %q); policy %s gives at least %s notice",
			d.spec.Release, plannedStart.UTC().Format(time.RFC3339), durationfmt.Rough(plannedStart.Sub(d.now)), d.spec.Window.Name,
			lead.Policy, durationfmt.Readable(lead.After)),
		Phase:  d.status.Phase,
		Notify: true,
	})
}

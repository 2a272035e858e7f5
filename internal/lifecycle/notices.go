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

package lifecycle

import (
	"fmt"
	"strings"
	"time"
)

// ReasonGoLiveNotice is the Event of an advance notice: the window's
// notifyBefore announces the planned start to the request's webhooks.
const ReasonGoLiveNotice = "GoLiveNotice"

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
			d.spec.Release, plannedStart.UTC().Format(time.RFC3339), roughDuration(plannedStart.Sub(d.now)), d.spec.Window.Name),
		Phase:  d.status.Phase,
		Notify: true,
	})
}

// roughDuration writes d for people: whole minutes without zero units ("12h",
// "1h30m"), seconds only under a minute.
func roughDuration(d time.Duration) string {
	if d < time.Minute {
		return ShortDuration(d.Round(time.Second))
	}
	return ShortDuration(d.Round(time.Minute))
}

// ShortDuration writes d as people write it in a spec: 10m rather than 10m0s,
// 1h30m, 1.5s. Unlike apimachinery's HumanDuration it keeps every unit, for
// messages that restate a configured timeout.
func ShortDuration(d time.Duration) string {
	text := d.String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}

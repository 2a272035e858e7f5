package lifecycle

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// enter moves the request to phase, recording it in the timeline and an Event.
func (d *decider) enter(phase golivev1alpha1.Phase, event, message string) {
	d.enterAs(phase, event, message, Actor)
}

func (d *decider) enterAs(phase golivev1alpha1.Phase, event, message, actor string) {
	if d.status.Phase == phase {
		return
	}
	previous := d.status.Phase
	d.status.Phase = phase
	d.status.Timeline = append(d.status.Timeline, golivev1alpha1.TimelineEntry{
		At: metav1.NewTime(d.now), Phase: phase, Actor: actor, Event: event, Message: message,
	})
	d.trimTimeline()
	warning := false
	switch phase {
	case golivev1alpha1.PhaseFailed, golivev1alpha1.PhaseRollingBack, golivev1alpha1.PhaseRolledBack,
		golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted:
		warning = true
	}
	d.events = append(d.events, Event{Warning: warning, Reason: event, Message: message, Phase: phase, PreviousPhase: previous, Notify: true})
}

// trimTimeline keeps the timeline's last TimelineLimit entries.
func (d *decider) trimTimeline() {
	if excess := len(d.status.Timeline) - TimelineLimit; excess > 0 {
		d.status.Timeline = slices.Delete(d.status.Timeline, 0, excess)
	}
}

func (d *decider) warn(reason, message string) {
	d.events = append(d.events, Event{Warning: true, Reason: reason, Message: message, Phase: d.status.Phase})
}

// warnOnce warns unless this decision already warned with reason (a stall
// the step reported itself, such as a planted object).
func (d *decider) warnOnce(reason, message string) {
	for _, event := range d.events {
		if event.Warning && event.Reason == reason {
			return
		}
	}
	d.warn(reason, message)
}

// act chooses the one action of this decision.
func (d *decider) act(kind ActionKind, target int) {
	d.action = Action{Kind: kind, Target: target}
}

// waitUntil lets the controller look again at t (the earliest of several waits wins).
func (d *decider) waitUntil(t time.Time) {
	if t.IsZero() {
		return
	}
	if d.wakeAt.IsZero() || t.Before(d.wakeAt) {
		d.wakeAt = t
	}
}

// wait records a wait that a watch ends (a person, another request, the window's status).
func (d *decider) wait(reason, message string) {
	d.progress(reason, message)
}

func (d *decider) progress(reason, message string) {
	d.progressReason, d.progressMessage = reason, message
}

// stall records that only a person can unblock the request; nothing is changed.
func (d *decider) stall(reason, message string) {
	d.stalledReason, d.stalledMessage = reason, message
	d.progress(reason, message)
}

func (d *decider) timestamp() *metav1.Time {
	return timePtr(d.now)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

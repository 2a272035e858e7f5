package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/window"
)

// ImpossiblePlan tells, before anyone tests or approves, whether the window
// can ever take the request's production update: if the approvals came now,
// would some opening within window.Horizon leave the lead time and the
// expected duration? It returns "" when one would (and for an emergency,
// which does not wait for the window), else a message naming the field, why
// and how to fix it. The admission webhook warns with it at creation and
// Pending stalls with it, so the plan is not found impossible only after
// both approvals.
func ImpossiblePlan(spec *golivev1alpha1.UpdateRequestSpec, windowSpec golivev1alpha1.GoLiveWindowSpec, calendar *window.Calendar, now time.Time) string {
	if spec.Emergency != nil {
		return ""
	}
	need := expectedDuration(spec)
	leadTime := windowSpec.LeadTime.Duration
	plan := PlanStart(calendar, StartConstraints{SoakEnd: now, LastApproval: now, LeadTime: leadTime, Need: need}, now)
	if plan.NeverOpens == "" {
		return ""
	}
	name := spec.Window.Name
	longest, found := longestOpening(calendar, now)
	switch {
	case !found:
		return fmt.Sprintf("spec.window.name: GoLiveWindow %q has no opening within the next %s: its freezes or schedule leave none; "+
			"ask its owners to add an opening, or use another window", name, durationfmt.Readable(window.Horizon))
	case longest < need:
		source := "spec.window.expectedDuration"
		if spec.Window.ExpectedDuration == nil {
			source = fmt.Sprintf("spec.window.expectedDuration (unset: spec.verify.timeout %s + %s)",
				durationfmt.Readable(spec.Verify.Timeout.Duration), durationfmt.Readable(expectedDurationMargin))
		}
		return fmt.Sprintf("spec.window.expectedDuration: production needs %s of an opening, but the openings of GoLiveWindow %q last at most %s; "+
			"lower %s, or ask the window's owners for longer openings",
			durationfmt.Readable(need), name, durationfmt.Readable(longest), source)
	default:
		return fmt.Sprintf("spec.window.name: GoLiveWindow %q has no opening at least %s (its leadTime) after an approval with %s left within the next %s; "+
			"ask its owners to shorten leadTime or add openings, or lower spec.window.expectedDuration",
			name, durationfmt.Readable(leadTime), durationfmt.Readable(need), durationfmt.Readable(window.Horizon))
	}
}

// longestOpening is the length of the longest opening within window.Horizon
// of now, and whether there is any; an opening without an end counts as
// longer than any need.
func longestOpening(calendar *window.Calendar, now time.Time) (time.Duration, bool) {
	var longest time.Duration
	found := false
	for opening := range calendar.Openings(now) {
		found = true
		if opening.End.IsZero() || opening.Start.IsZero() {
			return window.Horizon, true
		}
		longest = max(longest, opening.End.Sub(opening.Start))
	}
	return longest, found
}

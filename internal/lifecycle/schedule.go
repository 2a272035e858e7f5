package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/window"
)

// expectedDurationMargin is added to the production verify.timeout when
// spec.window.expectedDuration is unset.
const expectedDurationMargin = 15 * time.Minute

// StartConstraints are what the planned start of production depends on.
type StartConstraints struct {
	// SoakEnd is when the soak ends (staging verified, for an emergency).
	SoakEnd time.Time
	// LastApproval is when the last counted approval came.
	LastApproval time.Time
	// LeadTime is the window's leadTime: the notice an opening needs after the last approval.
	LeadTime time.Duration
	// Need is how much of an opening production needs.
	Need time.Duration
	// Emergency starts as soon as the soak and the approvals allow, whatever the window.
	Emergency bool
	// NoticeBy is the earliest start a policy's notice.minLead allows: the
	// notice plus the lead. Zero: no such policy.
	NoticeBy time.Time
}

// StartPlan is when production may start.
type StartPlan struct {
	// NotBefore is the earliest start the soak and the lead time allow.
	NotBefore time.Time
	// PlannedStart is the start chosen; zero when the window never opens.
	PlannedStart time.Time
	// NeverOpens says, after the window's name, why no opening fits; empty when one does.
	NeverOpens string
}

// PlanStart plans the start of production in calendar at now: an emergency
// as soon as the soak and the approvals allow; any other request at the
// first instant, from NotBefore and now on, of an opening at least LeadTime
// after the last approval with Need left. It only plans: whether the window
// lets production start (concurrency, budget, suspend) is for the caller.
func PlanStart(calendar *window.Calendar, c StartConstraints, now time.Time) StartPlan {
	if c.Emergency {
		start := latest(c.SoakEnd, c.LastApproval)
		return StartPlan{NotBefore: start, PlannedStart: start}
	}
	plan := StartPlan{NotBefore: latest(latest(c.SoakEnd, c.LastApproval.Add(c.LeadTime)), c.NoticeBy)}
	from := plan.NotBefore
	// Lead time is notice before an opening starts; without it any open window will do.
	if c.LeadTime > 0 {
		opening, ok := calendar.NextOpeningAfter(c.LastApproval, c.LeadTime)
		if !ok {
			plan.NeverOpens = fmt.Sprintf("has no opening at least %s after the last approval within the next %s",
				durationfmt.Readable(c.LeadTime), durationfmt.Readable(window.Horizon))
			return plan
		}
		from = latest(from, opening.Start)
	}
	// A planned start that has passed (the window closed meanwhile) moves on.
	from = latest(from, now)
	if calendar.Fits(from, c.Need) {
		plan.PlannedStart = from
	} else if fitting, ok := calendar.NextFitting(from, c.Need); ok {
		plan.PlannedStart = latest(fitting.Start, from)
	} else {
		plan.NeverOpens = fmt.Sprintf("has no opening with %s left after %s within the next %s: lower spec.window.expectedDuration, or ask the window's owners for longer openings",
			durationfmt.Readable(c.Need), from.UTC().Format(time.RFC3339), durationfmt.Readable(window.Horizon))
	}
	return plan
}

// expectedDuration is how much of the open window production needs.
func expectedDuration(spec *golivev1alpha1.UpdateRequestSpec) time.Duration {
	if spec.Window.ExpectedDuration != nil {
		return spec.Window.ExpectedDuration.Duration
	}
	return spec.Verify.Timeout.Duration + expectedDurationMargin
}

// scheduled plans the start of production, announces it, and starts the
// backup once the start has come, the window lets production in and, where a
// policy asks for supervision, the supervision roles said go (AwaitingGo,
// which this also decides: a request waiting for go that no longer may start
// goes back to Scheduled).
func (d *decider) scheduled() {
	d.goAwaited = false
	if d.approvalsExpired() {
		return
	}
	// A request still waiting here is looked at again when its first counted approval expires.
	defer func() {
		if d.status.Phase == golivev1alpha1.PhaseScheduled || d.status.Phase == golivev1alpha1.PhaseAwaitingGo {
			d.waitUntil(nextApprovalExpiry(d.approvals, d.world.ApprovalExpiry))
		}
	}()
	defer d.goLapsed()
	name := d.spec.Window.Name
	if !d.world.Window.Found {
		d.stall(golivev1alpha1.ReasonReferenceNotFound, fmt.Sprintf("spec.window.name: GoLiveWindow %q not found in namespace %q", name, d.request.Namespace))
		return
	}
	calendar, err := window.Compile(d.world.Window.Spec)
	if err != nil {
		d.stall(golivev1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.window.name: GoLiveWindow %q is invalid: %v", name, err))
		return
	}
	emergency := d.spec.Emergency != nil
	noticeAt, noticeDue := d.policyNoticeAt(emergency)
	plan := PlanStart(calendar, StartConstraints{
		SoakEnd: soakEnd(d.spec, &d.status), LastApproval: d.approvals.LastAt,
		LeadTime: d.world.Window.Spec.LeadTime.Duration, Need: expectedDuration(d.spec), Emergency: emergency,
		NoticeBy: noticeBy(noticeAt, d.world.NoticeMinLead),
	}, d.now)
	schedule := &golivev1alpha1.ScheduleStatus{Window: name, NotBefore: timePtr(plan.NotBefore)}
	if !plan.PlannedStart.IsZero() {
		schedule.PlannedStart = timePtr(plan.PlannedStart)
	}
	if previous := d.status.Schedule; previous != nil {
		schedule.NoticeSentAt = previous.NoticeSentAt
		// A planned start that came while the request waits on (for a go, for
		// room in the window, while suspended) stays while it is in the current
		// opening, rather than move with the clock on every look: the record
		// says when production was planned, the timeline when it started.
		if previous.PlannedStart != nil && plan.PlannedStart.Equal(d.now) &&
			!previous.PlannedStart.After(d.now) && calendar.State(d.now).Current.Contains(previous.PlannedStart.Time) {
			schedule.PlannedStart = previous.PlannedStart
			plan.PlannedStart = previous.PlannedStart.Time
		}
	}
	d.status.Schedule = schedule
	if noticeDue && plan.NeverOpens == "" {
		d.policyNotice(plan.PlannedStart)
	}
	if plan.NeverOpens != "" {
		d.stall(golivev1alpha1.ReasonNeverOpens, fmt.Sprintf("GoLiveWindow %q %s", name, plan.NeverOpens))
		return
	}
	if emergency && !d.emergencyAllowed() {
		return
	}
	plannedStart := plan.PlannedStart
	d.gate(golivev1alpha1.ConditionScheduled, true, golivev1alpha1.ReasonSucceeded, "Planned start "+plannedStart.UTC().Format(time.RFC3339))
	if d.now.Before(plannedStart) {
		d.waitUntil(plannedStart)
		d.announce(plannedStart)
		if freeze, frozen := calendar.FrozenAt(d.now); frozen && !emergency {
			d.progress(golivev1alpha1.ReasonFrozen, fmt.Sprintf("A freeze of GoLiveWindow %q forbids production changes until %s; planned start %s",
				name, freeze.End.UTC().Format(time.RFC3339), plannedStart.UTC().Format(time.RFC3339)))
			return
		}
		if lead := d.world.NoticeMinLead; !noticeAt.IsZero() && plannedStart.Equal(noticeBy(noticeAt, lead)) {
			d.progress(golivev1alpha1.ReasonNoticeLead, fmt.Sprintf("Waiting for the notice lead: policy %s gives at least %s notice (given %s); planned start %s",
				lead.Policy, durationfmt.Readable(lead.After), noticeAt.UTC().Format(time.RFC3339), plannedStart.UTC().Format(time.RFC3339)))
			return
		}
		d.progress(golivev1alpha1.ReasonWindowClosed, "Waiting for the go-live window; planned start "+plannedStart.UTC().Format(time.RFC3339))
		return
	}
	if !d.concurrencyAllows() {
		return
	}
	if d.spec.Suspend {
		d.wait(golivev1alpha1.ReasonSuspended, "Suspended before production")
		return
	}
	if d.reverifyStagingIfTooOld() {
		return
	}
	// Whatever the status says, production starts only if every gate holds
	// again, derived from what golive can verify; the go last, as it is the
	// one a person gives once everything else is ready.
	if unmet := gatesBeforeGo(d.request, d.world, d.now); len(unmet) > 0 {
		d.gate(golivev1alpha1.ConditionScheduled, false, golivev1alpha1.ReasonGateNotPassed, "")
		d.stall(golivev1alpha1.ReasonGateNotPassed, "Production was not started; gates not met: "+strings.Join(unmet, "; "))
		return
	}
	goes, given := d.supervised(calendar)
	if !given {
		return
	}
	d.status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: d.timestamp()}
	// The rules production started under, for the record; a later policy change does not apply.
	d.status.Policies = d.world.Policies
	// Part of the same status patch as the phase, before any action: a restart finds both or neither.
	d.recordGate(golivev1alpha1.GateProductionStarted)
	actor := Actor
	if n := len(goes.Given); n > 0 {
		actor = goes.Given[n-1].User
	}
	d.enterAs(golivev1alpha1.PhaseBackingUp, golivev1alpha1.ReasonProductionStarted, goGivenBy(goes)+"Backing up before updating production", actor)
}

// emergencyAllowed reports whether the window allows this emergency update:
// it has an emergency policy whose budget for the period is not used up.
func (d *decider) emergencyAllowed() bool {
	policy := d.world.Window.Spec.Emergency
	if policy == nil {
		d.stall(golivev1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.emergency: %s allows no emergency updates", d.world.Window.emergencyRulesOf(d.spec.Window.Name)))
		return false
	}
	if d.world.Window.EmergencyUsed >= policy.MaxPerPeriod {
		d.gate(golivev1alpha1.ConditionScheduled, false, golivev1alpha1.ReasonEmergencyBudgetExhausted, "")
		d.wait(golivev1alpha1.ReasonEmergencyBudgetExhausted, fmt.Sprintf("%s allows %d emergency updates per %s and %d were used",
			d.world.Window.emergencyRulesOf(d.spec.Window.Name), policy.MaxPerPeriod, policy.Period.Duration, d.world.Window.EmergencyUsed))
		return false
	}
	return true
}

// concurrencyAllows reports whether the window's maxConcurrent leaves room
// for this request's production update.
func (d *decider) concurrencyAllows() bool {
	maxConcurrent := max(d.world.Window.Spec.MaxConcurrent, 1)
	running := slices.DeleteFunc(slices.Clone(d.world.Window.ActiveUpdates), func(name string) bool { return name == d.request.Name })
	if int32(len(running)) >= maxConcurrent {
		d.wait(golivev1alpha1.ReasonConcurrencyLimit, fmt.Sprintf("GoLiveWindow %q allows %d production updates at once; running: %s",
			d.spec.Window.Name, maxConcurrent, strings.Join(running, ", ")))
		return false
	}
	return true
}

package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// Supervision, "one executes, one supervises": where a GoLivePolicy names a
// supervision role, production starts only after a person holding it, who is
// not the requester, said go (golive.dev/go) while the window is open. The
// request waits for it in AwaitingGo once every other gate passed. A go counts
// only in the opening of the window it was given in, and, like every command,
// only for the spec it was given for: when the opening no longer fits
// production before every role said go, the request goes back to Scheduled and
// the next opening needs a go of its own. An emergency, which does not wait for
// the window, counts any go for its spec.

// GoTally is the go commands counted against the supervision roles.
type GoTally struct {
	Roles []string
	// Given are the counted go commands, one per role, in the order given.
	Given []golivev1alpha1.ApprovalRecord
}

// Missing lists the roles no counted go was given for.
func (t GoTally) Missing() []string {
	var missing []string
	for _, role := range t.Roles {
		if !slices.ContainsFunc(t.Given, func(g golivev1alpha1.ApprovalRecord) bool { return g.Role == role }) {
			missing = append(missing, role)
		}
	}
	return missing
}

// TallyGoes counts the go commands for roles given at or after since (zero:
// whenever) by anyone but requestedBy: one go per role, each person
// (SamePerson) once.
func TallyGoes(commands []Command, roles []string, requestedBy string, since time.Time) GoTally {
	tally := GoTally{Roles: roles}
	var counted []string
	for _, command := range commands {
		if command.Action != ActionGo || SamePerson(command.User, requestedBy) || countedPerson(counted, command.User) ||
			command.At.Before(since) || !slices.Contains(tally.Missing(), command.Role) {
			continue
		}
		counted = append(counted, command.User)
		tally.Given = append(tally.Given, golivev1alpha1.ApprovalRecord{Role: command.Role, User: command.User, At: metav1.NewTime(command.At), Comment: command.Comment})
	}
	return tally
}

// goSince is when the go commands that count at now may have been given at
// the earliest: the start of the window's current opening (zero for an
// opening that started beyond the calendar's horizon, and for an emergency);
// now when the window is closed or cannot be read, so that none counts.
func goSince(spec *golivev1alpha1.UpdateRequestSpec, windowSpec golivev1alpha1.GoLiveWindowSpec, now time.Time) time.Time {
	if spec.Emergency != nil {
		return time.Time{}
	}
	calendar, err := window.Compile(windowSpec)
	if err != nil {
		return now
	}
	state := calendar.State(now)
	if !state.Open {
		return now
	}
	return state.Current.Start
}

// goTally counts the go commands of world that count at now.
func goTally(request *golivev1alpha1.UpdateRequest, world World, now time.Time) GoTally {
	since := goSince(&request.Spec, world.Window.Spec, now)
	return TallyGoes(world.Commands, world.SupervisionRoles, world.RequestedBy, since)
}

// supervisionGate is ProductionGates' message for the go not given, "" when
// no policy asks for one or every supervision role said go.
func supervisionGate(request *golivev1alpha1.UpdateRequest, world World, now time.Time) string {
	missing := goTally(request, world, now).Missing()
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("supervision: the signed ledger holds no go (%s) in this opening of the window from a person other than the requester holding role %s",
		golivev1alpha1.AnnotationGo, strings.Join(missing, " and "))
}

// goDeadline is the last instant of the window's current opening at which
// production still fits (need before it closes); zero when there is none to
// wait for: an emergency, or an opening without a known end.
func goDeadline(spec *golivev1alpha1.UpdateRequestSpec, calendar *window.Calendar, now time.Time) time.Time {
	if spec.Emergency != nil {
		return time.Time{}
	}
	state := calendar.State(now)
	if !state.Open || state.Current.End.IsZero() {
		return time.Time{}
	}
	return state.Current.End.Add(-expectedDuration(spec))
}

// supervised records where the go stands and reports whether every
// supervision role said go; if not, the request waits in AwaitingGo, which
// it enters now, until the opening no longer fits production.
func (d *decider) supervised(calendar *window.Calendar) (GoTally, bool) {
	if len(d.world.SupervisionRoles) == 0 {
		d.status.Supervision = nil
		return GoTally{}, true
	}
	tally := goTally(d.request, d.world, d.now)
	d.status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: tally.Roles, Given: tally.Given}
	missing := tally.Missing()
	if len(missing) == 0 {
		return tally, true
	}
	message := fmt.Sprintf("The window is open and every other gate passed; waiting for a go (%s) from a person holding role %s who is not the requester",
		golivev1alpha1.AnnotationGo, strings.Join(missing, " and "))
	if until := goDeadline(d.spec, calendar, d.now); !until.IsZero() {
		d.status.Supervision.Until = timePtr(until)
		message += " until " + until.UTC().Format(time.RFC3339)
		// Production still fits at until itself; a second later it does not.
		d.waitUntil(until.Add(time.Second))
	}
	d.goAwaited = true
	d.enter(golivev1alpha1.PhaseAwaitingGo, golivev1alpha1.ReasonAwaitingGo, message)
	d.progress(golivev1alpha1.ReasonAwaitingGo, message)
	return tally, false
}

// goLapsed puts a request that waited for go, and no longer does without
// one (the opening no longer fits production, or another gate stopped it),
// back to Scheduled; its go, should one come later, is for the next opening.
func (d *decider) goLapsed() {
	if d.status.Phase != golivev1alpha1.PhaseAwaitingGo || d.goAwaited {
		return
	}
	if d.status.Supervision != nil {
		d.status.Supervision.Until = nil
	}
	message := "Left AwaitingGo without a go"
	if d.progressMessage != "" {
		message += ": " + d.progressMessage
	}
	d.enter(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonGoLapsed, message)
}

// goGivenBy says who said go, for the message production starts with; "" without supervision.
func goGivenBy(tally GoTally) string {
	var given []string
	for _, g := range tally.Given {
		given = append(given, fmt.Sprintf("%s (%s)", g.User, g.Role)+withComment(g.Comment, "without a comment"))
	}
	if len(given) == 0 {
		return ""
	}
	return "Go given by " + strings.Join(given, "; ") + ". "
}

package window

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Limits on a schedule entry's duration, the same as the CRD's validation, so a
// spec that bypassed admission (or a unit test) is judged the same way.
const (
	minEntryDuration = time.Minute
	maxEntryDuration = 168 * time.Hour
)

// localDateTimeLayout is how freezes write their boundaries: YYYY-MM-DDTHH:MM.
const localDateTimeLayout = "2006-01-02T15:04"

// ErrInvalidSpec is wrapped by every error Compile returns: the spec has to be
// fixed, retrying cannot help.
var ErrInvalidSpec = errors.New("invalid GoLiveWindow spec")

// ErrUnknownTimeZone is wrapped when spec.timeZone names no zone in the compiled-in
// database, so a controller can report its own reason for it.
var ErrUnknownTimeZone = errors.New("unknown time zone")

// FieldError is one invalid field, named by its path (such as
// spec.freezes[1].end) so the user knows what to fix.
type FieldError struct {
	// Field is the path of the field, such as spec.schedule[0].start.
	Field string
	// Detail says what is wrong with it.
	Detail string

	kind error // a sentinel more specific than ErrInvalidSpec, or nil
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// Unwrap makes errors.Is find ErrInvalidSpec and the more specific sentinel.
func (e *FieldError) Unwrap() []error {
	if e.kind == nil {
		return []error{ErrInvalidSpec}
	}
	return []error{ErrInvalidSpec, e.kind}
}

// fieldErrors reports every invalid field at once, on one line, so a status
// condition message lists them all.
type fieldErrors []*FieldError

func (errs fieldErrors) Error() string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (errs fieldErrors) Unwrap() []error {
	unwrapped := make([]error, len(errs))
	for i, err := range errs {
		unwrapped[i] = err
	}
	return unwrapped
}

// Calendar is a validated GoLiveWindowSpec with its times parsed and its freezes
// resolved to instants. It is immutable and safe for concurrent use.
type Calendar struct {
	location *time.Location
	// entries are sorted by their local start time, which keeps the openings of
	// one day in time order.
	entries []scheduleEntry
	// longestEntry bounds how far back an opening that is still running can have started.
	longestEntry time.Duration
	// freezes are sorted, merged and non-empty.
	freezes []Interval
}

type scheduleEntry struct {
	days     [7]bool       // indexed by time.Weekday
	start    time.Duration // wall-clock time after local midnight
	duration time.Duration
}

var weekdays = map[v1alpha1.Weekday]time.Weekday{
	v1alpha1.Monday:    time.Monday,
	v1alpha1.Tuesday:   time.Tuesday,
	v1alpha1.Wednesday: time.Wednesday,
	v1alpha1.Thursday:  time.Thursday,
	v1alpha1.Friday:    time.Friday,
	v1alpha1.Saturday:  time.Saturday,
	v1alpha1.Sunday:    time.Sunday,
}

// Compile validates spec and prepares it for evaluation. The error names every
// invalid field; it wraps ErrInvalidSpec, and ErrUnknownTimeZone when the zone
// is the problem.
func Compile(spec v1alpha1.GoLiveWindowSpec) (*Calendar, error) {
	var errs fieldErrors
	invalid := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}

	location, zoneErr := loadZone(spec.TimeZone)
	if zoneErr != nil {
		errs = append(errs, zoneErr)
	}

	if len(spec.Schedule) == 0 {
		invalid("spec.schedule", "must have at least one entry")
	}
	cal := &Calendar{location: location}
	for i, entry := range spec.Schedule {
		path := fmt.Sprintf("spec.schedule[%d]", i)
		compiled := scheduleEntry{duration: entry.Duration.Duration}
		if len(entry.Days) == 0 {
			invalid(path+".days", "must name at least one day")
		}
		for j, day := range entry.Days {
			weekday, ok := weekdays[day]
			if !ok {
				invalid(fmt.Sprintf("%s.days[%d]", path, j), "%q is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun", day)
				continue
			}
			compiled.days[weekday] = true
		}
		start, ok := parseClock(entry.Start)
		if !ok {
			invalid(path+".start", "%q is not a time of day HH:MM (00:00 to 23:59)", entry.Start)
		}
		compiled.start = start
		if d := entry.Duration.Duration; d < minEntryDuration || d > maxEntryDuration {
			invalid(path+".duration", "%s is not between %s and %s", d, minEntryDuration, maxEntryDuration)
		}
		cal.entries = append(cal.entries, compiled)
		cal.longestEntry = max(cal.longestEntry, compiled.duration)
	}
	slices.SortStableFunc(cal.entries, func(a, b scheduleEntry) int { return int(a.start - b.start) })

	for i, freeze := range spec.Freezes {
		path := fmt.Sprintf("spec.freezes[%d]", i)
		start, startErr := time.Parse(localDateTimeLayout, freeze.Start)
		if startErr != nil {
			invalid(path+".start", "%q is not a valid local date and time YYYY-MM-DDTHH:MM", freeze.Start)
		}
		end, endErr := time.Parse(localDateTimeLayout, freeze.End)
		if endErr != nil {
			invalid(path+".end", "%q is not a valid local date and time YYYY-MM-DDTHH:MM", freeze.End)
		}
		if startErr != nil || endErr != nil {
			continue
		}
		if !end.After(start) {
			invalid(path+".end", "%q must be after start %q", freeze.End, freeze.Start)
			continue
		}
		if location == nil {
			continue
		}
		// Both ends may fall into one DST gap and resolve to the same instant.
		if resolved, ok := cal.FreezeInterval(freeze); ok {
			cal.freezes = append(cal.freezes, resolved)
		}
	}
	cal.freezes = mergeIntervals(cal.freezes)

	if spec.LeadTime.Duration < 0 {
		invalid("spec.leadTime", "%s must not be negative", spec.LeadTime.Duration)
	}

	if len(errs) > 0 {
		return nil, errs
	}
	return cal, nil
}

// Location is the window's time zone, for showing its times as people wrote them.
func (c *Calendar) Location() *time.Location { return c.location }

func loadZone(name string) (*time.Location, *FieldError) {
	// "Local" and "" would make the schedule depend on the host the manager runs on.
	if name == "" {
		return nil, &FieldError{Field: "spec.timeZone", Detail: "must name an IANA time zone such as Europe/Berlin", kind: ErrUnknownTimeZone}
	}
	if name == "Local" {
		return nil, &FieldError{Field: "spec.timeZone", Detail: `unknown time zone "Local": name an IANA time zone such as Europe/Berlin`, kind: ErrUnknownTimeZone}
	}
	location, err := time.LoadLocation(name)
	if err != nil {
		return nil, &FieldError{Field: "spec.timeZone", Detail: fmt.Sprintf("unknown time zone %q", name), kind: ErrUnknownTimeZone}
	}
	return location, nil
}

// parseClock reads a strict HH:MM; time.Parse would also accept "9:05".
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	digit := func(b byte) (int, bool) { return int(b - '0'), b >= '0' && b <= '9' }
	h1, ok1 := digit(s[0])
	h2, ok2 := digit(s[1])
	m1, ok3 := digit(s[3])
	m2, ok4 := digit(s[4])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false
	}
	hour, minute := h1*10+h2, m1*10+m2
	if hour > 23 || minute > 59 {
		return 0, false
	}
	return time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute, true
}

// FreezeInterval is when freeze, one of the window's, holds: its local
// boundaries resolved in the window's zone by the rules Compile applies
// (a boundary in a DST gap moves past it, one in a repeated hour takes the
// first). ok is false for a freeze that cannot be read or resolves to nothing.
func (c *Calendar) FreezeInterval(freeze v1alpha1.Freeze) (Interval, bool) {
	start, startErr := time.Parse(localDateTimeLayout, freeze.Start)
	end, endErr := time.Parse(localDateTimeLayout, freeze.End)
	if startErr != nil || endErr != nil {
		return Interval{}, false
	}
	resolved := Interval{Start: instantOf(c.location, start), End: instantOf(c.location, end)}
	return resolved, resolved.Start.Before(resolved.End)
}

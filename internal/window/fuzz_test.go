package window

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// fuzzZones mix DST in both hemispheres, half-hour offsets and shifts, a zone
// whose clocks change at midnight, and zones without DST.
var fuzzZones = []string{
	"UTC",
	"Europe/Berlin",
	"Australia/Sydney",
	"Australia/Adelaide",
	"Australia/Lord_Howe",
	"Asia/Kolkata",
	"Asia/Tokyo",
	"America/New_York",
	"America/Santiago",
}

var fuzzWeekdays = []v1alpha1.Weekday{
	v1alpha1.Sunday, v1alpha1.Monday, v1alpha1.Tuesday, v1alpha1.Wednesday,
	v1alpha1.Thursday, v1alpha1.Friday, v1alpha1.Saturday,
}

// fuzzEpoch anchors fuzzed freezes and instants near the transitions of 2026.
var fuzzEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const weekMinutes = 7 * 24 * 60

func fuzzEntry(days uint8, start, duration uint16) v1alpha1.ScheduleEntry {
	var weekdays []v1alpha1.Weekday
	for i, day := range fuzzWeekdays {
		if days&(1<<i) != 0 {
			weekdays = append(weekdays, day)
		}
	}
	if len(weekdays) == 0 {
		weekdays = fuzzWeekdays[days%7 : days%7+1]
	}
	minute := int(start) % (24 * 60)
	return v1alpha1.ScheduleEntry{
		Days:     weekdays,
		Start:    fmt.Sprintf("%02d:%02d", minute/60, minute%60),
		Duration: metav1.Duration{Duration: time.Duration(int(duration)%weekMinutes+1) * time.Minute},
	}
}

// fuzzFreeze starts up to about 2 years after fuzzEpoch and lasts up to about 90 days.
func fuzzFreeze(start, length uint32) v1alpha1.Freeze {
	from := fuzzEpoch.Add(time.Duration(start%(2*366*24*60)) * time.Minute)
	to := from.Add(time.Duration(length%(90*24*60)+1) * time.Minute)
	return v1alpha1.Freeze{Name: "fuzz", Start: from.Format(localDateTimeLayout), End: to.Format(localDateTimeLayout)}
}

// openByDefinition answers "is the window open at t" straight from the rules,
// without merging or walking: some entry's opening started on one of the last
// eight local days and runs at t, and no freeze covers t.
func openByDefinition(c *Calendar, t time.Time) bool {
	for _, f := range c.freezes {
		if f.Contains(t) {
			return false
		}
	}
	today := localDate(c.location, t)
	for back := range 9 {
		day := today.AddDate(0, 0, -back)
		for _, opening := range c.scheduledOn(day) {
			if opening.Contains(t) {
				return true
			}
		}
	}
	return false
}

func FuzzCalendar(f *testing.F) {
	// zone, entries, days/start/duration ×3, freezes, start/length ×2, now (minutes after fuzzEpoch)
	f.Add(uint8(1), uint8(1), uint8(0b0010000), uint16(20*60), uint16(179), uint8(0b1), uint16(0), uint16(0), uint8(0b1), uint16(0), uint16(0),
		uint8(1), uint32(353*24*60), uint32(17*24*60), uint32(0), uint32(0), int32(84*24*60))
	f.Add(uint8(1), uint8(2), uint8(0b0000001), uint16(150), uint16(59), uint8(0b1000000), uint16(23*60), uint16(300), uint8(0), uint16(0), uint16(0),
		uint8(0), uint32(0), uint32(0), uint32(0), uint32(0), int32(87*24*60))
	f.Add(uint8(2), uint8(3), uint8(0b0000001), uint16(150), uint16(60), uint8(0b1000000), uint16(22*60), uint16(360), uint8(0b0111110), uint16(9*60), uint16(480),
		uint8(2), uint32(275*24*60), uint32(60), uint32(93*24*60), uint32(3000), int32(275*24*60+600))
	f.Add(uint8(4), uint8(1), uint8(0b1111111), uint16(0), uint16(24*60-1), uint8(0), uint16(0), uint16(0), uint8(0), uint16(0), uint16(0),
		uint8(1), uint32(100*24*60), uint32(89*24*60), uint32(0), uint32(0), int32(120*24*60))
	f.Add(uint8(8), uint8(2), uint8(0b0000001), uint16(0), uint16(90), uint8(0b1000000), uint16(23*60+30), uint16(45), uint8(0), uint16(0), uint16(0),
		uint8(0), uint32(0), uint32(0), uint32(0), uint32(0), int32(248*24*60))
	f.Add(uint8(5), uint8(1), uint8(0b0000010), uint16(0), uint16(weekMinutes-1), uint8(0), uint16(0), uint16(0), uint8(0), uint16(0), uint16(0),
		uint8(2), uint32(10*24*60), uint32(5), uint32(400*24*60), uint32(60*24*60), int32(-30*24*60))
	f.Add(uint8(3), uint8(3), uint8(0b0000100), uint16(7*60), uint16(600), uint8(0b0000100), uint16(9*60), uint16(30), uint8(0b0001000), uint16(0), uint16(24*60),
		uint8(1), uint32(0), uint32(89*24*60), uint32(0), uint32(0), int32(40*24*60))
	f.Add(uint8(6), uint8(1), uint8(0b0100000), uint16(12*60), uint16(120), uint8(0), uint16(0), uint16(0), uint8(0), uint16(0), uint16(0),
		uint8(2), uint32(0), uint32(89*24*60), uint32(89*24*60), uint32(89*24*60), int32(700*24*60))

	f.Fuzz(func(t *testing.T, zone, entries, days1 uint8, start1, duration1 uint16, days2 uint8, start2, duration2 uint16, days3 uint8, start3, duration3 uint16,
		freezes uint8, freezeStart1, freezeLength1, freezeStart2, freezeLength2 uint32, nowMinutes int32) {
		spec := v1alpha1.GoLiveWindowSpec{TimeZone: fuzzZones[int(zone)%len(fuzzZones)]}
		spec.Schedule = append(spec.Schedule, fuzzEntry(days1, start1, duration1))
		if entries%3 >= 1 {
			spec.Schedule = append(spec.Schedule, fuzzEntry(days2, start2, duration2))
		}
		if entries%3 == 2 {
			spec.Schedule = append(spec.Schedule, fuzzEntry(days3, start3, duration3))
		}
		if freezes%3 >= 1 {
			spec.Freezes = append(spec.Freezes, fuzzFreeze(freezeStart1, freezeLength1))
		}
		if freezes%3 == 2 {
			spec.Freezes = append(spec.Freezes, fuzzFreeze(freezeStart2, freezeLength2))
		}
		calendar, err := Compile(spec)
		if err != nil {
			t.Fatalf("Compile(%+v) error = %v", spec, err)
		}
		// Within about two years either side of fuzzEpoch, to nanosecond precision.
		now := fuzzEpoch.Add(time.Duration(nowMinutes%(800*24*60))*time.Minute + time.Duration(nowMinutes)*time.Nanosecond)
		checkCalendar(t, calendar, now)
	})
}

// checkCalendar asserts the invariants that hold for every calendar and instant.
func checkCalendar(t *testing.T, c *Calendar, now time.Time) {
	t.Helper()
	state := c.State(now)
	checkOpen := func(at time.Time, want bool, why string) {
		t.Helper()
		if got := c.State(at).Open; got != want {
			t.Fatalf("now %s, state %+v: State(%s).Open = %v, want %v: %s", now, state, at, got, want, why)
		}
		if got := openByDefinition(c, at); got != want {
			t.Fatalf("now %s, state %+v: at %s open by definition = %v, want %v: %s", now, state, at, got, want, why)
		}
	}

	checkOpen(now, state.Open, "State(now) agrees with the rules")
	if state.NeverOpens && (state.Open || !state.Next.IsZero()) {
		t.Fatalf("now %s: NeverOpens with %+v", now, state)
	}
	if state.Open {
		current := state.Current
		if !current.Contains(now) {
			t.Fatalf("now %s: open, but Current %+v does not contain it", now, current)
		}
		if !current.Start.IsZero() {
			checkOpen(current.Start, true, "open at Current.Start")
			checkOpen(current.Start.Add(-1), false, "closed just before Current.Start, since touching openings merge")
		}
		if !current.End.IsZero() {
			checkOpen(current.End.Add(-1), true, "open just before Current.End")
			checkOpen(current.End, false, "closed at Current.End, since touching openings merge")
		}
		if !current.End.IsZero() && !current.Start.IsZero() && current.End.Sub(current.Start) > 2*time.Hour {
			checkOpen(current.Start.Add(current.End.Sub(current.Start)/2), true, "open in the middle of Current")
		}
	} else if !state.Current.IsZero() {
		t.Fatalf("now %s: closed with Current %+v", now, state.Current)
	}
	if next := state.Next; !next.IsZero() {
		if !next.Start.After(now) {
			t.Fatalf("now %s: Next %+v does not start after now", now, next)
		}
		if !next.End.IsZero() && !next.End.After(next.Start) {
			t.Fatalf("now %s: Next %+v ends before it starts", now, next)
		}
		if state.Open && !state.Current.End.IsZero() && !next.Start.After(state.Current.End) {
			t.Fatalf("now %s: Next %+v does not start after Current %+v ends", now, next, state.Current)
		}
		checkOpen(next.Start, true, "open at Next.Start")
		checkOpen(next.Start.Add(-1), false, "closed just before Next.Start")
		if !state.Open {
			checkOpen(now.Add(next.Start.Sub(now)/2), false, "closed between now and Next.Start")
		}
		if !next.End.IsZero() {
			checkOpen(next.End, false, "closed at Next.End")
			if got := c.State(next.Start).Current; got != next {
				t.Fatalf("now %s: Next %+v, but State(Next.Start).Current = %+v", now, next, got)
			}
		}
	}

	for _, f := range c.freezes {
		checkOpen(f.Start, false, "closed when a freeze starts")
		checkOpen(f.End.Add(-1), false, "closed at the end of a freeze")
	}

	boundary, ok := c.NextBoundary(now)
	if ok != (state.Open && !state.Current.End.IsZero() || !state.Open && !state.NeverOpens) {
		t.Fatalf("now %s, state %+v: NextBoundary ok = %v", now, state, ok)
	}
	if ok {
		checkOpen(boundary, !state.Open, "the state changes at NextBoundary")
		checkOpen(boundary.Add(-1), state.Open, "the state holds until NextBoundary")
	}

	for _, need := range []time.Duration{0, time.Minute, time.Hour, 3*time.Hour + 7*time.Minute, 100 * time.Hour} {
		fits := c.Fits(now, need)
		want := state.Open && (state.Current.End.IsZero() || state.Current.End.Sub(now) >= need)
		if fits != want {
			t.Fatalf("now %s, state %+v: Fits(%s) = %v, want %v", now, state, need, fits, want)
		}
		fitting, ok := c.NextFitting(now, need)
		if fits && fitting != state.Current {
			t.Fatalf("now %s: Fits(%s) but NextFitting = %+v, not Current %+v", now, need, fitting, state.Current)
		}
		if ok && !fits {
			if !fitting.Start.After(now) || !fitting.leaves(fitting.Start, need) {
				t.Fatalf("now %s: NextFitting(%s) = %+v, which does not fit", now, need, fitting)
			}
			checkOpen(fitting.Start, true, "open where NextFitting starts")
		}
	}

	for _, leadTime := range []time.Duration{0, 90 * time.Minute, 336 * time.Hour} {
		opening, ok := c.NextOpeningAfter(now, leadTime)
		if !ok {
			continue
		}
		if opening.Start.Before(now.Add(leadTime)) {
			t.Fatalf("now %s: NextOpeningAfter(%s) = %+v starts too early", now, leadTime, opening)
		}
		checkOpen(opening.Start, true, "open where NextOpeningAfter starts")
		checkOpen(opening.Start.Add(-1), false, "closed just before NextOpeningAfter starts")
	}
}

package console

import (
	"slices"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// calendarDays is how many days ahead the windows page shows, today included.
const calendarDays = 14

// maxOpeningsPerWindow bounds what one window adds to the calendar.
const maxOpeningsPerWindow = 100

// calendarEntry is an opening or a freeze of a window, as internal/window
// computes it. A zero Start is before the calendar, a zero End after it.
type calendarEntry struct {
	Namespace, Window string
	window.Interval
	// Name and Reason are a freeze's.
	Name, Reason string
	// Open is true for the opening running now; on a day, for that day's only.
	Open bool
	// AllDay is true on a day the entry covers whole.
	AllDay bool
}

// calendarDay is one day in the viewer's zone with what overlaps it.
type calendarDay struct {
	// Date is the day's midnight in the viewer's zone.
	Date     time.Time
	Openings []calendarEntry
	Freezes  []calendarEntry
}

// windowCalendar is the windows' openings and freezes from now on, by day.
type windowCalendar struct {
	Days []calendarDay
	// Freezes are every freeze that has not ended, in time order.
	Freezes []calendarEntry
}

// buildCalendar lays out the openings and freezes of windows over days days
// of zone from now's day on. Each opening is cut by its window's freezes, as
// golive counts it; a window whose spec is invalid adds nothing.
func buildCalendar(windows []golivev1alpha1.GoLiveWindow, now time.Time, zone *time.Location, days int) windowCalendar {
	local := now.In(zone)
	first := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	end := first.AddDate(0, 0, days)
	var openings []calendarEntry
	var out windowCalendar
	for _, glw := range windows {
		calendar, err := window.Compile(glw.Spec)
		if err != nil {
			continue
		}
		count := 0
		for interval := range calendar.Openings(now) {
			if !interval.Start.IsZero() && !interval.Start.Before(end) {
				break
			}
			openings = append(openings, calendarEntry{Namespace: glw.Namespace, Window: glw.Name, Interval: interval, Open: interval.Contains(now)})
			if count++; count == maxOpeningsPerWindow || interval.End.IsZero() {
				break
			}
		}
		for _, freeze := range glw.Spec.Freezes {
			interval, ok := calendar.FreezeInterval(freeze)
			if !ok || !interval.End.After(now) {
				continue
			}
			out.Freezes = append(out.Freezes, calendarEntry{Namespace: glw.Namespace, Window: glw.Name, Interval: interval,
				Name: freeze.Name, Reason: freeze.Reason, Open: interval.Contains(now)})
		}
	}
	byStart := func(a, b calendarEntry) int { return a.Start.Compare(b.Start) }
	slices.SortStableFunc(openings, byStart)
	slices.SortStableFunc(out.Freezes, byStart)
	for day := first; day.Before(end); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		entry := calendarDay{Date: day}
		today := !now.Before(day) && now.Before(next)
		onTheDay := func(e calendarEntry) calendarEntry {
			e.Open = e.Open && today
			e.AllDay = (e.Start.IsZero() || !e.Start.After(day)) && (e.End.IsZero() || !e.End.Before(next))
			return e
		}
		for _, o := range openings {
			if overlaps(o.Interval, day, next) {
				entry.Openings = append(entry.Openings, onTheDay(o))
			}
		}
		for _, f := range out.Freezes {
			if overlaps(f.Interval, day, next) {
				entry.Freezes = append(entry.Freezes, onTheDay(f))
			}
		}
		out.Days = append(out.Days, entry)
	}
	return out
}

// overlaps reports whether i shares a moment with [from, until).
func overlaps(i window.Interval, from, until time.Time) bool {
	return (i.Start.IsZero() || i.Start.Before(until)) && (i.End.IsZero() || i.End.After(from))
}

// formatSpan is the part of i on the day from day to next, as the viewer's
// clock shows it and in UTC: "20:00–23:00 CET (19:00–22:00 UTC)"; "…" where
// it runs on from the day before or into the next.
func formatSpan(i window.Interval, day, next time.Time, zone *time.Location) string {
	clock := func(at *time.Location) (string, string) {
		from, until := "…", "…"
		if !i.Start.IsZero() && !i.Start.Before(day) {
			from = i.Start.In(at).Format("15:04")
		}
		if !i.End.IsZero() && i.End.Before(next) {
			until = i.End.In(at).Format("15:04")
		}
		return from, until
	}
	from, until := clock(zone)
	abbreviation := day.In(zone).Format("MST")
	if !i.Start.IsZero() && !i.Start.Before(day) {
		abbreviation = i.Start.In(zone).Format("MST")
	}
	text := from + "–" + until + " " + abbreviation
	if zone == time.UTC {
		return text
	}
	fromUTC, untilUTC := clock(time.UTC)
	return text + " (" + fromUTC + "–" + untilUTC + " UTC)"
}

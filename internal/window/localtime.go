package window

import "time"

// A wall-clock time is kept as a time.Time in UTC whose fields are the local
// date and time, so day arithmetic on it never meets a clock change.

// zoneSearchMargin is wider than any UTC offset a zone has ever had, so every
// zone period that could show a given wall-clock time is looked at.
const zoneSearchMargin = 26 * time.Hour

// instantOf returns the instant at which the clocks in location show wall. In a
// DST gap that is the end of the gap; in a repeated hour it is the first
// occurrence. time.Date leaves both cases unspecified, so the zone periods
// around wall are inspected instead.
func instantOf(location *time.Location, wall time.Time) time.Time {
	var first time.Time
	found := false
	horizon := wall.Add(zoneSearchMargin)
	at := wall.Add(-zoneSearchMargin)
	for {
		local := at.In(location)
		_, offset := local.Zone()
		periodStart, periodEnd := local.ZoneBounds() // zero when unbounded
		shift := time.Duration(offset) * time.Second

		// The instant at which this period's clocks would show wall, if it is within the period.
		if candidate := wall.Add(-shift); (periodStart.IsZero() || !candidate.Before(periodStart)) &&
			(periodEnd.IsZero() || candidate.Before(periodEnd)) && (!found || candidate.Before(first)) {
			first, found = candidate, true
		}
		if periodEnd.IsZero() || periodEnd.After(horizon) {
			break
		}
		if !found {
			// Clocks jump at periodEnd from periodEnd+shift to periodEnd+nextShift;
			// wall times in between do not exist and begin when the jump is over.
			_, nextOffset := periodEnd.In(location).Zone()
			nextShift := time.Duration(nextOffset) * time.Second
			if !wall.Before(periodEnd.Add(shift)) && wall.Before(periodEnd.Add(nextShift)) {
				return periodEnd
			}
		}
		at = periodEnd
	}
	if found {
		return first
	}
	// Unreachable with a consistent zone database; fall back to the standard library's choice.
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), location)
}

// localDate returns the date the clocks in location show at t, as midnight UTC.
func localDate(location *time.Location, t time.Time) time.Time {
	year, month, day := t.In(location).Date()
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

package window

import (
	"iter"
	"slices"
	"time"
)

// Horizon bounds every search, ahead for the next opening and closing and back
// for the start of an opening already running. Schedules repeat weekly, so only
// freezes can keep a window closed this long; two years covers any freeze people
// plan while keeping the longest evaluation well under a millisecond.
const Horizon = 2 * 366 * 24 * time.Hour

// Interval is the half-open span [Start, End). A zero Start means the opening
// began more than Horizon before the instant asked about, a zero End that it
// may last past the Horizon (an always-open window has both): neither is a
// moment a controller can wait for or show.
type Interval struct {
	Start, End time.Time
}

// IsZero reports whether i is the zero Interval, the answer when there is none.
func (i Interval) IsZero() bool { return i.Start.IsZero() && i.End.IsZero() }

// Contains reports whether t is in [Start, End).
func (i Interval) Contains(t time.Time) bool {
	return (i.Start.IsZero() || !t.Before(i.Start)) && i.endsAfter(t)
}

// endsAfter reports whether the interval still runs after t.
func (i Interval) endsAfter(t time.Time) bool { return i.End.IsZero() || i.End.After(t) }

// leaves reports whether at least need is left of i from t on (or from its start,
// if that is later).
func (i Interval) leaves(t time.Time, need time.Duration) bool {
	if i.End.IsZero() {
		return true
	}
	from := t
	if i.Start.After(t) {
		from = i.Start
	}
	return i.End.Sub(from) >= need
}

// State is a window at one instant.
type State struct {
	// Open is true when production may change.
	Open bool
	// Current is the opening that contains the instant, already cut by freezes;
	// zero when closed.
	Current Interval
	// Next is the first opening that starts after the instant (after Current,
	// when open); zero when none starts within Horizon.
	Next Interval
	// NeverOpens is true when the window is closed and does not open within Horizon.
	NeverOpens bool
}

// NextOpen is what status.nextOpen shows: the current opening's start while
// open, otherwise the next opening's start. Zero when unknown within Horizon.
func (s State) NextOpen() time.Time {
	if s.Open {
		return s.Current.Start
	}
	return s.Next.Start
}

// NextClose is what status.nextClose shows: when the current opening closes
// while open, otherwise when the next one will. Zero when unknown within Horizon.
func (s State) NextClose() time.Time {
	if s.Open {
		return s.Current.End
	}
	return s.Next.End
}

// State evaluates the window at now.
func (c *Calendar) State(now time.Time) State {
	var state State
	for opening := range c.Openings(now) {
		if opening.Contains(now) {
			state.Open, state.Current = true, opening
			continue
		}
		state.Next = opening
		break
	}
	state.NeverOpens = !state.Open && state.Next.IsZero()
	return state
}

// NextBoundary returns the next instant after now at which the window opens or
// closes, so a controller can requeue for exactly then instead of polling. ok
// is false when that does not happen within Horizon; only a spec change or the
// passing of a long freeze can change that answer.
func (c *Calendar) NextBoundary(now time.Time) (boundary time.Time, ok bool) {
	state := c.State(now)
	if state.Open {
		boundary = state.Current.End
	} else {
		boundary = state.Next.Start
	}
	return boundary, !boundary.IsZero()
}

// Fits reports whether the window is open at now with at least need left, so a
// change expected to take need is not started only to run past the close.
func (c *Calendar) Fits(now time.Time, need time.Duration) bool {
	state := c.State(now)
	return state.Open && state.Current.leaves(now, need)
}

// FrozenAt returns the freeze that t falls in, overlapping freezes merged.
func (c *Calendar) FrozenAt(t time.Time) (Interval, bool) {
	for _, freeze := range c.freezes {
		if freeze.Contains(t) {
			return freeze, true
		}
	}
	return Interval{}, false
}

// NextFitting returns the first opening, the current one included, with at least
// need left from now or from its start if that is later: the planned start of a
// change that takes need is the later of now and its Start.
func (c *Calendar) NextFitting(now time.Time, need time.Duration) (Interval, bool) {
	for opening := range c.Openings(now) {
		if opening.leaves(now, need) {
			return opening, true
		}
	}
	return Interval{}, false
}

// NextOpeningAfter returns the first opening that starts at or after
// t+leadTime, with t the last approval. An opening already running at
// t+leadTime does not count, however much of it is left: the lead time is
// notice before a window opens. An opening that starts at the end of a freeze
// does count, since that is when it opens.
func (c *Calendar) NextOpeningAfter(t time.Time, leadTime time.Duration) (Interval, bool) {
	earliest := t.Add(leadTime)
	for opening := range c.Openings(earliest) {
		if !opening.Start.IsZero() && !opening.Start.Before(earliest) {
			return opening, true
		}
	}
	return Interval{}, false
}

// Openings yields, in time order, the openings (merged and cut by freezes) that
// end after from: the first may be running at from. It stops at the first
// opening that would start more than Horizon after from.
func (c *Calendar) Openings(from time.Time) iter.Seq[Interval] {
	return func(yield func(Interval) bool) {
		// An opening still running at from started at most longestEntry earlier;
		// a day more absorbs the UTC offset.
		firstDay := localDate(c.location, from.Add(-c.longestEntry)).AddDate(0, 0, -1)
		lastDay := localDate(c.location, from.Add(Horizon)).AddDate(0, 0, 1)
		lookBackTo := localDate(c.location, from.Add(-Horizon))
		latestStart := from.Add(Horizon)

		startKnown := false
		// emit cuts a merged opening by the freezes and yields the pieces that
		// matter; it returns false once the caller or the horizon says stop.
		emit := func(merged Interval) bool {
			if !merged.endsAfter(from) {
				return true
			}
			if !startKnown {
				// Openings from before firstDay may chain into the first one that matters.
				merged.Start = c.chainStart(merged.Start, firstDay, lookBackTo)
				startKnown = true
			}
			for _, piece := range c.cutByFreezes(merged) {
				if !piece.endsAfter(from) {
					continue
				}
				if piece.Start.After(latestStart) || !yield(piece) {
					return false
				}
			}
			return true
		}

		var merged Interval
		pending := false
		for day := firstDay; !day.After(lastDay); day = day.AddDate(0, 0, 1) {
			for _, opening := range c.scheduledOn(day) {
				// Starts never decrease along the days, so once one starts after the
				// merged opening ends, nothing later can join it.
				if pending && !opening.Start.After(merged.End) {
					if opening.End.After(merged.End) {
						merged.End = opening.End
					}
					continue
				}
				if pending && !emit(merged) {
					return
				}
				merged, pending = opening, true
			}
		}
		if !pending {
			return
		}
		if !merged.End.Before(c.localMidnight(lastDay.AddDate(0, 0, 1))) {
			merged.End = time.Time{} // openings after lastDay, not generated, may extend it
		}
		emit(merged)
	}
}

// scheduledOn returns the openings the schedule starts on a local day, before
// merging and freezes, in time order.
func (c *Calendar) scheduledOn(day time.Time) []Interval {
	var openings []Interval
	for _, entry := range c.entries {
		if !entry.days[day.Weekday()] {
			continue
		}
		start := instantOf(c.location, day.Add(entry.start))
		openings = append(openings, Interval{Start: start, End: start.Add(entry.duration)})
	}
	return openings
}

// localMidnight is the instant a local day begins.
func (c *Calendar) localMidnight(day time.Time) time.Time { return instantOf(c.location, day) }

// chainStart walks back from the day before firstDay while openings of earlier
// days overlap or touch the merged opening that starts at start, and returns
// where the chain of them begins; zero when it still goes on at lookBackTo.
func (c *Calendar) chainStart(start, firstDay, lookBackTo time.Time) time.Time {
	for day := firstDay.AddDate(0, 0, -1); ; day = day.AddDate(0, 0, -1) {
		// Openings that start on this day or earlier end before this bound.
		if c.localMidnight(day.AddDate(0, 0, 1)).Add(c.longestEntry).Before(start) {
			return start
		}
		if day.Before(lookBackTo) {
			return time.Time{}
		}
		openings := c.scheduledOn(day)
		// Latest first, so one that reaches start pulls in an earlier one reaching it.
		for _, opening := range slices.Backward(openings) {
			if opening.Start.Before(start) && !opening.End.Before(start) {
				start = opening.Start
			}
		}
	}
}

// cutByFreezes returns the parts of opening outside every freeze.
func (c *Calendar) cutByFreezes(opening Interval) []Interval {
	var pieces []Interval
	rest := opening
	for _, freeze := range c.freezes {
		if !rest.Start.IsZero() && !freeze.End.After(rest.Start) {
			continue // freeze over before rest starts
		}
		if !rest.endsAfter(freeze.Start) {
			break // freezes are sorted: this and the rest start after rest ends
		}
		if rest.Start.IsZero() || freeze.Start.After(rest.Start) {
			pieces = append(pieces, Interval{Start: rest.Start, End: freeze.Start})
		}
		rest.Start = freeze.End
		if !rest.endsAfter(rest.Start) {
			return pieces
		}
	}
	return append(pieces, rest)
}

// mergeIntervals sorts intervals and merges those that overlap or touch.
func mergeIntervals(intervals []Interval) []Interval {
	slices.SortFunc(intervals, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var merged []Interval
	for _, interval := range intervals {
		if last := len(merged) - 1; last >= 0 && !interval.Start.After(merged[last].End) {
			if interval.End.After(merged[last].End) {
				merged[last].End = interval.End
			}
			continue
		}
		merged = append(merged, interval)
	}
	return merged
}

package records

import (
	"slices"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A request's status keeps the last entries of its timeline
// (lifecycle.TimelineLimit); golive keeps the entries that drop out of it in
// the request's timeline journal, a ConfigMap, until the record is written
// with the whole timeline.

// Dropped is the entries of the stored timeline before that the new timeline
// after no longer holds: the timeline grows at its end and drops its oldest
// entries, so after starts with a suffix of before. They were stored, so
// keeping them in the journal before after is stored never keeps an entry
// that did not happen.
func Dropped(before, after []golivev1alpha1.TimelineEntry) []golivev1alpha1.TimelineEntry {
	for k := range before {
		kept := before[k:]
		if len(kept) <= len(after) && slices.EqualFunc(kept, after[:len(kept)], sameEntry) {
			if k == 0 {
				return nil
			}
			return before[:k]
		}
	}
	return before
}

// FullTimeline is the whole timeline: the journal's entries, then those of
// later (the status's, or entries dropped later) that follow them. Both are
// stretches of the same history, oldest first: later may overlap the journal
// (a status patch that failed after the journal was written) or lie wholly
// inside it (a decision on a stale copy); such entries count once.
func FullTimeline(journal, later []golivev1alpha1.TimelineEntry) []golivev1alpha1.TimelineEntry {
	if len(journal) == 0 {
		return slices.Clone(later)
	}
	last := journal[len(journal)-1]
	if k := slices.IndexFunc(later, func(e golivev1alpha1.TimelineEntry) bool { return sameEntry(e, last) }); k >= 0 {
		return append(slices.Clone(journal), later[k+1:]...)
	}
	if len(later) > 0 && slices.ContainsFunc(journal, func(e golivev1alpha1.TimelineEntry) bool { return sameEntry(e, later[len(later)-1]) }) {
		return slices.Clone(journal)
	}
	return append(slices.Clone(journal), later...)
}

func sameEntry(a, b golivev1alpha1.TimelineEntry) bool {
	return a.At.Equal(&b.At) && a.Phase == b.Phase && a.Actor == b.Actor && a.Event == b.Event && a.Message == b.Message
}

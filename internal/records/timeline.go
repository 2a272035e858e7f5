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

// FullTimeline is the whole timeline: the journal's entries, then the
// status's. The journal may already hold the first entries of the status
// (a status patch that failed after the journal was written); they count once.
func FullTimeline(journal, status []golivev1alpha1.TimelineEntry) []golivev1alpha1.TimelineEntry {
	for overlap := min(len(journal), len(status)); overlap > 0; overlap-- {
		if slices.EqualFunc(journal[len(journal)-overlap:], status[:overlap], sameEntry) {
			return append(slices.Clone(journal), status[overlap:]...)
		}
	}
	return append(slices.Clone(journal), status...)
}

func sameEntry(a, b golivev1alpha1.TimelineEntry) bool {
	return a.At.Equal(&b.At) && a.Phase == b.Phase && a.Actor == b.Actor && a.Event == b.Event && a.Message == b.Message
}

package records

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// entries are timeline entries from..to-1, each a minute after the one before.
func entries(from, to int) []golivev1alpha1.TimelineEntry {
	var out []golivev1alpha1.TimelineEntry
	for i := from; i < to; i++ {
		out = append(out, golivev1alpha1.TimelineEntry{
			At: metav1.NewTime(testNow.Add(time.Duration(i) * time.Minute)), Phase: golivev1alpha1.PhaseStaging,
			Event: "Verifying", Message: fmt.Sprintf("entry %d", i),
		})
	}
	return out
}

func TestDropped(t *testing.T) {
	tests := []struct {
		name          string
		before, after []golivev1alpha1.TimelineEntry
		want          []golivev1alpha1.TimelineEntry
	}{
		{name: "first entry", before: nil, after: entries(0, 1)},
		{name: "grown under the limit", before: entries(0, 10), after: entries(0, 12)},
		{name: "unchanged", before: entries(0, 64), after: entries(0, 64)},
		{name: "two dropped at the limit", before: entries(0, 64), after: entries(2, 66), want: entries(0, 2)},
		{name: "all dropped", before: entries(0, 64), after: entries(64, 128), want: entries(0, 64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Dropped(tc.before, tc.after)); diff != "" {
				t.Errorf("Dropped() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFullTimeline(t *testing.T) {
	tests := []struct {
		name            string
		journal, status []golivev1alpha1.TimelineEntry
		want            []golivev1alpha1.TimelineEntry
	}{
		{name: "no journal", status: entries(0, 5), want: entries(0, 5)},
		{name: "journal then status", journal: entries(0, 10), status: entries(10, 74), want: entries(0, 74)},
		{name: "journal overlapping the status", journal: entries(0, 12), status: entries(10, 74), want: entries(0, 74)},
		{name: "journal holding the whole status", journal: entries(0, 12), status: entries(10, 12), want: entries(0, 12)},
		{name: "entries dropped on a stale copy", journal: entries(0, 12), status: entries(0, 3), want: entries(0, 12)},
		{name: "no status", journal: entries(0, 12), want: entries(0, 12)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, FullTimeline(tc.journal, tc.status)); diff != "" {
				t.Errorf("FullTimeline() (-want +got):\n%s", diff)
			}
		})
	}
}

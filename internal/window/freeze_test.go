package window

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/golive-dev/golive/api/v1alpha1"
)

func TestFreezeInterval(t *testing.T) {
	spec := v1alpha1.GoLiveWindowSpec{TimeZone: "Europe/Berlin", Schedule: []v1alpha1.ScheduleEntry{entry("Thu", "20:00", 3*time.Hour)}}
	calendar, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		freeze v1alpha1.Freeze
		want   Interval
		ok     bool
	}{
		{"winter, UTC+1", freeze("2026-12-20T00:00", "2027-01-06T00:00"), Interval{utc("2026-12-19T23:00"), utc("2027-01-05T23:00")}, true},
		{"across the spring gap, which moves the start past it", freeze("2026-03-29T02:30", "2026-03-29T04:00"),
			Interval{utc("2026-03-29T01:00"), utc("2026-03-29T02:00")}, true},
		{"both ends in the gap", freeze("2026-03-29T02:10", "2026-03-29T02:50"), Interval{}, false},
		{"unreadable", freeze("2026-12-20", "2027-01-06T00:00"), Interval{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := calendar.FreezeInterval(tc.freeze)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("FreezeInterval (-want +got):\n%s", diff)
				}
			}
		})
	}
}

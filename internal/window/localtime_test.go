package window

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInstantOf(t *testing.T) {
	tests := []struct {
		name string
		zone string
		wall string
		want string // UTC
	}{
		{"Berlin winter", "Europe/Berlin", "2026-01-15T20:00", "2026-01-15T19:00"},
		{"Berlin summer", "Europe/Berlin", "2026-07-15T20:00", "2026-07-15T18:00"},
		{"Berlin gap begins when the gap ends", "Europe/Berlin", "2026-03-29T02:30", "2026-03-29T01:00"},
		{"Berlin gap's first minute", "Europe/Berlin", "2026-03-29T02:00", "2026-03-29T01:00"},
		{"Berlin just before the gap", "Europe/Berlin", "2026-03-29T01:59", "2026-03-29T00:59"},
		{"Berlin just after the gap", "Europe/Berlin", "2026-03-29T03:00", "2026-03-29T01:00"},
		{"Berlin ambiguous takes the first (CEST)", "Europe/Berlin", "2026-10-25T02:30", "2026-10-25T00:30"},
		{"Berlin ambiguous first minute", "Europe/Berlin", "2026-10-25T02:00", "2026-10-25T00:00"},
		{"Berlin after the repeated hour", "Europe/Berlin", "2026-10-25T03:00", "2026-10-25T02:00"},
		{"Sydney gap (October)", "Australia/Sydney", "2026-10-04T02:30", "2026-10-03T16:00"},
		{"Sydney ambiguous takes the first (AEDT)", "Australia/Sydney", "2026-04-05T02:30", "2026-04-04T15:30"},
		{"Sydney summer in January", "Australia/Sydney", "2026-01-10T09:00", "2026-01-09T22:00"},
		{"Adelaide half-hour offset in summer", "Australia/Adelaide", "2026-01-14T12:00", "2026-01-14T01:30"},
		{"Adelaide gap", "Australia/Adelaide", "2026-10-04T02:15", "2026-10-03T16:30"},
		{"Lord Howe half-hour gap", "Australia/Lord_Howe", "2026-10-04T02:10", "2026-10-03T15:30"},
		{"Lord Howe half-hour ambiguity takes the first", "Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45"},
		{"Kolkata +05:30", "Asia/Kolkata", "2026-03-29T02:30", "2026-03-28T21:00"},
		{"Tokyo +09:00", "Asia/Tokyo", "2026-03-29T02:30", "2026-03-28T17:30"},
		{"UTC", "UTC", "2026-03-29T02:30", "2026-03-29T02:30"},
		{"Santiago midnight gap starts at 01:00", "America/Santiago", "2026-09-06T00:00", "2026-09-06T04:00"},
		{"Santiago repeated hour before midnight", "America/Santiago", "2026-04-04T23:30", "2026-04-05T02:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := instantOf(mustLoad(t, tt.zone), wall(tt.wall))
			if diff := cmp.Diff(utc(tt.want), got); diff != "" {
				t.Errorf("instantOf(%s, %s) mismatch (-want +got):\n%s", tt.zone, tt.wall, diff)
			}
		})
	}
}

// The wall-clock to instant mapping never goes backwards: merging openings in
// the order of their local start depends on it.
func TestInstantOfIsMonotonic(t *testing.T) {
	for _, zone := range fuzzZones {
		location := mustLoad(t, zone)
		for _, day := range []string{"2026-03-29T00:00", "2026-10-25T00:00", "2026-04-04T00:00", "2026-10-03T00:00", "2026-09-05T00:00"} {
			previous := time.Time{}
			for minute := range 3 * 24 * 60 {
				got := instantOf(location, wall(day).Add(time.Duration(minute)*time.Minute))
				if got.Before(previous) {
					t.Fatalf("%s: instantOf(%s + %dm) = %s, before the previous minute's %s", zone, day, minute, got, previous)
				}
				previous = got
			}
		}
	}
}

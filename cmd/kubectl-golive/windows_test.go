package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

func iv(start, end string) window.Interval {
	var i window.Interval
	if start != "" {
		i.Start = utc(start)
	}
	if end != "" {
		i.End = utc(end)
	}
	return i
}

func withFreezes(glw *golivev1alpha1.GoLiveWindow, freezes ...golivev1alpha1.Freeze) *golivev1alpha1.GoLiveWindow {
	glw.Spec.Freezes = freezes
	return glw
}

func TestNextOpenings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		glw   *golivev1alpha1.GoLiveWindow
		now   time.Time
		count int
		want  []opening
	}{
		{
			name: "the next three Thursdays, in UTC an hour earlier than in Berlin", glw: thursdayEvening(), now: monday, count: 3,
			want: []opening{
				{Interval: iv("2026-11-26T19:00:00Z", "2026-11-26T22:00:00Z")},
				{Interval: iv("2026-12-03T19:00:00Z", "2026-12-03T22:00:00Z")},
				{Interval: iv("2026-12-10T19:00:00Z", "2026-12-10T22:00:00Z")},
			},
		},
		{
			name: "the openings a freeze removes are counted on the next one", glw: thursdayEvening(), now: utc("2026-12-11T00:00:00Z"), count: 3,
			want: []opening{
				{Interval: iv("2026-12-17T19:00:00Z", "2026-12-17T22:00:00Z")},
				{Interval: iv("2027-01-07T19:00:00Z", "2027-01-07T22:00:00Z"), Notes: []string{"2 openings skipped for freeze year-end"}},
				{Interval: iv("2027-01-14T19:00:00Z", "2027-01-14T22:00:00Z")},
			},
		},
		{
			name: "the opening running now comes first", glw: thursdayEvening(), now: utc("2026-11-26T19:30:00Z"), count: 2,
			want: []opening{
				{Interval: iv("2026-11-26T19:00:00Z", "2026-11-26T22:00:00Z"), Open: true},
				{Interval: iv("2026-12-03T19:00:00Z", "2026-12-03T22:00:00Z")},
			},
		},
		{
			name: "a freeze that begins during an opening closes it early",
			glw:  withFreezes(thursdayEvening(), golivev1alpha1.Freeze{Name: "audit", Start: "2026-11-26T21:00", End: "2026-11-27T00:00"}),
			now:  monday, count: 2,
			want: []opening{
				{Interval: iv("2026-11-26T19:00:00Z", "2026-11-26T20:00:00Z"), Notes: []string{"closes early: freeze audit begins"}},
				{Interval: iv("2026-12-03T19:00:00Z", "2026-12-03T22:00:00Z")},
			},
		},
		{
			name: "a freeze that ends during an opening delays it",
			glw:  withFreezes(thursdayEvening(), golivev1alpha1.Freeze{Name: "audit", Start: "2026-11-26T18:00", End: "2026-11-26T21:00"}),
			now:  monday, count: 1,
			want: []opening{
				{Interval: iv("2026-11-26T20:00:00Z", "2026-11-26T22:00:00Z"), Notes: []string{"opens late: freeze audit ends"}},
			},
		},
		{
			name: "a freeze inside an opening splits it",
			glw:  withFreezes(thursdayEvening(), golivev1alpha1.Freeze{Name: "db-maintenance", Start: "2026-11-26T21:00", End: "2026-11-26T22:00"}),
			now:  monday, count: 2,
			want: []opening{
				{Interval: iv("2026-11-26T19:00:00Z", "2026-11-26T20:00:00Z"), Notes: []string{"closes early: freeze db-maintenance begins"}},
				{Interval: iv("2026-11-26T21:00:00Z", "2026-11-26T22:00:00Z"), Notes: []string{"opens late: freeze db-maintenance ends"}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nextOpenings(tc.glw, tc.now, tc.count)
			if got.Err != nil {
				t.Fatal(got.Err)
			}
			if diff := cmp.Diff(tc.want, got.Openings); diff != "" {
				t.Errorf("openings (-want +got):\n%s", diff)
			}
		})
	}
}

// Freezes resolve with golive's rules: a start in the DST gap begins when the
// gap ends, an ambiguous one takes the first occurrence.
func TestResolveFreeze(t *testing.T) {
	for _, tc := range []struct {
		name       string
		zone       string
		start, end string
		want       window.Interval
		wantOK     bool
	}{
		{"winter time", "Europe/Berlin", "2026-12-20T00:00", "2027-01-06T00:00", iv("2026-12-19T23:00:00Z", "2027-01-05T23:00:00Z"), true},
		{"a start in the spring DST gap", "Europe/Berlin", "2026-03-29T02:30", "2026-03-29T05:00", iv("2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z"), true},
		{"an ambiguous start in autumn", "Europe/Berlin", "2026-10-25T02:30", "2026-10-25T04:00", iv("2026-10-25T00:30:00Z", "2026-10-25T03:00:00Z"), true},
		{"across the change to summer time", "America/New_York", "2026-03-07T12:00", "2026-03-09T12:00", iv("2026-03-07T17:00:00Z", "2026-03-09T16:00:00Z"), true},
		{"an end beyond the horizon", "UTC", "2027-01-01T00:00", "2031-01-01T00:00", iv("2027-01-01T00:00:00Z", ""), true},
		{"both ends in one DST gap", "Europe/Berlin", "2026-03-29T02:10", "2026-03-29T02:40", window.Interval{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := resolveFreeze(tc.zone, golivev1alpha1.Freeze{Name: "f", Start: tc.start, End: tc.end})
			if ok != tc.wantOK || !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
				t.Errorf("resolveFreeze = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNextOpeningsOfInvalidWindows(t *testing.T) {
	unknownZone := thursdayEvening()
	unknownZone.Spec.TimeZone = "Mars/Olympus_Mons"
	if got := nextOpenings(unknownZone, monday, 3); !errors.Is(got.Err, window.ErrUnknownTimeZone) {
		t.Errorf("an unknown zone: err = %v, want %v", got.Err, window.ErrUnknownTimeZone)
	}
	frozenForever := withFreezes(thursdayEvening(), golivev1alpha1.Freeze{Name: "forever", Start: "2026-01-01T00:00", End: "2030-01-01T00:00"})
	got := nextOpenings(frozenForever, monday, 3)
	if got.Err != nil || len(got.Openings) != 0 {
		t.Errorf("a window frozen beyond the horizon: %+v, want no openings and no error", got)
	}
}

func TestWriteWindows(t *testing.T) {
	shop := thursdayEvening()
	shop.Namespace, shop.Name = "shop", "weekday-mornings"
	shop.Spec.TimeZone = "America/New_York"
	shop.Spec.Schedule = []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "06:00", Duration: duration(2 * time.Hour)}}
	shop.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "thanksgiving", Start: "2026-11-25T00:00", End: "2026-11-27T00:00"}}
	broken := thursdayEvening()
	broken.Namespace, broken.Name = "shop", "broken"
	broken.Spec.TimeZone = "Mars/Olympus_Mons"

	windows := []windowOpenings{
		nextOpenings(thursdayEvening(), monday, 2),
		nextOpenings(broken, monday, 2),
		nextOpenings(shop, monday, 3),
	}
	var out bytes.Buffer
	if err := writeWindows(&out, windows, monday, true); err != nil {
		t.Fatal(err)
	}
	want := `NAMESPACE   WINDOW             TIME ZONE          OPENS (LOCAL)              CLOSES (LOCAL)             OPENS (UTC)            CLOSES (UTC)           NOTE
billing     thursday-evening   Europe/Berlin      Thu 2026-11-26 20:00 CET   Thu 2026-11-26 23:00 CET   2026-11-26T19:00:00Z   2026-11-26T22:00:00Z   in 3d9h
billing     thursday-evening   Europe/Berlin      Thu 2026-12-03 20:00 CET   Thu 2026-12-03 23:00 CET   2026-12-03T19:00:00Z   2026-12-03T22:00:00Z   in 10d
shop        broken             -                  -                          -                          -                      -                      invalid: spec.timeZone: unknown time zone "Mars/Olympus_Mons"
shop        weekday-mornings   America/New_York   Mon 2026-11-23 06:00 EST   Mon 2026-11-23 08:00 EST   2026-11-23T11:00:00Z   2026-11-23T13:00:00Z   in 60m
shop        weekday-mornings   America/New_York   Tue 2026-11-24 06:00 EST   Tue 2026-11-24 08:00 EST   2026-11-24T11:00:00Z   2026-11-24T13:00:00Z   in 25h
shop        weekday-mornings   America/New_York   Fri 2026-11-27 06:00 EST   Fri 2026-11-27 08:00 EST   2026-11-27T11:00:00Z   2026-11-27T13:00:00Z   in 4d1h; 2 openings skipped for freeze thanksgiving

NAMESPACE   FREEZE         WINDOW             FROM (LOCAL)               UNTIL (LOCAL)              FROM (UTC)             UNTIL (UTC)            REASON
billing     year-end       thursday-evening   Sun 2026-12-20 00:00 CET   Wed 2027-01-06 00:00 CET   2026-12-19T23:00:00Z   2027-01-05T23:00:00Z   Year-end closing
shop        thanksgiving   weekday-mornings   Wed 2026-11-25 00:00 EST   Fri 2026-11-27 00:00 EST   2026-11-25T05:00:00Z   2026-11-27T05:00:00Z   -
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

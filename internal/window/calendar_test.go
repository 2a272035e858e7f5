package window

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// iv is an Interval from UTC times; "" is a zero (unbounded) edge.
func iv(start, end string) Interval {
	var i Interval
	if start != "" {
		i.Start = utc(start)
	}
	if end != "" {
		i.End = utc(end)
	}
	return i
}

var (
	thursdayEvening = schedule(entry("Thu", "20:00", 3*time.Hour)) // the DESIGN example
	yearEnd         = freeze("2026-12-20T00:00", "2027-01-06T00:00")
	everyDay        = "Mon,Tue,Wed,Thu,Fri,Sat,Sun"
)

func TestState(t *testing.T) {
	tests := []struct {
		name string
		spec specFixture
		now  string // UTC
		want State
	}{
		// Europe/Berlin: CET +01:00, CEST +02:00 from 2026-03-29 to 2026-10-25.
		{
			name: "Berlin closed a minute before the opening",
			spec: fixture("Europe/Berlin", thursdayEvening),
			now:  "2026-03-26T18:59",
			want: State{Next: iv("2026-03-26T19:00", "2026-03-26T22:00")},
		},
		{
			name: "Berlin open at the opening; the next one is in summer time",
			spec: fixture("Europe/Berlin", thursdayEvening),
			now:  "2026-03-26T19:00",
			want: State{Open: true, Current: iv("2026-03-26T19:00", "2026-03-26T22:00"), Next: iv("2026-04-02T18:00", "2026-04-02T21:00")},
		},
		{
			name: "Berlin closed at the end, which is exclusive",
			spec: fixture("Europe/Berlin", thursdayEvening),
			now:  "2026-03-26T22:00",
			want: State{Next: iv("2026-04-02T18:00", "2026-04-02T21:00")},
		},
		{
			name: "Berlin start in the DST gap begins at 03:00 CEST",
			spec: fixture("Europe/Berlin", schedule(entry("Sun", "02:30", time.Hour))),
			now:  "2026-03-29T00:30",
			want: State{Next: iv("2026-03-29T01:00", "2026-03-29T02:00")},
		},
		{
			name: "Berlin ambiguous start takes the first 02:30 (CEST)",
			spec: fixture("Europe/Berlin", schedule(entry("Sun", "02:30", time.Hour))),
			now:  "2026-10-25T00:00",
			want: State{Next: iv("2026-10-25T00:30", "2026-10-25T01:30")},
		},
		{
			name: "Berlin closed at the second 02:45, the repeated hour does not reopen it",
			spec: fixture("Europe/Berlin", schedule(entry("Sun", "02:30", time.Hour))),
			now:  "2026-10-25T01:45",
			want: State{Next: iv("2026-11-01T01:30", "2026-11-01T02:30")},
		},
		{
			name: "Berlin 5h window across spring forward lasts 5 real hours (23:00 CET to 05:00 CEST)",
			spec: fixture("Europe/Berlin", schedule(entry("Sat", "23:00", 5*time.Hour))),
			now:  "2026-03-29T02:59",
			want: State{Open: true, Current: iv("2026-03-28T22:00", "2026-03-29T03:00"), Next: iv("2026-04-04T21:00", "2026-04-05T02:00")},
		},
		{
			name: "Berlin 5h window across fall back lasts 5 real hours (23:00 CEST to 03:00 CET)",
			spec: fixture("Europe/Berlin", schedule(entry("Sat", "23:00", 5*time.Hour))),
			now:  "2026-10-25T01:59",
			want: State{Open: true, Current: iv("2026-10-24T21:00", "2026-10-25T02:00"), Next: iv("2026-10-31T22:00", "2026-11-01T03:00")},
		},
		// Australia/Sydney: AEDT +11:00 until 2026-04-05, AEST +10:00 until 2026-10-04.
		{
			name: "Sydney start in the October gap begins at 03:00 AEDT",
			spec: fixture("Australia/Sydney", schedule(entry("Sun", "02:30", 2*time.Hour))),
			now:  "2026-10-03T12:00",
			want: State{Next: iv("2026-10-03T16:00", "2026-10-03T18:00")},
		},
		{
			name: "Sydney ambiguous start in April takes the first 02:30 (AEDT)",
			spec: fixture("Australia/Sydney", schedule(entry("Sun", "02:30", time.Hour))),
			now:  "2026-04-04T12:00",
			want: State{Next: iv("2026-04-04T15:30", "2026-04-04T16:30")},
		},
		{
			name: "Sydney 6h window across fall back (22:00 AEDT to 03:00 AEST)",
			spec: fixture("Australia/Sydney", schedule(entry("Sat", "22:00", 6*time.Hour))),
			now:  "2026-04-04T16:59",
			want: State{Open: true, Current: iv("2026-04-04T11:00", "2026-04-04T17:00"), Next: iv("2026-04-11T12:00", "2026-04-11T18:00")},
		},
		// Zones without DST, and half-hour offsets.
		{
			name: "Tokyo window crossing midnight is open on Monday at 01:00",
			spec: fixture("Asia/Tokyo", schedule(entry("Sun", "22:00", 4*time.Hour))),
			now:  "2026-06-07T16:00",
			want: State{Open: true, Current: iv("2026-06-07T13:00", "2026-06-07T17:00"), Next: iv("2026-06-14T13:00", "2026-06-14T17:00")},
		},
		{
			name: "Tokyo window belongs to the day it starts: Monday's does not cover Monday 01:00",
			spec: fixture("Asia/Tokyo", schedule(entry("Mon", "22:00", 4*time.Hour))),
			now:  "2026-06-07T16:00",
			want: State{Next: iv("2026-06-08T13:00", "2026-06-08T17:00")},
		},
		{
			name: "Kolkata +05:30",
			spec: fixture("Asia/Kolkata", schedule(entry("Mon", "09:00", 2*time.Hour))),
			now:  "2026-06-08T04:00",
			want: State{Open: true, Current: iv("2026-06-08T03:30", "2026-06-08T05:30"), Next: iv("2026-06-15T03:30", "2026-06-15T05:30")},
		},
		{
			name: "Adelaide +10:30 in summer",
			spec: fixture("Australia/Adelaide", schedule(entry("Wed", "12:00", time.Hour))),
			now:  "2026-01-14T01:30",
			want: State{Open: true, Current: iv("2026-01-14T01:30", "2026-01-14T02:30"), Next: iv("2026-01-21T01:30", "2026-01-21T02:30")},
		},
		// Merging.
		{
			name: "overlapping entries merge",
			spec: fixture("UTC", schedule(entry("Mon", "08:00", 4*time.Hour), entry("Mon", "11:00", 3*time.Hour))),
			now:  "2026-06-08T12:30",
			want: State{Open: true, Current: iv("2026-06-08T08:00", "2026-06-08T14:00"), Next: iv("2026-06-15T08:00", "2026-06-15T14:00")},
		},
		{
			name: "touching entries merge",
			spec: fixture("UTC", schedule(entry("Mon", "10:00", 2*time.Hour), entry("Mon", "08:00", 2*time.Hour))),
			now:  "2026-06-08T10:00",
			want: State{Open: true, Current: iv("2026-06-08T08:00", "2026-06-08T12:00"), Next: iv("2026-06-15T08:00", "2026-06-15T12:00")},
		},
		{
			name: "an entry inside another changes nothing",
			spec: fixture("UTC", schedule(entry("Mon", "08:00", 6*time.Hour), entry("Mon", "09:00", time.Hour))),
			now:  "2026-06-08T07:00",
			want: State{Next: iv("2026-06-08T08:00", "2026-06-08T14:00")},
		},
		{
			name: "entries of consecutive days merge across midnight",
			spec: fixture("UTC", schedule(entry("Sun", "22:00", 4*time.Hour), entry("Mon", "01:00", 2*time.Hour))),
			now:  "2026-06-07T23:00",
			want: State{Open: true, Current: iv("2026-06-07T22:00", "2026-06-08T03:00"), Next: iv("2026-06-14T22:00", "2026-06-15T03:00")},
		},
		{
			name: "a week-long entry chains into the next week's",
			spec: fixture("UTC", schedule(entry("Mon", "00:00", 168*time.Hour), entry("Wed", "12:00", time.Hour))),
			now:  "2026-06-08T12:00",
			want: State{Open: true},
		},
		// Freezes.
		{
			name: "year-end freeze: open the week before",
			spec: fixture("Europe/Berlin", thursdayEvening, yearEnd),
			now:  "2026-12-17T20:00",
			want: State{Open: true, Current: iv("2026-12-17T19:00", "2026-12-17T22:00"), Next: iv("2027-01-07T19:00", "2027-01-07T22:00")},
		},
		{
			name: "year-end freeze: closed on Christmas Eve, opens again in January",
			spec: fixture("Europe/Berlin", thursdayEvening, yearEnd),
			now:  "2026-12-24T19:30",
			want: State{Next: iv("2027-01-07T19:00", "2027-01-07T22:00")},
		},
		{
			name: "year-end freeze: closed across the new year",
			spec: fixture("Europe/Berlin", thursdayEvening, yearEnd),
			now:  "2026-12-31T23:30",
			want: State{Next: iv("2027-01-07T19:00", "2027-01-07T22:00")},
		},
		{
			name: "freeze starting during a window cuts it short",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T21:00", "2026-05-08T00:00")),
			now:  "2026-05-07T18:30",
			want: State{Open: true, Current: iv("2026-05-07T18:00", "2026-05-07T19:00"), Next: iv("2026-05-14T18:00", "2026-05-14T21:00")},
		},
		{
			name: "window opening during a freeze opens when the freeze ends",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T18:00", "2026-05-07T21:30")),
			now:  "2026-05-07T18:00",
			want: State{Next: iv("2026-05-07T19:30", "2026-05-07T21:00")},
		},
		{
			name: "freeze covering the whole window removes it",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T20:00", "2026-05-07T23:00")),
			now:  "2026-05-07T17:00",
			want: State{Next: iv("2026-05-14T18:00", "2026-05-14T21:00")},
		},
		{
			name: "freeze in the middle splits a window in two",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T21:00", "2026-05-07T22:00")),
			now:  "2026-05-07T18:30",
			want: State{Open: true, Current: iv("2026-05-07T18:00", "2026-05-07T19:00"), Next: iv("2026-05-07T20:00", "2026-05-07T21:00")},
		},
		{
			name: "freeze boundaries follow the DST gap rule",
			spec: fixture("Europe/Berlin", schedule(entry("Sun", "01:00", 4*time.Hour)), freeze("2026-03-29T02:30", "2026-03-29T04:00")),
			now:  "2026-03-29T00:30",
			want: State{Open: true, Current: iv("2026-03-29T00:00", "2026-03-29T01:00"), Next: iv("2026-03-29T02:00", "2026-03-29T04:00")},
		},
		{
			name: "freeze boundaries follow the ambiguous-time rule",
			spec: fixture("Europe/Berlin", schedule(entry("Sun", "00:00", 6*time.Hour)), freeze("2026-10-25T02:30", "2026-10-25T03:00")),
			now:  "2026-10-25T00:00",
			want: State{Open: true, Current: iv("2026-10-24T22:00", "2026-10-25T00:30"), Next: iv("2026-10-25T02:00", "2026-10-25T04:00")},
		},
		{
			name: "overlapping freezes act as one",
			spec: fixture("UTC", thursdayEvening, freeze("2026-05-07T19:00", "2026-05-07T21:00"), freeze("2026-05-07T20:30", "2026-05-07T22:00")),
			now:  "2026-05-07T19:30",
			want: State{Next: iv("2026-05-07T22:00", "2026-05-07T23:00")},
		},
		// Openings that last beyond the horizon, and windows that never open.
		{
			name: "always open: neither edge within the horizon",
			spec: fixture("UTC", schedule(entry(everyDay, "00:00", 24*time.Hour))),
			now:  "2026-06-08T12:00",
			want: State{Open: true},
		},
		{
			name: "always open between freezes",
			spec: fixture("UTC", schedule(entry(everyDay, "00:00", 24*time.Hour)),
				freeze("2026-01-01T00:00", "2026-01-02T00:00"), yearEnd),
			now:  "2026-06-08T12:00",
			want: State{Open: true, Current: iv("2026-01-02T00:00", "2026-12-20T00:00"), Next: iv("2027-01-06T00:00", "")},
		},
		{
			name: "freeze longer than the horizon: never opens",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2030-01-01T00:00")),
			now:  "2026-06-01T00:00",
			want: State{NeverOpens: true},
		},
		{
			name: "opens within the horizon after a long freeze",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2028-06-01T00:00")),
			now:  "2026-06-01T00:00",
			want: State{Next: iv("2028-06-01T18:00", "2028-06-01T21:00")},
		},
		{
			name: "first opening just past the horizon counts as never",
			spec: fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2028-06-02T00:00")),
			now:  "2026-06-01T00:00",
			want: State{NeverOpens: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calendar := mustCompile(t, tt.spec.spec())
			got := calendar.State(utc(tt.now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("State(%s) mismatch (-want +got):\n%s", tt.now, diff)
			}
		})
	}
}

func TestStateStatusFields(t *testing.T) {
	calendar := mustCompile(t, fixture("Europe/Berlin", thursdayEvening).spec())
	type status struct{ NextOpen, NextClose time.Time }
	tests := []struct {
		name string
		now  string
		want status
	}{
		{"closed: the next opening", "2026-03-26T12:00", status{utc("2026-03-26T19:00"), utc("2026-03-26T22:00")}},
		{"open: the current opening", "2026-03-26T20:00", status{utc("2026-03-26T19:00"), utc("2026-03-26T22:00")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := calendar.State(utc(tt.now))
			if diff := cmp.Diff(tt.want, status{state.NextOpen(), state.NextClose()}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextBoundary(t *testing.T) {
	tests := []struct {
		name   string
		spec   specFixture
		now    string
		want   string // "" for none within the horizon
		wantOK bool
	}{
		{"closed: the next opening", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T12:00", "2026-03-26T19:00", true},
		{"open: the close", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T19:00", "2026-03-26T22:00", true},
		{"open: a freeze's start", fixture("Europe/Berlin", thursdayEvening, freeze("2026-03-26T21:00", "2026-03-27T00:00")), "2026-03-26T19:30", "2026-03-26T20:00", true},
		{"closed in a freeze: its end", fixture("Europe/Berlin", thursdayEvening, freeze("2026-03-26T19:00", "2026-03-26T21:00")), "2026-03-26T18:30", "2026-03-26T20:00", true},
		{"never opens", fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2030-01-01T00:00")), "2026-06-01T00:00", "", false},
		{"always open", fixture("UTC", schedule(entry(everyDay, "00:00", 24*time.Hour))), "2026-06-01T00:00", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustCompile(t, tt.spec.spec()).NextBoundary(utc(tt.now))
			var want time.Time
			if tt.want != "" {
				want = utc(tt.want)
			}
			if diff := cmp.Diff(want, got); diff != "" || ok != tt.wantOK {
				t.Errorf("NextBoundary(%s) = %s, %v; want %s, %v", tt.now, got, ok, want, tt.wantOK)
			}
		})
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		name string
		spec specFixture
		now  string
		need time.Duration
		want bool
	}{
		{"the whole window at its start", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T19:00", 3 * time.Hour, true},
		{"a nanosecond more than the window", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T19:00", 3*time.Hour + 1, false},
		{"exactly what is left", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T21:00", time.Hour, true},
		{"a minute more than is left", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T21:00", 61 * time.Minute, false},
		{"closed, even for no time at all", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T18:00", 0, false},
		{"a freeze shortens what is left", fixture("Europe/Berlin", thursdayEvening, freeze("2026-03-26T21:00", "2026-03-27T00:00")), "2026-03-26T19:00", 61 * time.Minute, false},
		{"spring forward: 5 real hours, not 6 on the clock", fixture("Europe/Berlin", schedule(entry("Sat", "23:00", 5*time.Hour))), "2026-03-28T22:00", 5 * time.Hour, true},
		{"spring forward: no more than 5 real hours", fixture("Europe/Berlin", schedule(entry("Sat", "23:00", 5*time.Hour))), "2026-03-28T22:00", 5*time.Hour + time.Minute, false},
		{"always open fits anything", fixture("UTC", schedule(entry(everyDay, "00:00", 24*time.Hour))), "2026-06-01T00:00", 1000 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustCompile(t, tt.spec.spec()).Fits(utc(tt.now), tt.need); got != tt.want {
				t.Errorf("Fits(%s, %s) = %v, want %v", tt.now, tt.need, got, tt.want)
			}
		})
	}
}

func TestFrozenAt(t *testing.T) {
	// Berlin is UTC+1 in February; the two freezes touch and merge into one.
	spec := fixture("Europe/Berlin", thursdayEvening,
		freeze("2026-02-10T08:00", "2026-02-11T08:00"), freeze("2026-02-11T08:00", "2026-02-12T12:00")).spec()
	calendar := mustCompile(t, spec)
	tests := []struct {
		at         string
		wantFrozen bool
		wantEnd    string
	}{
		{"2026-02-10T06:59", false, ""},
		{"2026-02-10T07:00", true, "2026-02-12T11:00"},
		{"2026-02-11T07:30", true, "2026-02-12T11:00"},
		{"2026-02-12T10:59", true, "2026-02-12T11:00"},
		{"2026-02-12T11:00", false, ""},
	}
	for _, tt := range tests {
		freeze, frozen := calendar.FrozenAt(utc(tt.at))
		if frozen != tt.wantFrozen || (frozen && !freeze.End.Equal(utc(tt.wantEnd))) {
			t.Errorf("FrozenAt(%s) = %v, %v; want frozen %v until %s", tt.at, freeze, frozen, tt.wantFrozen, tt.wantEnd)
		}
	}
}

func TestNextFitting(t *testing.T) {
	tests := []struct {
		name   string
		spec   specFixture
		now    string
		need   time.Duration
		want   Interval
		wantOK bool
	}{
		{"the current opening when enough is left", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T19:30", time.Hour, iv("2026-03-26T19:00", "2026-03-26T22:00"), true},
		{"the next opening when too little is left", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T21:30", time.Hour, iv("2026-04-02T18:00", "2026-04-02T21:00"), true},
		{"a later opening that is long enough", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T12:00", 3 * time.Hour, iv("2026-03-26T19:00", "2026-03-26T22:00"), true},
		{"skips an opening cut short by a freeze", fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T21:00", "2026-05-08T00:00")), "2026-05-07T17:00", 2 * time.Hour, iv("2026-05-14T18:00", "2026-05-14T21:00"), true},
		{"skips the year-end freeze", fixture("Europe/Berlin", thursdayEvening, yearEnd), "2026-12-18T00:00", time.Hour, iv("2027-01-07T19:00", "2027-01-07T22:00"), true},
		{"longer than any opening", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T12:00", 3*time.Hour + time.Minute, Interval{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustCompile(t, tt.spec.spec()).NextFitting(utc(tt.now), tt.need)
			if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.wantOK {
				t.Errorf("NextFitting(%s, %s) = %v, %v; want %v (-want +got):\n%s", tt.now, tt.need, ok, tt.wantOK, tt.want, diff)
			}
		})
	}
}

func TestNextOpeningAfter(t *testing.T) {
	const twoWeeks = 336 * time.Hour
	tests := []struct {
		name     string
		spec     specFixture
		approval string
		leadTime time.Duration
		want     Interval
		wantOK   bool
	}{
		{"two weeks' notice: the window two weeks on", fixture("Europe/Berlin", thursdayEvening), "2026-03-12T12:00", twoWeeks, iv("2026-03-26T19:00", "2026-03-26T22:00"), true},
		{"an opening starting exactly at the lead time counts", fixture("Europe/Berlin", thursdayEvening), "2026-03-12T19:00", twoWeeks, iv("2026-03-26T19:00", "2026-03-26T22:00"), true},
		{"an opening running at the lead time does not count", fixture("Europe/Berlin", thursdayEvening), "2026-03-12T19:01", twoWeeks, iv("2026-04-02T18:00", "2026-04-02T21:00"), true},
		{"no lead time during an opening: the next one", fixture("Europe/Berlin", thursdayEvening), "2026-03-26T20:00", 0, iv("2026-04-02T18:00", "2026-04-02T21:00"), true},
		{"just in time before the year-end freeze", fixture("Europe/Berlin", thursdayEvening, yearEnd), "2026-12-10T12:00", 168 * time.Hour, iv("2026-12-17T19:00", "2026-12-17T22:00"), true},
		{"too late before the freeze: after it", fixture("Europe/Berlin", thursdayEvening, yearEnd), "2026-12-11T12:00", 168 * time.Hour, iv("2027-01-07T19:00", "2027-01-07T22:00"), true},
		{"an opening at a freeze's end counts as opening then", fixture("Europe/Berlin", thursdayEvening, freeze("2026-05-07T18:00", "2026-05-07T21:30")), "2026-05-07T19:00", 0, iv("2026-05-07T19:30", "2026-05-07T21:00"), true},
		{"never opens", fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2030-01-01T00:00")), "2026-06-01T00:00", twoWeeks, Interval{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustCompile(t, tt.spec.spec()).NextOpeningAfter(utc(tt.approval), tt.leadTime)
			if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.wantOK {
				t.Errorf("NextOpeningAfter(%s, %s) = %v, %v; want %v (-want +got):\n%s", tt.approval, tt.leadTime, ok, tt.wantOK, tt.want, diff)
			}
		})
	}
}

func TestOpenings(t *testing.T) {
	calendar := mustCompile(t, fixture("Europe/Berlin", thursdayEvening, yearEnd).spec())
	var got []Interval
	for opening := range calendar.Openings(utc("2026-12-10T20:00")) {
		got = append(got, opening)
		if len(got) == 4 {
			break
		}
	}
	want := []Interval{
		iv("2026-12-10T19:00", "2026-12-10T22:00"), // running at from
		iv("2026-12-17T19:00", "2026-12-17T22:00"),
		iv("2027-01-07T19:00", "2027-01-07T22:00"),
		iv("2027-01-14T19:00", "2027-01-14T22:00"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Openings mismatch (-want +got):\n%s", diff)
	}
}

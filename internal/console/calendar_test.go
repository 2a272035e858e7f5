package console

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/window"
)

// The calendar lays out the Thursday evenings of a Berlin window over two
// weeks for a viewer in Shanghai: the year-end freeze takes the Christmas
// Eve opening, and shows on every day it covers.
func TestCalendarOfTheNextDays(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	windows := []golivev1alpha1.GoLiveWindow{
		*testfixtures.MakeGoLiveWindow("billing", "thursday-evening").TimeZone("Europe/Berlin").
			Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
			Freeze(golivev1alpha1.Freeze{Name: "year-end", Start: "2026-12-22T00:00", End: "2027-01-06T00:00", Reason: "Year-end closing"}).Obj(),
		*testfixtures.MakeGoLiveWindow("broken", "no-schedule").Obj(),
	}
	now := time.Date(2026, 12, 14, 10, 0, 0, 0, time.UTC) // Monday, 18:00 in Shanghai
	calendar := buildCalendar(windows, now, shanghai, calendarDays)

	if len(calendar.Days) != calendarDays || !calendar.Days[0].Date.Equal(time.Date(2026, 12, 14, 0, 0, 0, 0, shanghai)) {
		t.Fatalf("The calendar has %d days from %v, want %d from Monday 2026-12-14 in Shanghai", len(calendar.Days), calendar.Days[0].Date, calendarDays)
	}
	var got []string
	for _, day := range calendar.Days {
		for _, o := range day.Openings {
			got = append(got, day.Date.Format("Mon 01-02")+" "+o.Window+" "+formatSpan(o.Interval, day.Date, day.Date.AddDate(0, 0, 1), shanghai))
		}
	}
	// Thursday 20:00 in Berlin is Friday 03:00 in Shanghai; the 24th is frozen.
	want := []string{"Fri 12-18 thursday-evening 03:00–06:00 CST (19:00–22:00 UTC)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("openings (-want +got):\n%s", diff)
	}
	for _, day := range calendar.Days {
		for _, f := range day.Freezes {
			if all := day.Date.Format("01-02") != "12-22"; f.AllDay != all {
				t.Errorf("The freeze on %s: all day %v, want %v", day.Date.Format("01-02"), f.AllDay, all)
			}
		}
	}
	if len(calendar.Freezes) != 1 || calendar.Freezes[0].Name != "year-end" ||
		!calendar.Freezes[0].Start.Equal(time.Date(2026, 12, 21, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("freezes to come: %+v, want year-end from 2026-12-21 23:00 UTC", calendar.Freezes)
	}
	var frozenDays []string
	for _, day := range calendar.Days {
		if len(day.Freezes) > 0 {
			frozenDays = append(frozenDays, day.Date.Format("01-02"))
		}
	}
	if frozenDays[0] != "12-22" || frozenDays[len(frozenDays)-1] != "12-27" || len(frozenDays) != 6 {
		t.Errorf("frozen days %v, want 12-22 to 12-27", frozenDays)
	}
}

// An opening that runs on for days is open now on today alone, and all
// day on the days it covers whole.
func TestCalendarOfAWindowAlwaysOpen(t *testing.T) {
	windows := []golivev1alpha1.GoLiveWindow{*testfixtures.MakeGoLiveWindow("billing", "always").AlwaysOpen().Obj()}
	now := time.Date(2026, 12, 14, 10, 0, 0, 0, time.UTC)
	calendar := buildCalendar(windows, now, time.UTC, 3)
	for i, day := range calendar.Days {
		if len(day.Openings) != 1 || !day.Openings[0].AllDay || day.Openings[0].Open != (i == 0) {
			t.Errorf("Day %d: %+v, want one opening all day, open now on the first day only", i, day.Openings)
		}
	}
}

func TestFormatSpan(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 17, 0, 0, 0, 0, berlin)
	next := day.AddDate(0, 0, 1)
	at := func(hour int) time.Time { return day.Add(time.Duration(hour) * time.Hour) }
	for _, tc := range []struct {
		name     string
		interval window.Interval
		zone     *time.Location
		want     string
	}{
		{"within the day", window.Interval{Start: at(20), End: at(23)}, berlin, "20:00–23:00 CET (19:00–22:00 UTC)"},
		{"into the next day", window.Interval{Start: at(22), End: at(26)}, berlin, "22:00–… CET (21:00–… UTC)"},
		{"from the day before", window.Interval{Start: at(-2), End: at(2)}, berlin, "…–02:00 CET (…–01:00 UTC)"},
		{"always open", window.Interval{}, berlin, "…–… CET (…–… UTC)"},
		{"in UTC", window.Interval{Start: at(20), End: at(23)}, time.UTC, "19:00–22:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, n := day, next
			if tc.zone == time.UTC {
				d, n = time.Date(2026, 12, 17, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 18, 0, 0, 0, 0, time.UTC)
			}
			if got := formatSpan(tc.interval, d, n, tc.zone); got != tc.want {
				t.Errorf("formatSpan = %q, want %q", got, tc.want)
			}
		})
	}
}

// Every message a template asks for exists in English (and, by
// TestMessagesComplete, in German and Chinese).
func TestTemplatesUseKnownMessages(t *testing.T) {
	entries, err := templateFiles.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		data, err := templateFiles.ReadFile("templates/" + entry.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{`{{T "`, `{{Tf "`} {
			for _, part := range strings.Split(string(data), call)[1:] {
				key := part[:strings.Index(part, `"`)]
				if _, ok := messages["en"][key]; !ok {
					t.Errorf("%s asks for the unknown message %q", entry.Name(), key)
				}
			}
		}
	}
}

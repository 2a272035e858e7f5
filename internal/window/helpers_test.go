package window

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// utc reads "2006-01-02T15:04" as UTC; expectations are written in UTC so they
// do not depend on the code under test to resolve local times.
func utc(s string) time.Time {
	t, err := time.Parse(localDateTimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// wall reads "2006-01-02T15:04" as a wall-clock time (see localtime.go).
func wall(s string) time.Time { return utc(s) }

func entry(days, start string, duration time.Duration) v1alpha1.ScheduleEntry {
	var weekdays []v1alpha1.Weekday
	for _, day := range strings.Split(days, ",") {
		weekdays = append(weekdays, v1alpha1.Weekday(day))
	}
	return v1alpha1.ScheduleEntry{Days: weekdays, Start: start, Duration: metav1.Duration{Duration: duration}}
}

func freeze(start, end string) v1alpha1.Freeze {
	return v1alpha1.Freeze{Name: "freeze", Start: start, End: end}
}

type specOption func(*v1alpha1.GoLiveWindowSpec)

func withFreezes(freezes ...v1alpha1.Freeze) specOption {
	return func(spec *v1alpha1.GoLiveWindowSpec) { spec.Freezes = freezes }
}

func makeSpec(zone string, schedule []v1alpha1.ScheduleEntry, options ...specOption) v1alpha1.GoLiveWindowSpec {
	spec := v1alpha1.GoLiveWindowSpec{TimeZone: zone, Schedule: schedule}
	for _, option := range options {
		option(&spec)
	}
	return spec
}

func mustCompile(t testing.TB, spec v1alpha1.GoLiveWindowSpec) *Calendar {
	t.Helper()
	calendar, err := Compile(spec)
	if err != nil {
		t.Fatalf("Compile() error = %v", err)
	}
	return calendar
}

func mustLoad(t testing.TB, zone string) *time.Location {
	t.Helper()
	location, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return location
}

func schedule(entries ...v1alpha1.ScheduleEntry) []v1alpha1.ScheduleEntry { return entries }

// specFixture keeps table entries short: a zone, a schedule and freezes.
type specFixture struct {
	zone     string
	schedule []v1alpha1.ScheduleEntry
	freezes  []v1alpha1.Freeze
}

func fixture(zone string, schedule []v1alpha1.ScheduleEntry, freezes ...v1alpha1.Freeze) specFixture {
	return specFixture{zone: zone, schedule: schedule, freezes: freezes}
}

func (f specFixture) spec() v1alpha1.GoLiveWindowSpec {
	return makeSpec(f.zone, f.schedule, withFreezes(f.freezes...))
}

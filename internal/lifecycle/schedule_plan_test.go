package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

func TestPlanStart(t *testing.T) {
	compile := func(spec golivev1alpha1.GoLiveWindowSpec) *window.Calendar {
		calendar, err := window.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		return calendar
	}
	thursday, always := compile(thursdayEvening()), compile(alwaysOpen())
	for _, tc := range []struct {
		name     string
		calendar *window.Calendar
		c        StartConstraints
		now      time.Time
		want     StartPlan
	}{
		{
			name: "the next opening with the time needed", calendar: thursday, now: monday,
			c:    StartConstraints{SoakEnd: monday.Add(-time.Hour), LastApproval: monday.Add(-time.Hour), Need: time.Hour},
			want: StartPlan{NotBefore: monday.Add(-time.Hour), PlannedStart: plannedThursday},
		},
		{
			name: "an open window starts now", calendar: always, now: monday,
			c:    StartConstraints{SoakEnd: monday.Add(-time.Hour), Need: time.Hour},
			want: StartPlan{NotBefore: monday.Add(-time.Hour), PlannedStart: monday},
		},
		{
			name: "the soak holds the start back", calendar: always, now: monday,
			c:    StartConstraints{SoakEnd: monday.Add(2 * time.Hour), Need: time.Hour},
			want: StartPlan{NotBefore: monday.Add(2 * time.Hour), PlannedStart: monday.Add(2 * time.Hour)},
		},
		{
			name: "lead time is notice before an opening starts", calendar: thursday, now: monday,
			c:    StartConstraints{LastApproval: plannedThursday.Add(-time.Hour), LeadTime: 3 * time.Hour, Need: time.Hour},
			want: StartPlan{NotBefore: plannedThursday.Add(2 * time.Hour), PlannedStart: plannedThursday.Add(7 * 24 * time.Hour)},
		},
		{
			name: "an emergency starts once soaked and approved, whatever the window", calendar: thursday, now: monday,
			c:    StartConstraints{SoakEnd: monday.Add(-time.Hour), LastApproval: monday.Add(time.Minute), Emergency: true, Need: time.Hour},
			want: StartPlan{NotBefore: monday.Add(time.Minute), PlannedStart: monday.Add(time.Minute)},
		},
		{
			name: "no opening long enough never opens", calendar: thursday, now: monday,
			c: StartConstraints{SoakEnd: monday, Need: 4 * time.Hour},
			want: StartPlan{NotBefore: monday,
				NeverOpens: "has no opening with 4h left after 2026-11-23T10:00:00Z within the next 732 days: " +
					"lower spec.window.expectedDuration, or ask the window's owners for longer openings"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PlanStart(tc.calendar, tc.c, tc.now)); diff != "" {
				t.Errorf("PlanStart (-want +got):\n%s", diff)
			}
		})
	}
}

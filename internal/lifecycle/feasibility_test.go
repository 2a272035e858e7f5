package lifecycle

import (
	"strings"
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/window"
)

func TestImpossiblePlan(t *testing.T) {
	evening := thursdayEvening() // Thursdays 20:00 for 3h
	frozen := testfixtures.MakeGoLiveWindow("billing", "frozen").TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		Freeze(golivev1alpha1.Freeze{Name: "forever", Start: "2026-01-01T00:00", End: "2030-01-01T00:00"}).Obj().Spec
	noticeTooLong := testfixtures.MakeGoLiveWindow("billing", "notice").TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		Freeze(golivev1alpha1.Freeze{Name: "until-2027", Start: "2026-01-01T00:00", End: "2027-06-01T00:00"}).
		LeadTime(14 * 24 * time.Hour).Obj().Spec
	needing := func(d *time.Duration) *golivev1alpha1.UpdateRequest {
		request := newRequest()
		if d != nil {
			duration := testfixtures.Duration(*d)
			request.Spec.Window.ExpectedDuration = &duration
		}
		return request
	}
	fourHours, oneHour := 4*time.Hour, time.Hour
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		window  golivev1alpha1.GoLiveWindowSpec
		want    []string // parts of the message; none: the plan fits
	}{
		{name: "an hour in a 3h opening", request: needing(&oneHour), window: evening},
		{name: "four hours in 3h openings", request: needing(&fourHours), window: evening, want: []string{
			"spec.window.expectedDuration: production needs 4h of an opening, but the openings of GoLiveWindow",
			"last at most 3h; lower spec.window.expectedDuration, or ask",
		}},
		{name: "unset expected duration names where it comes from", request: func() *golivev1alpha1.UpdateRequest {
			r := needing(nil)
			r.Spec.Window.ExpectedDuration = nil
			r.Spec.Verify.Timeout = testfixtures.Duration(3 * time.Hour)
			return r
		}(), window: evening, want: []string{"production needs 3h15m", "(unset: spec.verify.timeout 3h + 15m)"}},
		{name: "frozen for good", request: needing(&oneHour), window: frozen, want: []string{
			`spec.window.name: GoLiveWindow "thursday-evening" has no opening within the next 732 days`,
		}},
		{name: "an emergency does not wait for the window", request: func() *golivev1alpha1.UpdateRequest {
			r := needing(&fourHours)
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			return r
		}(), window: evening},
		{name: "a long freeze and two weeks' notice still leave openings", request: needing(&oneHour), window: noticeTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calendar, err := window.Compile(tc.window)
			if err != nil {
				t.Fatal(err)
			}
			tc.request.Spec.Window.Name = "thursday-evening"
			got := ImpossiblePlan(&tc.request.Spec, tc.window, calendar, monday)
			if len(tc.want) == 0 && got != "" {
				t.Errorf("ImpossiblePlan = %q, want none", got)
			}
			for _, part := range tc.want {
				if !strings.Contains(got, part) {
					t.Errorf("ImpossiblePlan = %q, want it to say %q", got, part)
				}
			}
		})
	}
}

func TestPendingStallsOnAnImpossiblePlan(t *testing.T) {
	testDecide(t, []decideCase{{
		name: "a request needing more than any opening stalls before staging",
		request: func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Phase = golivev1alpha1.PhasePending
			need := testfixtures.Duration(4 * time.Hour)
			r.Spec.Window.ExpectedDuration = &need
		},
		want: want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonNeverOpens,
			message: "spec.window.expectedDuration: production needs 4h of an opening"},
	}})
}

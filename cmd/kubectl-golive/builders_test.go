package main

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// monday is "now" in the tests: Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
// The Thursday window opens on 2026-11-26 at 20:00 Berlin time, 19:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func duration(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

// The sample release's builders, shared with the report's tests.
var (
	utc             = testfixtures.UTC
	at              = testfixtures.At
	makeRequest     = testfixtures.BillingRequest
	inPhase         = testfixtures.InPhase
	withCondition   = testfixtures.WithCondition
	verifiedStaging = testfixtures.VerifiedStaging
	entry           = testfixtures.Entry
)

// toStalled replaces Reconciling with Stalled, as golive records a request only a person can move on.
func toStalled(r *golivev1alpha1.UpdateRequest) {
	conditions := r.Status.Conditions[:0]
	for _, c := range r.Status.Conditions {
		if c.Type == golivev1alpha1.ConditionReconciling {
			c.Type = golivev1alpha1.ConditionStalled
		}
		conditions = append(conditions, c)
	}
	r.Status.Conditions = conditions
}

// thursdayEvening is the sample window: Thursdays 20:00 to 23:00 in Berlin,
// frozen over the turn of the year.
func thursdayEvening() *golivev1alpha1.GoLiveWindow {
	return testfixtures.MakeGoLiveWindow("billing", "thursday-evening").
		TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		Freeze(golivev1alpha1.Freeze{Name: "year-end", Start: "2026-12-20T00:00", End: "2027-01-06T00:00", Reason: "Year-end closing"}).
		LeadTime(336*time.Hour).
		Emergency([]string{"cto", "ciso"}, 2, 720*time.Hour).
		Obj()
}

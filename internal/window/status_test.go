package window

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

func TestEvaluate(t *testing.T) {
	// Thursday 9 July 2026, 20:00-23:00 in Berlin (UTC+2).
	thursday := makeSpec("Europe/Berlin", schedule(entry("Thu", "20:00", 3*time.Hour)))
	tests := []struct {
		name         string
		spec         v1alpha1.GoLiveWindowSpec
		now          time.Time
		wantErr      error
		wantOpen     bool
		wantBoundary time.Time
	}{
		{"closed, opens next", thursday, utc("2026-07-09T12:00"), nil, false, utc("2026-07-09T18:00")},
		{"open, closes next", thursday, utc("2026-07-09T19:00"), nil, true, utc("2026-07-09T21:00")},
		{"unknown zone", makeSpec("Mars/Olympus", schedule(entry("Thu", "20:00", time.Hour))), utc("2026-07-09T12:00"), ErrUnknownTimeZone, false, time.Time{}},
		{"invalid start", makeSpec("UTC", schedule(entry("Thu", "25:00", time.Hour))), utc("2026-07-09T12:00"), ErrInvalidSpec, false, time.Time{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := Evaluate(test.spec, test.now)
			if !errors.Is(got.Err, test.wantErr) || (test.wantErr == nil) != (got.Err == nil) {
				t.Fatalf("Evaluate().Err = %v, want %v", got.Err, test.wantErr)
			}
			if got.State.Open != test.wantOpen || !got.Boundary.Equal(test.wantBoundary) {
				t.Errorf("Evaluate() = open %t, boundary %v; want open %t, boundary %v", got.State.Open, got.Boundary, test.wantOpen, test.wantBoundary)
			}
		})
	}
}

func TestNextChange(t *testing.T) {
	boundary, expiry := utc("2026-07-09T18:00"), utc("2026-07-09T12:00")
	tests := []struct {
		name       string
		evaluation Evaluation
		usage      Usage
		want       time.Time
	}{
		{"nothing changes", Evaluation{}, Usage{}, time.Time{}},
		{"the boundary only", Evaluation{Boundary: boundary}, Usage{}, boundary},
		{"the expiry only", Evaluation{}, Usage{ChangesAt: expiry}, expiry},
		{"the earlier of both", Evaluation{Boundary: boundary}, Usage{ChangesAt: expiry}, expiry},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := NextChange(test.evaluation, test.usage); !got.Equal(test.want) {
				t.Errorf("NextChange() = %v, want %v", got, test.want)
			}
		})
	}
}

func TestSetStatus(t *testing.T) {
	now := utc("2026-07-09T12:00")
	berlin := mustLoad(t, "Europe/Berlin")
	at := func(s string) *metav1.Time { return &metav1.Time{Time: utc(s)} }
	condition := func(kind string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
		return metav1.Condition{Type: kind, Status: status, ObservedGeneration: 3, LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: message}
	}
	closed := Evaluation{Location: berlin, State: State{Next: Interval{Start: utc("2026-07-09T18:00"), End: utc("2026-07-09T21:00")}}}
	open := Evaluation{Location: berlin, State: State{Open: true, Current: Interval{Start: utc("2026-07-09T11:00"), End: utc("2026-07-09T14:00")}}}
	openForever := Evaluation{Location: berlin, State: State{Open: true, Current: Interval{Start: utc("2026-07-09T11:00")}}}
	_, zoneErr := Compile(makeSpec("Mars/Olympus", schedule(entry("Thu", "20:00", time.Hour))))
	_, specErr := Compile(makeSpec("UTC", schedule(entry("Thu", "25:00", time.Hour))))
	usage := Usage{ActiveUpdates: []string{"billing-2-4-0"}, EmergencyUsed: 1}
	tests := []struct {
		name       string
		evaluation Evaluation
		before     v1alpha1.GoLiveWindowStatus
		want       v1alpha1.GoLiveWindowStatus
	}{
		{"closed", closed, v1alpha1.GoLiveWindowStatus{}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, NextOpen: at("2026-07-09T18:00"), NextClose: at("2026-07-09T21:00"),
			ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{condition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00")},
		}},
		{"open", open, v1alpha1.GoLiveWindowStatus{}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, Open: true, NextOpen: at("2026-07-09T11:00"), NextClose: at("2026-07-09T14:00"),
			ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{condition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonEvaluated, "Open until 2026-07-09T16:00:00+02:00")},
		}},
		{"open without end within the horizon", openForever, v1alpha1.GoLiveWindowStatus{}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, Open: true, NextOpen: at("2026-07-09T11:00"),
			ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{condition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonEvaluated, "Open; does not close within 732 days")},
		}},
		{"never opens, a stalled and open window before", Evaluation{Location: berlin, State: State{NeverOpens: true}}, v1alpha1.GoLiveWindowStatus{
			Open: true, NextOpen: at("2026-07-09T11:00"),
			Conditions: []metav1.Condition{condition(v1alpha1.ConditionReconciling, metav1.ConditionTrue, "Progressing", "")},
		}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{
				condition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonNeverOpens, "The schedule and freezes leave no opening within 732 days"),
				condition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNeverOpens, "The schedule and freezes leave no opening within 732 days"),
			},
		}},
		{"unknown time zone", Evaluation{Err: zoneErr}, v1alpha1.GoLiveWindowStatus{}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{
				condition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonUnknownTimeZone, zoneErr.Error()),
				condition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonUnknownTimeZone, zoneErr.Error()),
			},
		}},
		{"invalid spec", Evaluation{Err: specErr}, v1alpha1.GoLiveWindowStatus{}, v1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, ActiveUpdates: usage.ActiveUpdates, EmergencyUsed: 1,
			Conditions: []metav1.Condition{
				condition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec, specErr.Error()),
				condition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonInvalidSpec, specErr.Error()),
			},
		}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			glw := &v1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Generation: 3}, Status: test.before}
			SetStatus(glw, test.evaluation, usage, now)
			if diff := cmp.Diff(test.want, glw.Status); diff != "" {
				t.Errorf("SetStatus() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// A window stalled before that is valid again loses Stalled.
	glw := &v1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	SetStatus(glw, Evaluation{Err: specErr}, Usage{}, now)
	SetStatus(glw, closed, Usage{}, now)
	if got := len(glw.Status.Conditions); got != 1 || glw.Status.Conditions[0].Type != v1alpha1.ConditionReady {
		t.Errorf("SetStatus() after a fix left conditions %+v, want Ready only", glw.Status.Conditions)
	}
}

// The records of emergency starts are golive's gate's; deriving the status keeps them but for the expired ones.
func TestSetStatusKeepsEmergencyStarts(t *testing.T) {
	now := utc("2026-07-09T20:30")
	glw := &v1alpha1.GoLiveWindow{Spec: v1alpha1.GoLiveWindowSpec{Emergency: &v1alpha1.EmergencyPolicy{
		MaxPerPeriod: 1, Period: metav1.Duration{Duration: 24 * time.Hour}}}}
	glw.Status.EmergencyStarts = []v1alpha1.EmergencyStart{started("expired", now.Add(-24*time.Hour)), started("recent", now.Add(-time.Hour))}
	SetStatus(glw, Evaluation{State: State{Open: true}}, Usage{EmergencyUsed: 1}, now)
	want := []v1alpha1.EmergencyStart{started("recent", now.Add(-time.Hour))}
	if diff := cmp.Diff(want, glw.Status.EmergencyStarts); diff != "" {
		t.Errorf("SetStatus() emergencyStarts mismatch (-want +got):\n%s", diff)
	}
}

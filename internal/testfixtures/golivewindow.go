package testfixtures

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// GoLiveWindowWrapper builds a GoLiveWindow.
type GoLiveWindowWrapper struct {
	golivev1alpha1.GoLiveWindow
}

// MakeGoLiveWindow starts a window in UTC without openings, maxConcurrent 1.
func MakeGoLiveWindow(namespace, name string) *GoLiveWindowWrapper {
	return &GoLiveWindowWrapper{golivev1alpha1.GoLiveWindow{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Generation: 1},
		Spec:       golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", MaxConcurrent: 1},
	}}
}

// Obj returns a copy of the window built so far.
func (w *GoLiveWindowWrapper) Obj() *golivev1alpha1.GoLiveWindow { return w.GoLiveWindow.DeepCopy() }

// TimeZone sets spec.timeZone.
func (w *GoLiveWindowWrapper) TimeZone(zone string) *GoLiveWindowWrapper {
	w.Spec.TimeZone = zone
	return w
}

// Opening appends a schedule entry: on days, from start ("20:00") for d.
func (w *GoLiveWindowWrapper) Opening(days []golivev1alpha1.Weekday, start string, d time.Duration) *GoLiveWindowWrapper {
	w.Spec.Schedule = append(w.Spec.Schedule, golivev1alpha1.ScheduleEntry{Days: days, Start: start, Duration: Duration(d)})
	return w
}

// AlwaysOpen replaces the schedule with one open all day, every day.
func (w *GoLiveWindowWrapper) AlwaysOpen() *GoLiveWindowWrapper {
	w.Spec.Schedule = nil
	return w.Opening([]golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, "00:00", 24*time.Hour)
}

// Freeze appends a freeze.
func (w *GoLiveWindowWrapper) Freeze(freeze golivev1alpha1.Freeze) *GoLiveWindowWrapper {
	w.Spec.Freezes = append(w.Spec.Freezes, freeze)
	return w
}

// LeadTime sets spec.leadTime.
func (w *GoLiveWindowWrapper) LeadTime(d time.Duration) *GoLiveWindowWrapper {
	w.Spec.LeadTime = Duration(d)
	return w
}

// NotifyBefore appends advance notices, each lead before a planned start.
func (w *GoLiveWindowWrapper) NotifyBefore(leads ...time.Duration) *GoLiveWindowWrapper {
	for _, lead := range leads {
		w.Spec.NotifyBefore = append(w.Spec.NotifyBefore, golivev1alpha1.NoticeLead{Duration: Duration(lead)})
	}
	return w
}

// MaxConcurrent sets spec.maxConcurrent.
func (w *GoLiveWindowWrapper) MaxConcurrent(n int32) *GoLiveWindowWrapper {
	w.Spec.MaxConcurrent = n
	return w
}

// Emergency allows maxPerPeriod emergency updates per period, approved by one of roles.
func (w *GoLiveWindowWrapper) Emergency(roles []string, maxPerPeriod int32, period time.Duration) *GoLiveWindowWrapper {
	w.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: roles, MaxPerPeriod: maxPerPeriod, Period: Duration(period)}
	return w
}

// NoEmergency allows no emergency updates.
func (w *GoLiveWindowWrapper) NoEmergency() *GoLiveWindowWrapper {
	w.Spec.Emergency = nil
	return w
}

// Open sets status.open and status.activeUpdates.
func (w *GoLiveWindowWrapper) Open(open bool, activeUpdates ...string) *GoLiveWindowWrapper {
	w.Status.Open, w.Status.ActiveUpdates = open, activeUpdates
	return w
}

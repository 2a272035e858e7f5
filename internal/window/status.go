package window

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Evaluation is a window's schedule evaluated at one instant.
type Evaluation struct {
	// Err is set when the spec cannot be compiled; it names the fields to fix.
	Err error
	// Location is the window's time zone, to show times as people wrote them.
	Location *time.Location
	State    State
	// Boundary is the next instant the window opens or closes; zero when that
	// is beyond Horizon or the spec is invalid.
	Boundary time.Time
}

// Evaluate compiles spec and evaluates it at now.
func Evaluate(spec v1alpha1.GoLiveWindowSpec, now time.Time) Evaluation {
	calendar, err := Compile(spec)
	if err != nil {
		return Evaluation{Err: err}
	}
	evaluation := Evaluation{Location: calendar.Location(), State: calendar.State(now)}
	if boundary, ok := calendar.NextBoundary(now); ok {
		evaluation.Boundary = boundary
	}
	return evaluation
}

// NextChange is the next instant the status derived from evaluation and usage
// changes by the passing of time alone; zero when nothing changes within Horizon.
func NextChange(evaluation Evaluation, usage Usage) time.Time {
	return earliest(evaluation.Boundary, usage.ChangesAt)
}

// SetStatus derives the status of glw from its evaluation and usage at now;
// it keeps status.emergencyStarts but for the expired entries.
func SetStatus(glw *v1alpha1.GoLiveWindow, evaluation Evaluation, usage Usage, now time.Time) {
	status := &glw.Status
	status.ObservedGeneration = glw.Generation
	status.ActiveUpdates = usage.ActiveUpdates
	status.EmergencyUsed = usage.EmergencyUsed
	// The records of emergency starts are kept (golive's production gate
	// appends them); only those past the period go.
	status.EmergencyStarts = PruneEmergencyStarts(status.EmergencyStarts, EmergencyPeriod(glw.Spec), now)

	ready := metav1.Condition{
		Type:               v1alpha1.ConditionReady,
		ObservedGeneration: glw.Generation,
		// Kept by meta.SetStatusCondition unless the status changes; set here so
		// it comes from the caller's clock rather than time.Now.
		LastTransitionTime: metav1.NewTime(now),
	}
	state := evaluation.State
	switch {
	case evaluation.Err != nil:
		status.Open, status.NextOpen, status.NextClose = false, nil, nil
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec, evaluation.Err.Error()
		if errors.Is(evaluation.Err, ErrUnknownTimeZone) {
			ready.Reason = v1alpha1.ReasonUnknownTimeZone
		}
	case state.NeverOpens:
		status.Open, status.NextOpen, status.NextClose = false, nil, nil
		ready.Status, ready.Reason = metav1.ConditionFalse, v1alpha1.ReasonNeverOpens
		ready.Message = fmt.Sprintf("The schedule and freezes leave no opening within %s", horizonText)
	default:
		status.Open = state.Open
		status.NextOpen = timeOrNil(state.NextOpen())
		status.NextClose = timeOrNil(state.NextClose())
		ready.Status, ready.Reason = metav1.ConditionTrue, v1alpha1.ReasonEvaluated
		ready.Message = describeState(state, evaluation.Location)
	}

	meta.SetStatusCondition(&status.Conditions, ready)
	if ready.Status == metav1.ConditionFalse {
		// Waiting does not help: a person has to change the spec.
		stalled := ready
		stalled.Type, stalled.Status = v1alpha1.ConditionStalled, metav1.ConditionTrue
		meta.SetStatusCondition(&status.Conditions, stalled)
	} else {
		meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionStalled)
	}
	// Evaluating is instantaneous, so the window is never seen Reconciling.
	meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionReconciling)
}

// horizonText is Horizon in days, as people read it.
var horizonText = fmt.Sprintf("%d days", Horizon/(24*time.Hour))

// describeState is the Ready message of a valid window, with times in its zone.
func describeState(state State, location *time.Location) string {
	if state.Open {
		if state.Current.End.IsZero() {
			return "Open; does not close within " + horizonText
		}
		return "Open until " + state.Current.End.In(location).Format(time.RFC3339)
	}
	return "Closed; opens " + state.Next.Start.In(location).Format(time.RFC3339)
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t}
}

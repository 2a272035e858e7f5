package lifecycle

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// gate records the outcome of one gate of the release process.
func (d *decider) gate(conditionType string, passed bool, reason, message string) {
	status := metav1.ConditionFalse
	if passed {
		status = metav1.ConditionTrue
	}
	d.setCondition(conditionType, status, reason, message)
}

// setConditions derives Ready, Reconciling and Stalled (the kstatus trio that
// Argo CD, Flux and kubectl wait read) from the phase and the decision.
func (d *decider) setConditions() {
	phase := d.status.Phase
	reason, message := d.progressReason, d.progressMessage
	if reason == "" {
		reason, message = golivev1alpha1.ReasonProgressing, "Phase "+string(phase)
		if n := len(d.status.Timeline); n > 0 {
			message = d.status.Timeline[n-1].Message
		}
	}
	conditions := &d.status.Conditions
	switch {
	case phase == golivev1alpha1.PhaseSucceeded:
		d.setCondition(golivev1alpha1.ConditionReady, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "Release "+d.spec.Release+" is in production")
		meta.RemoveStatusCondition(conditions, golivev1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conditions, golivev1alpha1.ConditionStalled)
	case phase.IsTerminal():
		// An update that ended without reaching production is a failure a person
		// reads: why it ended is decided once, when it ends, and kept.
		if d.progressReason == "" {
			reason = string(phase)
			if ready := meta.FindStatusCondition(*conditions, golivev1alpha1.ConditionReady); ready != nil && ready.Status == metav1.ConditionFalse {
				reason, message = ready.Reason, ready.Message
			}
		}
		d.setCondition(golivev1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
		d.setCondition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
		meta.RemoveStatusCondition(conditions, golivev1alpha1.ConditionReconciling)
	case d.stalledReason != "":
		if previous := meta.FindStatusCondition(*conditions, golivev1alpha1.ConditionStalled); previous == nil ||
			previous.Status != metav1.ConditionTrue || previous.Reason != d.stalledReason || previous.Message != d.stalledMessage {
			d.warnOnce(d.stalledReason, d.stalledMessage)
		}
		d.setCondition(golivev1alpha1.ConditionReady, metav1.ConditionFalse, d.stalledReason, d.stalledMessage)
		d.setCondition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, d.stalledReason, d.stalledMessage)
		meta.RemoveStatusCondition(conditions, golivev1alpha1.ConditionReconciling)
	default:
		d.setCondition(golivev1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
		d.setCondition(golivev1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
		meta.RemoveStatusCondition(conditions, golivev1alpha1.ConditionStalled)
	}
}

func (d *decider) setCondition(conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&d.status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: d.request.Generation,
		// Kept by SetStatusCondition unless the status flips; from the decision's clock, not time.Now.
		LastTransitionTime: metav1.NewTime(d.now),
	})
}

func timePtr(t time.Time) *metav1.Time {
	return &metav1.Time{Time: t}
}

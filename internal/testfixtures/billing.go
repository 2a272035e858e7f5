package testfixtures

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// The sample release billing-2-4-0 in its phases, as the tests of the
// readers that render a request (the plugin, the report) share it.

// UTC parses an RFC 3339 time; a test's literal that does not parse panics.
func UTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// At is UTC(s) as a *metav1.Time.
func At(s string) *metav1.Time { return &metav1.Time{Time: UTC(s)} }

// BillingRequest is billing-2-4-0 as the sample in config/samples describes
// it, requested by alice, before golive saw it.
func BillingRequest() *UpdateRequestWrapper {
	return MakeUpdateRequest("billing", "billing-2-4-0").
		UID("6f1c2a9e-uid").Created(UTC("2026-11-18T09:00:00Z")).
		Annotation(golivev1alpha1.AnnotationRequestedBy, "alice@example.com").
		Release("2.4.0").Description("Quarterly release").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{
			"api": "registry.example.com/billing-api:2.4.0", "migrate": "registry.example.com/billing-migrate:2.4.0"}).
		Target(golivev1alpha1.TargetStatefulSet, "billing-db", map[string]string{"postgres": "registry.example.com/postgres:16.4"}).
		Staging("billing-grey").Soak(48*time.Hour).
		Approval("rnd-lead", 1).Approval("operations-office", 2).
		Window("thursday-evening").ExpectedDuration(time.Hour).
		VerifyTimeout(15*time.Minute).
		Acceptance("business-owner", 24*time.Hour, golivev1alpha1.AcceptOnTimeout)
}

// ConditionsChanged is when BillingRequest's conditions last changed.
var ConditionsChanged = metav1.Time{Time: UTC("2026-11-20T10:00:00Z")}

// InPhase records phase with the given Ready condition, as golive would:
// .Mutate(InPhase(...)).
func InPhase(phase golivev1alpha1.Phase, readyReason, readyMessage string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		status := &r.Status
		status.Phase = phase
		status.ObservedGeneration = r.Generation
		status.RequestedBy = "alice@example.com"
		status.SpecHash = "sha256:5d1c0f3b9a7e2d4c6b8a0f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1c"
		ready := metav1.Condition{Type: golivev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: readyReason, Message: readyMessage,
			LastTransitionTime: ConditionsChanged}
		switch {
		case phase == golivev1alpha1.PhaseSucceeded:
			ready.Status = metav1.ConditionTrue
		case phase.IsTerminal():
			WithCondition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, readyReason, readyMessage)(r)
		default:
			WithCondition(golivev1alpha1.ConditionReconciling, metav1.ConditionTrue, readyReason, readyMessage)(r)
		}
		status.Conditions = append([]metav1.Condition{ready}, status.Conditions...)
	}
}

// WithCondition appends a condition that last changed at ConditionsChanged.
func WithCondition(conditionType string, status metav1.ConditionStatus, reason, message string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Conditions = append(r.Status.Conditions, metav1.Condition{
			Type: conditionType, Status: status, Reason: reason, Message: message, LastTransitionTime: ConditionsChanged,
		})
	}
}

// VerifiedStaging records staging as verified at verified, every check passed.
func VerifiedStaging(verified string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Staging = &golivev1alpha1.EnvironmentStatus{
			StartedAt: At("2026-11-18T09:01:00Z"), UpdatedAt: At("2026-11-18T09:04:00Z"), VerifiedAt: At(verified), TargetsApplied: 2,
			Checks: []golivev1alpha1.CheckStatus{
				{Name: "rollout", Result: golivev1alpha1.CheckPassed, Message: "every target rolled out"},
				{Name: "smoke", Result: golivev1alpha1.CheckPassed, Message: "Job billing-2-4-0-staging-smoke completed"},
				{Name: "health", Result: golivev1alpha1.CheckPassed, Successes: 3},
			},
		}
		WithCondition(golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")(r)
	}
}

// Entry is a timeline entry at when (RFC 3339).
func Entry(when string, phase golivev1alpha1.Phase, actor, event, message string) golivev1alpha1.TimelineEntry {
	return golivev1alpha1.TimelineEntry{At: *At(when), Phase: phase, Actor: actor, Event: event, Message: message}
}

package report

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// monday is "now" in the tests: Monday 2026-11-23 10:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) *metav1.Time { return &metav1.Time{Time: utc(s)} }

// makeRequest is billing-2-4-0 as the sample in config/samples describes it,
// requested by alice, before golive saw it.
func makeRequest() *testfixtures.UpdateRequestWrapper {
	return testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").
		UID("6f1c2a9e-uid").Created(utc("2026-11-18T09:00:00Z")).
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

// conditionsChanged is when the tests' conditions last changed.
var conditionsChanged = metav1.Time{Time: utc("2026-11-20T10:00:00Z")}

// inPhase records phase with the given Ready condition, as golive would:
// .Mutate(inPhase(...)).
func inPhase(phase golivev1alpha1.Phase, readyReason, readyMessage string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		status := &r.Status
		status.Phase = phase
		status.ObservedGeneration = r.Generation
		status.RequestedBy = "alice@example.com"
		status.SpecHash = "sha256:5d1c0f3b9a7e2d4c6b8a0f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1c"
		ready := metav1.Condition{Type: golivev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: readyReason, Message: readyMessage,
			LastTransitionTime: conditionsChanged}
		switch {
		case phase == golivev1alpha1.PhaseSucceeded:
			ready.Status = metav1.ConditionTrue
		case phase.IsTerminal():
			withCondition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, readyReason, readyMessage)(r)
		default:
			withCondition(golivev1alpha1.ConditionReconciling, metav1.ConditionTrue, readyReason, readyMessage)(r)
		}
		status.Conditions = append([]metav1.Condition{ready}, status.Conditions...)
	}
}

// withCondition appends a condition that last changed at conditionsChanged.
func withCondition(conditionType string, status metav1.ConditionStatus, reason, message string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Conditions = append(r.Status.Conditions, metav1.Condition{
			Type: conditionType, Status: status, Reason: reason, Message: message, LastTransitionTime: conditionsChanged,
		})
	}
}

// verifiedStaging records staging as verified at verified, every check passed.
func verifiedStaging(verified string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Staging = &golivev1alpha1.EnvironmentStatus{
			StartedAt: at("2026-11-18T09:01:00Z"), UpdatedAt: at("2026-11-18T09:04:00Z"), VerifiedAt: at(verified), TargetsApplied: 2,
			Checks: []golivev1alpha1.CheckStatus{
				{Name: "rollout", Result: golivev1alpha1.CheckPassed, Message: "every target rolled out"},
				{Name: "smoke", Result: golivev1alpha1.CheckPassed, Message: "Job billing-2-4-0-staging-smoke completed"},
				{Name: "health", Result: golivev1alpha1.CheckPassed, Successes: 3},
			},
		}
		withCondition(golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")(r)
	}
}

func entry(when string, phase golivev1alpha1.Phase, actor, event, message string) golivev1alpha1.TimelineEntry {
	return golivev1alpha1.TimelineEntry{At: *at(when), Phase: phase, Actor: actor, Event: event, Message: message}
}

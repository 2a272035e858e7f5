package main

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// monday is "now" in the tests: Monday 2026-11-23 10:00 UTC (11:00 in Berlin).
// The Thursday window opens on 2026-11-26 at 20:00 Berlin time, 19:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) *metav1.Time { return &metav1.Time{Time: utc(s)} }

func duration(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

// requestBuilder makes UpdateRequests for tests: makeRequest().phase(...).obj().
type requestBuilder struct {
	request golivev1alpha1.UpdateRequest
}

// makeRequest is billing-2-4-0 as the sample in config/samples describes it,
// requested by alice, before golive saw it.
func makeRequest() *requestBuilder {
	return &requestBuilder{request: golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "billing", Name: "billing-2-4-0", Generation: 1, UID: "6f1c2a9e-uid",
			CreationTimestamp: metav1.Time{Time: utc("2026-11-18T09:00:00Z")},
			Annotations:       map[string]string{golivev1alpha1.AnnotationRequestedBy: "alice@example.com"},
		},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release:     "2.4.0",
			Description: "Quarterly release",
			Targets: []golivev1alpha1.Target{
				{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]golivev1alpha1.Image{
					"api": "registry.example.com/billing-api:2.4.0", "migrate": "registry.example.com/billing-migrate:2.4.0"}},
				{Kind: golivev1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]golivev1alpha1.Image{"postgres": "registry.example.com/postgres:16.4"}},
			},
			Staging: golivev1alpha1.Staging{Namespace: "billing-grey", Soak: duration(48 * time.Hour),
				Verify: golivev1alpha1.Verification{Timeout: duration(10 * time.Minute)}},
			Approvals: golivev1alpha1.Approvals{Required: []golivev1alpha1.RoleQuorum{
				{Role: "rnd-lead", Count: 1}, {Role: "operations-office", Count: 2},
			}},
			Window:     golivev1alpha1.WindowReference{Name: "thursday-evening", ExpectedDuration: ptr.To(duration(time.Hour))},
			Backup:     golivev1alpha1.Backup{Quiesce: golivev1alpha1.QuiesceNone, Retention: duration(168 * time.Hour)},
			Verify:     golivev1alpha1.Verification{Timeout: duration(15 * time.Minute)},
			Acceptance: &golivev1alpha1.Acceptance{Role: "business-owner", Timeout: duration(24 * time.Hour), OnTimeout: golivev1alpha1.AcceptOnTimeout},
			Rollback:   golivev1alpha1.Rollback{RestoreData: golivev1alpha1.RestoreDataAuto},
		},
	}}
}

func (b *requestBuilder) obj() *golivev1alpha1.UpdateRequest { return b.request.DeepCopy() }

// phase records phase with the given Ready condition, as golive would.
func (b *requestBuilder) phase(phase golivev1alpha1.Phase, readyReason, readyMessage string) *requestBuilder {
	status := &b.request.Status
	status.Phase = phase
	status.ObservedGeneration = b.request.Generation
	status.RequestedBy = "alice@example.com"
	status.SpecHash = "sha256:5d1c0f3b9a7e2d4c6b8a0f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1c"
	ready := metav1.Condition{Type: golivev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: readyReason, Message: readyMessage,
		LastTransitionTime: metav1.Time{Time: utc("2026-11-20T10:00:00Z")}}
	switch {
	case phase == golivev1alpha1.PhaseSucceeded:
		ready.Status = metav1.ConditionTrue
	case phase.IsTerminal():
		b.condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, readyReason, readyMessage)
	default:
		b.condition(golivev1alpha1.ConditionReconciling, metav1.ConditionTrue, readyReason, readyMessage)
	}
	status.Conditions = append([]metav1.Condition{ready}, status.Conditions...)
	return b
}

func (b *requestBuilder) condition(conditionType string, status metav1.ConditionStatus, reason, message string) *requestBuilder {
	b.request.Status.Conditions = append(b.request.Status.Conditions, metav1.Condition{
		Type: conditionType, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.Time{Time: utc("2026-11-20T10:00:00Z")},
	})
	return b
}

// stalled replaces Reconciling with Stalled, as golive records a request only a person can move on.
func (b *requestBuilder) stalled() *requestBuilder {
	conditions := b.request.Status.Conditions[:0]
	for _, c := range b.request.Status.Conditions {
		if c.Type == golivev1alpha1.ConditionReconciling {
			c.Type = golivev1alpha1.ConditionStalled
		}
		conditions = append(conditions, c)
	}
	b.request.Status.Conditions = conditions
	return b
}

func (b *requestBuilder) stagingVerified(verified string) *requestBuilder {
	b.request.Status.Staging = &golivev1alpha1.EnvironmentStatus{
		StartedAt: at("2026-11-18T09:01:00Z"), UpdatedAt: at("2026-11-18T09:04:00Z"), VerifiedAt: at(verified), TargetsApplied: 2,
		Checks: []golivev1alpha1.CheckStatus{
			{Name: "rollout", Result: golivev1alpha1.CheckPassed, Message: "every target rolled out"},
			{Name: "smoke", Result: golivev1alpha1.CheckPassed, Message: "Job billing-2-4-0-staging-smoke completed"},
			{Name: "health", Result: golivev1alpha1.CheckPassed, Successes: 3},
		},
	}
	return b.condition(golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")
}

func (b *requestBuilder) approved(role, user, when, comment string) *requestBuilder {
	b.request.Status.Approvals = append(b.request.Status.Approvals, golivev1alpha1.ApprovalRecord{Role: role, User: user, At: *at(when), Comment: comment})
	return b
}

func (b *requestBuilder) summary(summary string) *requestBuilder {
	b.request.Status.ApprovalSummary = summary
	return b
}

func (b *requestBuilder) timeline(entries ...golivev1alpha1.TimelineEntry) *requestBuilder {
	b.request.Status.Timeline = append(b.request.Status.Timeline, entries...)
	return b
}

func (b *requestBuilder) mutate(change func(*golivev1alpha1.UpdateRequest)) *requestBuilder {
	change(&b.request)
	return b
}

func entry(when string, phase golivev1alpha1.Phase, actor, event, message string) golivev1alpha1.TimelineEntry {
	return golivev1alpha1.TimelineEntry{At: *at(when), Phase: phase, Actor: actor, Event: event, Message: message}
}

// thursdayEvening is the sample window: Thursdays 20:00 to 23:00 in Berlin,
// frozen over the turn of the year.
func thursdayEvening() *golivev1alpha1.GoLiveWindow {
	return &golivev1alpha1.GoLiveWindow{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "thursday-evening", Generation: 1},
		Spec: golivev1alpha1.GoLiveWindowSpec{
			TimeZone: "Europe/Berlin",
			Schedule: []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: duration(3 * time.Hour)}},
			Freezes: []golivev1alpha1.Freeze{
				{Name: "year-end", Start: "2026-12-20T00:00", End: "2027-01-06T00:00", Reason: "Year-end closing"},
			},
			LeadTime:      duration(336 * time.Hour),
			MaxConcurrent: 1,
			Emergency:     &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto", "ciso"}, MaxPerPeriod: 2, Period: duration(720 * time.Hour)},
		},
	}
}

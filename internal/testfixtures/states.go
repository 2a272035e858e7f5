package testfixtures

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// CurrentSpecHash is the hash States' requests give their current spec.
const CurrentSpecHash = "sha256:current"

// State is a request as its readers find it at one point of its life.
type State struct {
	Name    string
	Request *golivev1alpha1.UpdateRequest
	// SpecHash is the hash of the request's current spec, as the webhook
	// computes it; it differs from status.specHash once the spec changed.
	SpecHash string
}

// States lists a request in every phase, and in the states within a phase
// that change what may be done (staging verified for an older spec, an
// emergency, an acceptance step, a supervised one waiting for go), stamped relative to now. The tests that
// check every reader of a request answers alike (the plugin, the webhook,
// the lifecycle) feed them these.
func States(now time.Time) []State {
	base := func() *UpdateRequestWrapper {
		return MakeUpdateRequest("billing", "billing-2-4-0").
			Release("2.4.0").
			Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "api:2.4.0"}).
			Staging("billing-grey").Soak(30*time.Minute).
			Approval("rnd-lead", 1).Approval("operations-office", 1).
			Window("thursday-evening").RequestedBy("alice").
			Acceptance("business", 2*time.Hour, golivev1alpha1.AcceptOnTimeout).
			SpecHash(CurrentSpecHash)
	}
	verified := func(phase golivev1alpha1.Phase) *UpdateRequestWrapper {
		return base().Phase(phase).StagingVerified(now.Add(-10 * time.Minute))
	}
	inProduction := func(phase golivev1alpha1.Phase) *UpdateRequestWrapper {
		return verified(phase).Approved("rnd-lead", "bob", now.Add(-8*time.Minute), "").
			Approved("operations-office", "carol", now.Add(-7*time.Minute), "").
			Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: Time(now.Add(-5 * time.Minute))}
			})
	}
	states := []State{
		{Name: "not seen by the controller", Request: base().SpecHash("").Obj()},
		{Name: "Pending", Request: base().Phase(golivev1alpha1.PhasePending).Obj()},
		{Name: "Staging", Request: base().Phase(golivev1alpha1.PhaseStaging).StagingStarted(now.Add(-2 * time.Minute)).Obj()},
		{Name: "VerifyingStaging", Request: base().Phase(golivev1alpha1.PhaseVerifyingStaging).StagingStarted(now.Add(-4 * time.Minute)).Obj()},
		{Name: "Soaking", Request: verified(golivev1alpha1.PhaseSoaking).Obj()},
		{Name: "AwaitingApproval", Request: verified(golivev1alpha1.PhaseAwaitingApproval).Obj()},
		{Name: "AwaitingApproval, verified for an older spec", Request: verified(golivev1alpha1.PhaseAwaitingApproval).SpecHash("sha256:previous").Obj()},
		{Name: "AwaitingApproval, emergency", Request: verified(golivev1alpha1.PhaseAwaitingApproval).Emergency("payments down").Obj()},
		{Name: "Scheduled", Request: verified(golivev1alpha1.PhaseScheduled).Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", PlannedStart: &metav1.Time{Time: now.Add(time.Hour)}}
		}).Obj()},
		{Name: "AwaitingGo", Request: verified(golivev1alpha1.PhaseAwaitingGo).Approved("rnd-lead", "bob", now.Add(-8*time.Minute), "").
			Approved("operations-office", "carol", now.Add(-7*time.Minute), "").Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", PlannedStart: &metav1.Time{Time: now.Add(-time.Minute)}}
			r.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}, Until: &metav1.Time{Time: now.Add(time.Hour)}}
		}).Obj()},
		{Name: "BackingUp", Request: inProduction(golivev1alpha1.PhaseBackingUp).Obj()},
		{Name: "Updating", Request: inProduction(golivev1alpha1.PhaseUpdating).Obj()},
		{Name: "Verifying", Request: inProduction(golivev1alpha1.PhaseVerifying).Obj()},
		{Name: "AwaitingAcceptance", Request: inProduction(golivev1alpha1.PhaseAwaitingAcceptance).Obj()},
		{Name: "AwaitingAcceptance, no acceptance step", Request: inProduction(golivev1alpha1.PhaseAwaitingAcceptance).
			Mutate(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Acceptance = nil }).Obj()},
		{Name: "RollingBack", Request: inProduction(golivev1alpha1.PhaseRollingBack).Obj()},
	}
	for _, phase := range []golivev1alpha1.Phase{
		golivev1alpha1.PhaseSucceeded, golivev1alpha1.PhaseFailed, golivev1alpha1.PhaseRolledBack,
		golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted,
	} {
		states = append(states, State{Name: string(phase), Request: inProduction(phase).Completed(now.Add(-time.Minute)).Obj()})
	}
	for i := range states {
		states[i].SpecHash = CurrentSpecHash
	}
	return states
}

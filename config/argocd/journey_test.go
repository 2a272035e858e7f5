package argocd

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// The UpdateRequest statuses the health checks are tested on are recorded by
// golive's own decisions (lifecycle.Decide), driven through whole releases
// against a simulated cluster as the controller drives them.

// monday is when the journeys start: the Thursday window opens three days later.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const specHash = "sha256:journey"

func newRequest() *golivev1alpha1.UpdateRequest {
	d := func(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }
	return &golivev1alpha1.UpdateRequest{
		TypeMeta:   metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: "billing-2-4-0", Namespace: "billing", Generation: 1},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: "2.4.0",
			Targets: []golivev1alpha1.Target{
				{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]golivev1alpha1.Image{"api": "api:2.4.0"}},
				{Kind: golivev1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]golivev1alpha1.Image{"postgres": "postgres:16.4"}},
			},
			Staging: golivev1alpha1.Staging{Namespace: "billing-grey", Soak: d(48 * time.Hour),
				Verify: golivev1alpha1.Verification{Timeout: d(10 * time.Minute)}},
			Approvals: golivev1alpha1.Approvals{Required: []golivev1alpha1.RoleQuorum{
				{Role: "rnd-lead", Count: 1}, {Role: "operations-office", Count: 1},
			}},
			Window:     golivev1alpha1.WindowReference{Name: "thursday-evening", ExpectedDuration: ptr.To(d(time.Hour))},
			Backup:     golivev1alpha1.Backup{Quiesce: golivev1alpha1.QuiesceNone, Retention: d(168 * time.Hour)},
			Verify:     golivev1alpha1.Verification{Timeout: d(15 * time.Minute)},
			Acceptance: &golivev1alpha1.Acceptance{Role: "business-owner", Timeout: d(24 * time.Hour), OnTimeout: golivev1alpha1.AcceptOnTimeout},
			Rollback:   golivev1alpha1.Rollback{RestoreData: golivev1alpha1.RestoreDataAuto},
		},
	}
}

// newWorld is a cluster in which every reference of newRequest resolves.
func newWorld() lifecycle.World {
	targets := func() []lifecycle.TargetObservation {
		return []lifecycle.TargetObservation{{Found: true, Health: lifecycle.Healthy}, {Found: true, Health: lifecycle.Healthy}}
	}
	return lifecycle.World{
		SpecHash:         specHash,
		RequestedBy:      "alice@example.com",
		StagingNamespace: lifecycle.NamespaceObservation{Found: true, OptedIn: true},
		Window: lifecycle.WindowObservation{Found: true, Spec: golivev1alpha1.GoLiveWindowSpec{
			TimeZone:      "Europe/Berlin",
			Schedule:      []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: metav1.Duration{Duration: 3 * time.Hour}}},
			MaxConcurrent: 1,
		}},
		Staging:    lifecycle.EnvironmentObservation{Targets: targets()},
		Production: lifecycle.EnvironmentObservation{Targets: targets()},
		Backup:     lifecycle.BackupObservation{SnapshotClassFound: true},
	}
}

// journey drives one request through lifecycle.Decide, taking each action
// in the simulated world and letting time pass for each wait.
type journey struct {
	t       *testing.T
	request *golivev1alpha1.UpdateRequest
	world   lifecycle.World
	now     time.Time
	// commands are given by people as soon as the request is in the phase.
	commands map[golivev1alpha1.Phase][]lifecycle.Command
	// failStaging and failProduction make that verification fail.
	failStaging, failProduction bool
	// samples are the statuses recorded, one per phase and Ready reason, in order.
	samples []*golivev1alpha1.UpdateRequest
}

func newJourney(t *testing.T) *journey {
	return &journey{t: t, request: newRequest(), world: newWorld(), now: monday, commands: map[golivev1alpha1.Phase][]lifecycle.Command{}}
}

// approvedBy are the approvals of both required roles.
func approvedBy() []lifecycle.Command {
	return []lifecycle.Command{
		{Action: lifecycle.ActionApprove, User: "bob@example.com", Role: "rnd-lead", Comment: "looks good"},
		{Action: lifecycle.ActionApprove, User: "carol@example.com", Role: "operations-office"},
	}
}

// run decides until the request ends and returns the samples.
func (j *journey) run() []*golivev1alpha1.UpdateRequest {
	j.t.Helper()
	for range 200 {
		phase := j.request.Status.Phase
		for _, command := range j.commands[phase] {
			command.At = j.now
			j.world.Commands = append(j.world.Commands, command)
		}
		delete(j.commands, phase)

		decision := lifecycle.Decide(j.request, j.world, j.now)
		j.request.Status = decision.Status
		j.record()
		phase = j.request.Status.Phase
		switch {
		case phase.IsTerminal():
			return j.samples
		case decision.Action.Kind != lifecycle.NoAction:
			j.act(decision.Action)
		case decision.RequeueAfter > 0:
			j.now = j.now.Add(decision.RequeueAfter)
		case len(j.commands[phase]) == 0:
			ready := meta.FindStatusCondition(j.request.Status.Conditions, golivev1alpha1.ConditionReady)
			j.t.Fatalf("The journey is stuck in %s: %+v", phase, ready)
		}
	}
	j.t.Fatalf("The journey did not end; it is in %s", j.request.Status.Phase)
	return nil
}

// record keeps the first status of each phase and Ready reason.
func (j *journey) record() {
	reason := readyReason(j.request)
	for _, sample := range j.samples {
		if sample.Status.Phase == j.request.Status.Phase && readyReason(sample) == reason {
			return
		}
	}
	j.samples = append(j.samples, j.request.DeepCopy())
}

func readyReason(request *golivev1alpha1.UpdateRequest) string {
	if ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
		return ready.Reason
	}
	return ""
}

// act makes the world look as it does after the controller took action.
func (j *journey) act(action lifecycle.Action) {
	j.t.Helper()
	passed := func(failed bool) lifecycle.VerificationObservation {
		if failed {
			return lifecycle.VerificationObservation{State: lifecycle.VerificationFailed, Message: `Job "smoke" failed`,
				Checks: []golivev1alpha1.CheckStatus{{Name: "rollout", Result: golivev1alpha1.CheckPassed}, {Name: "smoke", Result: golivev1alpha1.CheckFailed}}}
		}
		return lifecycle.VerificationObservation{State: lifecycle.VerificationPassed,
			Checks: []golivev1alpha1.CheckStatus{{Name: "rollout", Result: golivev1alpha1.CheckPassed}, {Name: "smoke", Result: golivev1alpha1.CheckPassed}}}
	}
	switch action.Kind {
	case lifecycle.ApplyStaging:
		j.world.Staging.Targets[action.Target].ImagesApplied = true
	case lifecycle.VerifyStaging:
		j.world.Staging.Verification = passed(j.failStaging)
	case lifecycle.SaveSpecs:
		j.world.Backup.SavedSpecs = j.request.Name + "-saved-specs"
	case lifecycle.ApplyProduction:
		j.world.Production.Targets[action.Target].ImagesApplied = true
	case lifecycle.VerifyProduction:
		j.world.Production.Verification = passed(j.failProduction)
	case lifecycle.RestoreTarget:
		j.world.Production.Targets[action.Target].Restored = true
	default:
		j.t.Fatalf("The journey has no simulation of action %s", action.Kind)
	}
}

// decideOnce records the status of one decision for a request that waits in Pending.
func decideOnce(change func(*golivev1alpha1.UpdateRequest, *lifecycle.World)) *golivev1alpha1.UpdateRequest {
	request, world := newRequest(), newWorld()
	change(request, &world)
	request.Status = lifecycle.Decide(request, world, monday).Status
	return request
}

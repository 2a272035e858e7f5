package argocd

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The UpdateRequest statuses the health checks are tested on are recorded by
// golive's own decisions (lifecycle.Decide), driven through whole releases
// against a simulated cluster as the controller drives them.

// monday is when the journeys start: the Thursday window opens three days later.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const specHash = "sha256:journey"

func newRequest() *golivev1alpha1.UpdateRequest {
	return testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Typed().
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "api:2.4.0"}).
		Target(golivev1alpha1.TargetStatefulSet, "billing-db", map[string]string{"postgres": "postgres:16.4"}).
		Staging("billing-grey").Soak(48*time.Hour).
		Approval("rnd-lead", 1).Approval("operations-office", 1).
		Window("thursday-evening").ExpectedDuration(time.Hour).
		VerifyTimeout(15*time.Minute).
		Acceptance("business-owner", 24*time.Hour, golivev1alpha1.AcceptOnTimeout).
		Obj()
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
		// The controller signs the gate records golive made and believes them once verified.
		j.world.Attested = lifecycle.AttestedFrom(j.request.Status.GateRecords, j.world.SpecHash)
		j.record()
		phase = j.request.Status.Phase
		switch {
		case phase.IsTerminal():
			return j.samples
		case decision.Action.Kind != lifecycle.NoAction:
			j.act(decision.Action)
		case len(j.commands[phase]) > 0:
			// People answer at once, before the phase's wait runs out.
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
	case lifecycle.SaveStagingSpecs:
		j.world.StagingSavedSpecs = lifecycle.StagingSavedSpecsObservation{Name: j.request.Name + "-staging-saved-specs", Complete: true}
		for i := range j.world.Staging.Targets {
			j.world.Staging.Targets[i].Saved = true
		}
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

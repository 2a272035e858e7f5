package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideCommandsAndSpecChanges(t *testing.T) {
	testDecide(t, []decideCase{
		// Abort, reject, spec change.
		{
			name: "an abort before production ends the request Aborted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionAbort, User: "alice", Comment: "wrong build", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseAborted, stalled: golivev1alpha1.ReasonAborted, message: "Aborted by alice: wrong build"},
		},
		{
			name: "an abort during production rolls back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets, Healthy, Progressing)
				w.Commands = []Command{{Action: ActionAbort, User: "alice", Comment: "customer call", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "Aborted by alice: customer call"},
		},
		{
			name: "a rejection before production ends the request Rejected",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionReject, User: "carol", Role: "operations-office", Comment: "no", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRejected, stalled: golivev1alpha1.ReasonRejected, message: "Rejected by carol (operations-office): no"},
		},
		{
			name: "a spec change before production invalidates the approvals and starts again",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
				r.Status.Approvals = []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob"}}
				r.Status.SpecHash = "sha256:previous"
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging}, check: func(t *testing.T, d Decision) {
				if len(d.Status.Approvals) != 0 || d.Status.SpecHash != hash || d.Status.ApprovalSummary != "0/2" {
					t.Errorf("approvals %v, specHash %q, summary %q", d.Status.Approvals, d.Status.SpecHash, d.Status.ApprovalSummary)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonApprovalsInvalidated)
				timelineEvents(t, d, "SpecChanged", "StagingStarted")
			}},
		},
		{
			name: "a spec change after production started stalls and changes nothing",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
				r.Status.SpecHash = "sha256:previous"
			},
			world: func(w *World) { applied(w.Production.Targets, Healthy, Progressing) },
			want:  want{phase: golivev1alpha1.PhaseUpdating, stalled: golivev1alpha1.ReasonInvalidSpec, message: "immutable from BackingUp on"},
		},
	})
}

// The timeline keeps the last TimelineLimit entries, so the record stays bounded.
func TestTimelineIsBounded(t *testing.T) {
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
	for i := range TimelineLimit {
		request.Status.Timeline = append(request.Status.Timeline, golivev1alpha1.TimelineEntry{Event: fmt.Sprintf("E%d", i)})
	}
	world := newWorld()
	world.Commands = []Command{{Action: ActionAbort, User: "alice", At: monday}}
	d := Decide(request, world, monday)
	if n := len(d.Status.Timeline); n != TimelineLimit {
		t.Fatalf("timeline has %d entries, want %d", n, TimelineLimit)
	}
	if first, last := d.Status.Timeline[0].Event, d.Status.Timeline[TimelineLimit-1].Event; first != "E1" || last != string(golivev1alpha1.ReasonAborted) {
		t.Errorf("timeline runs from %s to %s, want E1 to Aborted", first, last)
	}
}

// Deciding again on the recorded status with the same world changes nothing
// and repeats the same idempotent action: what a restarted controller does.
func TestDecideIsStableAcrossRestarts(t *testing.T) {
	request := newRequest()
	request.Status = golivev1alpha1.UpdateRequestStatus{}
	world := newWorld()
	first := Decide(request, world, monday)
	request.Status = first.Status
	second := Decide(request, world, monday.Add(time.Second))
	if diff := cmp.Diff(first.Status, second.Status); diff != "" {
		t.Errorf("the status changed on a repeated decision (-first +second):\n%s", diff)
	}
	if first.Action != second.Action || len(second.Events) != 0 {
		t.Errorf("second decision: action %+v (first %+v), events %+v", second.Action, first.Action, second.Events)
	}
}

// Why a request ended is decided when it ends; the decisions after it (a
// resync, a restart, retention) keep the Ready and Stalled reasons.
func TestEndedRequestKeepsWhyItEnded(t *testing.T) {
	request := newRequest()
	inStaging(request, monday.Add(-time.Minute))
	request.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
	world := newWorld()
	world.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: `Job "smoke" failed: BackoffLimitExceeded`}
	ending := Decide(request, world, monday)
	if ending.Status.Phase != golivev1alpha1.PhaseFailed {
		t.Fatalf("phase %s, want Failed", ending.Status.Phase)
	}
	request.Status = ending.Status
	later := Decide(request, world, monday.Add(time.Hour))
	for _, conditionType := range []string{golivev1alpha1.ConditionReady, golivev1alpha1.ConditionStalled} {
		first := meta.FindStatusCondition(ending.Status.Conditions, conditionType)
		again := meta.FindStatusCondition(later.Status.Conditions, conditionType)
		if first == nil || again == nil || first.Reason != golivev1alpha1.ReasonVerificationFailed || again.Reason != first.Reason || again.Message != first.Message {
			t.Errorf("%s when the request ended: %+v; an hour later: %+v; want reason VerificationFailed, kept", conditionType, first, again)
		}
	}
}

// A rollout's progress is not recorded tick by tick: the status, and so the
// writes, change only when the rollout ends.
func TestRolloutProgressLeavesTheStatusAsItIs(t *testing.T) {
	request := newRequest()
	inStaging(request, monday.Add(-time.Minute))
	decide := func(progress string) golivev1alpha1.UpdateRequestStatus {
		world := newWorld()
		applied(world.Staging.Targets, Progressing)
		world.Staging.Targets[0].Message = progress
		return Decide(request, world, monday).Status
	}
	first, later := decide("0 of 2 replicas updated"), decide("1 of 2 replicas available")
	if diff := cmp.Diff(first, later); diff != "" {
		t.Errorf("the status changed with the rollout's counts (-first +later):\n%s", diff)
	}
	// Nor does the status change from the update of the target to its rollout.
	world := newWorld()
	updating := Decide(request, world, monday)
	if updating.Action.Kind != ApplyStaging {
		t.Fatalf("action %s, want %s", updating.Action.Kind, ApplyStaging)
	}
	if diff := cmp.Diff(updating.Status, first); diff != "" {
		t.Errorf("the status changed once the target was updated (-updating +rolling out):\n%s", diff)
	}
}

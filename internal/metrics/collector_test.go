package metrics

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// request is a request of namespace in phase, asking rnd-lead twice and
// operations-office once, under the window thursday-evening.
func request(namespace, name string, phase golivev1alpha1.Phase, mutate ...func(*golivev1alpha1.UpdateRequest)) golivev1alpha1.UpdateRequest {
	r := testfixtures.MakeUpdateRequest(namespace, name).
		Approval("rnd-lead", 2).Approval("operations-office", 1).
		Window("thursday-evening").Phase(phase)
	for _, m := range mutate {
		r.Mutate(m)
	}
	return *r.Obj()
}

func approvedBy(roles ...string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		for _, role := range roles {
			r.Status.Approvals = append(r.Status.Approvals, golivev1alpha1.ApprovalRecord{Role: role, User: "someone-" + role})
		}
	}
}

func window(namespace, name string, open bool, emergencyRoles ...string) golivev1alpha1.GoLiveWindow {
	w := testfixtures.MakeGoLiveWindow(namespace, name).Open(open)
	if len(emergencyRoles) > 0 {
		w.Emergency(emergencyRoles, 1, 0)
	}
	return *w.Obj()
}

// phaseCounts are the request samples of namespace, every phase with its count.
func phaseCounts(namespace string, counts map[golivev1alpha1.Phase]int) []Sample {
	var samples []Sample
	for _, phase := range Phases {
		samples = append(samples, Sample{Namespace: namespace, Phase: phase, Value: counts[phase]})
	}
	return samples
}

func TestStateOf(t *testing.T) {
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "payments down"}
	}
	requests := []golivev1alpha1.UpdateRequest{
		request("payments", "p-1", golivev1alpha1.PhaseSucceeded),
		request("billing", "b-1", golivev1alpha1.PhaseAwaitingApproval, approvedBy("rnd-lead")),
		request("billing", "b-2", golivev1alpha1.PhaseAwaitingApproval, approvedBy("rnd-lead", "rnd-lead", "operations-office")),
		request("billing", "b-3", golivev1alpha1.PhaseAwaitingApproval, emergency, approvedBy("cto")),
		request("billing", "b-4", golivev1alpha1.PhaseAwaitingApproval, emergency, approvedBy("rnd-lead", "rnd-lead")),
		request("billing", "b-5", ""), // not decided on yet
		request("billing", "b-6", golivev1alpha1.PhaseRolledBack, approvedBy("rnd-lead")),
	}
	windows := []golivev1alpha1.GoLiveWindow{
		window("payments", "always", true),
		window("billing", "thursday-evening", false, "cto"),
	}
	got := StateOf(requests, windows)
	want := State{
		Requests: append(
			phaseCounts("billing", map[golivev1alpha1.Phase]int{golivev1alpha1.PhasePending: 1, golivev1alpha1.PhaseAwaitingApproval: 4, golivev1alpha1.PhaseRolledBack: 1}),
			phaseCounts("payments", map[golivev1alpha1.Phase]int{golivev1alpha1.PhaseSucceeded: 1})...),
		ApprovalsPending: []Sample{
			// b-4 lacks the approval of one of the window's emergency roles; b-3 has it (cto).
			{Namespace: "billing", Role: EmergencyRole, Value: 1},
			// b-1: 1 of 1, b-3: 1, b-4: 1; b-2 has its quorum.
			{Namespace: "billing", Role: "operations-office", Value: 3},
			// b-1: 1 of 2, b-3: 2; b-2 and b-4 have both.
			{Namespace: "billing", Role: "rnd-lead", Value: 3},
		},
		Windows: []Sample{
			{Namespace: "billing", Window: "thursday-evening", Value: 0},
			{Namespace: "payments", Window: "always", Value: 1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestStateOfNothing(t *testing.T) {
	if diff := cmp.Diff(State{}, StateOf(nil, nil)); diff != "" {
		t.Errorf("state of an empty cluster (-want +got):\n%s", diff)
	}
}

// A replica that does not lead reports nothing (and reads nothing), so that
// replicas do not count the same requests twice.
func TestCollectorReportsOnlyOnTheLeader(t *testing.T) {
	notElected := make(chan struct{})
	if n := testutil.CollectAndCount(NewCollector(nil, notElected)); n != 0 {
		t.Errorf("a replica that does not lead reported %d metrics", n)
	}
}

// An emergency request whose window the cache does not hold (deleted, or not
// synced yet) still needs its emergency approval by golive's count
// (lifecycle.ShareApprovals); it is not reported as met.
func TestStateOfEmergencyWithoutItsWindow(t *testing.T) {
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "payments down"}
	}
	requests := []golivev1alpha1.UpdateRequest{
		// Both quorums full, nothing left over for the emergency quorum.
		request("billing", "b-1", golivev1alpha1.PhaseAwaitingApproval, emergency, approvedBy("rnd-lead", "rnd-lead", "operations-office")),
		// The approval the quorums do not take fills the emergency quorum.
		request("billing", "b-2", golivev1alpha1.PhaseAwaitingApproval, emergency, approvedBy("rnd-lead", "rnd-lead", "operations-office", "cto")),
	}
	got := StateOf(requests, nil).ApprovalsPending
	want := []Sample{
		{Namespace: "billing", Role: EmergencyRole, Value: 1},
		{Namespace: "billing", Role: "operations-office", Value: 0},
		{Namespace: "billing", Role: "rnd-lead", Value: 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("approvals pending (-want +got):\n%s", diff)
	}
}

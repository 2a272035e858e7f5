package lifecycle

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestTallyApprovals(t *testing.T) {
	record := func(role, user string, at time.Time) golivev1alpha1.ApprovalRecord {
		return golivev1alpha1.ApprovalRecord{Role: role, User: user, At: metav1.NewTime(at)}
	}
	spec := testfixtures.MakeUpdateRequest("billing", "r").Approval("rnd-lead", 1).Approval("operations-office", 2).Obj().Spec
	emergency := testfixtures.MakeUpdateRequest("billing", "r").Approval("rnd-lead", 1).Emergency("outage").Obj().Spec
	early, late := monday, monday.Add(time.Hour)
	for _, tc := range []struct {
		name           string
		spec           golivev1alpha1.UpdateRequestSpec
		commands       []Command
		emergencyRoles []string
		want           Tally
		summary        string
		waiting        string
	}{
		{
			name: "nothing approved yet", spec: spec,
			want:    Tally{Quorums: []Quorum{{Roles: []string{"rnd-lead"}, Required: 1}, {Roles: []string{"operations-office"}, Required: 2}}},
			summary: "0/3", waiting: "Waiting for approvals: rnd-lead 0/1, operations-office 0/2",
		},
		{
			name: "one person counts once, the requester not at all, a full quorum takes no more", spec: spec,
			commands: []Command{
				approve("bob", "rnd-lead", early), approve("bob", "operations-office", early),
				approve("alice", "operations-office", early), approve("carol", "rnd-lead", late),
			},
			want: Tally{
				Quorums: []Quorum{
					{Roles: []string{"rnd-lead"}, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "bob", early)}},
					{Roles: []string{"operations-office"}, Required: 2},
				},
				Counted: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "bob", early)},
				LastAt:  early,
			},
			summary: "1/3", waiting: "Waiting for approvals: operations-office 0/2",
		},
		{
			name: "a name in another case or padded is the same person, as the webhook judges it", spec: spec,
			commands: []Command{
				approve("Alice", "rnd-lead", early), approve("bob", "operations-office", early),
				approve("Bob ", "operations-office", late), approve("carol", "rnd-lead", late),
			},
			want: Tally{
				Quorums: []Quorum{
					{Roles: []string{"rnd-lead"}, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "carol", late)}},
					{Roles: []string{"operations-office"}, Required: 2, Approvals: []golivev1alpha1.ApprovalRecord{record("operations-office", "bob", early)}},
				},
				Counted: []golivev1alpha1.ApprovalRecord{record("operations-office", "bob", early), record("rnd-lead", "carol", late)},
				LastAt:  late,
			},
			summary: "2/3", waiting: "Waiting for approvals: operations-office 1/2",
		},
		{
			name: "an emergency needs one of the window's emergency roles", spec: emergency, emergencyRoles: []string{"cto", "ciso"},
			commands: []Command{approve("bob", "rnd-lead", early), approve("frank", "ciso", late)},
			want: Tally{
				Quorums: []Quorum{
					{Roles: []string{"rnd-lead"}, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "bob", early)}},
					{Roles: []string{"cto", "ciso"}, Emergency: true, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("ciso", "frank", late)}},
				},
				Counted: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "bob", early), record("ciso", "frank", late)},
				LastAt:  late,
			},
			summary: "2/2",
		},
		{
			name: "a window that allows no emergencies adds no quorum", spec: emergency,
			want:    Tally{Quorums: []Quorum{{Roles: []string{"rnd-lead"}, Required: 1}}},
			summary: "0/1", waiting: "Waiting for approvals: rnd-lead 0/1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TallyApprovals(&tc.spec, "alice", tc.commands, tc.emergencyRoles)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TallyApprovals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tc.summary, tc.waiting}, []string{got.Summary(), got.Waiting()}); diff != "" {
				t.Errorf("summary, waiting (-want +got):\n%s", diff)
			}
			if got.Satisfied() != (tc.waiting == "") {
				t.Errorf("Satisfied = %v with waiting %q", got.Satisfied(), tc.waiting)
			}
		})
	}
}

// ShareApprovals gives each counted approval the quorum TallyApprovals counted it for.
func TestShareApprovalsAgreesWithTheTally(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "r").Approval("operations-office", 1).Approval("operations-office", 1).Emergency("outage").Obj()
	window := testfixtures.MakeGoLiveWindow("billing", "w").Emergency([]string{"cto"}, 1, time.Hour).Obj()
	commands := []Command{approve("carol", "operations-office", monday), approve("dave", "operations-office", monday), approve("frank", "cto", monday)}
	tally := TallyApprovals(&request.Spec, "alice", commands, window.Spec.Emergency.Roles)
	request.Status.Approvals = tally.Counted
	if diff := cmp.Diff(tally.Quorums, ShareApprovals(request, window)); diff != "" {
		t.Errorf("ShareApprovals (-tally +shared):\n%s", diff)
	}
	// Without the window, the emergency quorum names no roles and takes what the others do not.
	shared := ShareApprovals(request, nil)
	if got := shared[2]; len(got.Roles) != 0 || len(got.Approvals) != 1 || got.Name() != "an emergency role of the window" {
		t.Errorf("emergency quorum without the window = %+v", got)
	}
}

// An emergency request's status says whose approval it needs, and
// ShareApprovals counts by that rather than by the window, whose emergency
// roles a GoLivePolicy replaced.
func TestEmergencyApprovalFollowsThePolicy(t *testing.T) {
	request := newRequest()
	request.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
	stagingVerified(request, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-time.Hour))
	world := newWorld()
	world.Attested = AttestedFrom(verifiedRecords(request), world.SpecHash)
	world.Window.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"incident-commander"}, MaxPerPeriod: 1, Period: duration(time.Hour)}
	world.Window.EmergencyPolicy = "production-apps"
	world.Commands = []Command{approve("ivan", "incident-commander", monday.Add(-time.Minute))}

	d := Decide(request, world, monday)
	want := &golivev1alpha1.EmergencyApprovalStatus{Roles: []string{"incident-commander"}, Policy: "production-apps"}
	if diff := cmp.Diff(want, d.Status.EmergencyApproval); diff != "" {
		t.Fatalf("status.emergencyApproval (-want +got):\n%s", diff)
	}
	decided := request.DeepCopy()
	decided.Status = d.Status
	// The window still names cto: what golive counted by wins.
	window := testfixtures.MakeGoLiveWindow("billing", "w").Emergency([]string{"cto"}, 1, time.Hour).Obj()
	quorums := ShareApprovals(decided, window)
	emergency := quorums[len(quorums)-1]
	if !emergency.Emergency || !slices.Equal(emergency.Roles, []string{"incident-commander"}) || len(emergency.Approvals) != 1 {
		t.Errorf("emergency quorum = %+v, want incident-commander with ivan's approval", emergency)
	}

	// Not an emergency: nothing to say.
	request.Spec.Emergency = nil
	if d := Decide(request, world, monday); d.Status.EmergencyApproval != nil {
		t.Errorf("status.emergencyApproval = %+v for a request that is no emergency", d.Status.EmergencyApproval)
	}
}

package admission

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestCheckCommand(t *testing.T) {
	const (
		approve = golivev1alpha1.LedgerApprove
		reject  = golivev1alpha1.LedgerReject
		accept  = golivev1alpha1.LedgerAccept
		abort   = golivev1alpha1.LedgerAbort
		goCmd   = golivev1alpha1.LedgerGo
	)
	supervisor := []string{"operations-supervisor"}
	awaitingGo := func() *testfixtures.UpdateRequestWrapper {
		return testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseAwaitingGo))
	}
	wentAlready := awaitingGo().Mutate(func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor", "shift-lead"},
			Given: []golivev1alpha1.ApprovalRecord{{Role: "shift-lead", User: "sam@example.com", At: metav1.NewTime(suiteTime)}}}
	}).Obj()
	awaiting := testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval))
	approved := awaiting.Obj()
	bobApproved := ledger.Sign(testKey, approved, approvalBy(approved, "bob@example.com", "rnd-lead"))
	bobApprovedEarlierSpec := bobApproved
	bobApprovedEarlierSpec.SpecHash = "sha256:earlier"

	for _, tc := range []struct {
		name           string
		request        *golivev1alpha1.UpdateRequest
		command        Command
		user           string
		emergencyRoles []string
		unknown        string
		supervision    []string
		ledger         []golivev1alpha1.LedgerEntry
		wantRole       string
		wantErr        string
	}{
		// approve
		{name: "approval awaited", request: awaiting.Obj(), command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com", wantRole: "rnd-lead"},
		{name: "approval while soaking", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseSoaking)).Obj(),
			command: Command{Action: approve, Role: "operations-office"}, user: "carol@example.com", wantRole: "operations-office"},
		{name: "approval once scheduled", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseScheduled)).Obj(),
			command: Command{Action: approve, Role: "operations-office"}, user: "carol@example.com", wantRole: "operations-office"},
		{name: "unknown role", request: awaiting.Obj(), command: Command{Action: approve, Role: "cto"}, user: "frank@example.com",
			wantErr: `role "cto" is not one this request asks for: it asks for operations-office, rnd-lead`},
		{name: "the acceptance role does not approve", request: awaiting.Obj(), command: Command{Action: approve, Role: "business-owner"}, user: "erin@example.com",
			wantErr: `role "business-owner" is not one this request asks for`},
		{name: "emergency role of an emergency request", request: testfixtures.MakeAlicesRequest("billing", "r").Emergency("Payment outage").Incident("INC-4711").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj(),
			command: Command{Action: approve, Role: "cto"}, user: "frank@example.com", emergencyRoles: []string{"cto"}, wantRole: "cto"},
		{name: "emergency role of an ordinary request", request: awaiting.Obj(),
			command: Command{Action: approve, Role: "cto"}, user: "frank@example.com", emergencyRoles: []string{"cto"},
			wantErr: `role "cto" is not one this request asks for: it asks for operations-office, rnd-lead`},
		{name: "emergency roles unknown", request: testfixtures.MakeAlicesRequest("billing", "r").Emergency("Payment outage").Incident("INC-4711").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj(),
			command: Command{Action: approve, Role: "cto"}, user: "frank@example.com", unknown: "the window evening allows no emergency updates",
			wantErr: "it asks for operations-office, rnd-lead (the window evening allows no emergency updates)"},
		{name: "before staging is verified", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseVerifyingStaging)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "staging is not verified for the current spec yet (phase VerifyingStaging)"},
		{name: "before the controller saw the request", request: testfixtures.MakeAlicesRequest("billing", "r").Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "staging is not verified for the current spec yet (phase Pending)"},
		{name: "staging verified for an earlier spec", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Release("2.4.1").Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "staging is not verified for the current spec yet (phase AwaitingApproval)"},
		{name: "soaking without the condition", request: func() *golivev1alpha1.UpdateRequest {
			r := testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseSoaking)).Obj()
			r.Status.Conditions[0].Status = metav1.ConditionFalse
			return r
		}(), command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "staging is not verified for the current spec yet (phase Soaking)"},
		{name: "after production started", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseUpdating)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "production has started (Updating): approvals are closed"},
		{name: "after the end", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseRejected)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com", wantErr: "the request has ended (Rejected)"},
		{name: "self-approval", request: awaiting.Obj(), command: Command{Action: approve, Role: "rnd-lead"}, user: "alice@example.com",
			wantErr: "alice@example.com requested this update and may not approve it (spec.approvals.allowSelfApproval is false)"},
		{name: "self-approval in another case", request: awaiting.Obj(), command: Command{Action: approve, Role: "rnd-lead"}, user: " Alice@Example.com",
			wantErr: " Alice@Example.com requested this update and may not approve it"},
		{name: "approval by a ServiceAccount", request: awaiting.Obj(), command: Command{Action: approve, Role: "rnd-lead"}, user: "system:serviceaccount:billing:deployer",
			wantErr: "system:serviceaccount:billing:deployer is a ServiceAccount: approvals, rejections, acceptances and go come from people"},
		{name: "rejection by a ServiceAccount", request: awaiting.Obj(), command: Command{Action: reject, Role: "rnd-lead"}, user: "system:serviceaccount:billing:deployer",
			wantErr: "is a ServiceAccount"},
		{name: "acceptance by a ServiceAccount", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance)).Obj(),
			command: Command{Action: accept}, user: "system:serviceaccount:billing:deployer", wantErr: "is a ServiceAccount"},
		{name: "abort by a ServiceAccount", request: awaiting.Obj(), command: Command{Action: abort, Comment: "pipeline cancelled"}, user: "system:serviceaccount:billing:deployer"},
		{name: "self-approval allowed", request: testfixtures.MakeAlicesRequest("billing", "r").AllowSelfApproval().Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "alice@example.com", wantRole: "rnd-lead"},
		{name: "requester unknown", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(noRequester).Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "the request has no golive.dev/requested-by"},
		{name: "requester unknown, self-approval allowed", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(noRequester).AllowSelfApproval().Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj(),
			command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com", wantRole: "rnd-lead"},
		{name: "second approval by the same user", request: approved, command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			ledger:  []golivev1alpha1.LedgerEntry{bobApproved},
			wantErr: "bob@example.com already approved this spec (as rnd-lead at 2026-11-19T10:00:00Z): one person counts once"},
		{name: "second approval by the same user for another role", request: approved, command: Command{Action: approve, Role: "operations-office"}, user: "bob@example.com",
			ledger: []golivev1alpha1.LedgerEntry{bobApproved}, wantErr: "bob@example.com already approved this spec"},
		{name: "approval again after the spec changed", request: approved, command: Command{Action: approve, Role: "rnd-lead"}, user: "bob@example.com",
			ledger: []golivev1alpha1.LedgerEntry{bobApprovedEarlierSpec}, wantRole: "rnd-lead"},
		{name: "another user's approval", request: approved, command: Command{Action: approve, Role: "operations-office"}, user: "carol@example.com",
			ledger: []golivev1alpha1.LedgerEntry{bobApproved}, wantRole: "operations-office"},

		// reject
		{name: "reject while pending", request: testfixtures.MakeAlicesRequest("billing", "r").Obj(), command: Command{Action: reject, Role: "operations-office"}, user: "carol@example.com", wantRole: "operations-office"},
		{name: "reject by the acceptance role before production", request: awaiting.Obj(), command: Command{Action: reject, Role: "business-owner"}, user: "erin@example.com", wantRole: "business-owner"},
		{name: "reject by an unknown role", request: awaiting.Obj(), command: Command{Action: reject, Role: "cto"}, user: "frank@example.com",
			wantErr: `role "cto" is not one this request asks for: it asks for business-owner, operations-office, rnd-lead`},
		{name: "reject after production started", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseUpdating)).Obj(),
			command: Command{Action: reject, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "production has started (Updating): it can be rejected only by the acceptance role in AwaitingAcceptance, or aborted with golive.dev/abort"},
		{name: "reject by the acceptance role while verifying production", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseVerifying)).Obj(),
			command: Command{Action: reject, Role: "business-owner"}, user: "erin@example.com", wantErr: "production has started (Verifying)"},
		{name: "reject in acceptance by the acceptance role", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance)).Obj(),
			command: Command{Action: reject, Role: "business-owner"}, user: "erin@example.com", wantRole: "business-owner"},
		{name: "reject in acceptance by another role", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance)).Obj(),
			command: Command{Action: reject, Role: "rnd-lead"}, user: "bob@example.com",
			wantErr: "production is awaiting acceptance: only the acceptance role business-owner may reject it now"},
		{name: "reject after the end", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseAborted)).Obj(),
			command: Command{Action: reject, Role: "rnd-lead"}, user: "bob@example.com", wantErr: "the request has ended (Aborted)"},

		// accept
		{name: "accept", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance)).Obj(),
			command: Command{Action: accept}, user: "erin@example.com", wantRole: "business-owner"},
		{name: "accept before production is verified", request: testfixtures.MakeAlicesRequest("billing", "r").Acceptance("business-owner", 0, "").Mutate(inPhase(golivev1alpha1.PhaseVerifying)).Obj(),
			command: Command{Action: accept}, user: "erin@example.com", wantErr: "acceptance is possible only in AwaitingAcceptance; the request is in Verifying"},
		{name: "accept without an acceptance step", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseVerifying)).Obj(),
			command: Command{Action: accept}, user: "erin@example.com", wantErr: "this request has no acceptance step (spec.acceptance)"},

		// go: the role is chosen with the API server (supervisionRole), not here
		{name: "go", request: awaitingGo().Obj(), command: Command{Action: goCmd, Comment: "watching"}, user: "sam@example.com", supervision: supervisor},
		{name: "go before the window is open", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseScheduled)).Obj(),
			command: Command{Action: goCmd}, user: "sam@example.com", supervision: supervisor,
			wantErr: "go is possible only in AwaitingGo, once the window is open and every other gate passed"},
		{name: "go once production started", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseBackingUp)).Obj(),
			command: Command{Action: goCmd}, user: "sam@example.com", supervision: supervisor, wantErr: "the request is in BackingUp"},
		{name: "go without supervision", request: awaitingGo().Obj(), command: Command{Action: goCmd}, user: "sam@example.com",
			wantErr: "no GoLivePolicy of the request's namespace asks for supervision"},
		{name: "go by the requester", request: awaitingGo().Obj(), command: Command{Action: goCmd}, user: "Alice@example.com", supervision: supervisor,
			wantErr: "Alice@example.com requested this update and may not say go for it: one executes, one supervises"},
		{name: "go, requester unknown", request: awaitingGo().Mutate(noRequester).Obj(), command: Command{Action: goCmd}, user: "sam@example.com",
			supervision: supervisor, wantErr: "the request has no golive.dev/requested-by"},
		{name: "go by a ServiceAccount", request: awaitingGo().Obj(), command: Command{Action: goCmd}, user: "system:serviceaccount:billing:deployer",
			supervision: supervisor, wantErr: "is a ServiceAccount"},
		{name: "second go by the same person", request: wentAlready, command: Command{Action: goCmd}, user: "sam@example.com",
			supervision: []string{"operations-supervisor", "shift-lead"}, wantErr: "sam@example.com already said go in this opening (as shift-lead at 2026-11-19T10:00:00Z): one person counts once"},

		// abort
		{name: "abort", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseUpdating)).Obj(),
			command: Command{Action: abort, Comment: "outage"}, user: "alice@example.com"},
		{name: "abort after the end", request: testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseSucceeded)).Obj(),
			command: Command{Action: abort, Comment: "outage"}, user: "alice@example.com", wantErr: "the request has ended (Succeeded)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, err := checkCommand(commandInput{
				Request: tc.request, SpecHash: ledger.SpecHash(&tc.request.Spec), Command: tc.command, User: tc.user,
				EmergencyRoles: tc.emergencyRoles, EmergencyRolesUnknown: tc.unknown, Ledger: tc.ledger, SupervisionRoles: tc.supervision,
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if role != tc.wantRole {
				t.Errorf("role = %q, want %q", role, tc.wantRole)
			}
		})
	}
}

func TestAccessFor(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "billing-2-4-0").Obj()
	for _, tc := range []struct {
		action golivev1alpha1.LedgerAction
		role   string
		want   authorizationv1.ResourceAttributes
	}{
		{golivev1alpha1.LedgerApprove, "rnd-lead", authorizationv1.ResourceAttributes{
			Namespace: "billing", Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "rnd-lead"}},
		{golivev1alpha1.LedgerReject, "operations-office", authorizationv1.ResourceAttributes{
			Namespace: "billing", Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "operations-office"}},
		{golivev1alpha1.LedgerAccept, "business-owner", authorizationv1.ResourceAttributes{
			Namespace: "billing", Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "business-owner"}},
		{golivev1alpha1.LedgerAbort, "", authorizationv1.ResourceAttributes{
			Namespace: "billing", Verb: "update", Group: "golive.dev", Resource: "updaterequests", Name: "billing-2-4-0"}},
	} {
		if diff := cmp.Diff(tc.want, accessFor(request, tc.action, tc.role)); diff != "" {
			t.Errorf("%s: access (-want +got):\n%s", tc.action, diff)
		}
	}
}

func TestAppendedEntry(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj()
	bob := ledger.Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))
	carol := ledger.Sign(testKey, request, approvalBy(request, "carol@example.com", "operations-office"))
	dave := ledger.Sign(testKey, request, approvalBy(request, "dave@example.com", "rnd-lead"))
	edited := bob
	edited.Comment = "changed my mind"
	ledgerOf := func(entries ...golivev1alpha1.LedgerEntry) string {
		value, err := ledger.Format(entries)
		if err != nil {
			t.Fatal(err)
		}
		return value
	}
	for _, tc := range []struct {
		name          string
		before, after string
		want          *golivev1alpha1.LedgerEntry
		wantErr       bool
	}{
		{name: "no ledger", before: "", after: ""},
		{name: "unchanged", before: ledgerOf(bob), after: ledgerOf(bob)},
		{name: "first entry", before: "", after: ledgerOf(bob), want: &bob},
		{name: "one appended", before: ledgerOf(bob), after: ledgerOf(bob, carol), want: &carol},
		// Only golive's encoding is read: a re-encoded ledger is not what golive wrote.
		{name: "re-encoded, one appended", before: ledgerOf(bob), after: strings.ReplaceAll(ledgerOf(bob, carol), `","`, `", "`), wantErr: true},
		{name: "two appended", before: ledgerOf(bob), after: ledgerOf(bob, carol, dave), wantErr: true},
		{name: "an entry edited", before: ledgerOf(bob, carol), after: ledgerOf(edited, carol), wantErr: true},
		{name: "an entry removed", before: ledgerOf(bob, carol), after: ledgerOf(carol), wantErr: true},
		{name: "the ledger removed", before: ledgerOf(bob), after: "", wantErr: true},
		{name: "entries reordered", before: ledgerOf(bob, carol), after: ledgerOf(carol, bob), wantErr: true},
		{name: "one replaced", before: ledgerOf(bob), after: ledgerOf(carol), wantErr: true},
		{name: "not JSON", before: ledgerOf(bob), after: "approved", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendedEntry(tc.before, tc.after)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "golive.dev/ledger is written by golive only") {
					t.Fatalf("error = %v, want a refusal of a direct edit", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("appended entry (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckFresh(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{testTime, true},
		{testTime.Add(-time.Minute), true},
		{testTime.Add(time.Minute), true},
		{testTime.Add(-time.Minute - time.Second), false},
		{testTime.Add(time.Minute + time.Second), false},
		{testTime.Add(-24 * time.Hour), false},
	} {
		err := checkFresh(golivev1alpha1.LedgerEntry{Time: metav1.NewTime(tc.at)}, testTime, time.Minute)
		if (err == nil) != tc.want {
			t.Errorf("entry dated %s, now %s: fresh = %v (%v), want %v", tc.at, testTime, err == nil, err, tc.want)
		}
	}
}

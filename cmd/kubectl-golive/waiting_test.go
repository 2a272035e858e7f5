package main

import (
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// erin holds business-owner and may read and annotate requests, once a test binds her.
const erin = "erin@example.com"

// awaitingAcceptance is the status golive records once production is verified.
func awaitingAcceptance(spec *golivev1alpha1.UpdateRequestSpec) golivev1alpha1.UpdateRequestStatus {
	status := awaitingApproval(spec)
	verified := metav1.Time{Time: monday.Add(-time.Hour)}
	status.Phase = golivev1alpha1.PhaseAwaitingAcceptance
	status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: &verified, UpdatedAt: &verified, VerifiedAt: &verified, TargetsApplied: 2}
	return status
}

// stalledPending is the status of a request that names a target that does not exist.
func stalledPending(spec *golivev1alpha1.UpdateRequestSpec) golivev1alpha1.UpdateRequestStatus {
	changed := metav1.Time{Time: monday.Add(-time.Hour)}
	message := `spec.targets[0].name: Deployment "billing-api" not found in namespace "billing"`
	return golivev1alpha1.UpdateRequestStatus{
		Phase: golivev1alpha1.PhasePending, SpecHash: ledger.SpecHash(spec), RequestedBy: alice,
		Conditions: []metav1.Condition{
			{Type: golivev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: golivev1alpha1.ReasonReferenceNotFound, Message: message, LastTransitionTime: changed},
			{Type: golivev1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonReferenceNotFound, Message: message, LastTransitionTime: changed},
		},
	}
}

// Each person is asked, through the API server's answers about them, for
// what golive would take from them, and not for what it would refuse.
func TestWaitingAsksEachPersonForTheirPart(t *testing.T) {
	f := newFixture(t)
	f.env.BindClusterRole(t, f.namespace, "golive-approver-business-owner", erin)
	f.env.BindClusterRole(t, f.namespace, "golive-approver-commands", erin)
	f.env.WaitForAccess(t, erin, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "list", Group: "golive.dev", Resource: "updaterequests"})
	f.env.WaitForAccess(t, erin, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "business-owner"})
	spec := newRequest(f.namespace, "").Spec
	f.createRequest("billing-2-4-0", awaitingApproval(&spec))
	f.createRequest("billing-2-3-0", awaitingAcceptance(&spec))
	f.createRequest("typo", stalledPending(&spec))

	target := " -n " + f.namespace
	for _, tc := range []struct {
		person string
		want   []string // rows of the table, each its fields joined by single spaces
	}{
		{bob, []string{"billing-2-4-0 2.4.0 AwaitingApproval approve as rnd-lead (0/1) kubectl golive approve billing-2-4-0" + target + " --role rnd-lead"}},
		{carol, []string{"billing-2-4-0 2.4.0 AwaitingApproval approve as operations-office (0/2) kubectl golive approve billing-2-4-0" + target + " --role operations-office"}},
		{erin, []string{"billing-2-3-0 2.4.0 AwaitingAcceptance accept or reject as business-owner kubectl golive accept billing-2-3-0" + target}},
		// alice holds rnd-lead but requested billing-2-4-0; her stalled request waits for her.
		{alice, []string{`typo 2.4.0 Pending your request needs you: spec.targets[0].name: Deployment "billing-api" not found in namespace "billing" kubectl golive status typo` + target}},
	} {
		t.Run(tc.person, func(t *testing.T) {
			stdout := f.mustSucceed("waiting", "-n", f.namespace, "--as", tc.person)
			if diff := tableRows(stdout, "NAME RELEASE PHASE WAITS FOR YOU TO NEXT AGE"); !equalRows(diff, tc.want) {
				t.Errorf("waiting as %s wrote\n%s\nwant the rows\n%s", tc.person, stdout, strings.Join(tc.want, "\n"))
			}
		})
	}

	stdout, stderr, code := f.kubectlGolive("waiting", "-n", f.namespace, "--as", dave)
	if code != 0 || stdout != "" || stderr != "Nothing waits for dave@example.com.\n" {
		t.Errorf("waiting for dave: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Once bob approved, the ledger holds his approval before golive counted it.
	f.mustSucceed("approve", "billing-2-4-0", "-n", f.namespace, "--as", bob, "--role", "rnd-lead")
	if _, stderr, _ := f.kubectlGolive("waiting", "-n", f.namespace, "--as", bob); stderr != "Nothing waits for bob@example.com.\n" {
		t.Errorf("after approving, waiting for bob says %q", stderr)
	}

	list := tableRows(f.mustSucceed("list", "-n", f.namespace), "NAME RELEASE PHASE WAITS FOR AGE")
	want := []string{
		`typo 2.4.0 Pending a person: spec.targets[0].name: Deployment "billing-api" not found in namespace "billing"`,
		"billing-2-4-0 2.4.0 AwaitingApproval approval: rnd-lead 0/1, operations-office 0/2",
		"billing-2-3-0 2.4.0 AwaitingAcceptance acceptance by business-owner",
	}
	if !equalRows(list, want) {
		t.Errorf("list wrote the rows\n%s\nwant (without AGE)\n%s", strings.Join(list, "\n"), strings.Join(want, "\n"))
	}
	if all := f.mustSucceed("list", "-A"); !strings.Contains(all, "NAMESPACE") || !strings.Contains(all, f.namespace+"   typo ") {
		t.Errorf("list -A does not list the requests with their namespace:\n%s", all)
	}
	if names := f.mustSucceed("list", "-n", f.namespace, "-o", "name"); names != "updaterequest.golive.dev/typo\nupdaterequest.golive.dev/billing-2-4-0\nupdaterequest.golive.dev/billing-2-3-0\n" {
		t.Errorf("list -o name wrote %q, want the requests in list's order", names)
	}
}

// tableRows are the rows of a table after its header, each its fields
// joined by single spaces; the header is checked and stripped.
func tableRows(table, header string) []string {
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) == 0 || strings.Join(strings.Fields(lines[0]), " ") != header {
		return []string{"(no header " + header + ") " + table}
	}
	var rows []string
	for _, line := range lines[1:] {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	return rows
}

// equalRows compares rows with want, ignoring each row's last field (AGE,
// which depends on when the API server created the request).
func equalRows(rows, want []string) bool {
	if len(rows) != len(want) {
		return false
	}
	for i, row := range rows {
		if cut := strings.LastIndex(row, " "); cut < 0 || row[:cut] != want[i] {
			return false
		}
	}
	return true
}

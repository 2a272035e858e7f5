package admission

import (
	"context"
	"errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/ledger/ledgerkey"
	"github.com/golive-dev/golive/internal/namespaces"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestRequesterIsStampedAtCreation(t *testing.T) {
	f := newFixture(t)
	request := f.create(alice, f.request("billing-2-4-0").Obj())
	if got := request.Annotations[golivev1alpha1.AnnotationRequestedBy]; got != alice {
		t.Errorf("%s = %q, want %q", golivev1alpha1.AnnotationRequestedBy, got, alice)
	}
	if _, ok := request.Annotations[golivev1alpha1.AnnotationLedger]; ok {
		t.Errorf("a new request has a ledger: %v", request.Annotations)
	}
	// Set at creation, so the controller need not write it; once, whoever else finalizes it.
	other := f.request("billing-2-4-1").Obj()
	other.Finalizers = []string{"example.com/audit", golivev1alpha1.FinalizerCleanup}
	for _, created := range []*golivev1alpha1.UpdateRequest{request, f.create(alice, other)} {
		if n := slices.Index(created.Finalizers, golivev1alpha1.FinalizerCleanup); n < 0 || slices.Index(created.Finalizers[n+1:], golivev1alpha1.FinalizerCleanup) >= 0 {
			t.Errorf("%s: finalizers %v, want %s once", created.Name, created.Finalizers, golivev1alpha1.FinalizerCleanup)
		}
	}
}

// The mutating webhook runs before the schema validation; an object it
// cannot decode is left to the schema, whose message names the field.
func TestUndecodableRequestIsRefusedNamingTheField(t *testing.T) {
	f := newFixture(t)
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(f.request("two-days").Obj())
	if err != nil {
		t.Fatal(err)
	}
	object := &unstructured.Unstructured{Object: content}
	object.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("UpdateRequest"))
	if err := unstructured.SetNestedField(object.Object, "2d", "spec", "staging", "soak"); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.as(t, alice).Create(t.Context(), object), "spec.staging.soak")
}

func TestCreateRefusesWhatGoliveWrites(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		annotation, value, want string
	}{
		{golivev1alpha1.AnnotationRequestedBy, bob, "golive.dev/requested-by is stamped by golive with the user who creates the request"},
		{golivev1alpha1.AnnotationRequestedBy, alice, "golive.dev/requested-by is stamped by golive"},
		{golivev1alpha1.AnnotationLedger, "[]", "golive.dev/ledger is written by golive only"},
		{golivev1alpha1.AnnotationApprove, "rnd-lead", "commands act on an existing request"},
		{golivev1alpha1.AnnotationAbort, "never mind", "commands act on an existing request"},
	} {
		t.Run(tc.annotation+"="+tc.value, func(t *testing.T) {
			request := f.request("refused").Annotation(tc.annotation, tc.value).Obj()
			wantRefused(t, f.as(t, alice).Create(t.Context(), request), tc.want)
		})
	}
}

func TestStagingNamespaceMustOptIn(t *testing.T) {
	f := newFixture(t)
	f.createNamespace(f.namespace+"-plain", nil)
	f.createNamespace(f.namespace+"-elsewhere", map[string]string{golivev1alpha1.LabelStagingFor: "shop"})

	for _, tc := range []struct {
		staging string
		want    string
		wantErr error
	}{
		{f.namespace + "-plain", `needs the label golive.dev/staging-for=` + f.namespace, namespaces.ErrStagingNotOptedIn},
		{f.namespace + "-elsewhere", `needs the label golive.dev/staging-for=` + f.namespace, namespaces.ErrStagingNotOptedIn},
		{f.namespace + "-missing", "the staging namespace does not exist", namespaces.ErrStagingNamespaceNotFound},
	} {
		t.Run(tc.staging, func(t *testing.T) {
			request := f.request("not-opted-in").Staging(tc.staging).Obj()
			wantRefused(t, f.as(t, alice).Create(t.Context(), request), tc.want)
			// The controller's re-check gives the same answer, with an error it can tell apart.
			if err := namespaces.CheckStaging(t.Context(), f.env.Client, request); !errors.Is(err, tc.wantErr) {
				t.Errorf("CheckStagingNamespace = %v, want %v", err, tc.wantErr)
			}
		})
	}

	t.Run("moving an existing request", func(t *testing.T) {
		f.create(alice, f.request("moving").Obj())
		moved := f.get("moving")
		moved.Spec.Staging.Namespace = f.namespace + "-plain"
		wantRefused(t, f.as(t, alice).Update(t.Context(), moved), "needs the label golive.dev/staging-for="+f.namespace)
		if err := namespaces.CheckStaging(t.Context(), f.env.Client, f.get("moving")); err != nil {
			t.Errorf("CheckStagingNamespace of the opted-in namespace = %v", err)
		}
	})
}

// Two people of two roles approve: two entries, both verified, and the
// command annotations are gone.
func TestTwoRoleApproval(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("billing-2-4-0").Obj())
	f.setPhase("billing-2-4-0", golivev1alpha1.PhaseAwaitingApproval)

	f.mustCommand(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead; looks good")
	f.mustCommand(carol, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "operations-office")

	request := f.get("billing-2-4-0")
	for _, command := range []string{golivev1alpha1.AnnotationApprove, golivev1alpha1.AnnotationReject, golivev1alpha1.AnnotationAccept, golivev1alpha1.AnnotationAbort} {
		if value, ok := request.Annotations[command]; ok {
			t.Errorf("%s=%q is still on the request", command, value)
		}
	}
	valid, rejected := ledger.Verify(f.key, request, ledger.SpecHash(&request.Spec))
	if len(rejected) != 0 {
		t.Errorf("rejected entries: %+v", rejected)
	}
	groups := []string{"golive-test-users", "system:authenticated"}
	want := []golivev1alpha1.LedgerEntry{
		{User: bob, Groups: groups, Role: "rnd-lead", Action: golivev1alpha1.LedgerApprove, Comment: "looks good",
			Time: metav1.NewTime(suiteTime), SpecHash: ledger.SpecHash(&request.Spec)},
		{User: carol, Groups: groups, Role: "operations-office", Action: golivev1alpha1.LedgerApprove,
			Time: metav1.NewTime(suiteTime), SpecHash: ledger.SpecHash(&request.Spec)},
	}
	if diff := cmp.Diff(want, valid, cmpopts.IgnoreFields(golivev1alpha1.LedgerEntry{}, "Signature")); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if got := request.Annotations[golivev1alpha1.AnnotationRequestedBy]; got != alice {
		t.Errorf("the requester changed to %q", got)
	}
}

// Every refusal of DESIGN.md's "Approvals and commands", each with a message
// that says why, and nothing recorded.
func TestCommandRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name       string
		request    *testfixtures.UpdateRequestWrapper
		phase      golivev1alpha1.Phase
		before     func(name string) // commands given first, accepted
		user       string
		annotation string
		value      string
		want       string
	}{
		{name: "unknown role", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: frank, annotation: golivev1alpha1.AnnotationApprove, value: "cto",
			want: `golive.dev/approve refused: role "cto" is not one this request asks for: it asks for operations-office, rnd-lead`},
		{name: "a user without the right", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: dave, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "dave@example.com may not approve for role rnd-lead in namespace " + f.namespace + ": no RBAC rule grants them the verb approve on approvalroles.golive.dev/rnd-lead"},
		{name: "a right for another role", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: carol, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "carol@example.com may not approve for role rnd-lead"},
		{name: "self-approval", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: alice, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "alice@example.com requested this update and may not approve it (spec.approvals.allowSelfApproval is false)"},
		{name: "a second approval by the same user", phase: golivev1alpha1.PhaseAwaitingApproval,
			before: func(name string) { f.mustCommand(bob, name, golivev1alpha1.AnnotationApprove, "rnd-lead") },
			user:   bob, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead; really",
			want: "bob@example.com already approved this spec (as rnd-lead at 2026-11-19T10:00:00Z): one person counts once"},
		{name: "approval before staging is verified", phase: golivev1alpha1.PhaseVerifyingStaging,
			user: bob, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "staging is not verified for the current spec yet (phase VerifyingStaging): approvals open once it is"},
		{name: "approval of a new request", user: bob, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "staging is not verified for the current spec yet (phase Pending)"},
		{name: "approval after production started", phase: golivev1alpha1.PhaseUpdating,
			user: bob, annotation: golivev1alpha1.AnnotationApprove, value: "rnd-lead",
			want: "production has started (Updating): approvals are closed"},
		{name: "accept outside AwaitingAcceptance", request: f.request("r").Acceptance("business-owner", 0, ""), phase: golivev1alpha1.PhaseVerifying,
			user: erin, annotation: golivev1alpha1.AnnotationAccept, value: "fine",
			want: "golive.dev/accept refused: acceptance is possible only in AwaitingAcceptance; the request is in Verifying"},
		{name: "accept without the acceptance role", request: f.request("r").Acceptance("business-owner", 0, ""), phase: golivev1alpha1.PhaseAwaitingAcceptance,
			user: bob, annotation: golivev1alpha1.AnnotationAccept, value: "fine",
			want: "bob@example.com may not accept for role business-owner"},
		{name: "accept without an acceptance step", phase: golivev1alpha1.PhaseVerifying,
			user: erin, annotation: golivev1alpha1.AnnotationAccept, value: "",
			want: "this request has no acceptance step"},
		{name: "reject after production started", request: f.request("r").Acceptance("business-owner", 0, ""), phase: golivev1alpha1.PhaseUpdating,
			user: bob, annotation: golivev1alpha1.AnnotationReject, value: "rnd-lead; too late",
			want: "golive.dev/reject refused: production has started (Updating): it can be rejected only by the acceptance role in AwaitingAcceptance"},
		{name: "reject in AwaitingAcceptance by another role", request: f.request("r").Acceptance("business-owner", 0, ""), phase: golivev1alpha1.PhaseAwaitingAcceptance,
			user: bob, annotation: golivev1alpha1.AnnotationReject, value: "rnd-lead",
			want: "production is awaiting acceptance: only the acceptance role business-owner may reject it now"},
		{name: "reject without the right", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: dave, annotation: golivev1alpha1.AnnotationReject, value: "operations-office; no",
			want: "dave@example.com may not reject for role operations-office"},
		{name: "abort without update on the request", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: pat, annotation: golivev1alpha1.AnnotationAbort, value: "outage",
			want: "pat@example.com may not abort this request: that needs the verb update on updaterequests.golive.dev/"},
		{name: "abort without a reason", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: alice, annotation: golivev1alpha1.AnnotationAbort, value: " ",
			want: "golive.dev/abort needs a reason"},
		{name: "a command on an ended request", phase: golivev1alpha1.PhaseAborted,
			user: alice, annotation: golivev1alpha1.AnnotationAbort, value: "again",
			want: "the request has ended (Aborted)"},
		{name: "a malformed role", phase: golivev1alpha1.PhaseAwaitingApproval,
			user: bob, annotation: golivev1alpha1.AnnotationApprove, value: "R&D lead",
			want: `"R&D lead" is not a role name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "r-" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
			name = strings.Trim(name[:min(len(name), 60)], "-")
			builder := tc.request
			if builder == nil {
				builder = f.request(name)
			}
			request := builder.Obj()
			request.Name = name
			f.create(alice, request)
			if tc.phase != "" {
				f.setPhase(name, tc.phase)
			}
			if tc.before != nil {
				tc.before(name)
			}
			before := f.get(name)
			wantRefused(t, f.command(tc.user, name, tc.annotation, tc.value), tc.want)
			after := f.get(name)
			if diff := cmp.Diff(before.Annotations, after.Annotations); diff != "" {
				t.Errorf("a refused command changed the annotations (-before +after):\n%s", diff)
			}
		})
	}
}

func TestCommandsMustComeAlone(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)

	approve, abort := "rnd-lead", "outage"
	_, err := f.annotate(bob, "r", map[string]*string{golivev1alpha1.AnnotationApprove: &approve, golivev1alpha1.AnnotationAbort: &abort})
	wantRefused(t, err, "give one command at a time: this update sets golive.dev/approve, golive.dev/abort")

	changed := f.get("r")
	changed.Spec.Release = "2.4.1"
	changed.Annotations[golivev1alpha1.AnnotationApprove] = "rnd-lead"
	wantRefused(t, f.as(t, bob).Update(t.Context(), changed), "give a command on its own, not in an update that changes the spec")
}

// What the approvers' colleagues do: accept, reject and abort are recorded
// like approvals.
func TestAcceptRejectAbortAreRecorded(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name       string
		phase      golivev1alpha1.Phase
		user       string
		annotation string
		value      string
		want       golivev1alpha1.LedgerEntry
	}{
		{name: "accept", phase: golivev1alpha1.PhaseAwaitingAcceptance, user: erin,
			annotation: golivev1alpha1.AnnotationAccept, value: "functional tests passed",
			want: golivev1alpha1.LedgerEntry{User: erin, Role: "business-owner", Action: golivev1alpha1.LedgerAccept, Comment: "functional tests passed"}},
		{name: "reject-in-acceptance", phase: golivev1alpha1.PhaseAwaitingAcceptance, user: erin,
			annotation: golivev1alpha1.AnnotationReject, value: "business-owner; invoices are wrong",
			want: golivev1alpha1.LedgerEntry{User: erin, Role: "business-owner", Action: golivev1alpha1.LedgerReject, Comment: "invoices are wrong"}},
		{name: "reject-before-production", phase: golivev1alpha1.PhaseSoaking, user: carol,
			annotation: golivev1alpha1.AnnotationReject, value: "operations-office; backup untested",
			want: golivev1alpha1.LedgerEntry{User: carol, Role: "operations-office", Action: golivev1alpha1.LedgerReject, Comment: "backup untested"}},
		{name: "abort-by-the-requester", phase: golivev1alpha1.PhaseUpdating, user: alice,
			annotation: golivev1alpha1.AnnotationAbort, value: "the vendor withdrew 2.4.0",
			want: golivev1alpha1.LedgerEntry{User: alice, Action: golivev1alpha1.LedgerAbort, Comment: "the vendor withdrew 2.4.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			request := f.request(tc.name).Acceptance("business-owner", 0, "").Obj()
			f.create(alice, request)
			f.setPhase(tc.name, tc.phase)
			f.mustCommand(tc.user, tc.name, tc.annotation, tc.value)
			valid, rejected := f.ledger(tc.name)
			if len(rejected) != 0 {
				t.Errorf("rejected entries: %+v", rejected)
			}
			if diff := cmp.Diff([]golivev1alpha1.LedgerEntry{tc.want}, valid,
				cmpopts.IgnoreFields(golivev1alpha1.LedgerEntry{}, "Groups", "Time", "SpecHash", "Signature")); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if _, ok := f.get(tc.name).Annotations[tc.annotation]; ok {
				t.Errorf("%s is still on the request", tc.annotation)
			}
		})
	}
}

func TestEmergencyApprovals(t *testing.T) {
	f := newFixture(t)
	window := &golivev1alpha1.GoLiveWindow{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "evening"},
		Spec: golivev1alpha1.GoLiveWindowSpec{
			TimeZone:  "Europe/Berlin",
			Schedule:  []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: metav1.Duration{Duration: 3 * time.Hour}}},
			Emergency: &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}},
		},
	}
	if err := f.env.Client.Create(t.Context(), window); err != nil {
		t.Fatal(err)
	}

	f.create(alice, f.request("hotfix").Emergency("Payment outage").Incident("INC-4711").Obj())
	f.setPhase("hotfix", golivev1alpha1.PhaseAwaitingApproval)
	f.mustCommand(frank, "hotfix", golivev1alpha1.AnnotationApprove, "cto; payment outage, go")
	valid, _ := f.ledger("hotfix")
	if len(valid) != 1 || valid[0].Role != "cto" || valid[0].User != frank {
		t.Errorf("ledger = %+v, want frank's cto approval", valid)
	}

	f.create(alice, f.request("ordinary").Obj())
	f.setPhase("ordinary", golivev1alpha1.PhaseAwaitingApproval)
	wantRefused(t, f.command(frank, "ordinary", golivev1alpha1.AnnotationApprove, "cto"),
		`role "cto" is not one this request asks for: it asks for operations-office, rnd-lead`)

	f.create(alice, f.request("elsewhere").Emergency("Payment outage").Incident("INC-4711").Obj())
	moved := f.get("elsewhere")
	moved.Spec.Window.Name = "weekend"
	if err := f.as(t, alice).Update(t.Context(), moved); err != nil {
		t.Fatal(err)
	}
	f.setPhase("elsewhere", golivev1alpha1.PhaseAwaitingApproval)
	wantRefused(t, f.command(frank, "elsewhere", golivev1alpha1.AnnotationApprove, "cto"),
		"(the window weekend, which names the emergency roles, does not exist)")
}

// Approvals are bound to the spec: after a change they no longer count, and
// the same people may approve the new spec once staging is verified for it.
func TestSpecChangeInvalidatesApprovals(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	f.mustCommand(bob, "r", golivev1alpha1.AnnotationApprove, "rnd-lead")
	f.mustCommand(carol, "r", golivev1alpha1.AnnotationApprove, "operations-office")

	changed := f.get("r")
	changed.Spec.Targets[0].Images["api"] = "registry.example.com/billing-api:2.4.1"
	if err := f.as(t, alice).Update(t.Context(), changed); err != nil {
		t.Fatalf("changing the spec before production: %v", err)
	}
	valid, rejected := f.ledger("r")
	if len(valid) != 0 {
		t.Errorf("approvals of the earlier spec still count: %+v", valid)
	}
	if diff := cmp.Diff([]string{"0 StaleSpec", "1 StaleSpec"}, verdictOf(nil, rejected).Rejected); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}

	// status still describes the earlier spec: no approval until staging is verified again.
	wantRefused(t, f.command(bob, "r", golivev1alpha1.AnnotationApprove, "rnd-lead"), "staging is not verified for the current spec yet")
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	f.mustCommand(bob, "r", golivev1alpha1.AnnotationApprove, "rnd-lead; 2.4.1 too")
	valid, _ = f.ledger("r")
	if len(valid) != 1 || valid[0].User != bob {
		t.Errorf("ledger for the new spec = %+v, want bob's new approval", valid)
	}
}

func TestSpecIsImmutableOnceProductionMayHaveChanged(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseBackingUp)

	changed := f.get("r")
	changed.Spec.Release = "2.4.1"
	wantRefused(t, f.as(t, alice).Update(t.Context(), changed),
		"the spec cannot change once production may have changed (phase BackingUp); only spec.suspend can")

	suspended := f.get("r")
	suspended.Spec.Suspend = true
	if err := f.as(t, alice).Update(t.Context(), suspended); err != nil {
		t.Errorf("suspending in BackingUp: %v", err)
	}
	team := "billing"
	if _, err := f.annotate(dave, "r", map[string]*string{"example.com/team": &team}); err != nil {
		t.Errorf("annotating in BackingUp: %v", err)
	}
}

// Nobody writes the ledger or the requester but golive: not an editor, not an
// approver replaying a genuine entry, not even a cluster administrator.
func TestLedgerAndRequesterCannotBeEditedDirectly(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	f.mustCommand(bob, "r", golivev1alpha1.AnnotationApprove, "rnd-lead")
	f.create(alice, f.request("twin").Obj())
	f.setPhase("twin", golivev1alpha1.PhaseAwaitingApproval)

	stored := f.get("r")
	entries, err := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil || len(entries) != 1 {
		t.Fatalf("ledger %v, %v", entries, err)
	}
	bobsEntry := entries[0]
	forged := bobsEntry
	forged.User, forged.Role = carol, "operations-office"
	forged.Signature = "Zm9yZ2VkIGJ5IGRhdmU="
	edited := bobsEntry
	edited.Comment = "I never said that"
	ledgerOf := func(entries ...golivev1alpha1.LedgerEntry) *string {
		value, err := ledger.Format(entries)
		if err != nil {
			t.Fatal(err)
		}
		return &value
	}

	for _, tc := range []struct {
		name        string
		user        string
		request     string
		annotations map[string]*string
		want        string
	}{
		{name: "a forged entry appended", user: dave, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf(bobsEntry, forged)},
			want:        "the new ledger entry does not carry golive's signature for this request"},
		{name: "a genuine entry edited", user: bob, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf(edited)},
			want:        "golive.dev/ledger is written by golive only"},
		{name: "an entry removed", user: alice, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf()},
			want:        "golive.dev/ledger is written by golive only"},
		{name: "the ledger removed", user: alice, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: nil},
			want:        "golive.dev/ledger is written by golive only"},
		{name: "a genuine entry replayed on another request", user: bob, request: "twin",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf(bobsEntry)},
			want:        "the new ledger entry does not carry golive's signature for this request"},
		{name: "a genuine entry appended twice", user: bob, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf(bobsEntry, bobsEntry)},
			want:        "bob@example.com already approved this spec"},
		{name: "the ledger edited by a cluster administrator", user: "", request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationLedger: ledgerOf(edited)},
			want:        "golive.dev/ledger is written by golive only"},
		{name: "the requester changed", user: bob, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationRequestedBy: ptrTo(bob)},
			want:        "golive.dev/requested-by is stamped by golive at creation and cannot change"},
		{name: "the requester removed", user: alice, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationRequestedBy: nil},
			want:        "golive.dev/requested-by is stamped by golive at creation and cannot change"},
		{name: "the requester changed by a cluster administrator", user: "", request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationRequestedBy: ptrTo(bob)},
			want:        "golive.dev/requested-by is stamped by golive at creation and cannot change"},
		{name: "a command with a ledger edit", user: carol, request: "r",
			annotations: map[string]*string{golivev1alpha1.AnnotationApprove: ptrTo("operations-office"), golivev1alpha1.AnnotationLedger: ledgerOf()},
			want:        "golive.dev/approve refused: golive.dev/ledger is written by golive only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.get(tc.request)
			var err error
			if tc.user == "" {
				err = f.adminAnnotate(tc.request, tc.annotations)
			} else {
				_, err = f.annotate(tc.user, tc.request, tc.annotations)
			}
			wantRefused(t, err, tc.want)
			if diff := cmp.Diff(before.Annotations, f.get(tc.request).Annotations); diff != "" {
				t.Errorf("the refused edit changed the annotations (-before +after):\n%s", diff)
			}
		})
	}

	// Whatever reached the ledger, only golive's entries for this request count.
	valid, rejected := f.ledger("r")
	if len(valid) != 1 || valid[0].User != bob || len(rejected) != 0 {
		t.Errorf("ledger: valid %+v, rejected %+v", valid, rejected)
	}
}

// adminAnnotate patches annotations as the envtest administrator (system:masters).
func (f *fixture) adminAnnotate(name string, annotations map[string]*string) error {
	f.t.Helper()
	request := f.get(name)
	patch := client.MergeFrom(request.DeepCopy())
	for key, value := range annotations {
		if value == nil {
			delete(request.Annotations, key)
		} else {
			request.Annotations[key] = *value
		}
	}
	return f.env.Client.Patch(f.t.Context(), request, patch)
}

// `kubectl annotate --dry-run=server` shows what an approval would record,
// and records nothing.
func TestDryRunApprovalRecordsNothing(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	answered, err := f.annotate(bob, "r", map[string]*string{golivev1alpha1.AnnotationApprove: ptrTo("rnd-lead")}, client.DryRunAll)
	if err != nil {
		t.Fatalf("dry run refused: %v", err)
	}
	if valid, _ := ledger.Verify(f.key, answered, ledger.SpecHash(&answered.Spec)); len(valid) != 1 {
		t.Errorf("the dry run's answer has %d valid entries, want 1", len(valid))
	}
	if _, ok := f.get("r").Annotations[golivev1alpha1.AnnotationLedger]; ok {
		t.Error("a dry run recorded an approval")
	}
}

// Without golive's webhook nothing is approved, created or changed: the
// webhooks fail closed.
func TestFailClosedWhenTheWebhookIsDown(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	before := f.get("r")

	if err := f.stopWebhooks(); err != nil {
		t.Fatalf("stopping the webhook server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.startWebhooks(ctx); err != nil {
			t.Fatalf("restarting the webhook server: %v", err)
		}
	})

	wantRefused(t, f.command(bob, "r", golivev1alpha1.AnnotationApprove, "rnd-lead"), "failed calling webhook")
	wantRefused(t, f.as(t, alice).Create(t.Context(), f.request("another").Obj()), "failed calling webhook")
	forged := before.DeepCopy()
	forged.Annotations[golivev1alpha1.AnnotationLedger] = `[{"user":"bob@example.com"}]`
	wantRefused(t, f.env.Client.Update(t.Context(), forged), "failed calling webhook")

	after := f.get("r")
	if diff := cmp.Diff(before.Annotations, after.Annotations); diff != "" {
		t.Errorf("the request changed while the webhook was down (-before +after):\n%s", diff)
	}
	// Status belongs to the controller and is not the webhooks' business.
	if err := f.env.Client.Status().Update(t.Context(), after); err != nil {
		t.Errorf("a status update while the webhook was down: %v", err)
	}
}

// The RBAC example applies to a cluster as it is.
func TestApprovalRolesSampleApplies(t *testing.T) {
	s := startSuite(t)
	if err := testenv.IgnoreAlreadyExists(s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}})); err != nil {
		t.Fatal(err)
	}
	objects, err := testenv.ReadObjects(testenv.RepoRoot() + "/config/samples/approval_roles_rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, object := range objects {
		kinds = append(kinds, object.GetKind())
		if object.GetKind() == "ClusterRole" {
			continue // created by the suite
		}
		if err := s.env.Client.Create(t.Context(), object, client.DryRunAll); err != nil {
			t.Errorf("creating %s %s: %v", object.GetKind(), object.GetName(), err)
		}
	}
	if !slices.Contains(kinds, "ClusterRole") || !slices.Contains(kinds, "RoleBinding") {
		t.Errorf("the sample holds %v, want ClusterRoles and RoleBindings", kinds)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	s := startSuite(t)
	ctx := t.Context()
	secret := types.NamespacedName{Namespace: "default", Name: "golive-ledger-key-test"}
	key, err := ledgerkey.LoadOrCreate(ctx, s.env.Client, s.env.Client, secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("a new key has %d bytes, want 32", len(key))
	}
	again, err := ledgerkey.LoadOrCreate(ctx, s.env.Client, s.env.Client, secret)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(key) {
		t.Error("the key changed on the second start")
	}
	var stored corev1.Secret
	if err := s.env.Client.Get(ctx, secret, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Immutable == nil || !*stored.Immutable {
		t.Error("the key Secret is not immutable")
	}

	short := types.NamespacedName{Namespace: "default", Name: "golive-ledger-key-short"}
	if err := testenv.IgnoreAlreadyExists(s.env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: short.Namespace, Name: short.Name},
		Data:       map[string][]byte{ledgerkey.Field: []byte("secret")},
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := ledgerkey.LoadOrCreate(ctx, s.env.Client, s.env.Client, short); err == nil || !strings.Contains(err.Error(), "at least 32 are needed") {
		t.Errorf("a 6-byte key: error = %v, want a refusal", err)
	}
}

// A signed entry is worth no more than the command it came from: taken from a
// dry run, it counts only for its own user, now, and where the rules allow.
func TestSignedEntryCountsOnlyForItsUserNow(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	answered, err := f.annotate(carol, "r", map[string]*string{golivev1alpha1.AnnotationApprove: ptrTo("operations-office")}, client.DryRunAll)
	if err != nil {
		t.Fatalf("dry run refused: %v", err)
	}
	signedLedger := answered.Annotations[golivev1alpha1.AnnotationLedger]
	appendSigned := func(user string) error {
		_, err := f.annotate(user, "r", map[string]*string{golivev1alpha1.AnnotationLedger: &signedLedger})
		return err
	}

	wantRefused(t, appendSigned(dave), "the new ledger entry is for carol@example.com, but dave@example.com makes this change")

	f.clock.SetTime(suiteTime.Add(2 * time.Minute))
	err = appendSigned(carol)
	f.clock.SetTime(suiteTime)
	wantRefused(t, err, "the new ledger entry is dated 2026-11-19T10:00:00Z, not now (2026-11-19T10:02:00Z)")

	f.setPhase("r", golivev1alpha1.PhaseUpdating)
	wantRefused(t, appendSigned(carol), "golive.dev/approve refused: production has started (Updating)")

	// Where the command itself would be accepted, so is its entry.
	f.setPhase("r", golivev1alpha1.PhaseAwaitingApproval)
	if err := appendSigned(carol); err != nil {
		t.Fatalf("carol appending her own fresh entry: %v", err)
	}
	if valid, _ := f.ledger("r"); len(valid) != 1 || valid[0].User != carol {
		t.Errorf("ledger = %+v, want carol's approval", valid)
	}
}

package admission

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// governedBy labels the fixture's namespace and creates a policy selecting it.
func (f *fixture) governedBy(spec golivev1alpha1.GoLivePolicySpec) string {
	f.t.Helper()
	name := "policy-" + f.namespace
	var namespace corev1.Namespace
	if err := f.env.Client.Get(f.t.Context(), client.ObjectKey{Name: f.namespace}, &namespace); err != nil {
		f.t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "golive-test/policy", name)
	if err := f.env.Client.Patch(f.t.Context(), &namespace, client.MergeFrom(base)); err != nil {
		f.t.Fatal(err)
	}
	spec.NamespaceSelector = metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}}
	p := &golivev1alpha1.GoLivePolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	if err := f.env.Client.Create(f.t.Context(), p); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = f.env.Client.Delete(context.Background(), p) })
	return name
}

// A request that asks for less than its namespace's policy is refused,
// naming the policy and the field; corrected, it is admitted.
func TestRequestsMeetThePoliciesOfTheirNamespace(t *testing.T) {
	f := newFixture(t)
	name := f.governedBy(golivev1alpha1.GoLivePolicySpec{
		Approvals:  &golivev1alpha1.PolicyApprovals{Required: []golivev1alpha1.RoleQuorum{{Role: "operations-office", Count: 2}}, RequireComment: true},
		References: []golivev1alpha1.PolicyReference{{Type: "change", Pattern: `^CHG[0-9]{7}$`}},
	})
	request := f.request("short").Obj()
	err := f.as(t, alice).Create(t.Context(), request)
	for _, want := range []string{
		"spec.approvals.required[1].count: policy " + name + " requires role operations-office (count 2), not 1",
		"spec.references: policy " + name + " requires a reference of type change",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("creating a request short of the policy: %v; want a refusal saying %q", err, want)
		}
	}

	request = f.request("short").Obj()
	request.Spec.Approvals.Required[1].Count = 2
	request.Spec.References = []golivev1alpha1.Reference{{Type: "change", ID: "CHG0012345"}}
	created := f.create(alice, request)

	// A spec change that falls short again is refused, and nothing changes.
	changed := created.DeepCopy()
	changed.Spec.References[0].ID = "CHG12"
	err = f.as(t, alice).Update(t.Context(), changed)
	want := `spec.references[0].id: policy ` + name + ` requires the id of a change reference to match ^CHG[0-9]{7}$; "CHG12" does not`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("updating to a wrong id: %v; want a refusal saying %q", err, want)
	}
	if got := f.get("short"); got.Spec.References[0].ID != "CHG0012345" {
		t.Errorf("the refused update changed the reference to %q", got.Spec.References[0].ID)
	}

	// requireComment: an approval without a comment is refused, and nothing is recorded.
	f.setPhase("short", golivev1alpha1.PhaseAwaitingApproval)
	err = f.command(carol, "short", golivev1alpha1.AnnotationApprove, "operations-office")
	wantRefused(t, err, "golive.dev/approve: policy "+name+" requires a comment")
	if entries, _ := f.ledger("short"); len(entries) != 0 {
		t.Errorf("the refused approval left ledger entries: %+v", entries)
	}
}

// Supervision: where a policy names a supervision role, a person holding it
// who is not the requester says go in AwaitingGo, and the go is signed into
// the ledger for that role.
func TestGoIsGivenByTheSupervisionRole(t *testing.T) {
	f := newFixture(t)
	f.governedBy(golivev1alpha1.GoLivePolicySpec{Supervision: &golivev1alpha1.PolicySupervision{Role: "operations-supervisor"}})
	f.create(alice, f.request("r").Obj())

	f.setPhase("r", golivev1alpha1.PhaseScheduled)
	wantRefused(t, f.command(frank, "r", golivev1alpha1.AnnotationGo, "watching"),
		"golive.dev/go refused: go is possible only in AwaitingGo, once the window is open and every other gate passed")

	f.setPhase("r", golivev1alpha1.PhaseAwaitingGo)
	wantRefused(t, f.command(alice, "r", golivev1alpha1.AnnotationGo, "mine"),
		"alice@example.com requested this update and may not say go for it: one executes, one supervises")
	wantRefused(t, f.command(bob, "r", golivev1alpha1.AnnotationGo, ""),
		"bob@example.com may not say go for role operations-supervisor in namespace "+f.namespace)
	if entries, _ := f.ledger("r"); len(entries) != 0 {
		t.Fatalf("refused goes left ledger entries: %+v", entries)
	}

	f.mustCommand(frank, "r", golivev1alpha1.AnnotationGo, "on the bridge")
	valid, rejected := f.ledger("r")
	if len(rejected) != 0 {
		t.Errorf("rejected entries: %+v", rejected)
	}
	want := []golivev1alpha1.LedgerEntry{{User: frank, Role: "operations-supervisor", Action: golivev1alpha1.LedgerGo, Comment: "on the bridge"}}
	if diff := cmp.Diff(want, valid, cmpopts.IgnoreFields(golivev1alpha1.LedgerEntry{}, "Groups", "Time", "SpecHash", "Signature")); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if _, ok := f.get("r").Annotations[golivev1alpha1.AnnotationGo]; ok {
		t.Errorf("%s is still on the request", golivev1alpha1.AnnotationGo)
	}
}

// Without a policy that asks for supervision there is no go to give.
func TestGoWithoutSupervisionIsRefused(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseAwaitingGo)
	wantRefused(t, f.command(frank, "r", golivev1alpha1.AnnotationGo, ""),
		"golive.dev/go refused: no GoLivePolicy of the request's namespace asks for supervision")
}

// A policy's emergency roles replace the window's: the window's role is no
// longer asked for, the policy's is.
func TestPolicyEmergencyRolesReplaceTheWindows(t *testing.T) {
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
	f.governedBy(golivev1alpha1.GoLivePolicySpec{Emergency: &golivev1alpha1.EmergencyPolicy{Roles: []string{"business-owner"}}})

	f.create(alice, f.request("hotfix").Emergency("Payment outage").Incident("INC-4711").Obj())
	f.setPhase("hotfix", golivev1alpha1.PhaseAwaitingApproval)
	wantRefused(t, f.command(frank, "hotfix", golivev1alpha1.AnnotationApprove, "cto"), `role "cto" is not one this request asks for`)
	f.mustCommand(erin, "hotfix", golivev1alpha1.AnnotationApprove, "business-owner; payment outage, go")
	if valid, _ := f.ledger("hotfix"); len(valid) != 1 || valid[0].Role != "business-owner" || valid[0].User != erin {
		t.Errorf("ledger = %+v, want erin's business-owner approval", valid)
	}
}

// The sample policy of config/samples (procedure 004), applied to this
// namespace: a request without its documents, soak and acceptance is
// refused, naming each; corrected, it is admitted; an approval needs a comment.
func TestSamplePolicyRefusesThenAdmitsTheCorrectedRequest(t *testing.T) {
	f := newFixture(t)
	objects, err := testenv.ReadObjects(testenv.RepoRoot() + "/config/samples/golive_v1alpha1_golivepolicy.yaml")
	if err != nil || len(objects) != 1 {
		t.Fatalf("reading the sample policy: %v (%d objects)", err, len(objects))
	}
	var sample golivev1alpha1.GoLivePolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objects[0].Object, &sample); err != nil {
		t.Fatal(err)
	}
	name := f.governedBy(sample.Spec)

	err = f.as(t, alice).Create(t.Context(), f.request("billing-2-4-0").Obj())
	for _, want := range []string{
		"spec.staging.soak: policy " + name + " requires a soak of at least 24h, not 0s",
		"spec.acceptance: policy " + name + " requires",
		"spec.references: policy " + name + " requires a reference of type change",
		"spec.references: policy " + name + " requires a reference of type test-report",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("creating a request without what the sample policy asks: %v; want a refusal saying %q", err, want)
		}
	}

	corrected := f.request("billing-2-4-0").Soak(24*time.Hour).Acceptance("business-owner", 24*time.Hour, golivev1alpha1.AcceptOnTimeout).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.References = []golivev1alpha1.Reference{{Type: "change", ID: "CHG0012345"}, {Type: "test-report", URL: "https://ci.example.com/report.html"}}
		}).Obj()
	f.create(alice, corrected)
	f.setPhase("billing-2-4-0", golivev1alpha1.PhaseAwaitingApproval)
	wantRefused(t, f.command(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead"), "golive.dev/approve: policy "+name+" requires a comment")
	f.mustCommand(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead; change CHG0012345 reviewed, test report green")
	if valid, _ := f.ledger("billing-2-4-0"); len(valid) != 1 || valid[0].Comment != "change CHG0012345 reviewed, test report green" {
		t.Errorf("ledger = %+v, want bob's approval with its comment", valid)
	}
}

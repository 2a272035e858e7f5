package main

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// supervisedBy makes a GoLivePolicy ask for a go from role in the fixture's
// namespace, and lets users hold the role there.
func (f *fixture) supervisedBy(role string, users ...string) {
	f.t.Helper()
	ctx := f.t.Context()
	var namespace corev1.Namespace
	if err := f.env.Client.Get(ctx, client.ObjectKey{Name: f.namespace}, &namespace); err != nil {
		f.t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "plugin-test/supervised", f.namespace)
	if err := f.env.Client.Patch(ctx, &namespace, client.MergeFrom(base)); err != nil {
		f.t.Fatal(err)
	}
	policy := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "supervised-" + f.namespace},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"plugin-test/supervised": f.namespace}},
			Supervision:       &golivev1alpha1.PolicySupervision{Role: role},
		},
	}
	supervisor := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "plugin-test-supervisor-" + f.namespace},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"golive.dev"}, Resources: []string{"approvalroles"}, ResourceNames: []string{role}, Verbs: []string{"approve"}},
		},
	}
	for _, object := range []client.Object{policy, supervisor} {
		f.create(object)
		f.t.Cleanup(func() { _ = f.env.Client.Delete(context.Background(), object) })
	}
	f.env.BindClusterRole(f.t, f.namespace, supervisor.Name, users...)
	for _, user := range users {
		f.env.WaitForAccess(f.t, user, authorizationv1.ResourceAttributes{
			Namespace: f.namespace, Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: role,
		})
	}
}

// awaitingGo is a request whose window is open and whose gates passed:
// production waits for a go from role until until.
func awaitingGo(spec *golivev1alpha1.UpdateRequestSpec, role string, until time.Time) golivev1alpha1.UpdateRequestStatus {
	status := awaitingApproval(spec)
	status.Phase = golivev1alpha1.PhaseAwaitingGo
	status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{role}, Until: &metav1.Time{Time: until}}
	return status
}

// `kubectl golive go`: status says whose go production waits for and until
// when; the requester's go is refused; the supervisor's is recorded, signed.
func TestGoIsGivenBySupervisor(t *testing.T) {
	f := newFixture(t)
	f.supervisedBy("operations-supervisor", bob)
	until := monday.Add(2 * time.Hour)
	f.createRequest("billing-2-4-0", awaitingGo(&newRequest(f.namespace, "").Spec, "operations-supervisor", until))

	status := f.mustSucceed("status", "billing-2-4-0", "-n", f.namespace)
	if want := "Go:             waiting for a person holding role operations-supervisor (not the requester) until " + instant(until, monday); !strings.Contains(status, want) {
		t.Errorf("status does not say %q:\n%s", want, status)
	}
	waiting := f.mustSucceed("waiting", "-n", f.namespace, "--as", bob)
	if want := "say go as operations-supervisor   kubectl golive go billing-2-4-0 -n " + f.namespace; !strings.Contains(waiting, want) {
		t.Errorf("waiting for bob does not ask %q:\n%s", want, waiting)
	}

	_, stderr, code := f.kubectlGolive("go", "billing-2-4-0", "-n", f.namespace, "--as", alice)
	if code == 0 || !strings.Contains(stderr, "alice@example.com requested this update and may not say go for it: one executes, one supervises") {
		t.Errorf("the requester's go: exit %d, stderr %q; want a refusal", code, stderr)
	}
	stdout := f.mustSucceed("go", "billing-2-4-0", "-n", f.namespace, "--as", bob, "--comment", "on the bridge")
	if want := "updaterequest.golive.dev/billing-2-4-0 given go for a supervision role\nRecorded in golive.dev/ledger as entry 1: go (operations-supervisor) by bob@example.com"; !strings.HasPrefix(stdout, want) {
		t.Errorf("go wrote %q, want it to start with %q", stdout, want)
	}
	stored := f.get("billing-2-4-0")
	valid, _ := ledger.Verify(ledgerKey, stored, ledger.SpecHash(&stored.Spec))
	if len(valid) != 1 || valid[0].Action != golivev1alpha1.LedgerGo || valid[0].User != bob || valid[0].Role != "operations-supervisor" || valid[0].Comment != "on the bridge" {
		t.Errorf("the ledger holds %+v, want bob's go", valid)
	}
}

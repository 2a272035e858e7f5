package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// governedBy labels the journey's production namespace so that a policy of
// its own selects it (tests share the cluster-scoped policies).
func (j *journey) governedBy(name string, required ...golivev1alpha1.RoleQuorum) *golivev1alpha1.GoLivePolicy {
	j.t.Helper()
	ctx := j.t.Context()
	var namespace corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: j.production}, &namespace); err != nil {
		j.t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "golive-test/policy", name)
	if err := env.Client.Patch(ctx, &namespace, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			Approvals:         &golivev1alpha1.PolicyApprovals{Required: required},
		},
	}
	if err := env.Client.Create(ctx, p); err != nil {
		j.t.Fatal(err)
	}
	j.t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	return p
}

// A policy that starts asking for more stalls the requests that have not
// reached production, naming the policy and the field; relaxed, they go on,
// and production records the policy and generation it started under.
func TestPolicyChangeStallsRequestsBeforeProduction(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	name := "stricter-" + j.production
	p := j.governedBy(name, golivev1alpha1.RoleQuorum{Role: "cfo", Count: 1})
	want := "spec.approvals.required: policy " + name + " requires role cfo (count 1)"
	eventually(t, func(ctx context.Context) string {
		request := j.current()
		stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != golivev1alpha1.ReasonPolicyNotMet || !strings.Contains(stalled.Message, want) {
			return fmt.Sprintf("Stalled = %+v, want PolicyNotMet saying %q", stalled, want)
		}
		return ""
	})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if got.Status.Namespaces != 1 || ready == nil || ready.Status != metav1.ConditionTrue || ready.Message != "Governs the requests of 1 namespaces" {
			return fmt.Sprintf("policy status %+v", got.Status)
		}
		return ""
	})
	// Approving is no way around it: production does not start.
	j.approve("bob", "rnd-lead")
	j.productionUntouched()

	var current golivev1alpha1.GoLivePolicy
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(p), &current); err != nil {
		t.Fatal(err)
	}
	base := current.DeepCopy()
	current.Spec.Approvals.Required = []golivev1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}}
	if err := env.Client.Patch(t.Context(), &current, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	j.waitForImageAndRollOut(j.production, newImage)
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	wantApplied := golivev1alpha1.AppliedPolicy{Name: name, Generation: current.Generation}
	if !slices.Contains(request.Status.Policies, wantApplied) {
		t.Errorf("status.policies = %+v, want %+v", request.Status.Policies, wantApplied)
	}
}

func TestPolicyStatusSaysWhatItGovernsAndWhatIsWrong(t *testing.T) {
	name := "nobody-" + newNamespace(t)
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			References:        []golivev1alpha1.PolicyReference{{Type: "change", Pattern: "^CHG[0-9"}},
		},
	}
	if err := env.Client.Create(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	sound := p.DeepCopy()
	sound.Name, sound.ResourceVersion = name+"-sound", ""
	sound.Spec.References[0].Pattern = "^CHG[0-9]{7}$"
	if err := env.Client.Create(t.Context(), sound); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), sound) })
	startOperator(&operator{t: t, namespaces: []string{newNamespace(t)}, clock: clocktesting.NewFakeClock(journeyStart)})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sound), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != golivev1alpha1.ReasonNoNamespaceSelected || got.Status.Namespaces != 0 {
			return fmt.Sprintf("Ready = %+v, namespaces %d; want True, NoNamespaceSelected", ready, got.Status.Namespaces)
		}
		return ""
	})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionFalse || !strings.Contains(ready.Message, "spec.references[0].pattern: not a regular expression") {
			return fmt.Sprintf("Ready = %+v, want False naming the pattern", ready)
		}
		return ""
	})
}

// supervisedBy makes a policy of the journey's own ask for a go from role.
func (j *journey) supervisedBy(name, role string) *golivev1alpha1.GoLivePolicy {
	j.t.Helper()
	p := j.governedBy(name)
	base := p.DeepCopy()
	p.Spec.Approvals, p.Spec.Supervision = nil, &golivev1alpha1.PolicySupervision{Role: role}
	if err := env.Client.Patch(j.t.Context(), p, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
	return p
}

// One executes, one supervises: once the window is open and every other gate
// passed, production waits for a go from the policy's supervision role. The
// requester's go does not count; without a go before the opening no longer
// fits production, the request waits for the next opening, where a go given
// then starts production.
func TestSupervisedRequestStartsProductionAfterGo(t *testing.T) {
	j := newJourney(t, withWindow(weekdayEvenings))
	name := "supervised-" + j.production
	p := j.supervisedBy(name, "operations-supervisor")
	monday := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")

	j.stepClockTo(monday)
	request := j.waitForReady(golivev1alpha1.ReasonAwaitingGo, "from a person holding role operations-supervisor who is not the requester until")
	supervision := request.Status.Supervision
	if request.Status.Phase != golivev1alpha1.PhaseAwaitingGo || supervision == nil || supervision.Until == nil ||
		!slices.Equal(supervision.Roles, []string{"operations-supervisor"}) || !supervision.Until.Time.Before(monday.Add(2*time.Hour)) {
		t.Fatalf("phase %s, supervision %+v; want AwaitingGo for operations-supervisor until the opening no longer fits", request.Status.Phase, supervision)
	}
	until := supervision.Until.Time
	j.command("alice", "operations-supervisor", golivev1alpha1.LedgerGo, "my own go")
	j.waitForEvents(golivev1alpha1.ReasonAwaitingGo)
	j.productionUntouched()

	// Nobody else said go: the opening no longer fits production and the request waits for Tuesday's.
	j.stepClockTo(until.Add(time.Second))
	request = j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-24T20:00:00Z")
	if request.Status.Phase != golivev1alpha1.PhaseScheduled {
		t.Fatalf("phase %s, want Scheduled once the opening no longer fits", request.Status.Phase)
	}
	j.waitForEvents(golivev1alpha1.ReasonGoLapsed)
	j.productionUntouched()

	tuesday := monday.Add(24 * time.Hour)
	j.stepClockTo(tuesday)
	j.waitForReady(golivev1alpha1.ReasonAwaitingGo, "operations-supervisor")
	j.command("sam", "operations-supervisor", golivev1alpha1.LedgerGo, "on the bridge")
	j.waitForImageAndRollOut(j.production, newImage)
	request = j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	if !request.Status.Production.StartedAt.Time.Equal(tuesday) {
		t.Errorf("production started at %s, want at sam's go %s", request.Status.Production.StartedAt, tuesday)
	}
	started := request.Status.Timeline[slices.IndexFunc(request.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool {
		return e.Event == golivev1alpha1.ReasonProductionStarted
	})]
	if started.Actor != "sam" || !strings.Contains(started.Message, "Go given by sam (operations-supervisor): on the bridge") {
		t.Errorf("the ProductionStarted entry = %+v, want sam's go", started)
	}
	var events []string
	for _, entry := range request.Status.Timeline {
		events = append(events, entry.Event)
	}
	want := []string{"Approved", golivev1alpha1.ReasonAwaitingGo, golivev1alpha1.ReasonGoLapsed, golivev1alpha1.ReasonAwaitingGo, golivev1alpha1.ReasonProductionStarted}
	if at := slices.Index(events, "Approved"); at < 0 || len(events) < at+len(want) || !slices.Equal(events[at:at+len(want)], want) {
		t.Errorf("timeline events %v, want %v in a row", events, want)
	}
	noRepeatedTimeline(t, request)
	given := request.Status.Supervision
	if given == nil || len(given.Given) != 1 || given.Given[0].User != "sam" {
		t.Errorf("status.supervision = %+v, want sam's go recorded", given)
	}
	if wantApplied := (golivev1alpha1.AppliedPolicy{Name: name, Generation: p.Generation}); !slices.Contains(request.Status.Policies, wantApplied) {
		t.Errorf("status.policies = %+v, want %+v", request.Status.Policies, wantApplied)
	}
}

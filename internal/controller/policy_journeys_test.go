package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

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

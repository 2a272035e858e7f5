package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
	"github.com/golive-dev/golive/test/cluster"
)

// TestProtectedWorkloads plays a GoLivePolicy with protectWorkloads: once a
// request targets the billing API, alice (who may edit the namespace) can
// neither change its image nor kubectl scale it; golive's release changes
// it; an SRE's break-glass edit goes through and is recorded as a policy
// breach on the Deployment and on the request.
func TestProtectedWorkloads(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-protected", Authorization: true})
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	a := newApp(t, cl, "protected", alwaysOpen(), appOptions{})
	var namespace corev1.Namespace
	if err := a.c.Get(t.Context(), client.ObjectKey{Name: a.production}, &namespace); err != nil {
		t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "golive.dev/tier", "production")
	if err := a.c.Patch(t.Context(), &namespace, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	create(t, a.c, &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "protected-apps"},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive.dev/tier": "production"}},
			ProtectWorkloads:  true,
		},
	})

	r := a.create(a.request("billing-2-4-0", "2.4.0"))
	cluster.Eventually(t, timeout, "golive to protect the billing API", func(ctx context.Context) (bool, string, error) {
		var list corev1.ConfigMap
		if err := a.c.Get(ctx, client.ObjectKey{Namespace: a.production, Name: workload.ProtectedList}, &list); err != nil {
			return false, err.Error(), nil
		}
		return list.Data["deployments."+api] == "protected-apps", fmt.Sprintf("the list holds %v", list.Data), nil
	})

	deploymentKey := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: a.production, Name: api}}
	setImage := func(c client.Client, image string) error {
		patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, apiContainer, image)
		return c.Patch(t.Context(), deploymentKey.DeepCopy(), client.RawPatch(types.StrategicMergePatchType, patch), client.FieldOwner("kubectl-edit"))
	}
	err := setImage(as(t, cl, alice), "billing-api:mine")
	if err == nil || !strings.Contains(err.Error(), "spec.template is changed through golive alone") ||
		!strings.Contains(err.Error(), "GoLivePolicy protected-apps sets spec.protectWorkloads") {
		t.Errorf("alice changing the image: %v, want the protection's refusal", err)
	}
	err = as(t, cl, alice).SubResource("scale").Patch(t.Context(), deploymentKey.DeepCopy(),
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":5}}`)), client.WithSubResourceBody(&autoscalingv1.Scale{}))
	if err == nil || !strings.Contains(err.Error(), "spec.replicas is changed through golive alone") {
		t.Errorf("alice scaling: %v, want the protection's refusal", err)
	}

	// golive's own release goes through the protection, and is no breach.
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	t.Logf("the request's timeline:\n%s", timeline(done))
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.0"), r.describe)

	// An SRE's hotfix at night: allowed, and recorded.
	if err := setImage(as(t, cl, sre), "billing-api:2.4.0-hotfix"); err != nil {
		t.Fatalf("the break-glass edit: %v", err)
	}
	for _, regarding := range []string{"Deployment/" + api, "UpdateRequest/" + r.key.Name} {
		cluster.Eventually(t, timeout, "a PolicyBreach Event about "+regarding, func(ctx context.Context) (bool, string, error) {
			var events eventsv1.EventList
			if err := a.c.List(ctx, &events, client.InNamespace(a.production)); err != nil {
				return false, "", err
			}
			var breaches []string
			for _, event := range events.Items {
				if event.Reason != golivev1alpha1.ReasonPolicyBreach {
					continue
				}
				breaches = append(breaches, event.Regarding.Kind+"/"+event.Regarding.Name+": "+event.Note)
				if event.Regarding.Kind+"/"+event.Regarding.Name == regarding && event.Type == corev1.EventTypeWarning &&
					strings.Contains(event.Note, `"kubectl-edit"`) {
					return true, "", nil
				}
			}
			return false, fmt.Sprintf("breaches recorded: %v", breaches), nil
		})
	}
	var events eventsv1.EventList
	if err := a.c.List(t.Context(), &events, client.InNamespace(a.production)); err != nil {
		t.Fatal(err)
	}
	for _, event := range events.Items {
		if event.Reason == golivev1alpha1.ReasonPolicyBreach && !strings.Contains(event.Note, "kubectl-edit") {
			t.Errorf("a change other than the break-glass edit was recorded as a breach: %s", event.Note)
		}
	}
}

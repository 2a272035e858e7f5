package controller

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/workload"
)

// goliveServiceAccount is golive's identity in config/admission.
const goliveServiceAccount = "system:serviceaccount:golive-system:golive"

// protectingPolicy labels namespace so that a new policy with
// protectWorkloads, of its own, selects it.
func protectingPolicy(t *testing.T, namespace string) *golivev1alpha1.GoLivePolicy {
	t.Helper()
	ctx := t.Context()
	name := "protect-" + namespace
	var ns corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: namespace}, &ns); err != nil {
		t.Fatal(err)
	}
	base := ns.DeepCopy()
	metav1.SetMetaDataLabel(&ns.ObjectMeta, "golive-test/policy", name)
	if err := env.Client.Patch(ctx, &ns, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			ProtectWorkloads:  true,
		},
	}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	return p
}

func protectedDeployment(namespace, name string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: previousImage}}},
			},
		},
	}
}

// setImage patches the image of container "api" of Deployment name as c.
func setImage(ctx context.Context, c client.Client, namespace, name, image string, opts ...client.PatchOption) error {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":"api","image":%q}]}}}}`, image)
	return c.Patch(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}},
		client.RawPatch(types.StrategicMergePatchType, patch), opts...)
}

// scale sets the replicas of Deployment name through its scale subresource,
// as kubectl scale does.
func scale(ctx context.Context, c client.Client, namespace, name string, replicas int32, opts ...client.SubResourcePatchOption) error {
	return c.SubResource("scale").Patch(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}},
		client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)),
		append([]client.SubResourcePatchOption{client.WithSubResourceBody(&autoscalingv1.Scale{})}, opts...)...)
}

// refusedWith is "" when err is the refusal that names every part of want.
func refusedWith(what string, err error, want ...string) string {
	if err == nil {
		return what + " was allowed"
	}
	for _, part := range want {
		if !strings.Contains(err.Error(), part) {
			return fmt.Sprintf("%s was refused, but not with %q: %v", what, part, err)
		}
	}
	return ""
}

// TestProtectedWorkloadChangesThroughGoliveAlone: the admission policy
// golive-protected-workloads refuses anyone but golive, the break-glass group
// (and, for replicas, the autoscaler) changing the pod template or replicas
// of a workload the namespace's list names, through the scale subresource
// too, and keeps everyone else from the list itself.
func TestProtectedWorkloadChangesThroughGoliveAlone(t *testing.T) {
	namespace := newNamespace(t)
	ctx := t.Context()
	p := protectingPolicy(t, namespace)
	for _, name := range []string{"api", "web"} {
		if err := env.Client.Create(ctx, protectedDeployment(namespace, name)); err != nil {
			t.Fatal(err)
		}
	}
	list := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: workload.ProtectedList},
		Data:       map[string]string{"deployments.api": p.Name},
	}
	if err := env.Client.Create(ctx, list); err != nil { // the test's administrator is in the break-glass group
		t.Fatal(err)
	}
	clientAs := func(user string, groups ...string) client.Client {
		c, err := env.ClientAs(user, groups...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Cluster administrators all, so that only the admission policy refuses.
	alice := clientAs("alice", "system:masters")
	golive := clientAs(goliveServiceAccount, "system:serviceaccounts", "system:masters")
	autoscaler := clientAs("system:serviceaccount:kube-system:horizontal-pod-autoscaler", "system:serviceaccounts", "system:masters")

	templateRefusal := []string{"deployments " + namespace + "/api: spec.template is changed through golive alone",
		"GoLivePolicy " + p.Name + " sets spec.protectWorkloads", "alice is not in the break-glass group " + testenv.BreakGlassGroup}
	eventually(t, func(ctx context.Context) string {
		return refusedWith("alice's image change", setImage(ctx, alice, namespace, "api", "billing-api:evil"), templateRefusal...)
	})
	if problem := refusedWith("alice's kubectl scale", scale(ctx, alice, namespace, "api", 5),
		"deployments "+namespace+"/api: spec.replicas is changed through golive alone", "GoLivePolicy "+p.Name); problem != "" {
		t.Error(problem)
	}
	if problem := refusedWith("the autoscaler's image change", setImage(ctx, autoscaler, namespace, "api", "billing-api:evil"),
		"spec.template is changed through golive alone"); problem != "" {
		t.Error(problem)
	}
	allowed := []struct {
		what string
		err  error
	}{
		{"alice labelling the protected Deployment", alice.Patch(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "api"}},
			client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"billing"}}}`)))},
		{"alice changing the image of a Deployment not listed", setImage(ctx, alice, namespace, "web", "web:2")},
		{"golive changing the image", setImage(ctx, golive, namespace, "api", newImage)},
		{"golive scaling", scale(ctx, golive, namespace, "api", 3)},
		{"the autoscaler scaling", scale(ctx, autoscaler, namespace, "api", 4)},
		{"the break-glass group changing the image", setImage(ctx, env.Client, namespace, "api", "billing-api:hotfix")},
	}
	for _, change := range allowed {
		if change.err != nil {
			t.Errorf("%s was refused: %v", change.what, change.err)
		}
	}

	listRefusal := []string{"configmaps " + namespace + "/" + workload.ProtectedList + " lists the workloads",
		"only golive (" + goliveServiceAccount + ") or the break-glass group " + testenv.BreakGlassGroup, "alice may not"}
	var stored corev1.ConfigMap
	if err := alice.Get(ctx, client.ObjectKeyFromObject(list), &stored); err != nil {
		t.Fatal(err)
	}
	base := stored.DeepCopy()
	delete(stored.Data, "deployments.api")
	if problem := refusedWith("alice unprotecting the Deployment", alice.Patch(ctx, &stored, client.MergeFrom(base)), listRefusal...); problem != "" {
		t.Error(problem)
	}
	if problem := refusedWith("alice deleting the list", alice.Delete(ctx, &stored), listRefusal...); problem != "" {
		t.Error(problem)
	}
	planted := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: newNamespace(t), Name: workload.ProtectedList}}
	if problem := refusedWith("alice creating a list", alice.Create(ctx, planted), "alice may not"); problem != "" {
		t.Error(problem)
	}
}

// waitForWarning waits for a Warning Event reason about the object of kind
// and name in namespace whose note holds every part of want.
func waitForWarning(t *testing.T, namespace, kind, name, reason string, want ...string) {
	t.Helper()
	eventually(t, func(ctx context.Context) string {
		var list eventsv1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		var seen []string
		for _, event := range list.Items {
			if event.Regarding.Kind != kind || event.Regarding.Name != name {
				continue
			}
			seen = append(seen, fmt.Sprintf("%s %s %q", event.Type, event.Reason, event.Note))
			if event.Type != corev1.EventTypeWarning || event.Reason != reason {
				continue
			}
			missing := false
			for _, part := range want {
				missing = missing || !strings.Contains(event.Note, part)
			}
			if !missing {
				return ""
			}
		}
		return fmt.Sprintf("no Warning %s about %s %s holding %q; seen %v", reason, kind, name, want, seen)
	})
}

// A namespace governed by a policy with protectWorkloads: golive lists the
// request's target as protected, an ordinary user's image change is refused,
// a break-glass change is recorded as a policy breach (Events on the
// workload and the request, a notice to the request's webhook); golive's own
// release is not a breach; without the policy the list is deleted.
func TestProtectWorkloadsRecordsBreakGlassChanges(t *testing.T) {
	hook := newReceiver(t, http.StatusOK, nil)
	j := newJourney(t, withNotifierAndMetrics(notify.Options{}), withWebhooks(hook.URL))
	ctx := t.Context()
	p := protectingPolicy(t, j.production)

	listKey := client.ObjectKey{Namespace: j.production, Name: workload.ProtectedList}
	eventually(t, func(ctx context.Context) string {
		var list corev1.ConfigMap
		if err := env.Client.Get(ctx, listKey, &list); err != nil {
			return err.Error()
		}
		if _, observed := workload.ParseProtectedState(list.Data["observed.deployments.billing-api"]); list.Data["deployments.billing-api"] != p.Name || !observed {
			return fmt.Sprintf("the protected list holds %v, want billing-api protected by %s, and observed", list.Data, p.Name)
		}
		return ""
	})
	var grey corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.staging, Name: workload.ProtectedList}, &grey); !apierrors.IsNotFound(err) {
		t.Errorf("the staging namespace has a protected list (%v): grey copies are not protected", err)
	}

	alice, err := env.ClientAs("alice", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		return refusedWith("alice's image change", setImage(ctx, alice, j.production, "billing-api", "billing-api:evil"),
			"spec.template is changed through golive alone")
	})

	// The test's administrator is in the break-glass group; kubectl edit's field manager.
	if err := setImage(ctx, env.Client, j.production, "billing-api", "billing-api:hotfix", client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	// The Deployment may have been created in the same second: then its creator is named too.
	breach := []string{"The pod template or replicas of Deployment " + j.production + "/billing-api were changed by field manager ",
		`"kubectl-edit"`, "not golive", "GoLivePolicy " + p.Name + " protects them", "policy breach"}
	waitForWarning(t, j.production, "Deployment", "billing-api", golivev1alpha1.ReasonPolicyBreach, breach...)
	waitForWarning(t, j.production, "UpdateRequest", j.request.Name, golivev1alpha1.ReasonPolicyBreach, breach...)
	eventually(t, func(context.Context) string {
		for _, document := range hook.received() {
			if document.Reason == golivev1alpha1.ReasonPolicyBreach && strings.Contains(document.Message, breach[1]) &&
				document.Request.Name == j.request.Name {
				return ""
			}
		}
		return "the webhook was not told of the breach"
	})

	// kubectl scale by the break-glass group is one too.
	if err := scale(ctx, env.Client, j.production, "billing-api", 5, client.FieldOwner("kubectl")); err != nil {
		t.Fatal(err)
	}
	waitForWarning(t, j.production, "Deployment", "billing-api", golivev1alpha1.ReasonPolicyBreach, `field manager "kubectl" (scale), not golive`)

	// golive's own change of the template (as a release applies images) is no breach.
	if err := setImage(ctx, env.Client, j.production, "billing-api", newImage, client.FieldOwner(workload.FieldManager)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		var deployment appsv1.Deployment
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: "billing-api"}, &deployment); err != nil {
			return err.Error()
		}
		want, err := workload.ProtectedSpecHash(&deployment)
		if err != nil {
			return err.Error()
		}
		var list corev1.ConfigMap
		if err := env.Client.Get(ctx, listKey, &list); err != nil {
			return err.Error()
		}
		if got, _ := workload.ParseProtectedState(list.Data["observed.deployments.billing-api"]); got.Hash != want {
			return "the list does not hold the hash of golive's change yet"
		}
		return ""
	})
	var events eventsv1.EventList
	if err := env.Client.List(ctx, &events, client.InNamespace(j.production)); err != nil {
		t.Fatal(err)
	}
	for _, event := range events.Items {
		if event.Reason == golivev1alpha1.ReasonPolicyBreach && event.Regarding.Kind == "Deployment" &&
			!strings.Contains(event.Note, `"kubectl-edit"`) && !strings.Contains(event.Note, `"kubectl" (scale)`) {
			t.Errorf("golive's own change was recorded as a breach: %s", event.Note)
		}
	}

	// The policy gone, nothing is protected any more.
	if err := env.Client.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		var list corev1.ConfigMap
		if err := env.Client.Get(ctx, listKey, &list); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the protected list is still there (%v)", err)
		}
		return ""
	})
	if err := setImage(ctx, alice, j.production, "billing-api", "billing-api:2.5.0"); err != nil {
		t.Errorf("alice's image change once unprotected: %v", err)
	}
}

package admission

import (
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// With --namespaced-rbac the webhook asks the API server whether golive
// itself may patch the targets in both namespaces: here golive's identity is
// granted the workload writes in the production namespace only, as the
// chart's rbac.scope=namespaces does for a labelled namespace.
func TestCheckManagerRightsAsksForBothNamespaces(t *testing.T) {
	f := newFixture(t)
	manager := authenticationv1.UserInfo{Username: "golive-manager-of-" + f.namespace, Groups: []string{"system:authenticated"}}
	writer := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "test-workload-writer-" + f.namespace},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"patch"}}},
	}
	if err := f.env.Client.Create(t.Context(), writer); err != nil {
		t.Fatal(err)
	}
	f.env.BindClusterRole(t, f.namespace, writer.Name, manager.Username)
	f.env.WaitForAccess(t, manager.Username, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "patch", Group: "apps", Resource: "deployments"})
	webhooks := &Webhooks{Access: SubjectAccessReviewer{Client: f.env.Client}, Manager: &manager}
	request := f.request("rights").Obj()

	err := webhooks.checkManagerRights(t.Context(), request)
	want := "spec.staging.namespace: golive may not change deployments in namespace " + f.namespace + "-grey: " +
		"with the chart's rbac.scope=namespaces, label the namespace golive.dev/managed=true and run helm upgrade"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a refusal saying %q", err, want)
	}

	f.env.BindClusterRole(t, f.namespace+"-grey", writer.Name, manager.Username)
	f.env.WaitForAccess(t, manager.Username, authorizationv1.ResourceAttributes{Namespace: f.namespace + "-grey", Verb: "patch", Group: "apps", Resource: "deployments"})
	if err := webhooks.checkManagerRights(t.Context(), request); err != nil {
		t.Errorf("with rights in both namespaces: %v", err)
	}

	// A DaemonSet target needs its own right, which golive lacks in both.
	daemons := testfixtures.MakeUpdateRequest(f.namespace, "daemons").Staging(f.namespace+"-grey").
		Target(golivev1alpha1.TargetDaemonSet, "agent", map[string]string{"agent": "agent:2"}).Obj()
	if err := webhooks.checkManagerRights(t.Context(), daemons); err == nil || !strings.HasPrefix(err.Error(), "metadata.namespace: golive may not change daemonsets") {
		t.Errorf("got %v, want a refusal for daemonsets in the production namespace", err)
	}

	// Without --namespaced-rbac nothing is asked.
	if err := (&Webhooks{}).checkManagerRights(t.Context(), daemons); err != nil {
		t.Errorf("without a manager identity: %v", err)
	}
}

func TestManagerRightsChanged(t *testing.T) {
	base := testfixtures.MakeUpdateRequest("shop", "r").Staging("shop-grey")
	stored := base.Obj()
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		want    bool
	}{
		{"same", base.Obj(), false},
		{"another image", testfixtures.MakeUpdateRequest("shop", "r").Staging("shop-grey").Release("9.9.9").Obj(), false},
		{"another staging namespace", testfixtures.MakeUpdateRequest("shop", "r").Staging("shop-blue").Obj(), true},
		{"another kind", testfixtures.MakeUpdateRequest("shop", "r").Staging("shop-grey").
			Target(golivev1alpha1.TargetStatefulSet, "db", map[string]string{"db": "db:2"}).Obj(), true},
	} {
		if got := managerRightsChanged(stored, tc.request); got != tc.want {
			t.Errorf("%s: managerRightsChanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}

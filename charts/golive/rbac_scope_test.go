package chart_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/testenv"
)

var namespacedRBACValues = filepath.Join("ci", "namespaced-rbac-values.yaml")

// grants are the (API group, resource, verb) triples of rules.
func grants(rules []rbacv1.PolicyRule) sets.Set[string] {
	out := sets.New[string]()
	for _, rule := range rules {
		for _, group := range rule.APIGroups {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					out.Insert(group + "/" + resource + ":" + verb)
				}
			}
		}
	}
	return out
}

// rbac.scope=namespaces grants exactly what the manager's ClusterRole of
// config/rbac grants, split in two: the writes to workloads only in the
// listed namespaces, everything else cluster-wide; and the manager is told
// to refuse requests for other namespaces.
func TestNamespacedScopeSplitsTheManagersRights(t *testing.T) {
	const namespace = "platform-ops"
	in := render(t, namespace, namespacedRBACValues)
	var config []rbacv1.PolicyRule
	decodeRules(t, readManifests(t, filepath.Join("config", "rbac", "role.yaml"))[0], &config)
	clusterWide := named[rbacv1.ClusterRole](t, in, "ClusterRole", "golive-manager")
	perNamespace := named[rbacv1.ClusterRole](t, in, "ClusterRole", "golive-manager-namespace")

	if both := grants(clusterWide.Rules).Intersection(grants(perNamespace.Rules)); both.Len() > 0 {
		t.Errorf("granted both cluster-wide and per namespace: %v", sets.List(both))
	}
	if got, want := grants(clusterWide.Rules).Union(grants(perNamespace.Rules)), grants(config); !got.Equal(want) {
		t.Errorf("the two halves differ from config/rbac: missing %v, extra %v", sets.List(want.Difference(got)), sets.List(got.Difference(want)))
	}
	for _, grant := range []string{"apps/deployments:patch", "batch/jobs:create", "/configmaps:create", "snapshot.storage.k8s.io/volumesnapshots:create"} {
		if !grants(perNamespace.Rules).Has(grant) {
			t.Errorf("%s is not among the per-namespace grants", grant)
		}
	}

	var bound []string
	for _, object := range in.ofKind("RoleBinding") {
		var binding rbacv1.RoleBinding
		decode(t, object, &binding)
		if binding.RoleRef.Name != perNamespace.Name {
			continue
		}
		bound = append(bound, binding.Namespace)
		want := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "golive", Namespace: namespace}}
		if !slices.Equal(binding.Subjects, want) || binding.RoleRef.Kind != "ClusterRole" {
			t.Errorf("RoleBinding %s/%s binds %+v to %+v, want the manager's ServiceAccount to the ClusterRole", binding.Namespace, binding.Name, binding.Subjects, binding.RoleRef)
		}
	}
	if want := []string{"shop", "shop-grey"}; !slices.Equal(bound, want) {
		t.Errorf("the per-namespace rights are bound in %v, want %v", bound, want)
	}
	for _, object := range in.ofKind("ClusterRoleBinding") {
		var binding rbacv1.ClusterRoleBinding
		decode(t, object, &binding)
		if binding.RoleRef.Name == perNamespace.Name {
			t.Errorf("ClusterRoleBinding %s binds the per-namespace rights cluster-wide", binding.Name)
		}
	}
	args := flags(t, managerContainer(t, only[appsv1.Deployment](t, in, "Deployment")).Args)
	if _, set := args["namespaced-rbac"]; !set {
		t.Errorf("the manager runs without --namespaced-rbac: %v", args)
	}
	if _, set := flags(t, managerContainer(t, only[appsv1.Deployment](t, render(t, namespace), "Deployment")).Args)["namespaced-rbac"]; set {
		t.Error("the default (cluster) scope passes --namespaced-rbac")
	}
}

// On a real API server, the ServiceAccount of a namespaces-scoped install
// may read workloads everywhere (its caches) and change them only in the
// listed namespaces.
func TestNamespacedScopeOnAnAPIServer(t *testing.T) {
	helm(t)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		needTool(t, "KUBEBUILDER_ASSETS is not set: run `make chart-test` or `make test`, which build the control plane and set it")
	}
	env, err := testenv.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the API server: %v", err)
		}
	})
	release := env.NewNamespace(t, "golive-")
	for _, name := range []string{"shop", "shop-grey", "elsewhere"} {
		if err := env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	rbacKinds := []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
	for _, object := range render(t, release, namespacedRBACValues).objects {
		if !slices.Contains(rbacKinds, object.GetKind()) {
			continue
		}
		if err := env.Client.Create(t.Context(), object); err != nil {
			t.Fatalf("creating %s %s: %v", object.GetKind(), object.GetName(), err)
		}
	}
	manager := "system:serviceaccount:" + release + ":golive"
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + release, "system:authenticated"}
	allowed := func(namespace, verb, group, resource string) bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: manager, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: group, Resource: resource},
		}}
		if err := env.Client.Create(t.Context(), review, &client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return review.Status.Allowed
	}
	testenv.Eventually(t, func(ctx context.Context) string {
		if !allowed("shop", "patch", "apps", "deployments") {
			return "the manager may not yet patch Deployments in shop"
		}
		return ""
	})
	for _, tc := range []struct {
		namespace, verb, group, resource string
		want                             bool
	}{
		{"shop", "patch", "apps", "deployments", true},
		{"shop-grey", "create", "batch", "jobs", true},
		{"shop-grey", "create", "", "configmaps", true},
		{"elsewhere", "patch", "apps", "deployments", false},
		{"elsewhere", "create", "batch", "jobs", false},
		{"elsewhere", "create", "", "configmaps", false},
		{"elsewhere", "list", "apps", "deployments", true},
		{"elsewhere", "watch", "batch", "jobs", true},
		{"elsewhere", "get", "", "secrets", false},
	} {
		if got := allowed(tc.namespace, tc.verb, tc.group, tc.resource); got != tc.want {
			t.Errorf("%s %s.%s in %s: allowed = %v, want %v", tc.verb, tc.resource, tc.group, tc.namespace, got, tc.want)
		}
	}
}

package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// managerRules are the rules of golive's ClusterRole (config/rbac/role.yaml,
// generated from the reconcilers' markers), without the verbs that withhold
// drops from the resources it names.
func managerRules(t *testing.T, withhold map[string][]string) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatal(err)
	}
	var rules []rbacv1.PolicyRule
	for _, rule := range role.Rules {
		for _, resource := range rule.Resources {
			kept := *rule.DeepCopy()
			kept.Resources = []string{resource}
			kept.Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(verb string) bool { return slices.Contains(withhold[resource], verb) })
			if len(kept.Verbs) > 0 {
				rules = append(rules, kept)
			}
		}
	}
	return rules
}

// A step the API server refuses golive (its ServiceAccount may not patch
// Deployments, as when the chart's rbac.scope=namespaces does not grant a
// namespace) is told on the request in the API server's words, changes
// nothing, and is taken once golive may.
func TestAForbiddenStepIsToldAndTakenOnceAllowed(t *testing.T) {
	const golive = "golive-with-chart-rbac"
	ctx := t.Context()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "forbidden-step-test"},
		Rules:      managerRules(t, map[string][]string{"deployments": {"patch", "update"}}),
	}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "forbidden-step-test"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: golive}},
	}
	if err := env.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), binding)
		_ = env.Client.Delete(context.Background(), role)
	})

	j := newJourney(t, func(o *journeyOptions) { o.writeAs = golive })
	want := fmt.Sprintf(`User "%s" cannot patch resource "deployments" in API group "apps" in the namespace "%s"`, golive, j.staging)
	eventually(t, func(ctx context.Context) string {
		var events eventsv1.EventList
		if err := env.Client.List(ctx, &events, client.InNamespace(j.production)); err != nil {
			return err.Error()
		}
		for _, event := range events.Items {
			if event.Reason == golivev1alpha1.ReasonActionForbidden && event.Type == corev1.EventTypeWarning &&
				event.Regarding.Name == j.request.Name && strings.Contains(event.Note, want) &&
				strings.Contains(event.Note, "golive tries again") {
				return ""
			}
		}
		return fmt.Sprintf("no %s Event saying %q", golivev1alpha1.ReasonActionForbidden, want)
	})
	if image := j.image(j.staging); image != previousImage {
		t.Errorf("The grey Deployment runs %s after golive was refused, want %s", image, previousImage)
	}
	j.productionUntouched()

	// Granted the right, golive takes the step it was refused.
	role.Rules = managerRules(t, nil)
	if err := env.Client.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	eventually(t, func(context.Context) string {
		if image := j.image(j.staging); image != "billing-api:2.4.0" {
			return "the grey Deployment runs " + image
		}
		return ""
	})
	j.productionUntouched()
}

package admission

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A required role that nobody holds makes a request wait for approvals
// that cannot come. Who holds a right cannot be asked of the API server
// directly, so golive reads the RBAC objects: the role is held when a
// RoleBinding of the namespace, or a ClusterRoleBinding, with a subject binds
// a role whose rules name the verb approve on approvalroles.golive.dev for
// <role> (see docs/approvals.md); wildcard rules such as cluster-admin's do
// not make an approver. Other authorizers (webhooks) may grant it too: this
// only warns.

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings;roles;rolebindings,verbs=list;watch

// roleWarnings names the approval and acceptance roles nobody may act as in
// the request's namespace.
func (v validator) roleWarnings(ctx context.Context, request *golivev1alpha1.UpdateRequest) ([]string, error) {
	type wanted struct{ field, role string }
	var roles []wanted
	for i, required := range request.Spec.Approvals.Required {
		roles = append(roles, wanted{fmt.Sprintf("spec.approvals.required[%d].role", i), required.Role})
	}
	if request.Spec.Acceptance != nil {
		roles = append(roles, wanted{"spec.acceptance.role", request.Spec.Acceptance.Role})
	}
	if len(roles) == 0 {
		return nil, nil
	}
	// The cache may lag behind a binding made just before the request (or
	// not serve the namespace): it spares the API server four cluster-wide
	// lists per request, and only the API server's answer warns.
	granted, all, err := v.grantedApprovalRoles(ctx, v.advisoryReader(), request.Namespace)
	if v.Cached != nil && (err != nil || (!all && slices.ContainsFunc(roles, func(r wanted) bool { return !granted.Has(r.role) }))) {
		granted, all, err = v.grantedApprovalRoles(ctx, v.Reader, request.Namespace)
	}
	if err != nil || all {
		return nil, err
	}
	var warnings []string
	for _, r := range roles {
		if !granted.Has(r.role) {
			warnings = append(warnings, fmt.Sprintf("%s: nobody may act as %q in namespace %s: no RoleBinding or ClusterRoleBinding grants approve on approvalroles.golive.dev/%s%s; "+
				"the request would wait for approvals that cannot come (docs/approvals.md, \"Grant approval roles\")",
				r.field, r.role, request.Namespace, r.role, didYouMean(r.role, sets.List(granted))))
		}
	}
	return warnings, nil
}

// grantedApprovalRoles lists the approval roles some bound subject may act
// as in namespace, as reader has the RBAC objects; all is true when a
// binding grants every role.
func (v validator) grantedApprovalRoles(ctx context.Context, reader client.Reader, namespace string) (granted sets.Set[string], all bool, err error) {
	var clusterRoles rbacv1.ClusterRoleList
	var roles rbacv1.RoleList
	var clusterBindings rbacv1.ClusterRoleBindingList
	var bindings rbacv1.RoleBindingList
	for _, list := range []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&clusterRoles, nil}, {&clusterBindings, nil},
		{&roles, []client.ListOption{client.InNamespace(namespace)}},
		{&bindings, []client.ListOption{client.InNamespace(namespace)}},
	} {
		if err := reader.List(ctx, list.list, list.opts...); err != nil {
			return nil, false, err
		}
	}
	rulesOf := map[string][]rbacv1.PolicyRule{}
	for _, role := range clusterRoles.Items {
		rulesOf["ClusterRole/"+role.Name] = role.Rules
	}
	for _, role := range roles.Items {
		rulesOf["Role/"+role.Name] = role.Rules
	}
	var bound []rbacv1.RoleRef
	for _, binding := range clusterBindings.Items {
		if len(binding.Subjects) > 0 {
			bound = append(bound, binding.RoleRef)
		}
	}
	for _, binding := range bindings.Items {
		if len(binding.Subjects) > 0 {
			bound = append(bound, binding.RoleRef)
		}
	}
	granted = sets.New[string]()
	for _, ref := range bound {
		for _, rule := range rulesOf[ref.Kind+"/"+ref.Name] {
			if !grantsApprove(rule) {
				continue
			}
			if len(rule.ResourceNames) == 0 {
				return granted, true, nil
			}
			granted.Insert(rule.ResourceNames...)
		}
	}
	return granted, false, nil
}

// grantsApprove reports whether rule grants the verb approve on
// approvalroles.golive.dev by name: a wildcard rule (cluster-admin's) lets
// administrators act as anyone, which makes them no approver by design.
func grantsApprove(rule rbacv1.PolicyRule) bool {
	return (slices.Contains(rule.APIGroups, golivev1alpha1.GroupVersion.Group) || slices.Contains(rule.APIGroups, rbacv1.APIGroupAll)) &&
		slices.Contains(rule.Resources, golivev1alpha1.ApprovalRoleResource) &&
		slices.Contains(rule.Verbs, golivev1alpha1.ApproveVerb)
}

// didYouMean suggests the closest of names to name, when one is close
// enough to be a typo; else it lists up to five names that exist.
func didYouMean(name string, names []string) string {
	best, bestDistance := "", len(name)/3+2
	for _, candidate := range names {
		if d := editDistance(name, candidate); d < bestDistance {
			best, bestDistance = candidate, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case len(names) == 0:
		return ""
	case len(names) > 5:
		return fmt.Sprintf(" (there are %d, such as %q)", len(names), names[:5])
	default:
		return fmt.Sprintf(" (there are %q)", names)
	}
}

// editDistance is the Levenshtein distance of a and b, in bytes (names are ASCII).
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous = current
	}
	return previous[len(b)]
}

package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/policy"
)

// observePolicies reads the GoLivePolicies that select the request's
// namespace and how its spec falls short of them: the admission webhook
// checked them when the spec was written, but a policy (or a namespace's
// labels) may have changed since. Only a request that has not reached
// production needs them; a started one finishes under status.policies.
func (r *UpdateRequestReconciler) observePolicies(ctx context.Context, request *golivev1alpha1.UpdateRequest, world *lifecycle.World) error {
	if request.Status.Phase.TouchesProduction() {
		return nil
	}
	namespace := &metav1.PartialObjectMetadata{}
	namespace.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, client.ObjectKey{Name: request.Namespace}, namespace); err != nil {
		return fmt.Errorf("reading namespace %s for its policies: %w", request.Namespace, err)
	}
	var policies golivev1alpha1.GoLivePolicyList
	if err := r.List(ctx, &policies); err != nil {
		return fmt.Errorf("listing the GoLivePolicies: %w", err)
	}
	rules := policy.Merge(policy.Selecting(policies.Items, namespace.Labels))
	for _, applied := range rules.Policies {
		world.Policies = append(world.Policies, golivev1alpha1.AppliedPolicy{Name: applied.Name, Generation: applied.Generation})
	}
	world.ApprovalExpiry = lifecycle.ApprovalExpiry{After: rules.ExpireAfter.Duration, Policy: rules.ExpireAfter.Policy}
	world.NoticeMinLead = lifecycle.NoticeLead{After: rules.NoticeMinLead.Duration, Policy: rules.NoticeMinLead.Policy}
	world.SupervisionRoles = slices.Sorted(maps.Keys(rules.SupervisionRoles))
	for _, violation := range policy.Check(rules, &request.Spec) {
		world.PolicyViolations = append(world.PolicyViolations, violation.String())
	}
	return nil
}

// requestsOfPolicies wakes, on any change of a policy, the requests that
// have not reached production, in every namespace: which namespaces a
// policy selected before its change is not known any more, and policies
// change rarely.
func (r *UpdateRequestReconciler) requestsOfPolicies() handler.EventHandler {
	beforeProduction := func(request *golivev1alpha1.UpdateRequest) bool {
		return !request.Status.Phase.TouchesProduction() && !request.Status.Phase.IsTerminal()
	}
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return r.requestsWhere(ctx, beforeProduction)
	})
}

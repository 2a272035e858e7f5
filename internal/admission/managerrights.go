package admission

import (
	"context"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// With the chart's rbac.scope=namespaces, golive may change workloads only
// in the namespaces granted to it. A request for any other namespace would
// be accepted and then fail at its first write, after people had approved
// it; so admission asks the API server whether golive itself may patch the
// request's targets in both of its namespaces, and refuses it at once,
// saying how to grant the namespace.

// managerRightsChanged reports whether a spec change can need rights golive
// lacked for the stored spec: another staging namespace, or another kind of
// target.
func managerRightsChanged(stored, request *golivev1alpha1.UpdateRequest) bool {
	return stored.Spec.Staging.Namespace != request.Spec.Staging.Namespace ||
		!slices.Equal(targetResources(stored), targetResources(request))
}

// targetResources lists the resources (deployments, statefulsets,
// daemonsets) of a request's targets, sorted and without duplicates.
func targetResources(request *golivev1alpha1.UpdateRequest) []string {
	var resources []string
	for _, target := range request.Spec.Targets {
		resources = append(resources, strings.ToLower(string(target.Kind))+"s")
	}
	slices.Sort(resources)
	return slices.Compact(resources)
}

// checkManagerRights refuses a request whose targets golive may not patch in
// its namespace or its staging namespace. It checks nothing unless the
// manager was started with --namespaced-rbac (Webhooks.Manager set).
func (w *Webhooks) checkManagerRights(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	if w.Manager == nil {
		return nil
	}
	for _, environment := range []struct{ field, namespace string }{
		{"metadata.namespace", request.Namespace},
		{"spec.staging.namespace", request.Spec.Staging.Namespace},
	} {
		for _, resource := range targetResources(request) {
			patch := authorizationv1.ResourceAttributes{Namespace: environment.namespace, Verb: "patch", Group: "apps", Resource: resource}
			allowed, _, err := w.Access.Allowed(ctx, *w.Manager, patch)
			if err != nil {
				return err
			}
			if !allowed {
				return refused("%s: golive may not change %s in namespace %s: with the chart's rbac.scope=namespaces, label the namespace %s=true "+
					"and run helm upgrade, or list it in rbac.namespaces (docs/helm.md, \"Rights per namespace\")",
					environment.field, resource, environment.namespace, golivev1alpha1.LabelManaged)
			}
		}
	}
	return nil
}

package main

import (
	"fmt"
	"slices"
)

// The chart's rbac.scope=namespaces grants the manager's writes to workloads
// only in the namespaces it manages, and keeps its reads (which its caches
// need) and everything else cluster-wide. chartgen splits the manager's
// ClusterRole into the two along the tables below; a rule on a resource in
// neither table fails the generation, so that a new kubebuilder:rbac marker
// is placed on purpose.
const (
	// managerRole is the ClusterRole of the manager in the manifests.
	managerRole = "golive-manager"
	// clusterWideRulesPrefix and perNamespaceRulesPrefix are followed by the
	// role's name: golive.generated.clusterWideRules.golive-manager.
	clusterWideRulesPrefix  = "golive.generated.clusterWideRules."
	perNamespaceRulesPrefix = "golive.generated.perNamespaceRules."
)

// workloadResources are the namespaced resources of the applications golive
// changes, by API group: read cluster-wide, written per namespace.
var workloadResources = map[string][]string{
	"":                        {"configmaps", "persistentvolumeclaims", "pods"},
	"apps":                    {"daemonsets", "deployments", "deployments/scale", "statefulsets", "statefulsets/scale"},
	"batch":                   {"jobs"},
	"snapshot.storage.k8s.io": {"volumesnapshots"},
}

// clusterWideResources keep every verb cluster-wide: cluster-scoped objects,
// golive's own API, reviews and Events (which golive records on its own
// objects).
var clusterWideResources = map[string][]string{
	"":                             {"namespaces", "persistentvolumes"},
	"admissionregistration.k8s.io": {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
	"authorization.k8s.io":         {"subjectaccessreviews", "selfsubjectaccessreviews"},
	"events.k8s.io":                {"events"},
	// Read (list) only, for the admission warnings about roles nobody holds.
	"rbac.authorization.k8s.io": {"clusterroles", "clusterrolebindings", "roles", "rolebindings"},
	"golive.dev": {
		"golivepolicies", "golivepolicies/status", "golivewindows", "golivewindows/status",
		"releaserecords", "updaterequests", "updaterequests/status", "updaterequests/finalizers",
	},
	"snapshot.storage.k8s.io": {"volumesnapshotclasses"},
	"storage.k8s.io":          {"storageclasses"},
}

// readVerbs are the verbs a cache needs.
var readVerbs = []string{"get", "list", "watch"}

// splitRules divides the rules of the manager's ClusterRole into those kept
// cluster-wide and those granted per namespace.
func splitRules(doc document, rules []any) (clusterWide, perNamespace []any, err error) {
	for i, entry := range rules {
		rule, ok := entry.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s: rule %d is not an object", doc, i)
		}
		groups, resources, verbs := stringList(rule["apiGroups"]), stringList(rule["resources"]), stringList(rule["verbs"])
		if len(groups) != 1 || len(resources) == 0 || len(verbs) == 0 || rule["nonResourceURLs"] != nil {
			return nil, nil, fmt.Errorf("%s: rule %d: chartgen splits rules of one API group with resources and verbs only", doc, i)
		}
		var workloads, others []string
		for _, resource := range resources {
			switch {
			case slices.Contains(workloadResources[groups[0]], resource):
				workloads = append(workloads, resource)
			case slices.Contains(clusterWideResources[groups[0]], resource):
				others = append(others, resource)
			default:
				return nil, nil, fmt.Errorf("%s: rule %d: resource %q of API group %q is in neither table of hack/chartgen/scope.go: "+
					"say whether rbac.scope=namespaces grants it per namespace or cluster-wide", doc, i, resource, groups[0])
			}
		}
		if len(others) > 0 {
			clusterWide = append(clusterWide, withResources(rule, others, verbs))
		}
		if len(workloads) == 0 {
			continue
		}
		if _, named := rule["resourceNames"]; named {
			return nil, nil, fmt.Errorf("%s: rule %d: a rule on workloads with resourceNames cannot be split", doc, i)
		}
		var reads, writes []string
		for _, verb := range verbs {
			if slices.Contains(readVerbs, verb) {
				reads = append(reads, verb)
			} else {
				writes = append(writes, verb)
			}
		}
		if len(reads) > 0 {
			clusterWide = append(clusterWide, withResources(rule, workloads, reads))
		}
		if len(writes) > 0 {
			perNamespace = append(perNamespace, withResources(rule, workloads, writes))
		}
	}
	if len(perNamespace) == 0 {
		return nil, nil, fmt.Errorf("%s: no rule to grant per namespace", doc)
	}
	return clusterWide, perNamespace, nil
}

// scopedRulesTemplates adds the two halves of the manager's ClusterRole.
func scopedRulesTemplates(doc document, add func(template) error) error {
	rules, _ := doc.object["rules"].([]any)
	clusterWide, perNamespace, err := splitRules(doc, rules)
	if err != nil {
		return err
	}
	name := doc.metadata("name")
	for _, half := range []struct {
		prefix, comment string
		rules           []any
	}{
		{clusterWideRulesPrefix, "The rules of the ClusterRole " + name + " that rbac.scope=namespaces keeps cluster-wide: reads, and all but workload writes.", clusterWide},
		{perNamespaceRulesPrefix, "The rules of the ClusterRole " + name + " that rbac.scope=namespaces grants only in the managed namespaces: workload writes.", perNamespace},
	} {
		body, err := encode(half.rules)
		if err != nil {
			return fmt.Errorf("%s: %w", doc, err)
		}
		if err := add(template{name: half.prefix + name, comment: half.comment, body: body}); err != nil {
			return err
		}
	}
	return nil
}

// withResources copies rule with other resources and verbs.
func withResources(rule map[string]any, resources, verbs []string) map[string]any {
	copied := map[string]any{}
	for key, value := range rule {
		copied[key] = value
	}
	copied["resources"] = toAny(resources)
	copied["verbs"] = toAny(verbs)
	return copied
}

func stringList(value any) []string {
	items, _ := value.([]any)
	var out []string
	for _, item := range items {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, value := range values {
		out[i] = value
	}
	return out
}

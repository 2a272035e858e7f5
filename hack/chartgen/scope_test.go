package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitRulesKeepsReadsClusterWideAndWritesPerNamespace(t *testing.T) {
	docs, err := decodeDocuments([]byte(`
kind: ClusterRole
metadata: {name: golive-manager}
rules:
- apiGroups: [""]
  resources: [configmaps, namespaces]
  verbs: [create, get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, patch, watch]
- apiGroups: [admissionregistration.k8s.io]
  resourceNames: [golive-mutating-webhook-configuration]
  resources: [mutatingwebhookconfigurations]
  verbs: [update]
`))
	if err != nil {
		t.Fatal(err)
	}
	doc := docs[0]
	clusterWide, perNamespace, err := splitRules(doc, doc.object["rules"].([]any))
	if err != nil {
		t.Fatal(err)
	}
	rule := func(group string, resources, verbs []any, extra ...any) map[string]any {
		r := map[string]any{"apiGroups": []any{group}, "resources": resources, "verbs": verbs}
		for i := 0; i < len(extra); i += 2 {
			r[extra[i].(string)] = extra[i+1]
		}
		return r
	}
	wantClusterWide := []any{
		rule("", []any{"namespaces"}, []any{"create", "get", "list", "watch"}),
		rule("", []any{"configmaps"}, []any{"get", "list", "watch"}),
		rule("apps", []any{"deployments"}, []any{"get", "list", "watch"}),
		rule("admissionregistration.k8s.io", []any{"mutatingwebhookconfigurations"}, []any{"update"},
			"resourceNames", []any{"golive-mutating-webhook-configuration"}),
	}
	wantPerNamespace := []any{
		rule("", []any{"configmaps"}, []any{"create"}),
		rule("apps", []any{"deployments"}, []any{"patch"}),
	}
	if diff := cmp.Diff(wantClusterWide, clusterWide); diff != "" {
		t.Errorf("cluster-wide rules (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPerNamespace, perNamespace); diff != "" {
		t.Errorf("per-namespace rules (-want +got):\n%s", diff)
	}
}

// A marker on a resource chartgen has not placed fails the generation, so
// rbac.scope=namespaces never grants it cluster-wide by accident.
func TestSplitRulesRefusesAnUnplacedResource(t *testing.T) {
	docs, err := decodeDocuments([]byte(`
kind: ClusterRole
metadata: {name: golive-manager}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = splitRules(docs[0], docs[0].object["rules"].([]any))
	if err == nil || !strings.Contains(err.Error(), `resource "secrets" of API group "" is in neither table`) {
		t.Errorf("error = %v, want one naming the unplaced resource", err)
	}
}

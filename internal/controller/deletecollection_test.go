package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNamespaceCanBeEmptied: the namespace controller empties a namespace
// being deleted with a deletecollection per resource, which names no object;
// golive's admission policies on ConfigMaps must not refuse it, or every
// namespace with a ConfigMap stays Terminating (and a request's record could
// never be tested by deleting its namespace).
func TestNamespaceCanBeEmptied(t *testing.T) {
	namespace := newNamespace(t)
	if err := env.Client.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: namespace}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.DeleteAllOf(t.Context(), &corev1.ConfigMap{}, client.InNamespace(namespace)); err != nil {
		t.Fatalf("Deleting every ConfigMap of the namespace: %v", err)
	}
}

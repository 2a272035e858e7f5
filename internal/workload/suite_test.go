package workload_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server the client tests talk to; each test works in a
// namespace of its own. No controllers run: tests play the workload
// controllers by writing status themselves.
var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	if env, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "Failed to start the test API server:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// newNamespace creates a namespace for one test. envtest runs no namespace
// controller, so it is not deleted afterwards; its name is unique.
func newNamespace(t *testing.T) string {
	t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "golive-workload-"}}
	if err := env.Client.Create(t.Context(), namespace); err != nil {
		t.Fatalf("Creating a namespace: %v", err)
	}
	return namespace.Name
}

// newUpdateRequest creates a valid UpdateRequest for targets in namespace, to
// own what the tests save.
func newUpdateRequest(t *testing.T, namespace string, targets ...v1alpha1.Target) *v1alpha1.UpdateRequest {
	t.Helper()
	request := &v1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "billing-2-4-0", Namespace: namespace},
		Spec: v1alpha1.UpdateRequestSpec{
			Release:   "2.4.0",
			Targets:   targets,
			Staging:   v1alpha1.Staging{Namespace: namespace + "-grey"},
			Approvals: v1alpha1.Approvals{Required: []v1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}}},
			Window:    v1alpha1.WindowReference{Name: "thursday-evening"},
		},
	}
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", request.Name, err)
	}
	return request
}

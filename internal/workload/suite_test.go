package workload_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server the client tests talk to; each test works in a
// namespace of its own. No controllers run: tests play the workload
// controllers by writing status themselves.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// newNamespace creates a namespace for one test; its name is unique.
func newNamespace(t *testing.T) string { return env.NewNamespace(t, "golive-workload-") }

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

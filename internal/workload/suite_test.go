package workload_test

import (
	"testing"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
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
	request := testfixtures.MakeUpdateRequest(namespace, "billing-2-4-0").
		Release("2.4.0").Targets(targets...).Staging(namespace+"-grey").
		Approval("rnd-lead", 1).Window("thursday-evening").Obj()
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", request.Name, err)
	}
	return request
}

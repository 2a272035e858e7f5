package backup_test

import (
	"slices"
	"testing"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// env is the API server the tests talk to, with the VolumeSnapshot CRDs
// installed; each test works in a namespace of its own. No controller runs:
// the tests play the snapshot controller, the volume binder, the workload
// controllers and the garbage collector by writing objects and status themselves.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.WithSnapshotCRDs()) }

// newNamespace creates a namespace for one test; its name is unique.
func newNamespace(t *testing.T) string { return env.NewNamespace(t, "golive-backup-") }

// newUpdateRequest creates a valid UpdateRequest called name in namespace that
// backs up the claims labelled app=billing, with targets, quiesced unless one
// is a DaemonSet (which the API refuses).
func newUpdateRequest(t *testing.T, namespace, name string, targets ...v1alpha1.Target) *v1alpha1.UpdateRequest {
	t.Helper()
	if len(targets) == 0 {
		targets = []v1alpha1.Target{{Kind: v1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]v1alpha1.Image{"api": "registry.example.com/billing-db:2.4.0"}}}
	}
	quiesce := v1alpha1.QuiesceScaleToZero
	if slices.ContainsFunc(targets, func(target v1alpha1.Target) bool { return target.Kind == v1alpha1.TargetDaemonSet }) {
		quiesce = v1alpha1.QuiesceNone
	}
	request := testfixtures.MakeUpdateRequest(namespace, name).
		Release("2.4.0").Targets(targets...).Staging(namespace+"-grey").
		Approval("rnd-lead", 1).Window("thursday-evening").
		SnapshotVolumes(map[string]string{"app": "billing"}, snapshotClass).Quiesce(quiesce).Obj()
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", request.Name, err)
	}
	return request
}

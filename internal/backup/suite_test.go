package backup_test

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
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
	request := &v1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.UpdateRequestSpec{
			Release:   "2.4.0",
			Targets:   targets,
			Staging:   v1alpha1.Staging{Namespace: namespace + "-grey"},
			Approvals: v1alpha1.Approvals{Required: []v1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}}},
			Window:    v1alpha1.WindowReference{Name: "thursday-evening"},
			Backup: v1alpha1.Backup{
				VolumeClaimSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}},
				VolumeSnapshotClassName: snapshotClass,
				Quiesce:                 quiesce,
			},
			Rollback: v1alpha1.Rollback{RestoreData: v1alpha1.RestoreDataAuto},
		},
	}
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", request.Name, err)
	}
	return request
}

package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server every test in this package talks to; each test works
// in a namespace of its own.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.WithSnapshotCRDs()) }

// startManager starts a manager against the test API server with what setup
// registers (reconcilers, indexes), waits until its caches are synced, and
// stops it when the test ends. Its cache sees only namespaces, so managers of
// tests running side by side, each with its own clock, never meet.
func startManager(t *testing.T, namespaces []string, setup func(ctrl.Manager) error) ctrl.Manager {
	t.Helper()
	cached := map[string]cache.Config{}
	for _, namespace := range namespaces {
		cached[namespace] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Cache:                  cache.Options{DefaultNamespaces: cached},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("Creating the manager: %v", err)
	}
	if err := SetupIndexes(t.Context(), mgr.GetFieldIndexer()); err != nil {
		t.Fatalf("Setting up the indexes: %v", err)
	}
	if err := setup(mgr); err != nil {
		t.Fatalf("Setting up the manager: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("The manager stopped with an error: %v", err)
		}
	})
	syncCtx, cancelSync := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("The manager's cache did not sync")
	}
	return mgr
}

// newNamespace creates a namespace for one test; its name is unique.
func newNamespace(t *testing.T) string { return env.NewNamespace(t, "golive-test-") }

// eventually polls check until it returns "" or fails the test.
func eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	testenv.Eventually(t, check)
}

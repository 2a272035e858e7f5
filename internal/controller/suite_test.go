package controller

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server every test in this package talks to; each test works
// in a namespace of its own.
var env *testenv.Env

func TestMain(m *testing.M) {
	flag.Parse()
	logOutput := io.Discard
	if testing.Verbose() {
		logOutput = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOutput), zap.UseDevMode(true)))

	var err error
	if env, err = testenv.Start(context.Background(), testenv.WithSnapshotCRDs()); err != nil {
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

// newNamespace creates a namespace for one test. envtest runs no namespace
// controller, so it is not deleted afterwards; its name is unique.
func newNamespace(t *testing.T) string {
	t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "golive-test-"}}
	if err := env.Client.Create(t.Context(), namespace); err != nil {
		t.Fatalf("Creating a namespace: %v", err)
	}
	return namespace.Name
}

// eventually polls check until it returns "" and fails the test with the last
// thing check reported if that does not happen in time.
func eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 20*time.Second, true,
		func(ctx context.Context) (bool, error) {
			last = check(ctx)
			return last == "", nil
		})
	if err != nil {
		t.Fatalf("Condition not met in time: %s", last)
	}
}

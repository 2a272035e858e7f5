package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server every test in this package talks to; each test works
// in a namespace of its own.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.WithSnapshotCRDs()) }

// startManager starts a manager against the test API server with what setup
// registers (reconcilers, indexes), waits until its caches are synced, and
// stops it when the test ends.
func startManager(t *testing.T, namespaces []string, setup func(ctrl.Manager) error) ctrl.Manager {
	t.Helper()
	mgr, err := newManager(namespaces)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetupIndexes(t.Context(), mgr.GetFieldIndexer()); err != nil {
		t.Fatalf("Setting up the indexes: %v", err)
	}
	if err := setup(mgr); err != nil {
		t.Fatalf("Setting up the manager: %v", err)
	}
	stop, err := runManager(mgr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("The manager stopped with an error: %v", err)
		}
	})
	return mgr
}

// newManager makes a manager against the test API server, configured as
// golive's (its cache options; pods and claims read uncached). Its cache sees
// only namespaces, so managers of tests running side by side, each with its
// own clock, never meet.
func newManager(namespaces []string) (ctrl.Manager, error) {
	cacheOptions := CacheOptions(true)
	cacheOptions.DefaultNamespaces = map[string]cache.Config{}
	for _, namespace := range namespaces {
		cacheOptions.DefaultNamespaces[namespace] = cache.Config{}
	}
	// PersistentVolumes belong to no namespace: each test's manager sees only
	// those retained for a request of its namespaces, not another test's.
	ofTheseRequests, err := labels.NewRequirement(golivev1alpha1.LabelRequestNamespace, selection.In, namespaces)
	if err != nil {
		return nil, err
	}
	for object := range cacheOptions.ByObject {
		if _, volume := object.(*corev1.PersistentVolume); volume {
			cacheOptions.ByObject[object] = cache.ByObject{Label: labels.NewSelector().Add(*ofTheseRequests)}
		}
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Cache:                  cacheOptions,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: UncachedObjects()}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	return mgr, nil
}

// runManager starts mgr, waits until its caches are synced, and returns how
// to stop it: stop reports an error the manager ended with.
func runManager(mgr ctrl.Manager) (stop func() error, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	stop = func() error {
		cancel()
		if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	syncCtx, cancelSync := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		return nil, errors.Join(errors.New("the manager's cache did not sync"), stop())
	}
	return stop, nil
}

// newNamespace creates a namespace for one test; its name is unique.
func newNamespace(t *testing.T) string { return env.NewNamespace(t, "golive-test-") }

// eventually polls check until it returns "" or fails the test.
func eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	testenv.Eventually(t, check)
}

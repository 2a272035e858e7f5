package argocd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/controller"
	"github.com/golive-dev/golive/internal/testenv"
)

// The GoLiveWindow statuses are written by golive's window controller against
// a real API server. It starts with the first test that needs it, so the
// other tests of this package run without one.
var (
	envOnce sync.Once
	env     *testenv.Env
	errEnv  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

func startEnv(t *testing.T) *testenv.Env {
	t.Helper()
	envOnce.Do(func() {
		ctrl.SetLogger(logr.Discard())
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		env, errEnv = testenv.Start(ctx)
	})
	if errEnv != nil {
		t.Fatalf("Starting the test API server: %v", errEnv)
	}
	return env
}

// startWindowController runs golive's GoLiveWindowReconciler for namespace on clock.
func startWindowController(t *testing.T, env *testenv.Env, namespace string, clock *clocktesting.FakeClock) {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := controller.SetupIndexes(t.Context(), mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	reconciler := &controller.GoLiveWindowReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Clock: clock, Recorder: mgr.GetEventRecorder("golive"),
	}
	if err := reconciler.SetupWithManager(mgr, ctrlcontroller.Options{}); err != nil {
		t.Fatal(err)
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
}

func TestGoLiveWindowHealth(t *testing.T) {
	env := startEnv(t)
	namespace := env.NewNamespace(t, "argocd-health-")
	everyDay := []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	entry := func(days []golivev1alpha1.Weekday, start string, d time.Duration) []golivev1alpha1.ScheduleEntry {
		return []golivev1alpha1.ScheduleEntry{{Days: days, Start: start, Duration: metav1.Duration{Duration: d}}}
	}
	windows := []struct {
		name string
		spec golivev1alpha1.GoLiveWindowSpec
		want health
	}{
		{"closed", golivev1alpha1.GoLiveWindowSpec{TimeZone: "Europe/Berlin", Schedule: entry([]golivev1alpha1.Weekday{"Thu"}, "20:00", 3*time.Hour)},
			health{argo: "Healthy", kstatus: status.CurrentStatus}},
		{"open", golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: entry(everyDay, "08:00", 4*time.Hour)},
			health{argo: "Healthy", kstatus: status.CurrentStatus}},
		{"unknown-zone", golivev1alpha1.GoLiveWindowSpec{TimeZone: "Mars/Olympus_Mons", Schedule: entry(everyDay, "08:00", time.Hour)},
			health{argo: "Degraded", kstatus: status.FailedStatus}},
		{"invalid-freeze", golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: entry(everyDay, "08:00", time.Hour),
			Freezes: []golivev1alpha1.Freeze{{Name: "leap", Start: "2027-02-29T00:00", End: "2027-03-02T00:00"}}},
			health{argo: "Degraded", kstatus: status.FailedStatus}},
		{"never-opens", golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: entry(everyDay, "08:00", time.Hour),
			Freezes: []golivev1alpha1.Freeze{{Name: "forever", Start: "2026-01-01T00:00", End: "2030-01-01T00:00"}}},
			health{argo: "Degraded", kstatus: status.FailedStatus}},
	}
	for _, w := range windows {
		glw := &golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: w.name}, Spec: w.spec}
		if err := env.Client.Create(t.Context(), glw); err != nil {
			t.Fatalf("Creating window %s: %v", w.name, err)
		}
		// As created, before golive evaluated it.
		glw.TypeMeta = metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "GoLiveWindow"}
		want := health{argo: "Progressing", argoMessage: "Waiting for golive to evaluate the window", kstatus: status.CurrentStatus}
		if got := assess(t, glw); got != want {
			t.Errorf("%s before evaluation: got %+v, want %+v", w.name, got, want)
		}
	}

	startWindowController(t, env, namespace, clocktesting.NewFakeClock(monday))
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			glw := &golivev1alpha1.GoLiveWindow{}
			testenv.Eventually(t, func(ctx context.Context) string {
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: w.name}, glw); err != nil {
					return err.Error()
				}
				if glw.Status.ObservedGeneration != glw.Generation || meta.FindStatusCondition(glw.Status.Conditions, golivev1alpha1.ConditionReady) == nil {
					return "golive has not evaluated the window yet"
				}
				return ""
			})
			glw.TypeMeta = metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "GoLiveWindow"}
			want := w.want
			// Argo CD shows the message golive wrote: why it is stalled, or when it opens or closes.
			if stalled := meta.FindStatusCondition(glw.Status.Conditions, golivev1alpha1.ConditionStalled); stalled != nil {
				want.argoMessage = stalled.Reason + ": " + stalled.Message
			} else {
				want.argoMessage = meta.FindStatusCondition(glw.Status.Conditions, golivev1alpha1.ConditionReady).Message
			}
			if got := assess(t, glw); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}

			// A spec golive has not evaluated yet is in progress for both.
			changed := glw.DeepCopy()
			changed.Generation++
			want = health{argo: "Progressing", argoMessage: fmt.Sprintf("Waiting for golive to evaluate generation %d", changed.Generation), kstatus: status.InProgressStatus}
			if got := assess(t, changed); got != want {
				t.Errorf("with a newer generation: got %+v, want %+v", got, want)
			}
		})
	}
}

// A window with production updates running under it names them.
func TestGoLiveWindowHealthNamesRunningUpdates(t *testing.T) {
	glw := &golivev1alpha1.GoLiveWindow{
		TypeMeta:   metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "GoLiveWindow"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "thursday-evening", Generation: 3},
		Status: golivev1alpha1.GoLiveWindowStatus{
			ObservedGeneration: 3, Open: true, ActiveUpdates: []string{"billing-2-4-0", "shop-1-2-0"},
			Conditions: []metav1.Condition{{Type: golivev1alpha1.ConditionReady, Status: metav1.ConditionTrue,
				Reason: golivev1alpha1.ReasonEvaluated, Message: "Open until 2026-11-26T23:00:00+01:00", LastTransitionTime: metav1.Time{Time: monday}}},
		},
	}
	want := health{argo: "Healthy", argoMessage: "Open until 2026-11-26T23:00:00+01:00; running: billing-2-4-0, shop-1-2-0", kstatus: status.CurrentStatus}
	if got := assess(t, glw); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

package controller

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The sample window: Thursdays 20:00 for 3h, Europe/Berlin. 2026-07-09 is a
// Thursday in summer time (+02:00), so it is open 18:00 to 21:00 UTC.
const windowName = "thursday-evening"

var berlin = mustLoadLocation("Europe/Berlin")

func mustLoadLocation(name string) *time.Location {
	location, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return location
}

func inBerlin(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, berlin)
}

func makeWindow(namespace string) *golivev1alpha1.GoLiveWindow {
	return testfixtures.MakeGoLiveWindow(namespace, windowName).
		TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		Obj()
}

func makeRequest(namespace, name, window string) *golivev1alpha1.UpdateRequest {
	return testfixtures.MakeUpdateRequest(namespace, name).
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
		// Need not exist for the request to be created; only differ from namespace.
		Staging("billing-grey").
		Approval("rnd-lead", 1).
		Window(window).Obj()
}

// createRequest creates request and then gives it status, as its own controller would.
func createRequest(t *testing.T, request *golivev1alpha1.UpdateRequest, status golivev1alpha1.UpdateRequestStatus) {
	t.Helper()
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", request.Name, err)
	}
	if status.Phase == "" && status.Production == nil {
		return
	}
	request.Status = status
	if err := env.Client.Status().Update(t.Context(), request); err != nil {
		t.Fatalf("Setting the status of UpdateRequest %s: %v", request.Name, err)
	}
}

func createWindow(t *testing.T, glw *golivev1alpha1.GoLiveWindow) types.NamespacedName {
	t.Helper()
	if err := env.Client.Create(t.Context(), glw); err != nil {
		t.Fatalf("Creating GoLiveWindow %s: %v", glw.Name, err)
	}
	return client.ObjectKeyFromObject(glw)
}

// startWindowController runs the GoLiveWindow controller in namespace with
// clock and returns its reconciler, for tests that also call it directly.
func startWindowController(t *testing.T, namespace string, clock clock.PassiveClock) *GoLiveWindowReconciler {
	t.Helper()
	var reconciler *GoLiveWindowReconciler
	startManager(t, []string{namespace}, func(mgr ctrl.Manager) error {
		reconciler = &GoLiveWindowReconciler{
			Client:   mgr.GetClient(),
			Scheme:   mgr.GetScheme(),
			Clock:    clock,
			Recorder: mgr.GetEventRecorder("golive"),
		}
		return reconciler.SetupWithManager(mgr, controller.Options{})
	})
	return reconciler
}

// windowView is the part of a window's status a user reads, with times shown
// in the window's zone as kubectl users would convert them.
type windowView struct {
	ObservedGeneration int64
	Open               bool
	NextOpen           string
	NextClose          string
	ActiveUpdates      []string
	EmergencyUsed      int32
	Ready              *conditionView
	Stalled            *conditionView
	Reconciling        *conditionView
}

type conditionView struct {
	Status             metav1.ConditionStatus
	Reason             string
	Message            string
	ObservedGeneration int64
}

func viewOf(glw *golivev1alpha1.GoLiveWindow) windowView {
	formatTime := func(t *metav1.Time) string {
		if t == nil {
			return ""
		}
		return t.In(berlin).Format(time.RFC3339)
	}
	conditionOf := func(conditionType string) *conditionView {
		condition := meta.FindStatusCondition(glw.Status.Conditions, conditionType)
		if condition == nil {
			return nil
		}
		return &conditionView{condition.Status, condition.Reason, condition.Message, condition.ObservedGeneration}
	}
	return windowView{
		ObservedGeneration: glw.Status.ObservedGeneration,
		Open:               glw.Status.Open,
		NextOpen:           formatTime(glw.Status.NextOpen),
		NextClose:          formatTime(glw.Status.NextClose),
		ActiveUpdates:      glw.Status.ActiveUpdates,
		EmergencyUsed:      glw.Status.EmergencyUsed,
		Ready:              conditionOf(golivev1alpha1.ConditionReady),
		Stalled:            conditionOf(golivev1alpha1.ConditionStalled),
		Reconciling:        conditionOf(golivev1alpha1.ConditionReconciling),
	}
}

func ready(status metav1.ConditionStatus, reason, message string) *conditionView {
	return &conditionView{Status: status, Reason: reason, Message: message, ObservedGeneration: 1}
}

// getWindow reads the window from the API server, as a user would.
func getWindow(ctx context.Context, key types.NamespacedName) (*golivev1alpha1.GoLiveWindow, error) {
	var glw golivev1alpha1.GoLiveWindow
	err := env.Client.Get(ctx, key, &glw)
	return &glw, err
}

// checkWindow returns "" when the window's status is want, else the difference.
func checkWindow(ctx context.Context, key types.NamespacedName, want windowView) string {
	glw, err := getWindow(ctx, key)
	if err != nil {
		return err.Error()
	}
	if diff := cmp.Diff(want, viewOf(glw)); diff != "" {
		return "status (-want +got):\n" + diff
	}
	return ""
}

func waitForWindow(t *testing.T, key types.NamespacedName, want windowView) {
	t.Helper()
	eventually(t, func(ctx context.Context) string { return checkWindow(ctx, key, want) })
}

// waitForCache waits until reader (the manager's cache) shows the window as the
// API server does, so that a direct Reconcile starts from the current status.
func waitForCache(t *testing.T, reader client.Reader, key types.NamespacedName) {
	t.Helper()
	eventually(t, func(ctx context.Context) string {
		latest, err := getWindow(ctx, key)
		if err != nil {
			return err.Error()
		}
		var cached golivev1alpha1.GoLiveWindow
		if err := reader.Get(ctx, key, &cached); err != nil {
			return err.Error()
		}
		if cached.ResourceVersion != latest.ResourceVersion {
			return fmt.Sprintf("cache at resourceVersion %s, API server at %s", cached.ResourceVersion, latest.ResourceVersion)
		}
		return ""
	})
}

// reconcileWindow calls the reconciler directly, as its controller would.
func reconcileWindow(t *testing.T, reconciler *GoLiveWindowReconciler, key types.NamespacedName) ctrl.Result {
	t.Helper()
	var result ctrl.Result
	// The manager runs the same reconciler: when both patch the window's
	// status at once, the later one's optimistic lock fails and it tries again,
	// as the manager would.
	eventually(t, func(ctx context.Context) string {
		var err error
		result, err = reconciler.Reconcile(ctx, ctrl.Request{NamespacedName: key})
		switch {
		case apierrors.IsConflict(err):
			return err.Error()
		case err != nil:
			t.Fatalf("Reconcile returned an error: %v", err)
		}
		return ""
	})
	return result
}

// waitForEvent waits for an Event about the window with the given type, reason and note.
func waitForEvent(t *testing.T, key types.NamespacedName, eventType, reason, note string) {
	t.Helper()
	eventually(t, func(ctx context.Context) string {
		var list eventsv1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace(key.Namespace)); err != nil {
			return err.Error()
		}
		var seen []string
		for _, event := range list.Items {
			if event.Regarding.Kind != "GoLiveWindow" || event.Regarding.Name != key.Name {
				continue
			}
			if event.Type == eventType && event.Reason == reason && event.Note == note {
				return ""
			}
			seen = append(seen, fmt.Sprintf("%s %s %q", event.Type, event.Reason, event.Note))
		}
		return fmt.Sprintf("no %s Event %s %q; seen %v", eventType, reason, note, seen)
	})
}

func TestWindowOpenNow(t *testing.T) {
	namespace := newNamespace(t)
	now := inBerlin(2026, time.July, 9, 21, 30)
	startWindowController(t, namespace, clocktesting.NewFakeClock(now))

	key := createWindow(t, makeWindow(namespace))

	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Open:               true,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Open until 2026-07-09T23:00:00+02:00"),
	})
	waitForEvent(t, key, corev1.EventTypeNormal, "WindowOpened", "Open until 2026-07-09T23:00:00+02:00")

	glw, err := getWindow(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got := meta.FindStatusCondition(glw.Status.Conditions, golivev1alpha1.ConditionReady).LastTransitionTime; !got.Time.Equal(now) {
		t.Errorf("Ready lastTransitionTime = %s, want the injected clock's %s", got.UTC(), now.UTC())
	}
}

func TestWindowClosedNow(t *testing.T) {
	namespace := newNamespace(t)
	startWindowController(t, namespace, clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0)))

	key := createWindow(t, makeWindow(namespace))

	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00"),
	})
}

// The controller asks to be woken exactly at the next opening or closing and
// not before; a fake clock cannot fire the workqueue's timer, so the test calls
// the reconciler as the timer would and checks what it asked for.
func TestWindowRequeuesForExactlyTheNextBoundary(t *testing.T) {
	namespace := newNamespace(t)
	fakeClock := clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0))
	reconciler := startWindowController(t, namespace, fakeClock)
	key := createWindow(t, makeWindow(namespace))
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00"),
	})

	steps := []struct {
		name         string
		now          time.Time
		requeueAfter time.Duration
		want         windowView
	}{{
		name:         "closed, waits for the opening",
		now:          inBerlin(2026, time.July, 8, 12, 0),
		requeueAfter: 32 * time.Hour,
		want: windowView{
			ObservedGeneration: 1,
			NextOpen:           "2026-07-09T20:00:00+02:00",
			NextClose:          "2026-07-09T23:00:00+02:00",
			Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00"),
		},
	}, {
		name:         "woken at the opening, waits for the close",
		now:          inBerlin(2026, time.July, 9, 20, 0),
		requeueAfter: 3 * time.Hour,
		want: windowView{
			ObservedGeneration: 1,
			Open:               true,
			NextOpen:           "2026-07-09T20:00:00+02:00",
			NextClose:          "2026-07-09T23:00:00+02:00",
			Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Open until 2026-07-09T23:00:00+02:00"),
		},
	}, {
		name:         "woken at the close, waits for next week",
		now:          inBerlin(2026, time.July, 9, 23, 0),
		requeueAfter: 7*24*time.Hour - 3*time.Hour,
		want: windowView{
			ObservedGeneration: 1,
			NextOpen:           "2026-07-16T20:00:00+02:00",
			NextClose:          "2026-07-16T23:00:00+02:00",
			Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-16T20:00:00+02:00"),
		},
	}, {
		// Summer time ends on 2026-10-25: a week of wall-clock time is 7d+1h elapsed.
		name:         "waits in elapsed time across the end of summer time",
		now:          inBerlin(2026, time.October, 22, 23, 0),
		requeueAfter: 7*24*time.Hour + time.Hour - 3*time.Hour,
		want: windowView{
			ObservedGeneration: 1,
			NextOpen:           "2026-10-29T20:00:00+01:00",
			NextClose:          "2026-10-29T23:00:00+01:00",
			Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-10-29T20:00:00+01:00"),
		},
	}}
	for _, step := range steps {
		waitForCache(t, reconciler.Client, key)
		fakeClock.SetTime(step.now)
		result := reconcileWindow(t, reconciler, key)
		if result.RequeueAfter != step.requeueAfter {
			t.Errorf("%s: RequeueAfter = %s, want %s", step.name, result.RequeueAfter, step.requeueAfter)
		}
		if problem := checkWindow(t.Context(), key, step.want); problem != "" {
			t.Errorf("%s: %s", step.name, problem)
		}
	}
}

// With the manager running, the status follows the clock whenever something
// wakes the controller: a request naming the window, or a change of its spec.
func TestWindowStatusFollowsTheClock(t *testing.T) {
	namespace := newNamespace(t)
	fakeClock := clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0))
	startWindowController(t, namespace, fakeClock)
	key := createWindow(t, makeWindow(namespace))
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00"),
	})

	fakeClock.SetTime(inBerlin(2026, time.July, 9, 20, 30))
	createRequest(t, makeRequest(namespace, "billing-2-4-0", windowName), golivev1alpha1.UpdateRequestStatus{})
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Open:               true,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Open until 2026-07-09T23:00:00+02:00"),
	})
	waitForEvent(t, key, corev1.EventTypeNormal, "WindowOpened", "Open until 2026-07-09T23:00:00+02:00")

	fakeClock.SetTime(inBerlin(2026, time.July, 9, 23, 0))
	glw, err := getWindow(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	base := glw.DeepCopy()
	glw.Spec.LeadTime = metav1.Duration{Duration: 24 * time.Hour}
	if err := env.Client.Patch(t.Context(), glw, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	waitForWindow(t, key, windowView{
		ObservedGeneration: 2,
		NextOpen:           "2026-07-16T20:00:00+02:00",
		NextClose:          "2026-07-16T23:00:00+02:00",
		Ready: &conditionView{
			Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonEvaluated,
			Message: "Closed; opens 2026-07-16T20:00:00+02:00", ObservedGeneration: 2,
		},
	})
	waitForEvent(t, key, corev1.EventTypeNormal, "WindowClosed", "Closed; opens 2026-07-16T20:00:00+02:00")
}

func TestWindowWithUnknownTimeZone(t *testing.T) {
	namespace := newNamespace(t)
	reconciler := startWindowController(t, namespace, clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0)))
	glw := makeWindow(namespace)
	glw.Spec.TimeZone = "Mars/Olympus"
	key := createWindow(t, glw)

	const message = `spec.timeZone: unknown time zone "Mars/Olympus"`
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Ready:              ready(metav1.ConditionFalse, golivev1alpha1.ReasonUnknownTimeZone, message),
		Stalled:            ready(metav1.ConditionTrue, golivev1alpha1.ReasonUnknownTimeZone, message),
	})
	waitForEvent(t, key, corev1.EventTypeWarning, golivev1alpha1.ReasonUnknownTimeZone, message)

	// Terminal: nothing to retry or wait for until the spec changes.
	waitForCache(t, reconciler.Client, key)
	if result := reconcileWindow(t, reconciler, key); result != (ctrl.Result{}) {
		t.Errorf("Reconcile returned %+v, want no requeue", result)
	}

	current, err := getWindow(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	base := current.DeepCopy()
	current.Spec.TimeZone = "Europe/Berlin"
	if err := env.Client.Patch(t.Context(), current, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	waitForWindow(t, key, windowView{
		ObservedGeneration: 2,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready: &conditionView{
			Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonEvaluated,
			Message: "Closed; opens 2026-07-09T20:00:00+02:00", ObservedGeneration: 2,
		},
	})
}

func TestWindowWithInvalidFreezeDate(t *testing.T) {
	namespace := newNamespace(t)
	startWindowController(t, namespace, clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0)))
	glw := makeWindow(namespace)
	// The CRD's pattern lets February 30th through; only the calendar knows.
	glw.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "month-end", Start: "2026-02-30T00:00", End: "2026-03-02T00:00"}}
	key := createWindow(t, glw)

	const message = `spec.freezes[0].start: "2026-02-30T00:00" is not a valid local date and time YYYY-MM-DDTHH:MM`
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Ready:              ready(metav1.ConditionFalse, golivev1alpha1.ReasonInvalidSpec, message),
		Stalled:            ready(metav1.ConditionTrue, golivev1alpha1.ReasonInvalidSpec, message),
	})
	waitForEvent(t, key, corev1.EventTypeWarning, golivev1alpha1.ReasonInvalidSpec, message)
}

func TestWindowThatNeverOpens(t *testing.T) {
	namespace := newNamespace(t)
	reconciler := startWindowController(t, namespace, clocktesting.NewFakeClock(inBerlin(2026, time.July, 8, 12, 0)))
	glw := makeWindow(namespace)
	// Longer than the two-year horizon from now.
	glw.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "forever", Start: "2026-01-01T00:00", End: "2030-01-01T00:00"}}
	key := createWindow(t, glw)

	const message = "The schedule and freezes leave no opening within 732 days"
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Ready:              ready(metav1.ConditionFalse, golivev1alpha1.ReasonNeverOpens, message),
		Stalled:            ready(metav1.ConditionTrue, golivev1alpha1.ReasonNeverOpens, message),
	})
	waitForEvent(t, key, corev1.EventTypeWarning, golivev1alpha1.ReasonNeverOpens, message)

	waitForCache(t, reconciler.Client, key)
	if result := reconcileWindow(t, reconciler, key); result != (ctrl.Result{}) {
		t.Errorf("Reconcile returned %+v, want no requeue: no boundary within the horizon", result)
	}
}

func TestWindowCountsActiveAndEmergencyUpdates(t *testing.T) {
	namespace := newNamespace(t)
	now := inBerlin(2026, time.July, 8, 12, 0)
	fakeClock := clocktesting.NewFakeClock(now)
	reconciler := startWindowController(t, namespace, fakeClock)
	glw := makeWindow(namespace)
	glw.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{
		Roles: []string{"cto"}, MaxPerPeriod: 2, Period: metav1.Duration{Duration: 720 * time.Hour},
	}
	key := createWindow(t, glw)

	startedAt := func(ago time.Duration) *golivev1alpha1.EnvironmentStatus {
		return &golivev1alpha1.EnvironmentStatus{StartedAt: &metav1.Time{Time: now.Add(-ago)}}
	}
	emergency := func(request *golivev1alpha1.UpdateRequest) *golivev1alpha1.UpdateRequest {
		request.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "Payment outage", Incident: "INC-4711"}
		return request
	}
	createRequest(t, makeRequest(namespace, "billing-2-4-0", windowName),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseUpdating, Production: startedAt(time.Hour)})
	createRequest(t, makeRequest(namespace, "billing-2-3-1", windowName),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseRollingBack, Production: startedAt(2 * time.Hour)})
	createRequest(t, makeRequest(namespace, "billing-2-5-0", windowName),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseAwaitingApproval})
	createRequest(t, makeRequest(namespace, "billing-2-2-0", windowName),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseAwaitingAcceptance, Production: startedAt(5 * time.Hour)})
	createRequest(t, makeRequest(namespace, "reports-1-0-0", "another-window"),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseVerifying, Production: startedAt(time.Hour)})
	// Counted until 1h from now, when it leaves the 720h period.
	createRequest(t, emergency(makeRequest(namespace, "hotfix-recent", windowName)),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseSucceeded, Production: startedAt(719 * time.Hour)})
	createRequest(t, emergency(makeRequest(namespace, "hotfix-old", windowName)),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseRolledBack, Production: startedAt(721 * time.Hour)})
	// Not started in production: nothing used yet.
	createRequest(t, emergency(makeRequest(namespace, "hotfix-waiting", windowName)),
		golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseAwaitingApproval})

	closed := func(emergencyUsed int32) windowView {
		return windowView{
			ObservedGeneration: 1,
			NextOpen:           "2026-07-09T20:00:00+02:00",
			NextClose:          "2026-07-09T23:00:00+02:00",
			ActiveUpdates:      []string{"billing-2-3-1", "billing-2-4-0"},
			EmergencyUsed:      emergencyUsed,
			Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Closed; opens 2026-07-09T20:00:00+02:00"),
		}
	}
	waitForWindow(t, key, closed(1))

	// The counted emergency leaves the period in 1h, before the window opens in 32h.
	var result ctrl.Result
	eventually(t, func(ctx context.Context) string { // until the cache has every request
		result = reconcileWindow(t, reconciler, key)
		if result.RequeueAfter != time.Hour {
			return fmt.Sprintf("RequeueAfter = %s, want 1h", result.RequeueAfter)
		}
		return ""
	})

	waitForCache(t, reconciler.Client, key)
	fakeClock.SetTime(now.Add(time.Hour))
	result = reconcileWindow(t, reconciler, key)
	if result.RequeueAfter != 31*time.Hour {
		t.Errorf("After the emergency left the period: RequeueAfter = %s, want 31h until the opening", result.RequeueAfter)
	}
	if problem := checkWindow(t.Context(), key, closed(0)); problem != "" {
		t.Error(problem)
	}
}

// countingStatusClient counts status patches, to show that a reconcile that
// changes nothing sends none: the API server would drop a no-op patch without
// a new resourceVersion, so the resourceVersion alone cannot tell.
type countingStatusClient struct {
	client.Client
	patches *atomic.Int32
}

func (c countingStatusClient) Status() client.SubResourceWriter {
	return countingStatusWriter{c.Client.Status(), c.patches}
}

type countingStatusWriter struct {
	client.SubResourceWriter
	patches *atomic.Int32
}

func (w countingStatusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	w.patches.Add(1)
	return w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func TestWindowSkipsPatchesThatChangeNothing(t *testing.T) {
	namespace := newNamespace(t)
	fakeClock := clocktesting.NewFakeClock(inBerlin(2026, time.July, 9, 21, 0))
	reconciler := startWindowController(t, namespace, fakeClock)
	key := createWindow(t, makeWindow(namespace))
	waitForWindow(t, key, windowView{
		ObservedGeneration: 1,
		Open:               true,
		NextOpen:           "2026-07-09T20:00:00+02:00",
		NextClose:          "2026-07-09T23:00:00+02:00",
		Ready:              ready(metav1.ConditionTrue, golivev1alpha1.ReasonEvaluated, "Open until 2026-07-09T23:00:00+02:00"),
	})
	waitForCache(t, reconciler.Client, key)
	before, err := getWindow(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}

	var patches atomic.Int32
	counting := *reconciler
	counting.Client = countingStatusClient{Client: reconciler.Client, patches: &patches}
	// Time passes within the opening: nothing the status shows changes.
	for _, now := range []time.Time{inBerlin(2026, time.July, 9, 21, 0), inBerlin(2026, time.July, 9, 22, 59)} {
		fakeClock.SetTime(now)
		reconcileWindow(t, &counting, key)
	}

	after, err := getWindow(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("resourceVersion changed from %s to %s", before.ResourceVersion, after.ResourceVersion)
	}
	if n := patches.Load(); n != 0 {
		t.Errorf("Sent %d status patches, want none", n)
	}
}

// A request's change wakes its window only when the window's status may change with it.
func TestChangesWindowUsage(t *testing.T) {
	started := metav1.NewTime(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC))
	request := func(phase golivev1alpha1.Phase, change func(*golivev1alpha1.UpdateRequest)) *golivev1alpha1.UpdateRequest {
		r := testfixtures.MakeUpdateRequest("billing", "r").Window("evenings").Phase(phase)
		if change != nil {
			r.Mutate(change)
		}
		return r.Obj()
	}
	withStart := func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: &started}
	}
	for _, tc := range []struct {
		name          string
		before, after *golivev1alpha1.UpdateRequest
		want          bool
	}{
		{"staging moves on", request(golivev1alpha1.PhaseStaging, nil), request(golivev1alpha1.PhaseVerifyingStaging, nil), false},
		{"approved and scheduled", request(golivev1alpha1.PhaseAwaitingApproval, nil), request(golivev1alpha1.PhaseScheduled, nil), false},
		{"production starts", request(golivev1alpha1.PhaseScheduled, nil), request(golivev1alpha1.PhaseBackingUp, withStart), true},
		{"production moves on", request(golivev1alpha1.PhaseUpdating, withStart), request(golivev1alpha1.PhaseVerifying, withStart), false},
		{"production ends, awaiting acceptance", request(golivev1alpha1.PhaseVerifying, withStart), request(golivev1alpha1.PhaseAwaitingAcceptance, withStart), true},
		{"rolled back", request(golivev1alpha1.PhaseRollingBack, withStart), request(golivev1alpha1.PhaseRolledBack, withStart), true},
		{"another window", request(golivev1alpha1.PhasePending, nil), request(golivev1alpha1.PhasePending, func(r *golivev1alpha1.UpdateRequest) { r.Spec.Window.Name = "nights" }), true},
		{"made an emergency", request(golivev1alpha1.PhasePending, nil), request(golivev1alpha1.PhasePending, func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "CVE"}
		}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := changesWindowUsage(tc.before, tc.after); got != tc.want {
				t.Errorf("changesWindowUsage = %v, want %v", got, tc.want)
			}
		})
	}
}

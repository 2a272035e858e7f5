package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
)

// receiver is a webhook on this machine that records the Generic notices it gets.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	notices []notify.Document
}

// newReceiver answers every notice with status, after wait returns (nil: at once).
func newReceiver(t *testing.T, status int, wait func(*http.Request)) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var document notify.Document
		if err == nil {
			err = json.Unmarshal(body, &document)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.notices = append(r.notices, document)
		r.mu.Unlock()
		if wait != nil {
			wait(req)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []notify.Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notices)
}

// withWebhooks posts the request's notices to urls, in the Generic format.
func withWebhooks(urls ...string) journeyOption {
	return withRequest(func(r *golivev1alpha1.UpdateRequest) {
		for _, url := range urls {
			r.Spec.Notify.Webhooks = append(r.Spec.Notify.Webhooks, golivev1alpha1.NotificationWebhook{URL: url, Format: golivev1alpha1.FormatGeneric})
		}
	})
}

// A release tells its webhook every phase change, in order, once, each at the
// time of its timeline entry, and the window's advance notice at its time.
func TestNoticesFollowTheTimeline(t *testing.T) {
	hook := newReceiver(t, http.StatusOK, nil)
	j := newJourney(t, withNotifierAndMetrics(notify.Options{}), withWebhooks(hook.URL), withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		weekdayEvenings(spec)
		spec.NotifyBefore = []golivev1alpha1.NoticeLead{{Duration: metav1.Duration{Duration: time.Hour}}}
	}))
	opening := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")

	// An hour before the opening, the notice; not a second earlier.
	j.stepClockTo(opening.Add(-time.Hour - time.Second))
	j.stepClockTo(opening.Add(-time.Hour))
	eventually(t, func(context.Context) string {
		if schedule := j.current().Status.Schedule; schedule == nil || schedule.NoticeSentAt == nil || !schedule.NoticeSentAt.Time.Equal(opening.Add(-time.Hour)) {
			return fmt.Sprintf("schedule = %+v, want the notice recorded at 19:00", schedule)
		}
		return ""
	})
	j.stepClockTo(opening)
	j.waitForImageAndRollOut(j.production, newImage)
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	// One notice per timeline entry, the advance notice between Approved and ProductionStarted.
	type notice struct {
		Reason, Phase, PreviousPhase string
		Time                         time.Time
		Outcome                      bool
	}
	var want []notice
	previous := ""
	for _, entry := range request.Status.Timeline {
		if entry.Event == "ProductionStarted" {
			want = append(want, notice{Reason: "GoLiveNotice", Phase: "Scheduled", Time: opening.Add(-time.Hour)})
		}
		want = append(want, notice{Reason: entry.Event, Phase: string(entry.Phase), PreviousPhase: previous, Time: entry.At.UTC(), Outcome: entry.Phase.IsTerminal()})
		previous = string(entry.Phase)
	}
	var got []notice
	eventually(t, func(context.Context) string {
		got = nil
		for _, document := range hook.received() {
			got = append(got, notice{Reason: document.Reason, Phase: document.Phase, PreviousPhase: document.PreviousPhase, Time: document.Time, Outcome: document.Outcome})
		}
		if len(got) < len(want) {
			return fmt.Sprintf("the webhook received %d notices, want %d", len(got), len(want))
		}
		return ""
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notices received (-want +got):\n%s", diff)
	}
	for _, document := range hook.received() {
		if document.Request.UID != request.UID || document.Release != "2.4.0" {
			t.Errorf("notice %s is about %+v, release %s", document.Reason, document.Request, document.Release)
		}
		if document.Reason == "GoLiveNotice" && (document.Message != `Release 2.4.0 goes live at 2026-11-23T20:00:00Z, in 1h (GoLiveWindow "always")` ||
			document.PlannedStart == nil || !document.PlannedStart.Equal(opening)) {
			t.Errorf("advance notice = %+v", document)
		}
	}
	if sent := testenv.CounterValue(t, j.metrics, "golive_notifications_sent_total", "format=Generic"); sent != float64(len(want)) {
		t.Errorf("golive_notifications_sent_total = %g, want %d", sent, len(want))
	}
}

// Webhooks that hang or fail never hold up a release: it reaches production
// on its usual course, and the failures show as Events and metrics.
func TestFailingWebhooksDoNotHoldUpTheRelease(t *testing.T) {
	released := make(chan struct{})
	hanging := newReceiver(t, http.StatusOK, func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-released:
		}
	})
	t.Cleanup(func() { close(released) })
	failing := newReceiver(t, http.StatusInternalServerError, nil)
	// Attempts long enough to stall the release for the rest of the test, were it waiting for them.
	j := newJourney(t, withNotifierAndMetrics(notify.Options{Timeout: time.Hour, Attempts: 2}), withWebhooks(hanging.URL, failing.URL))

	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	if n := len(hanging.received()); n != 1 {
		t.Errorf("the hanging webhook received %d notices, want the first only, still hanging", n)
	}
	eventually(t, func(ctx context.Context) string {
		if failed := testenv.CounterValue(t, j.metrics, "golive_notification_failures_total", "format=Generic", "reason="+notify.FailureServerError); failed == 0 {
			return "no notice counted as failed with a server error"
		}
		var list eventsv1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace(j.production)); err != nil {
			return err.Error()
		}
		for _, event := range list.Items {
			if event.Regarding.Name == j.request.Name && event.Reason == notify.ReasonNotificationFailed &&
				strings.Contains(event.Note, "spec.notify.webhooks[1]") && strings.Contains(event.Note, "after 2 attempts, answered 500 Internal Server Error") {
				return ""
			}
		}
		return "no NotificationFailed Event names the failing webhook"
	})
}

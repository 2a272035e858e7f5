package notify_test

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

	"github.com/prometheus/client_golang/prometheus"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
)

// env is the API server the Secrets are read from and the Events go to.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// newRecorder records Events to the test API server, as the manager's recorder does.
func newRecorder(t *testing.T) events.EventRecorder {
	t.Helper()
	clientset, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: clientset.EventsV1()})
	ctx, cancel := context.WithCancel(context.Background())
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		broadcaster.Shutdown()
	})
	return broadcaster.NewRecorder(env.Scheme, "golive")
}

// dispatcher is a running Dispatcher whose waits between attempts are
// recorded instead of slept, and its metrics.
type dispatcher struct {
	*notify.Dispatcher
	registry *prometheus.Registry

	mu     sync.Mutex
	sleeps []time.Duration
}

// startDispatcher starts a Dispatcher with options, filling in what is left
// out: Secrets read as the test API server's administrator, Events recorded
// to it, no real waits. It is stopped when the test ends.
func startDispatcher(t *testing.T, options notify.Options) *dispatcher {
	t.Helper()
	d := newDispatcher(t, options)
	startDispatcherOf(t, d)
	return d
}

// startDispatcherOf starts d, made by newDispatcher, until the test ends.
func startDispatcherOf(t *testing.T, d *dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- d.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("the dispatcher stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the dispatcher did not stop within 30s of its context's end")
		}
	})
}

// newDispatcher makes the Dispatcher of startDispatcher without starting it.
func newDispatcher(t *testing.T, options notify.Options) *dispatcher {
	t.Helper()
	d := &dispatcher{registry: prometheus.NewRegistry()}
	recorder := metrics.NewRecorder()
	if err := recorder.Register(d.registry); err != nil {
		t.Fatal(err)
	}
	options.Metrics = recorder
	if options.Reader == nil {
		options.Reader = env.Client
	}
	if options.Recorder == nil {
		options.Recorder = newRecorder(t)
	}
	if options.Sleep == nil {
		options.Sleep = func(ctx context.Context, wait time.Duration) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.sleeps = append(d.sleeps, wait)
			return ctx.Err()
		}
	}
	d.Dispatcher = notify.NewDispatcher(options)
	return d
}

func (d *dispatcher) waits() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sleeps)
}

// count is the value of the counter name with labels (name=value pairs, in order).
func (d *dispatcher) count(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testenv.CounterValue(t, d.registry, name, labels...)
}

// waitForCount waits until the counter name with labels reaches want.
func (d *dispatcher) waitForCount(t *testing.T, want float64, name string, labels ...string) {
	t.Helper()
	testenv.Eventually(t, func(context.Context) string {
		if got := d.count(t, name, labels...); got != want {
			return fmt.Sprintf("%s%v = %g, want %g", name, labels, got, want)
		}
		return ""
	})
}

// post is one request a hook received.
type post struct {
	header http.Header
	body   string
}

// hook is a webhook endpoint on this machine. It records each post and
// answers it with answer, given the number of the post (from 1) and the post.
type hook struct {
	*httptest.Server
	mu    sync.Mutex
	posts []post
}

func newHook(t *testing.T, answer func(n int, p post, w http.ResponseWriter, r *http.Request)) *hook {
	t.Helper()
	h := &hook{}
	h.Server = httptest.NewServer(h.handler(answer))
	t.Cleanup(h.Close)
	return h
}

// newTLSHook is a hook served over https, with a certificate that
// trustingClient trusts.
func newTLSHook(t *testing.T, answer func(n int, p post, w http.ResponseWriter, r *http.Request)) *hook {
	t.Helper()
	h := &hook{}
	h.Server = httptest.NewTLSServer(h.handler(answer))
	t.Cleanup(h.Close)
	return h
}

// trustingClient is a plain client that trusts the certificate of every
// newTLSHook: httptest serves them all with the same one.
func trustingClient(h *hook) *http.Client {
	return &http.Client{Transport: h.Client().Transport}
}

func (h *hook) handler(answer func(n int, p post, w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "want a POST with a body", http.StatusMethodNotAllowed)
			return
		}
		p := post{header: r.Header.Clone(), body: string(body)}
		h.mu.Lock()
		h.posts = append(h.posts, p)
		n := len(h.posts)
		h.mu.Unlock()
		answer(n, p, w, r)
	})
}

// answering answers the posts with statuses in turn, the last one to every later post.
func answering(statuses ...int) func(int, post, http.ResponseWriter, *http.Request) {
	return func(n int, _ post, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(statuses[min(n, len(statuses))-1])
	}
}

func (h *hook) received() []post {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.posts)
}

// waitForPosts waits until the hook received n posts.
func (h *hook) waitForPosts(t *testing.T, n int) []post {
	t.Helper()
	testenv.Eventually(t, func(context.Context) string {
		if got := len(h.received()); got != n {
			return fmt.Sprintf("the hook received %d posts, want %d", got, n)
		}
		return ""
	})
	return h.received()
}

// waitForWarning waits until the request of notice has a NotificationFailed
// Event whose note contains every one of texts.
func waitForWarning(t *testing.T, notice notify.Notice, texts ...string) {
	t.Helper()
	testenv.Eventually(t, func(ctx context.Context) string {
		var list eventsv1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace(notice.Namespace)); err != nil {
			return err.Error()
		}
		var notes []string
		for _, event := range list.Items {
			if event.Regarding.Name != notice.Name || event.Reason != notify.ReasonNotificationFailed || event.Type != "Warning" {
				continue
			}
			notes = append(notes, event.Note)
			if containsAll(event.Note, texts) {
				return ""
			}
		}
		return fmt.Sprintf("no Warning %s Event with %q among %q", notify.ReasonNotificationFailed, texts, notes)
	})
}

func containsAll(s string, texts []string) bool {
	for _, text := range texts {
		if !strings.Contains(s, text) {
			return false
		}
	}
	return true
}

func decodeJSON(text string, into any) error {
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.DisallowUnknownFields()
	return decoder.Decode(into)
}

// noWarningSays fails the test when a NotificationFailed Event on the
// request of notice says any of texts.
func noWarningSays(t *testing.T, notice notify.Notice, texts ...string) {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(t.Context(), &list, client.InNamespace(notice.Namespace)); err != nil {
		t.Fatal(err)
	}
	for _, event := range list.Items {
		if event.Regarding.Name != notice.Name || event.Reason != notify.ReasonNotificationFailed {
			continue
		}
		for _, text := range texts {
			if strings.Contains(event.Note, text) {
				t.Errorf("the Event %q says %q", event.Note, text)
			}
		}
	}
}

package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
)

const (
	sent   = "golive_notifications_sent_total"
	failed = "golive_notification_failures_total"
)

// fixedBackoff waits 1s, then 2s, 4s...: no jitter, so the waits can be compared.
var fixedBackoff = wait.Backoff{Duration: time.Second, Factor: 2}

func webhook(h *hook, format golivev1alpha1.NotificationFormat) []golivev1alpha1.NotificationWebhook {
	return []golivev1alpha1.NotificationWebhook{{URL: h.URL + "/services/T000/B000/a-token-in-the-path", Format: format}}
}

func hostOf(h *hook) string {
	parsed, _ := url.Parse(h.URL)
	return parsed.Host
}

func TestEachFormatIsPostedWithItsContentType(t *testing.T) {
	for _, format := range []golivev1alpha1.NotificationFormat{golivev1alpha1.FormatGeneric, golivev1alpha1.FormatSlack, golivev1alpha1.FormatCloudEvents} {
		t.Run(string(format), func(t *testing.T) {
			notice := succeeded(env.NewNamespace(t, "golive-notify-"))
			h := newHook(t, answering(http.StatusNoContent))
			d := startDispatcher(t, notify.Options{})
			d.Enqueue(t.Context(), notice, webhook(h, format))

			posts := h.waitForPosts(t, 1)
			body, contentType, err := notify.Encode(format, notice)
			if err != nil {
				t.Fatal(err)
			}
			if posts[0].body != string(body) {
				t.Errorf("body\n got %s\nwant %s", posts[0].body, body)
			}
			want := map[string]string{"Content-Type": contentType, "User-Agent": notify.UserAgent, "Authorization": "", notify.HeaderSignature: ""}
			for name, value := range want {
				if got := posts[0].header.Get(name); got != value {
					t.Errorf("header %s = %q, want %q", name, got, value)
				}
			}
			d.waitForCount(t, 1, sent, "format="+string(format))
		})
	}
}

// secret creates a Secret with one key in namespace.
func secret(t *testing.T, namespace, name, key, value string) {
	t.Helper()
	object := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string][]byte{key: []byte(value)}}
	if err := env.Client.Create(t.Context(), object); err != nil {
		t.Fatal(err)
	}
}

func TestBearerTokenFromTheSecret(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	// Written by `kubectl create secret --from-file`, with the file's newline.
	secret(t, notice.Namespace, "hook", "token", "s3cret-token\n")
	h := newTLSHook(t, func(_ int, p post, w http.ResponseWriter, _ *http.Request) {
		if p.header.Get("Authorization") != "Bearer s3cret-token" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	d := startDispatcher(t, notify.Options{HTTPClient: trustingClient(h)})
	hooks := webhook(h, golivev1alpha1.FormatSlack)
	hooks[0].SecretRef = &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}
	d.Enqueue(t.Context(), notice, hooks)

	d.waitForCount(t, 1, sent, "format=Slack")
	if posts := h.received(); len(posts) != 1 || posts[0].header.Get(notify.HeaderSignature) != "" {
		t.Errorf("posts = %+v, want one, unsigned", posts)
	}
}

func TestCloudEventsAreSignedWithTheSecretKey(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	key := "a signing key shared with the receiver"
	secret(t, notice.Namespace, "signing", "key", key)
	// The receiver checks the signature as docs/notifications.md tells it to.
	h := newTLSHook(t, func(_ int, p post, w http.ResponseWriter, _ *http.Request) {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(p.body))
		if !hmac.Equal([]byte(p.header.Get("X-Golive-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	d := startDispatcher(t, notify.Options{HTTPClient: trustingClient(h)})
	hooks := webhook(h, golivev1alpha1.FormatCloudEvents)
	hooks[0].SecretRef = &golivev1alpha1.SecretKeySelector{Name: "signing", Key: "key"}
	d.Enqueue(t.Context(), notice, hooks)

	d.waitForCount(t, 1, sent, "format=CloudEvents")
	if posts := h.received(); len(posts) != 1 || posts[0].header.Get("Authorization") != "" {
		t.Errorf("posts = %+v, want one without a bearer token", posts)
	}
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, answering(http.StatusInternalServerError, http.StatusBadGateway, http.StatusOK))
	d := startDispatcher(t, notify.Options{Backoff: fixedBackoff})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))

	d.waitForCount(t, 1, sent, "format=Generic")
	posts := h.received()
	if len(posts) != 3 || posts[0].body != posts[2].body {
		t.Errorf("the hook received %d posts, want 3 of the same notice", len(posts))
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, d.waits()); diff != "" {
		t.Errorf("waits between attempts (-want +got):\n%s", diff)
	}
	if got := d.count(t, failed, "format=Generic", "reason="+notify.FailureServerError); got != 0 {
		t.Errorf("a delivered notice counted %g failures", got)
	}
}

func TestDeliveryGivesUpAfterTheLastAttempt(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, answering(http.StatusServiceUnavailable))
	d := startDispatcher(t, notify.Options{Backoff: fixedBackoff, Attempts: 3})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatSlack))

	d.waitForCount(t, 1, failed, "format=Slack", "reason="+notify.FailureServerError)
	waitForWarning(t, notice, "Notice Succeeded not sent to spec.notify.webhooks[0] ("+hostOf(h)+"): after 3 attempts, answered 503 Service Unavailable")
	if n := len(h.received()); n != 3 {
		t.Errorf("the hook received %d posts, want 3 attempts", n)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, d.waits()); diff != "" {
		t.Errorf("waits between attempts (-want +got):\n%s", diff)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, func(_ int, _ post, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
	})
	d := startDispatcher(t, notify.Options{Backoff: fixedBackoff})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatSlack))

	d.waitForCount(t, 1, failed, "format=Slack", "reason="+notify.FailureRejected)
	// The note names the host but never the URL's path, which holds Slack's
	// token, nor what the webhook answered beyond its status code.
	waitForWarning(t, notice, "not sent to spec.notify.webhooks[0] ("+hostOf(h)+"): answered 400 Bad Request")
	noWarningSays(t, notice, "invalid_payload")
	if n, waits := len(h.received()), d.waits(); n != 1 || len(waits) != 0 {
		t.Errorf("the hook received %d posts after %v waits, want one post", n, waits)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	elsewhere := newHook(t, answering(http.StatusOK))
	h := newHook(t, func(_ int, _ post, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	})
	d := startDispatcher(t, notify.Options{})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))

	d.waitForCount(t, 1, failed, "format=Generic", "reason="+notify.FailureRejected)
	if n := len(elsewhere.received()); n != 0 {
		t.Errorf("the redirect was followed: the other server received %d posts", n)
	}
}

func TestRetryAfterIsHonouredWithinItsBound(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		retryAfter string
		want       time.Duration
	}{
		"seconds":                      {retryAfter: "7", want: 7 * time.Second},
		"an HTTP date":                 {retryAfter: now.Add(20 * time.Second).Format(http.TimeFormat), want: 20 * time.Second},
		"beyond the bound":             {retryAfter: "3600", want: time.Minute},
		"shorter than the backoff":     {retryAfter: "0", want: time.Second},
		"unreadable, the backoff wins": {retryAfter: "soon", want: time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			notice := succeeded(env.NewNamespace(t, "golive-notify-"))
			h := newHook(t, func(n int, _ post, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tc.retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
				}
			})
			d := startDispatcher(t, notify.Options{Backoff: fixedBackoff, Clock: clocktesting.NewFakeClock(now)})
			d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))

			d.waitForCount(t, 1, sent, "format=Generic")
			if diff := cmp.Diff([]time.Duration{tc.want}, d.waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAHangingWebhookIsBoundedByTheTimeout(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, func(_ int, _ post, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	d := startDispatcher(t, notify.Options{Timeout: 200 * time.Millisecond, Attempts: 2, Backoff: fixedBackoff})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatCloudEvents))

	d.waitForCount(t, 1, failed, "format=CloudEvents", "reason="+notify.FailureTimeout)
	waitForWarning(t, notice, "after 2 attempts, timed out after 200ms")
}

func TestAnUnreachableWebhookFailsAsANetworkError(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, answering(http.StatusOK))
	h.Close()
	d := startDispatcher(t, notify.Options{Attempts: 2, Backoff: fixedBackoff})
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))

	d.waitForCount(t, 1, failed, "format=Generic", "reason="+notify.FailureNetwork)
	// Never the network error or the port's state: golive is no port scanner.
	waitForWarning(t, notice, "after 2 attempts, unreachable")
	noWarningSays(t, notice, "connection refused", "dial", "connect")
}

func TestAFullQueueDropsWithoutBlocking(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, answering(http.StatusOK))
	// Not started: nothing drains the queue of two.
	d := newDispatcher(t, notify.Options{QueueSize: 2, Workers: 1})
	hooks := slices.Repeat(webhook(h, golivev1alpha1.FormatSlack), 5)
	enqueued := make(chan struct{})
	go func() {
		d.Enqueue(context.Background(), notice, hooks)
		close(enqueued)
	}()
	select {
	case <-enqueued:
	case <-time.After(10 * time.Second):
		t.Fatal("Enqueue blocked on a full queue")
	}
	if got := d.count(t, failed, "format=Slack", "reason="+notify.FailureQueueFull); got != 3 {
		t.Errorf("%g notices counted as dropped, want 3", got)
	}
	// Kubernetes folds the three into one Event (a series), the note of whichever came first.
	waitForWarning(t, notice, "not sent to spec.notify.webhooks[", "the notification queue is full")
}

func TestNoticesToOneWebhookArriveInOrder(t *testing.T) {
	namespace := env.NewNamespace(t, "golive-notify-")
	h := newHook(t, answering(http.StatusOK))
	d := startDispatcher(t, notify.Options{Workers: 4})
	var want []string
	for i := range 20 {
		notice := succeeded(namespace)
		notice.Reason = fmt.Sprintf("Step%02d", i)
		notice.Time = notice.Time.Add(time.Duration(i) * time.Second)
		want = append(want, notice.ID())
		d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))
	}
	var got []string
	for _, p := range h.waitForPosts(t, 20) {
		var document notify.Document
		if err := decodeJSON(p.body, &document); err != nil {
			t.Fatal(err)
		}
		got = append(got, document.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notices in the order received (-want +got):\n%s", diff)
	}
}

func TestStopsWhenItsContextEnds(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := newHook(t, func(_ int, _ post, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	d := newDispatcher(t, notify.Options{Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- d.Start(ctx) }()
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))
	d.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))
	h.waitForPosts(t, 1)

	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Start returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dispatcher did not stop within 10s of its context's end while a webhook hangs")
	}
	// The attempt in flight was cancelled and the queued notice lost: neither is retried nor counted.
	if n, waits := len(h.received()), d.waits(); n != 1 || len(waits) != 0 {
		t.Errorf("after the stop: %d posts, waits %v", n, waits)
	}
	if got := d.count(t, failed, "format=Generic", "reason="+notify.FailureNetwork); got != 0 {
		t.Errorf("a notice dropped at the stop counted as failed")
	}
}

// A webhook that hangs, even one shared by many requests, holds up only the
// notices to its URL, not another webhook's.
func TestAHangingWebhookHoldsUpOnlyItsOwnNotices(t *testing.T) {
	namespace := env.NewNamespace(t, "golive-notify-")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hanging := newHook(t, func(_ int, _ post, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	answering := newHook(t, answering(http.StatusOK))
	d := startDispatcher(t, notify.Options{Workers: 2, WorkersPerNamespace: 2, Timeout: time.Hour})
	for i := range 10 {
		notice := succeeded(namespace)
		notice.UID = types.UID(fmt.Sprintf("request-%d", i))
		d.Enqueue(t.Context(), notice, append(webhook(hanging, golivev1alpha1.FormatGeneric), webhook(answering, golivev1alpha1.FormatGeneric)...))
	}
	answering.waitForPosts(t, 10)
	// One worker waits for the hanging webhook, which got one notice; the other posted the rest.
	if n := len(hanging.received()); n != 1 {
		t.Errorf("the hanging webhook received %d notices, want 1", n)
	}
}

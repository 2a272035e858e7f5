package notify_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/egress"
	"github.com/golive-dev/golive/internal/notify"
)

func policyClient(t *testing.T, allow ...string) *http.Client {
	t.Helper()
	policy, err := egress.Parse(allow)
	if err != nil {
		t.Fatal(err)
	}
	return policy.Client()
}

// Admission refuses a secretRef with an http URL; a request stored before
// it did is caught when sending: the token never travels in clear.
func TestASecretIsNotSentOverPlainHTTP(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	secret(t, notice.Namespace, "hook", "token", "s3cret-token")
	h := newHook(t, answering(http.StatusOK))
	d := startDispatcher(t, notify.Options{Backoff: fixedBackoff})
	hooks := webhook(h, golivev1alpha1.FormatGeneric)
	hooks[0].SecretRef = &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}
	d.Enqueue(t.Context(), notice, hooks)

	d.waitForCount(t, 1, failed, "format=Generic", "reason="+notify.FailureInsecure)
	waitForWarning(t, notice, "not sent to spec.notify.webhooks[0] ("+hostOf(h)+"): golive sends the key of secretRef over https only")
	if n, waits := len(h.received()), d.waits(); n != 0 || len(waits) != 0 {
		t.Errorf("%d posts, waits %v; want neither", n, waits)
	}
}

func TestTheEgressPolicyRefusesTheLoopbackUnlessListed(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	h := newHook(t, answering(http.StatusOK)) // on 127.0.0.1

	refusing := startDispatcher(t, notify.Options{HTTPClient: policyClient(t), Backoff: fixedBackoff})
	refusing.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))
	refusing.waitForCount(t, 1, failed, "format=Generic", "reason="+notify.FailureEgressRefused)
	waitForWarning(t, notice, "not sent to spec.notify.webhooks[0] ("+hostOf(h)+"): refused by golive's egress policy")
	noWarningSays(t, notice, "dial", "connect")
	if n, waits := len(h.received()), refusing.waits(); n != 0 || len(waits) != 0 {
		t.Errorf("%d posts, waits %v; want neither: the policy will not change before golive restarts", n, waits)
	}

	allowing := startDispatcher(t, notify.Options{HTTPClient: policyClient(t, "127.0.0.1/32")})
	allowing.Enqueue(t.Context(), notice, webhook(h, golivev1alpha1.FormatGeneric))
	allowing.waitForCount(t, 1, sent, "format=Generic")
}

// One namespace's webhooks that hang (a request author's, or an attacker's)
// take at most WorkersPerNamespace workers: another namespace's notices go
// out while they hang.
func TestAHangingNamespaceDoesNotHoldUpAnother(t *testing.T) {
	hangingNamespace, otherNamespace := env.NewNamespace(t, "golive-notify-"), env.NewNamespace(t, "golive-notify-")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var hanging, mostHanging atomic.Int32
	hangs := newHook(t, func(_ int, _ post, _ http.ResponseWriter, r *http.Request) {
		now := hanging.Add(1)
		defer hanging.Add(-1)
		for {
			most := mostHanging.Load()
			if now <= most || mostHanging.CompareAndSwap(most, now) {
				break
			}
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	answers := newHook(t, answering(http.StatusOK))
	// Hanging for an hour: only fairness, not the timeout, lets the other namespace through.
	d := startDispatcher(t, notify.Options{Workers: 4, Timeout: time.Hour})
	for i := range 20 {
		notice := succeeded(hangingNamespace)
		notice.UID = types.UID(fmt.Sprintf("request-%d", i))
		// Twenty URLs: twenty keys, each of which may take a worker.
		d.Enqueue(t.Context(), notice, []golivev1alpha1.NotificationWebhook{{URL: fmt.Sprintf("%s/hook-%d", hangs.URL, i)}})
	}
	hangs.waitForPosts(t, 3)

	d.Enqueue(t.Context(), succeeded(otherNamespace), webhook(answers, golivev1alpha1.FormatGeneric))
	answers.waitForPosts(t, 1)
	if most := mostHanging.Load(); most > 3 {
		t.Errorf("%d posts of one namespace hung at once, want at most 3 (all workers but one)", most)
	}
}

// When the queue is full, the namespace holding the most of it loses its
// newest notice, not the namespace that comes with its first.
func TestAFullQueueDropsFromTheNamespaceWithTheMost(t *testing.T) {
	busy, quiet := succeeded(env.NewNamespace(t, "golive-notify-")), succeeded(env.NewNamespace(t, "golive-notify-"))
	busyHook, quietHook := newHook(t, answering(http.StatusOK)), newHook(t, answering(http.StatusOK))
	// Not started yet: nothing drains the queue of four.
	d := newDispatcher(t, notify.Options{QueueSize: 4})
	for i := range 4 {
		notice := busy
		notice.Reason = fmt.Sprintf("Step%d", i)
		d.Enqueue(t.Context(), notice, webhook(busyHook, golivev1alpha1.FormatGeneric))
	}
	d.Enqueue(t.Context(), quiet, webhook(quietHook, golivev1alpha1.FormatGeneric))
	if got := d.count(t, failed, "format=Generic", "reason="+notify.FailureQueueFull); got != 1 {
		t.Errorf("%g notices dropped, want 1", got)
	}
	waitForWarning(t, busy, "Notice Step3 not sent", "the notification queue is full")

	startDispatcherOf(t, d)
	quietHook.waitForPosts(t, 1)
	var reasons []string
	for _, p := range busyHook.waitForPosts(t, 3) {
		var document notify.Document
		if err := decodeJSON(p.body, &document); err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, document.Reason)
	}
	if got := strings.Join(reasons, ","); got != "Step0,Step1,Step2" {
		t.Errorf("the busy namespace's notices received: %s, want Step0,Step1,Step2", got)
	}
}

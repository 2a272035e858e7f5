package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// ReasonNotificationFailed is the Warning Event on a request whose notice a
// webhook did not get.
const ReasonNotificationFailed = golivev1alpha1.ReasonNotificationFailed

// HeaderSignature carries a CloudEvent's signature: "sha256=" and the
// lowercase hex HMAC-SHA256 of the body under the key of spec.notify.webhooks[].secretRef.
const HeaderSignature = "X-Golive-Signature"

// UserAgent is the User-Agent of the posts.
const UserAgent = "golive-notify"

// Why a notice was not delivered: the reason label of
// golive_notification_failures_total, from the last attempt.
const (
	// FailureQueueFull: the queue was full; the notice was dropped unsent.
	FailureQueueFull = "QueueFull"
	// FailureSecretForbidden: golive may not get the webhook's Secret.
	FailureSecretForbidden = "SecretForbidden"
	// FailureSecretNotFound: the webhook's Secret does not exist.
	FailureSecretNotFound = "SecretNotFound"
	// FailureSecretKeyMissing: the webhook's Secret lacks the key, or it is empty.
	FailureSecretKeyMissing = "SecretKeyMissing"
	// FailureSecretUnavailable: the API server did not answer the Secret's get.
	FailureSecretUnavailable = "SecretUnavailable"
	// FailureRejected: the webhook answered 3xx or 4xx (but 429); not retried.
	FailureRejected = "Rejected"
	// FailureThrottled: the webhook answered 429 Too Many Requests to the last attempt.
	FailureThrottled = "Throttled"
	// FailureServerError: the webhook answered 5xx to the last attempt.
	FailureServerError = "ServerError"
	// FailureTimeout: the webhook did not answer the last attempt within the timeout.
	FailureTimeout = "Timeout"
	// FailureNetwork: the last attempt did not reach the webhook (DNS, connection, TLS).
	FailureNetwork = "NetworkError"
	// FailureInvalid: the notice could not be made into a request.
	FailureInvalid = "Invalid"
)

// Metrics counts notices sent and failed; *metrics.Recorder is one.
type Metrics interface {
	NotificationSent(format golivev1alpha1.NotificationFormat)
	NotificationFailed(format golivev1alpha1.NotificationFormat, reason string)
}

// Options configure a Dispatcher. Zero fields take the defaults.
type Options struct {
	// Reader gets the webhooks' Secrets: the manager's APIReader, so that
	// golive gets the one Secret a team granted it, with no list or watch.
	Reader client.Reader
	// Recorder records a Warning Event on the request of a notice not delivered.
	Recorder events.EventRecorder
	// Metrics counts notices sent and failed.
	Metrics Metrics
	// HTTPClient posts the notices; it must carry no credentials. Redirects
	// are never followed. Default: a client with the default transport.
	HTTPClient *http.Client
	// Workers post in parallel; the notices to one URL are posted one after
	// another, in order. Default 4.
	Workers int
	// QueueSize bounds the notices waiting; a notice beyond it is dropped. Default 256.
	QueueSize int
	// Timeout bounds each attempt, the Secret's get included. Default 5s.
	Timeout time.Duration
	// Attempts bounds the attempts per notice. Default 5.
	Attempts int
	// Backoff spaces the attempts. Default: 1s, doubling, 50% jitter, at most 30s.
	Backoff wait.Backoff
	// MaxRetryAfter bounds the wait a Retry-After header asks for. Default 1m.
	MaxRetryAfter time.Duration
	// Clock dates Retry-After and times the waits. Default: the real clock.
	Clock clock.Clock
	// Sleep waits d between attempts, or until ctx ends (then it returns
	// ctx's error). Default: a timer of Clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Dispatcher posts notices to webhooks from a bounded queue. It is a
// manager.Runnable that runs on the leader only.
type Dispatcher struct {
	options Options
	client  *http.Client

	mu sync.Mutex
	// waiting holds the notices not yet taken by a worker, in order, by
	// URL; queued counts them.
	waiting map[string][]delivery
	queued  int
	// posting holds the keys of waiting whose notice a worker is posting.
	posting map[string]bool
	// ready lists the keys with notices waiting that no worker is posting,
	// each once, so that a webhook that hangs holds up its own notices and
	// one worker only.
	ready chan string
}

// delivery is one notice for one webhook.
type delivery struct {
	notice  Notice
	webhook golivev1alpha1.NotificationWebhook
	index   int
}

func (item delivery) format() golivev1alpha1.NotificationFormat {
	if item.webhook.Format == "" {
		return golivev1alpha1.FormatGeneric
	}
	return item.webhook.Format
}

// name says which webhook, without its path or query, which may hold a token.
func (item delivery) name() string {
	host := "an invalid URL"
	if parsed, err := url.Parse(item.webhook.URL); err == nil {
		host = parsed.Host
	}
	return fmt.Sprintf("spec.notify.webhooks[%d] (%s)", item.index, host)
}

// regarding refers to the request for its Events.
func (item delivery) regarding() *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest",
		Namespace: item.notice.Namespace, Name: item.notice.Name, UID: item.notice.UID}
}

// failure says why an attempt failed and whether another may succeed.
type failure struct {
	reason  string
	message string
	retry   bool
	// retryAfter is the wait the webhook asked for.
	retryAfter time.Duration
	// action is the step that failed, the Event's action: Kubernetes folds
	// Events of one action (and related object) into a series, so that a
	// failure repeated counts up instead of adding Events.
	action string
	// related is the Secret a failure to read one is about.
	related *corev1.ObjectReference
}

// The steps of a delivery, as Event actions.
const (
	actionEnqueue    = "Enqueue"
	actionReadSecret = "ReadSecret"
	actionPost       = "Post"
)

// NewDispatcher makes a Dispatcher; add it to the manager, which starts it.
func NewDispatcher(options Options) *Dispatcher {
	if options.Workers <= 0 {
		options.Workers = 4
	}
	if options.QueueSize <= 0 {
		options.QueueSize = 256
	}
	if options.Timeout <= 0 {
		options.Timeout = 5 * time.Second
	}
	if options.Attempts <= 0 {
		options.Attempts = 5
	}
	if options.Backoff.Duration <= 0 {
		options.Backoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.5, Cap: 30 * time.Second}
	}
	if options.Backoff.Steps <= 0 {
		options.Backoff.Steps = options.Attempts
	}
	if options.MaxRetryAfter <= 0 {
		options.MaxRetryAfter = time.Minute
	}
	if options.Clock == nil {
		options.Clock = clock.RealClock{}
	}
	if options.Sleep == nil {
		options.Sleep = func(ctx context.Context, d time.Duration) error {
			timer := options.Clock.NewTimer(d)
			defer timer.Stop()
			select {
			case <-timer.C():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	httpClient := &http.Client{}
	if options.HTTPClient != nil {
		copied := *options.HTTPClient
		httpClient = &copied
	}
	// A redirect would carry the notice, and its credentials, somewhere the request did not name.
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Dispatcher{options: options, client: httpClient,
		waiting: map[string][]delivery{}, posting: map[string]bool{},
		// Never full: a key is listed at most once, and only while a notice of it waits.
		ready: make(chan string, options.QueueSize)}
}

// NeedLeaderElection makes the Dispatcher run on the leader only, where the
// reconcilers that enqueue run.
func (d *Dispatcher) NeedLeaderElection() bool { return true }

// Enqueue queues notice for each of webhooks and returns at once: a notice
// that finds the queue full is dropped, counted and logged.
func (d *Dispatcher) Enqueue(ctx context.Context, notice Notice, webhooks []golivev1alpha1.NotificationWebhook) {
	for i, webhook := range webhooks {
		item := delivery{notice: notice, webhook: webhook, index: i}
		if !d.queue(item) {
			d.failed(log.FromContext(ctx), item, &failure{reason: FailureQueueFull, message: "the notification queue is full", action: actionEnqueue}, 0)
		}
	}
}

// key groups the notices posted one after another: those to one URL. A
// request's notices arrive in order, and an endpoint shared by many requests
// gets one post at a time (and ties up one worker when it hangs).
func (item delivery) key() string {
	return item.webhook.URL
}

// queue adds item behind the notices of its key; false when the queue is full.
func (d *Dispatcher) queue(item delivery) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queued >= d.options.QueueSize {
		return false
	}
	key := item.key()
	if len(d.waiting[key]) == 0 && !d.posting[key] {
		d.ready <- key
	}
	d.waiting[key] = append(d.waiting[key], item)
	d.queued++
	return true
}

// take hands the next notice of key to the worker that calls it.
func (d *Dispatcher) take(key string) delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	item := d.waiting[key][0]
	if len(d.waiting[key]) == 1 {
		delete(d.waiting, key)
	} else {
		d.waiting[key] = d.waiting[key][1:]
	}
	d.queued--
	d.posting[key] = true
	return item
}

// done lets the next notice of key be taken.
func (d *Dispatcher) done(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.posting, key)
	if len(d.waiting[key]) > 0 {
		d.ready <- key
	}
}

// Start posts the queued notices until ctx ends; the attempt in flight is
// cancelled and the notices still queued are lost.
func (d *Dispatcher) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("notify")
	var workers sync.WaitGroup
	for range d.options.Workers {
		workers.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case key := <-d.ready:
					d.deliver(ctx, logger, d.take(key))
					d.done(key)
				}
			}
		})
	}
	<-ctx.Done()
	workers.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	logger.Info("Stopped sending notices", "dropped", d.queued)
	return nil
}

// deliver posts one notice to one webhook, retrying what may succeed later.
func (d *Dispatcher) deliver(ctx context.Context, logger logr.Logger, item delivery) {
	logger = logger.WithValues("request", item.notice.Namespace+"/"+item.notice.Name, "notice", item.notice.Reason, "webhook", item.name())
	format := item.format()
	body, contentType, err := Encode(format, item.notice)
	if err != nil {
		d.failed(logger, item, &failure{reason: FailureInvalid, message: err.Error(), action: actionPost}, 0)
		return
	}
	backoff := d.options.Backoff
	for attempt := 1; ; attempt++ {
		f := d.attempt(ctx, item, body, contentType)
		if f == nil {
			if d.options.Metrics != nil {
				d.options.Metrics.NotificationSent(format)
			}
			logger.V(1).Info("Sent a notice", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			logger.Info("Dropped a notice: golive is stopping")
			return
		}
		if !f.retry || attempt >= d.options.Attempts {
			d.failed(logger, item, f, attempt)
			return
		}
		delay := backoff.Step()
		if f.retryAfter > 0 {
			delay = max(delay, min(f.retryAfter, d.options.MaxRetryAfter))
		}
		logger.V(1).Info("Retrying a notice", "attempt", attempt, "after", delay, "reason", f.reason, "error", f.message)
		if err := d.options.Sleep(ctx, delay); err != nil {
			logger.Info("Dropped a notice: golive is stopping")
			return
		}
	}
}

// attempt posts the notice once, within the timeout.
func (d *Dispatcher) attempt(ctx context.Context, item delivery, body []byte, contentType string) *failure {
	ctx, cancel := context.WithTimeout(ctx, d.options.Timeout)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, item.webhook.URL, bytes.NewReader(body))
	if err != nil {
		return &failure{reason: FailureInvalid, message: withoutURL(err), action: actionPost}
	}
	request.Header.Set("Content-Type", contentType)
	request.Header.Set("User-Agent", UserAgent)
	if ref := item.webhook.SecretRef; ref != nil {
		key, f := d.secretKey(ctx, item.notice.Namespace, ref)
		if f != nil {
			f.action, f.related = actionReadSecret, &corev1.ObjectReference{APIVersion: "v1", Kind: "Secret", Namespace: item.notice.Namespace, Name: ref.Name}
			return f
		}
		if item.format() == golivev1alpha1.FormatCloudEvents {
			request.Header.Set(HeaderSignature, Signature(key, body))
		} else {
			request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
		}
	}
	f := d.post(request)
	if f != nil {
		f.action = actionPost
	}
	return f
}

// post sends request and reads the answer.
func (d *Dispatcher) post(request *http.Request) *failure {
	response, err := d.client.Do(request)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &failure{reason: FailureTimeout, retry: true, message: fmt.Sprintf("no answer within %s", d.options.Timeout)}
		}
		return &failure{reason: FailureNetwork, retry: true, message: withoutURL(err)}
	}
	defer response.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(response.Body, 128))
	// Read the rest (bounded) so the connection can be used again.
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, 64<<10))
	status := response.Status
	if text := strings.TrimSpace(strings.ToValidUTF8(string(excerpt), "")); text != "" {
		status += ": " + text
	}
	switch code := response.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests:
		return &failure{reason: FailureThrottled, retry: true, message: "answered " + status, retryAfter: d.retryAfter(response)}
	case code >= 500:
		return &failure{reason: FailureServerError, retry: true, message: "answered " + status, retryAfter: d.retryAfter(response)}
	case code >= 300 && code < 400:
		return &failure{reason: FailureRejected, message: "answered " + status + "; golive does not follow redirects"}
	}
	return &failure{reason: FailureRejected, message: "answered " + status}
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func (d *Dispatcher) retryAfter(response *http.Response) time.Duration {
	value := response.Header.Get("Retry-After")
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(value); err == nil {
		return max(time.Duration(seconds)*time.Second, 0)
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(d.options.Clock.Now()), 0)
	}
	return 0
}

// secretKey gets the key of ref from its Secret in namespace, with a direct
// get: golive reads no other Secret of the namespace.
func (d *Dispatcher) secretKey(ctx context.Context, namespace string, ref *golivev1alpha1.SecretKeySelector) ([]byte, *failure) {
	if d.options.Reader == nil {
		return nil, &failure{reason: FailureSecretUnavailable, message: "this golive reads no Secrets"}
	}
	var secret corev1.Secret
	err := d.options.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &secret)
	switch {
	case apierrors.IsForbidden(err):
		return nil, &failure{reason: FailureSecretForbidden, message: fmt.Sprintf(
			"golive may not read Secret %s/%s: grant its ServiceAccount get on secrets with resourceNames [%s] in namespace %s, "+
				"with a Role and a RoleBinding as docs/notifications.md shows (%v)", namespace, ref.Name, ref.Name, namespace, err)}
	case apierrors.IsNotFound(err):
		return nil, &failure{reason: FailureSecretNotFound, message: fmt.Sprintf("Secret %s/%s, named by secretRef, does not exist", namespace, ref.Name)}
	case err != nil:
		return nil, &failure{reason: FailureSecretUnavailable, retry: true, message: fmt.Sprintf("getting Secret %s/%s: %v", namespace, ref.Name, err)}
	}
	key := secret.Data[ref.Key]
	if len(key) == 0 {
		return nil, &failure{reason: FailureSecretKeyMissing, message: fmt.Sprintf("Secret %s/%s has no key %q, or it is empty", namespace, ref.Name, ref.Key)}
	}
	return key, nil
}

// failed counts, logs and records as a Warning Event on the request a notice not delivered.
func (d *Dispatcher) failed(logger logr.Logger, item delivery, f *failure, attempts int) {
	if d.options.Metrics != nil {
		d.options.Metrics.NotificationFailed(item.format(), f.reason)
	}
	message := f.message
	if attempts > 1 {
		message = fmt.Sprintf("after %d attempts, %s", attempts, message)
	}
	logger.Error(errors.New(message), "Failed to send a notice", "reason", f.reason)
	if d.options.Recorder != nil {
		var related runtime.Object
		if f.related != nil {
			related = f.related
		}
		d.options.Recorder.Eventf(item.regarding(), related, corev1.EventTypeWarning, ReasonNotificationFailed, f.action,
			"Notice %s not sent to %s: %s", item.notice.Reason, item.name(), message)
	}
}

// Signature is the value of HeaderSignature for body under key.
func Signature(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// withoutURL drops the URL from an HTTP client's error: its path or query may hold a token.
func withoutURL(err error) string {
	var urlError *url.Error
	if errors.As(err, &urlError) {
		return urlError.Op + ": " + urlError.Err.Error()
	}
	return err.Error()
}

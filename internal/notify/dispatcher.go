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
	"slices"
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
	"github.com/golive-dev/golive/internal/egress"
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
	// FailureInsecure: the webhook has a secretRef and an http URL; its key is
	// sent over https only. Not retried.
	FailureInsecure = "Insecure"
	// FailureEgressRefused: golive's egress policy (--egress-allow) refuses the
	// webhook's address. Not retried.
	FailureEgressRefused = "EgressRefused"
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
	// HTTPClient posts the notices; it must carry no credentials, and it
	// should be an egress.Policy's client: request authors choose the URLs.
	// Redirects are never followed. Default: a client with the default transport.
	HTTPClient *http.Client
	// Workers post in parallel; the notices of one namespace to one URL are
	// posted one after another, in order. The namespaces with notices waiting
	// take turns. Default 4.
	Workers int
	// WorkersPerNamespace bounds the workers posting one namespace's notices
	// at once, so that a namespace whose webhooks hang holds up at most that
	// many. Default: all workers but one, at least 1.
	WorkersPerNamespace int
	// QueueSize bounds the notices waiting. Beyond it, the newest notice of
	// the namespace with the most waiting is dropped, so that one namespace
	// cannot crowd out the others. Default 256.
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
	// wake is signalled when a worker may find a notice to take, or must stop.
	wake     *sync.Cond
	stopping bool
	// waiting holds the notices not yet taken by a worker, in order, by
	// key; queued counts them, sequence numbers them as they come.
	waiting  map[deliveryKey][]delivery
	queued   int
	sequence uint64
	// posting holds the keys whose notice a worker is posting.
	posting map[deliveryKey]bool
	// namespaces are those with notices waiting or being posted; rotation
	// lists them in the order they take turns, next is whose turn it is.
	namespaces map[string]*namespaceQueue
	rotation   []string
	next       int
}

// namespaceQueue is the share of the queue of one namespace.
type namespaceQueue struct {
	// ready lists the keys with notices waiting that no worker is posting,
	// each once, the one waiting longest first: a webhook that hangs holds
	// up its own notices and one worker only.
	ready []deliveryKey
	// queued counts the notices waiting; posting those being posted.
	queued  int
	posting int
}

// delivery is one notice for one webhook.
type delivery struct {
	notice  Notice
	webhook golivev1alpha1.NotificationWebhook
	index   int
	// sequence orders the notices as they were queued.
	sequence uint64
}

// deliveryKey groups the notices posted one after another: those of one
// namespace to one URL. A request's notices arrive in order, and an
// endpoint shared by many requests gets one post at a time (and ties up one
// worker when it hangs).
type deliveryKey struct {
	namespace string
	url       string
}

func (item delivery) key() deliveryKey {
	return deliveryKey{namespace: item.notice.Namespace, url: item.webhook.URL}
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
	reason string
	// message is what the request's author is told; for a failed post, a
	// coarse class only (egress.Describe), which says nothing of the network.
	message string
	// detail is the error in full, for golive's own log.
	detail string
	retry  bool
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
	if options.WorkersPerNamespace <= 0 {
		options.WorkersPerNamespace = max(options.Workers-1, 1)
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
	d := &Dispatcher{options: options, client: httpClient,
		waiting: map[deliveryKey][]delivery{}, posting: map[deliveryKey]bool{}, namespaces: map[string]*namespaceQueue{}}
	d.wake = sync.NewCond(&d.mu)
	return d
}

// NeedLeaderElection makes the Dispatcher run on the leader only, where the
// reconcilers that enqueue run.
func (d *Dispatcher) NeedLeaderElection() bool { return true }

// Enqueue queues notice for each of webhooks and returns at once. When the
// queue is full, a notice is dropped, counted and recorded: the newest of
// the namespace with the most notices waiting, this one if that is its own.
func (d *Dispatcher) Enqueue(ctx context.Context, notice Notice, webhooks []golivev1alpha1.NotificationWebhook) {
	logger := log.FromContext(ctx)
	for i, webhook := range webhooks {
		if dropped := d.queue(delivery{notice: notice, webhook: webhook, index: i}); dropped != nil {
			d.failed(logger.WithValues("request", dropped.notice.Namespace+"/"+dropped.notice.Name, "notice", dropped.notice.Reason),
				*dropped, &failure{reason: FailureQueueFull, message: "the notification queue is full", action: actionEnqueue}, 0)
		}
	}
}

// queue adds item behind the notices of its key and returns the notice
// dropped to make room, if one was: item itself, or the newest notice of a
// namespace with more waiting than item's.
func (d *Dispatcher) queue(item delivery) *delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	var dropped *delivery
	if d.queued >= d.options.QueueSize {
		largest := d.largestNamespace()
		if own := d.namespaces[item.notice.Namespace]; largest == "" || own != nil && own.queued >= d.namespaces[largest].queued {
			return &item
		}
		newest := d.dropNewest(largest)
		dropped = &newest
	}
	d.sequence++
	item.sequence = d.sequence
	key := item.key()
	queue := d.namespaces[key.namespace]
	if queue == nil {
		queue = &namespaceQueue{}
		d.namespaces[key.namespace] = queue
		d.rotation = append(d.rotation, key.namespace)
	}
	if len(d.waiting[key]) == 0 && !d.posting[key] {
		queue.ready = append(queue.ready, key)
	}
	d.waiting[key] = append(d.waiting[key], item)
	queue.queued++
	d.queued++
	d.wake.Signal()
	return dropped
}

// largestNamespace is the namespace with the most notices waiting.
func (d *Dispatcher) largestNamespace() string {
	largest := ""
	for _, namespace := range d.rotation {
		if largest == "" || d.namespaces[namespace].queued > d.namespaces[largest].queued {
			largest = namespace
		}
	}
	return largest
}

// dropNewest takes the newest notice of namespace, which has notices waiting, out of the queue.
func (d *Dispatcher) dropNewest(namespace string) delivery {
	var newest deliveryKey
	found := false
	for key, items := range d.waiting {
		if key.namespace == namespace && (!found || items[len(items)-1].sequence > d.waiting[newest][len(d.waiting[newest])-1].sequence) {
			newest, found = key, true
		}
	}
	items := d.waiting[newest]
	item := items[len(items)-1]
	queue := d.namespaces[namespace]
	if len(items) == 1 {
		delete(d.waiting, newest)
		queue.ready = slices.DeleteFunc(queue.ready, func(key deliveryKey) bool { return key == newest })
	} else {
		d.waiting[newest] = items[:len(items)-1]
	}
	queue.queued--
	d.queued--
	d.forgetIfIdle(namespace)
	return item
}

// take hands the next notice to a worker: from the namespace whose turn it
// is, among those with a notice ready and fewer than WorkersPerNamespace
// posting. false when there is none.
func (d *Dispatcher) take() (delivery, bool) {
	for i := range d.rotation {
		turn := (d.next + i) % len(d.rotation)
		queue := d.namespaces[d.rotation[turn]]
		if len(queue.ready) == 0 || queue.posting >= d.options.WorkersPerNamespace {
			continue
		}
		key := queue.ready[0]
		queue.ready = queue.ready[1:]
		item := d.waiting[key][0]
		if len(d.waiting[key]) == 1 {
			delete(d.waiting, key)
		} else {
			d.waiting[key] = d.waiting[key][1:]
		}
		d.posting[key] = true
		queue.queued--
		queue.posting++
		d.queued--
		d.next = turn + 1
		return item, true
	}
	return delivery{}, false
}

// done lets the next notice of item's key be taken, after the other keys
// of its namespace that are ready.
func (d *Dispatcher) done(item delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := item.key()
	delete(d.posting, key)
	queue := d.namespaces[key.namespace]
	queue.posting--
	if len(d.waiting[key]) > 0 {
		queue.ready = append(queue.ready, key)
	}
	d.forgetIfIdle(key.namespace)
	// The namespace may take another worker now, and its key another turn.
	d.wake.Broadcast()
}

// forgetIfIdle drops namespace from the rotation once nothing of it waits or is posted.
func (d *Dispatcher) forgetIfIdle(namespace string) {
	queue := d.namespaces[namespace]
	if queue.queued > 0 || queue.posting > 0 {
		return
	}
	delete(d.namespaces, namespace)
	i := slices.Index(d.rotation, namespace)
	d.rotation = slices.Delete(d.rotation, i, i+1)
	if i < d.next {
		d.next--
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
				item, ok := d.wait()
				if !ok {
					return
				}
				d.deliver(ctx, logger, item)
				d.done(item)
			}
		})
	}
	<-ctx.Done()
	d.mu.Lock()
	d.stopping = true
	d.wake.Broadcast()
	d.mu.Unlock()
	workers.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	logger.Info("Stopped sending notices", "dropped", d.queued)
	return nil
}

// wait waits for a notice to take; false when the Dispatcher is stopping.
func (d *Dispatcher) wait() (delivery, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for !d.stopping {
		if item, ok := d.take(); ok {
			return item, true
		}
		d.wake.Wait()
	}
	return delivery{}, false
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
		logger.V(1).Info("Retrying a notice", "attempt", attempt, "after", delay, "reason", f.reason, "error", f.message, "detail", f.detail)
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
		return &failure{reason: FailureInvalid, message: egress.Detail(err), action: actionPost}
	}
	request.Header.Set("Content-Type", contentType)
	request.Header.Set("User-Agent", UserAgent)
	if ref := item.webhook.SecretRef; ref != nil {
		// Admission refuses this too; a request stored before it was is caught here.
		if request.URL.Scheme != "https" {
			return &failure{reason: FailureInsecure, action: actionPost,
				message: "golive sends the key of secretRef over https only, and the url is http"}
		}
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

// post sends request and reads the answer. What the author is told is a
// coarse class or the status code, never the error or the body.
func (d *Dispatcher) post(request *http.Request) *failure {
	response, err := d.client.Do(request)
	if err != nil {
		detail := egress.Detail(err)
		switch egress.Describe(err) {
		case egress.ClassTimedOut:
			return &failure{reason: FailureTimeout, retry: true, detail: detail,
				message: egress.ClassTimedOut + " after " + d.options.Timeout.String()}
		case egress.ClassRefused:
			return &failure{reason: FailureEgressRefused, detail: detail, message: egress.ClassRefused}
		}
		return &failure{reason: FailureNetwork, retry: true, detail: detail, message: egress.ClassUnreachable}
	}
	defer response.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(response.Body, 128))
	// Read the rest (bounded) so the connection can be used again.
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, 64<<10))
	// The status line's text is the server's; golive says the code in its own words.
	code := response.StatusCode
	status := fmt.Sprintf("answered %d %s", code, http.StatusText(code))
	detail := response.Status + ": " + strings.TrimSpace(strings.ToValidUTF8(string(excerpt), ""))
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests:
		return &failure{reason: FailureThrottled, retry: true, message: status, detail: detail, retryAfter: d.retryAfter(response)}
	case code >= 500:
		return &failure{reason: FailureServerError, retry: true, message: status, detail: detail, retryAfter: d.retryAfter(response)}
	case code >= 300 && code < 400:
		return &failure{reason: FailureRejected, message: status + "; golive does not follow redirects", detail: detail}
	}
	return &failure{reason: FailureRejected, message: status, detail: detail}
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
	if f.detail != "" {
		logger.V(1).Info("Failed to send a notice: the last attempt's error", "reason", f.reason, "detail", f.detail)
	}
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

package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
)

// errKilled is what a killed operator's writes return: the process is gone.
var errKilled = errors.New("the operator was killed")

// operator runs golive's reconcilers in a manager the way a pod runs them
// (Setup), on a fake clock, and can be killed and started again: like kill -9 and
// a rescheduled pod, the new manager starts from nothing but the cluster.
type operator struct {
	t          *testing.T
	namespaces []string
	clock      *clocktesting.FakeClock
	// killAfterWrite kills the running manager right after the UpdateRequest
	// reconciler's write with this number (1-based, counted over all
	// managers) was accepted by the API server; 0 never kills it.
	killAfterWrite int32
	// notices, when set, has each manager post notices through a Dispatcher
	// made with these options, as cmd/main.go does; nil posts none.
	notices *notify.Options
	// metrics records what the UpdateRequest reconciler records; nil records nothing.
	metrics *metrics.Recorder
	// archive, when set, has each manager write ReleaseRecords there (newRecordWriter).
	archive string
	// writeAs, when set, is the user the UpdateRequest reconciler writes as
	// (in the break-glass group, so golive's admission policies let it), so
	// that RBAC bound to that user decides what golive may do.
	writeAs string

	// queues are the work queues of every manager started, for quiet.
	queuesMu sync.Mutex
	queues   []*fakeClockQueue

	writes atomic.Int32
	// kills counts the kills after killAfterWrite that happened.
	kills    atomic.Int32
	mu       sync.Mutex
	running  *instance
	restarts int
}

// instance is one manager process.
type instance struct {
	mgr    ctrl.Manager
	stop   func() error
	killed atomic.Bool
}

// startOperator starts o, configured but not yet running; it is stopped when the test ends.
func startOperator(o *operator) *operator {
	o.t.Helper()
	running, err := o.start()
	if err != nil {
		o.t.Fatal(err)
	}
	o.running = running
	o.t.Cleanup(func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.running.stop()
	})
	return o
}

// restart stops the running manager and starts a new one.
func (o *operator) restart() {
	o.t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.replace(o.running); err != nil {
		o.t.Fatal(err)
	}
}

// replace stops dying, if it still runs, and starts its successor.
func (o *operator) replace(dying *instance) error {
	if o.running != dying {
		return nil
	}
	if err := dying.stop(); err != nil {
		return fmt.Errorf("the manager stopped with an error: %w", err)
	}
	next, err := o.start()
	if err != nil {
		return err
	}
	o.running = next
	o.restarts++
	return nil
}

func (o *operator) restartCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.restarts
}

// manager is the running manager.
func (o *operator) manager() ctrl.Manager {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.running.mgr
}

// start starts a manager with every reconciler and waits for its caches.
func (o *operator) start() (*instance, error) {
	mgr, err := newManager(o.namespaces)
	if err != nil {
		return nil, err
	}
	self := &instance{mgr: mgr}
	var dispatcher *notify.Dispatcher
	if o.notices != nil {
		notices := *o.notices
		notices.Reader, notices.Recorder, notices.Metrics = mgr.GetAPIReader(), mgr.GetEventRecorder("golive"), o.metrics
		dispatcher = notify.NewDispatcher(notices)
	}
	// Wired as cmd/main.go wires it, on the fake clock. The requeues wait on
	// the fake clock; failure backoff stays in real time. Several workers, as
	// golive runs (--max-concurrent-reconciles).
	var records *RecordWriter
	if o.archive != "" {
		if records, err = newRecordWriter(mgr, o.archive, o.clock); err != nil {
			return nil, err
		}
	}
	writer := mgr.GetClient()
	if o.writeAs != "" {
		as, err := env.ClientAs(o.writeAs, testenv.BreakGlassGroup)
		if err != nil {
			return nil, err
		}
		writer = writesAs{Client: mgr.GetClient(), writer: as}
	}
	_, err = Setup(context.Background(), mgr, Options{
		Clock: o.clock, HTTPClient: http.DefaultClient, LedgerKey: ledgerKey, VolumeSnapshots: true, Records: records,
		Notifier: dispatcher, Metrics: o.metrics, MaxConcurrentReconciles: 4,
		NewQueue: func(name string, limiter workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
			queue := &fakeClockQueue{
				TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[reconcile.Request]{Name: name}),
				clock:                      o.clock,
			}
			o.queuesMu.Lock()
			o.queues = append(o.queues, queue)
			o.queuesMu.Unlock()
			return queue
		},
		UpdateRequestClient: &killableClient{Client: writer, operator: o, instance: self},
	})
	if err != nil {
		return nil, fmt.Errorf("setting up the manager: %w", err)
	}
	if self.stop, err = runManager(mgr); err != nil {
		return nil, err
	}
	return self, nil
}

// wrote counts a write that the API server accepted and kills the instance
// when it is the chosen one; a killed instance writes nothing more.
func (o *operator) wrote(self *instance) {
	if o.writes.Add(1) != o.killAfterWrite {
		return
	}
	self.killed.Store(true)
	o.kills.Add(1)
	go func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if err := o.replace(self); err != nil {
			o.t.Errorf("restarting the killed operator: %v", err)
		}
	}()
}

// killableClient is the UpdateRequest reconciler's client: it counts writes
// and refuses every write once its instance was killed.
type killableClient struct {
	client.Client
	operator *operator
	instance *instance
}

func (c *killableClient) write(do func() error) error {
	if c.instance.killed.Load() {
		return errKilled
	}
	if err := do(); err != nil {
		return err
	}
	c.operator.wrote(c.instance)
	return nil
}

func (c *killableClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.write(func() error { return c.Client.Create(ctx, obj, opts...) })
}

func (c *killableClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.write(func() error { return c.Client.Update(ctx, obj, opts...) })
}

func (c *killableClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.write(func() error { return c.Client.Patch(ctx, obj, patch, opts...) })
}

func (c *killableClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	return c.write(func() error { return c.Client.Apply(ctx, obj, opts...) })
}

func (c *killableClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.write(func() error { return c.Client.Delete(ctx, obj, opts...) })
}

func (c *killableClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	return c.write(func() error { return c.Client.DeleteAllOf(ctx, obj, opts...) })
}

func (c *killableClient) Status() client.SubResourceWriter {
	return &killableStatus{SubResourceWriter: c.Client.Status(), client: c}
}

type killableStatus struct {
	client.SubResourceWriter
	client *killableClient
}

func (s *killableStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.client.write(func() error { return s.SubResourceWriter.Patch(ctx, obj, patch, opts...) })
}

func (s *killableStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	return s.client.write(func() error { return s.SubResourceWriter.Update(ctx, obj, opts...) })
}

// fakeClockQueue delays RequeueAfter on the fake clock, so a test sees a
// request woken exactly when the clock reaches the time it waits for; only
// the short retry after a stale decision waits in real time.
type fakeClockQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	clock *clocktesting.FakeClock
	// processing counts the items a worker took and has not yet marked done.
	processing atomic.Int32
}

func (q *fakeClockQueue) Get() (reconcile.Request, bool) {
	item, shutdown := q.TypedRateLimitingInterface.Get()
	if !shutdown {
		q.processing.Add(1)
	}
	return item, shutdown
}

func (q *fakeClockQueue) Done(item reconcile.Request) {
	q.TypedRateLimitingInterface.Done(item)
	q.processing.Add(-1)
}

// idle is true when nothing waits to be reconciled and no reconcile runs.
// A reconcile asks to be woken (AddAfter) before its item is done, so an
// idle queue has registered every wake on the fake clock.
func (q *fakeClockQueue) idle() bool {
	return q.ShuttingDown() || (q.Len() == 0 && q.processing.Load() == 0)
}

// quiet describes what still runs, or returns "" once every queue is idle.
func (o *operator) quiet() string {
	o.queuesMu.Lock()
	defer o.queuesMu.Unlock()
	for _, queue := range o.queues {
		if !queue.idle() {
			return fmt.Sprintf("a work queue holds %d items, %d being reconciled", queue.Len(), queue.processing.Load())
		}
	}
	return ""
}

func (q *fakeClockQueue) AddAfter(item reconcile.Request, delay time.Duration) {
	if delay <= 0 {
		q.Add(item)
		return
	}
	if delay <= staleRetry {
		// A retry, like the failure backoff, waits in real time.
		q.TypedRateLimitingInterface.AddAfter(item, delay)
		return
	}
	q.clock.AfterFunc(delay, func() { q.Add(item) })
}

// writesAs reads through Client (the manager's cache and its indexes) and
// writes through writer, another identity.
type writesAs struct {
	client.Client
	writer client.Client
}

func (w writesAs) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return w.writer.Create(ctx, obj, opts...)
}

func (w writesAs) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return w.writer.Update(ctx, obj, opts...)
}

func (w writesAs) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return w.writer.Patch(ctx, obj, patch, opts...)
}

func (w writesAs) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	return w.writer.Apply(ctx, obj, opts...)
}

func (w writesAs) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return w.writer.Delete(ctx, obj, opts...)
}

func (w writesAs) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	return w.writer.DeleteAllOf(ctx, obj, opts...)
}

func (w writesAs) Status() client.SubResourceWriter { return w.writer.Status() }

func (w writesAs) SubResource(subResource string) client.SubResourceClient {
	return w.writer.SubResource(subResource)
}

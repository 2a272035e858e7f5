package controller

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/webhookinfra/servingcert"
)

// eventRecorderName is the name golive's Events are reported by.
const eventRecorderName = "golive"

// Options are what Setup wires golive's reconcilers with: everything a pod
// passes them, so that tests run the same manager a pod runs.
type Options struct {
	// Clock is the time every reconciler decides on.
	Clock clock.PassiveClock
	// HTTPClient probes the HTTP checks; it must carry no credentials.
	HTTPClient *http.Client
	// LedgerKey verifies the signatures of the approval ledger's entries.
	LedgerKey []byte
	// VolumeSnapshots is true when the cluster serves the VolumeSnapshot API
	// (SnapshotAPIServed); the snapshot retention reconciler runs only then.
	VolumeSnapshots bool
	// Notifier posts the notices of phase changes; Setup adds it to the
	// manager. Nil sends none.
	Notifier *notify.Dispatcher
	// Metrics records the metrics of what the status patches record; nil records none.
	Metrics *metrics.Recorder
	// Records, when set, writes each request's ReleaseRecord when it ends or
	// is deleted; nil writes none.
	Records *RecordWriter
	// MaxConcurrentReconciles is how many UpdateRequests, and how many
	// GoLiveWindows, are reconciled at once; 0 is controller-runtime's default.
	MaxConcurrentReconciles int
	// ServingCertificate, when set, keeps the webhook server's certificate in
	// its folder (SetupServingCertificate); nil when no webhook server runs.
	ServingCertificate *servingcert.Options

	// NewQueue, when set, makes the reconcilers' work queues; tests make
	// queues that wait on a fake clock.
	NewQueue func(controllerName string, rateLimiter workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request]
	// UpdateRequestClient, when set, is the UpdateRequest reconciler's client
	// instead of the manager's; tests wrap it to kill the operator after a
	// chosen write.
	UpdateRequestClient client.Client
}

// Setup wires every reconciler of golive into mgr, before it starts: the
// cache indexes, the notifier, the UpdateRequest, GoLiveWindow and
// GoLivePolicy reconcilers, the ReleaseRecord reconciler when
// options.Records is set, the workload protection reconciler, the snapshot
// retention reconciler when the cluster serves snapshots, and
// the webhook certificate copier when options.ServingCertificate is set. It
// returns a channel closed once the webhook server may start; nil without a
// ServingCertificate.
func Setup(ctx context.Context, mgr ctrl.Manager, options Options) (certificateReady <-chan struct{}, err error) {
	if err := SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	if options.Notifier != nil {
		if err := mgr.Add(options.Notifier); err != nil {
			return nil, fmt.Errorf("adding the notifier: %w", err)
		}
	}
	workers := controller.Options{MaxConcurrentReconciles: options.MaxConcurrentReconciles, NewQueue: options.NewQueue}
	updateRequestClient := options.UpdateRequestClient
	if updateRequestClient == nil {
		updateRequestClient = mgr.GetClient()
	}
	recorder := mgr.GetEventRecorder(eventRecorderName)
	if err := (&UpdateRequestReconciler{
		Client:          updateRequestClient,
		LiveReader:      mgr.GetAPIReader(),
		Scheme:          mgr.GetScheme(),
		Clock:           options.Clock,
		Recorder:        recorder,
		HTTPClient:      options.HTTPClient,
		LedgerKey:       options.LedgerKey,
		VolumeSnapshots: options.VolumeSnapshots,
		Notifier:        options.Notifier,
		Metrics:         options.Metrics,
		Records:         options.Records,
	}).SetupWithManager(mgr, workers); err != nil {
		return nil, fmt.Errorf("setting up the UpdateRequest controller: %w", err)
	}
	if options.Records != nil {
		if err := (&ReleaseRecordReconciler{
			Client:   mgr.GetClient(),
			Writer:   options.Records,
			Clock:    options.Clock,
			Recorder: recorder,
		}).SetupWithManager(mgr, controller.Options{NewQueue: options.NewQueue}); err != nil {
			return nil, fmt.Errorf("setting up the ReleaseRecord controller: %w", err)
		}
	}
	if err := (&GoLiveWindowReconciler{
		Client:   mgr.GetClient(),
		Scheme:   mgr.GetScheme(),
		Clock:    options.Clock,
		Recorder: recorder,
		Notifier: options.Notifier,
	}).SetupWithManager(mgr, workers); err != nil {
		return nil, fmt.Errorf("setting up the GoLiveWindow controller: %w", err)
	}
	if err := (&GoLivePolicyReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr, controller.Options{NewQueue: options.NewQueue}); err != nil {
		return nil, fmt.Errorf("setting up the GoLivePolicy controller: %w", err)
	}
	if err := (&WorkloadProtectionReconciler{
		Client:     mgr.GetClient(),
		LiveReader: mgr.GetAPIReader(),
		Clock:      options.Clock,
		Recorder:   recorder,
		Notifier:   options.Notifier,
	}).SetupWithManager(mgr, controller.Options{NewQueue: options.NewQueue}); err != nil {
		return nil, fmt.Errorf("setting up the workload protection controller: %w", err)
	}
	if options.VolumeSnapshots {
		// One worker: deleting an expired snapshot is rare and quick.
		retention := controller.Options{NewQueue: options.NewQueue}
		if err := (&SnapshotRetentionReconciler{Client: mgr.GetClient(), Clock: options.Clock}).SetupWithManager(mgr, retention); err != nil {
			return nil, fmt.Errorf("setting up the snapshot retention controller: %w", err)
		}
		// Volumes are retained only by a data restore, from snapshots.
		if err := (&RetainedVolumeReconciler{Client: mgr.GetClient(), Clock: options.Clock}).SetupWithManager(mgr, retention); err != nil {
			return nil, fmt.Errorf("setting up the retained volume controller: %w", err)
		}
	}
	if options.ServingCertificate != nil {
		if certificateReady, err = SetupServingCertificate(ctx, mgr, *options.ServingCertificate); err != nil {
			return nil, fmt.Errorf("setting up the webhook certificate: %w", err)
		}
	}
	return certificateReady, nil
}

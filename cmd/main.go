// Command manager runs golive's controllers and its admission webhooks with
// health probes, metrics and leader election.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	// The time-zone database is compiled in, so windows work on distroless images.
	_ "time/tzdata"

	// CA roots compiled in, used when the system has none: golive's image is
	// empty but for its binary, and HTTP checks and notifications speak TLS.
	_ "golang.org/x/crypto/x509roots/fallback"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/admission"
	"github.com/golive-dev/golive/internal/controller"
	"github.com/golive-dev/golive/internal/egress"
	"github.com/golive-dev/golive/internal/ledger/ledgerkey"
	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/records/recordkey"
	"github.com/golive-dev/golive/internal/webhookinfra/servingcert"
	"github.com/golive-dev/golive/internal/webhookinfra/webhookserver"
)

// containerMemoryLimitEnv names the variable the chart fills, through the
// downward API, with the container's memory limit in bytes.
const containerMemoryLimitEnv = "GOLIVE_MEMORY_LIMIT"

// version and revision name the build; the image build (hack/release) sets
// them with -ldflags -X.
var (
	version  = "devel"
	revision = ""
)

// accessReviewTTL is how long an allowed SubjectAccessReview answer is remembered.
const accessReviewTTL = 10 * time.Second

// sharedReadsTTL is how long the mutating webhook's reads for an update stay
// for the validating webhook's call for the same update, which follows within
// milliseconds.
const sharedReadsTTL = 10 * time.Second

func main() {
	// `golive console` runs the approver console instead of the manager.
	if len(os.Args) > 1 && os.Args[1] == "console" {
		if err := runConsole(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "golive console:", err)
			os.Exit(1)
		}
		return
	}
	var (
		metricsAddr             string
		metricsSecure           bool
		probeAddr               string
		leaderElect             bool
		leaderElectionNamespace string
		enableHTTP2             bool
		namespace               string
		ledgerKeySecret         string
		archiveNamespace        string
		recordKeySecret         string
		webhookPort             int
		webhookCertDir          string
		webhookCertSecret       string
		webhookCertRotation     bool
		webhookService          string
		webhookDNSNames         string
		webhookClientCA         string
		webhookClientNames      string
		notifyTimeout           time.Duration
		notifyAttempts          int
		concurrentReconciles    int
		pprofAddr               string
		egressAllow             string
		namespacedRBAC          bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443",
		"Address of the metrics endpoint; \"0\" turns it off.")
	flag.BoolVar(&metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, authenticated and authorized through the API server (TokenReview, SubjectAccessReview).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081",
		"Address of the /healthz and /readyz endpoints.")
	flag.BoolVar(&leaderElect, "leader-elect", false,
		"Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader-election Lease; defaults to the namespace golive runs in (required out of cluster).")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Serve HTTP/2 on the metrics and webhook servers (off by default against the HTTP/2 rapid-reset CVEs).")
	flag.StringVar(&namespace, "namespace", defaultNamespace(),
		"Namespace golive runs in, holding the ledger key and webhook certificate Secrets (default: $POD_NAMESPACE, else golive-system).")
	flag.StringVar(&ledgerKeySecret, "ledger-key-secret", ledgerkey.DefaultSecret,
		"Secret holding the key that signs the approval ledger; created with a random key if absent.")
	flag.StringVar(&archiveNamespace, "archive-namespace", "golive-system",
		"Namespace the ReleaseRecords are written to, with ConfigMaps "+recordkey.PublicConfigMap+" and "+controller.ChainConfigMap+"; it must exist.")
	flag.StringVar(&recordKeySecret, "record-signing-key-secret", recordkey.DefaultSecret,
		"Secret, in golive's namespace, holding the Ed25519 key that signs the ReleaseRecords; created with a new key if absent.")
	flag.IntVar(&webhookPort, "webhook-port", 9443,
		"Port of the admission webhook server.")
	flag.StringVar(&webhookCertDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"),
		"Folder the webhook server reads tls.crt and tls.key from; golive copies them there from --webhook-cert-secret.")
	flag.StringVar(&webhookCertSecret, "webhook-cert-secret", "golive-webhook-server-cert",
		"Secret holding the webhook server's certificate.")
	flag.BoolVar(&webhookCertRotation, "webhook-cert-rotation", true,
		"Create and rotate a self-signed webhook certificate and inject its CA into the webhook configurations; "+
			"turn off when cert-manager writes --webhook-cert-secret and the caBundle.")
	flag.StringVar(&webhookService, "webhook-service", "golive-webhook-service",
		"Service the API server reaches the webhooks through; the certificate is issued for <service>.<namespace>.svc.")
	flag.StringVar(&webhookDNSNames, "webhook-dns-names", "",
		"Comma-separated further names for the self-signed certificate, such as localhost when running out of cluster.")
	flag.StringVar(&webhookClientCA, "webhook-client-ca", "",
		"PEM file of the CA(s) that sign the API server's client certificate for webhooks (its --admission-control-config-file); "+
			"when set, callers without such a certificate are refused. Read again when it changes. Empty: callers are not authenticated (docs/security.md).")
	flag.StringVar(&webhookClientNames, "webhook-client-names", strings.Join(webhookserver.DefaultClientNames, ","),
		"Comma-separated names (common name or DNS SAN) of which a caller's client certificate must carry one, with --webhook-client-ca; others get 403.")
	flag.DurationVar(&notifyTimeout, "notify-timeout", 5*time.Second,
		"Bound of each attempt to post a notice to a webhook.")
	flag.IntVar(&notifyAttempts, "notify-attempts", 5,
		"Attempts to post a notice to a webhook, the first included; 5xx, 429, timeouts and network errors are retried with backoff.")
	flag.IntVar(&concurrentReconciles, "max-concurrent-reconciles", 8,
		"Requests (and windows) reconciled at once; a reconcile mostly waits on the API server, so several overlap well.")
	flag.StringVar(&egressAllow, "egress-allow", "",
		"Comma-separated CIDRs and host names (*.svc.cluster.local allows its subdomains) that HTTP checks and notifications may reach; "+
			"empty allows any address. Loopback, link-local, unspecified and cloud metadata addresses are refused either way, "+
			"unless a CIDR inside them is listed, such as 127.0.0.1/32. See docs/security.md.")
	flag.BoolVar(&namespacedRBAC, "namespaced-rbac", false,
		"golive's rights to change workloads are granted per namespace (the chart's rbac.scope=namespaces): refuse requests for a namespace where it lacks them.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "",
		"Address of Go's pprof endpoints, such as 127.0.0.1:8082, to profile golive; off when empty.")
	logOptions := zap.Options{}
	logOptions.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&logOptions)))
	setupLog := ctrl.Log.WithName("setup")
	setupLog.Info("Started golive", "version", version, "revision", revision)
	if notifyTimeout <= 0 || notifyAttempts < 1 || concurrentReconciles < 1 {
		setupLog.Error(errors.New("--notify-timeout must be positive, --notify-attempts and --max-concurrent-reconciles at least 1"), "Invalid flags")
		os.Exit(2)
	}

	egressPolicy, err := egress.Parse(splitList(egressAllow))
	if err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(2)
	}
	setupLog.Info("Set the egress policy of HTTP checks and notifications", "allow", splitList(egressAllow))

	if limit, ok := goMemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
		setupLog.Info("Set the Go memory limit from the container's", "bytes", limit)
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(golivev1alpha1.AddToScheme(scheme))
	utilruntime.Must(snapshotv1.AddToScheme(scheme))

	var tlsOptions []func(*tls.Config)
	if !enableHTTP2 {
		tlsOptions = append(tlsOptions, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: metricsSecure,
		TLSOpts:       tlsOptions,
	}
	if metricsSecure {
		metricsOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	webhookServer := webhookserver.New(webhookserver.Options{
		Port:         webhookPort,
		CertDir:      webhookCertDir,
		TLSOpts:      tlsOptions,
		ClientCAFile: webhookClientCA,
		ClientNames:  splitList(webhookClientNames),
	})

	config := ctrl.GetConfigOrDie()
	volumeSnapshots, err := snapshotAPIServed(config)
	if err != nil {
		setupLog.Error(err, "Failed to discover the VolumeSnapshot API")
		os.Exit(1)
	}
	if !volumeSnapshots {
		setupLog.Info("The cluster does not serve snapshot.storage.k8s.io/v1; requests that select volumes will stall until it does and golive restarts")
	}

	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOptions,
		WebhookServer:                 webhookServer,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "golive.golive.dev",
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controller.CacheOptions(volumeSnapshots),
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: controller.UncachedObjects()}},
	})
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	signals := ctrl.SetupSignalHandler()
	ctx := log.IntoContext(signals, setupLog)
	ledgerKey, err := ledgerkey.LoadOrCreate(ctx, mgr.GetAPIReader(), mgr.GetClient(),
		types.NamespacedName{Namespace: namespace, Name: ledgerKeySecret})
	if err != nil {
		setupLog.Error(err, "Failed to load the ledger key")
		os.Exit(1)
	}
	recordKey, err := recordkey.LoadOrCreate(ctx, mgr.GetAPIReader(), mgr.GetClient(),
		types.NamespacedName{Namespace: namespace, Name: recordKeySecret})
	if err != nil {
		setupLog.Error(err, "Failed to load the record signing key")
		os.Exit(1)
	}
	realClock := clock.RealClock{}
	recordWriter := &controller.RecordWriter{
		Client:    mgr.GetClient(),
		Reader:    mgr.GetAPIReader(),
		Key:       recordKey,
		Namespace: archiveNamespace,
		Version:   version,
		Clock:     realClock,
	}
	if err := recordkey.CheckArchive(ctx, mgr.GetAPIReader(), archiveNamespace); err != nil {
		// Not fatal: approvals and releases go on; each ended request says it has no record yet.
		setupLog.Error(err, "Requests' records cannot be written until the archive namespace exists", "archive", archiveNamespace)
	} else if err := recordWriter.PublishKey(ctx); err != nil {
		setupLog.Error(err, "Failed to publish the record signing key; golive tries again before it writes a record")
	}

	recorder := metrics.NewRecorder()
	recordMetrics := metrics.NewRecords()
	recordWriter.Metrics = recordMetrics
	if err := errors.Join(recorder.Register(ctrlmetrics.Registry), recordMetrics.Register(ctrlmetrics.Registry),
		ctrlmetrics.Registry.Register(metrics.NewCollector(mgr.GetCache(), mgr.Elected()))); err != nil {
		setupLog.Error(err, "Failed to register the metrics")
		os.Exit(1)
	}
	notifier := notify.NewDispatcher(notify.Options{
		// A direct get of the one Secret a team granted: golive cannot list or watch Secrets.
		Reader:   mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("golive"),
		Metrics:  recorder,
		// No credentials, and only where --egress-allow lets it: request authors choose the URLs golive posts to.
		HTTPClient: egressPolicy.Client(),
		Timeout:    notifyTimeout,
		Attempts:   notifyAttempts,
	})
	certificateReady, err := controller.Setup(ctx, mgr, controller.Options{
		Clock: realClock,
		// No credentials, and only where --egress-allow lets it: request authors choose the URLs the operator probes.
		HTTPClient:              egressPolicy.Client(),
		LedgerKey:               ledgerKey,
		VolumeSnapshots:         volumeSnapshots,
		Notifier:                notifier,
		Metrics:                 recorder,
		Records:                 recordWriter,
		MaxConcurrentReconciles: concurrentReconciles,
		ServingCertificate: &servingcert.Options{
			Namespace:                      namespace,
			SecretName:                     webhookCertSecret,
			ServiceName:                    webhookService,
			ExtraDNSNames:                  splitList(webhookDNSNames),
			CertDir:                        webhookCertDir,
			Rotate:                         webhookCertRotation,
			MutatingWebhookConfiguration:   admission.MutatingWebhookConfiguration,
			ValidatingWebhookConfiguration: admission.ValidatingWebhookConfiguration,
		},
	})
	if err != nil {
		setupLog.Error(err, "Failed to set up the controllers")
		os.Exit(1)
	}

	// The validating webhook repeats the mutating one's access check milliseconds later.
	access := admission.NewCachedAccessReviewer(admission.SubjectAccessReviewer{Client: mgr.GetClient()}, accessReviewTTL, realClock)
	webhooks := &admission.Webhooks{
		Reader:  admission.NewSharedReads(mgr.GetAPIReader(), sharedReadsTTL, realClock),
		Cached:  mgr.GetClient(),
		Access:  access,
		Key:     ledgerKey,
		Clock:   realClock,
		Decoder: ctrladmission.NewDecoder(scheme),
	}
	if namespacedRBAC {
		if webhooks.Manager, err = managerIdentity(ctx, mgr.GetClient()); err != nil {
			setupLog.Error(err, "Failed to learn golive's own identity for --namespaced-rbac")
			os.Exit(1)
		}
		setupLog.Info("Refusing requests for namespaces where golive may not change workloads", "identity", webhooks.Manager.Username)
	}
	webhooks.Register(webhookServer)
	webhooksServing := serveWebhooksWhenReady(ctx, mgr, certificateReady)

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to add the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to add the readiness check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("webhooks", func(request *http.Request) error {
		if !webhooksServing.Load() {
			return errors.New("the webhook certificate is not ready yet")
		}
		return webhookServer.StartedChecker()(request)
	}); err != nil {
		setupLog.Error(err, "Failed to add the webhook readiness check")
		os.Exit(1)
	}

	setupLog.Info("Starting the manager")
	if err := mgr.Start(signals); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

// serveWebhooksWhenReady starts the webhook server once its certificate is in
// place: it reads the certificate when it starts and fails without one. Until
// then the API server's calls fail, and the fail-closed webhooks refuse.
func serveWebhooksWhenReady(ctx context.Context, mgr manager.Manager, certificateReady <-chan struct{}) *atomic.Bool {
	serving := &atomic.Bool{}
	go func() {
		select {
		case <-certificateReady:
		case <-ctx.Done():
			return
		}
		// The manager starts the server it was given as soon as it is asked for it.
		_ = mgr.GetWebhookServer()
		serving.Store(true)
		log.FromContext(ctx).Info("Started the admission webhook server")
	}()
	return serving
}

// goMemoryLimit is the Go memory limit for a container limited to the bytes
// in GOLIVE_MEMORY_LIMIT: 90 %, leaving room for what the Go runtime does not
// count. Go's garbage collector then works harder near the limit instead of
// letting the heap grow to twice the live data (GOGC=100) past it, where the
// kernel would kill the container. A GOMEMLIMIT set by hand wins.
func goMemoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	limit, err := strconv.ParseInt(getenv(containerMemoryLimitEnv), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return limit / 10 * 9, true
}

// defaultNamespace is the namespace the Pod runs in (the downward API sets
// POD_NAMESPACE), else golive-system.
func defaultNamespace() string {
	if namespace := os.Getenv("POD_NAMESPACE"); namespace != "" {
		return namespace
	}
	return "golive-system"
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(value string) []string {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// snapshotAPIServed asks the API server whether it serves VolumeSnapshots.
func snapshotAPIServed(config *rest.Config) (bool, error) {
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return false, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(config, httpClient)
	if err != nil {
		return false, err
	}
	return controller.SnapshotAPIServed(mapper)
}

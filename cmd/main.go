// Command manager runs golive's controllers (and, from the approvals issue on,
// its admission webhooks) with health probes, metrics and leader election.
package main

import (
	"crypto/tls"
	"flag"
	"os"

	// The time-zone database is compiled in, so windows work on distroless images.
	_ "time/tzdata"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/controller"
)

func main() {
	var (
		metricsAddr             string
		metricsSecure           bool
		probeAddr               string
		leaderElect             bool
		leaderElectionNamespace string
		enableHTTP2             bool
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
	logOptions := zap.Options{}
	logOptions.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&logOptions)))
	setupLog := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(golivev1alpha1.AddToScheme(scheme))

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

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOptions,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "golive.golive.dev",
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		setupLog.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	realClock := clock.RealClock{}
	if err := (&controller.UpdateRequestReconciler{
		Client:   mgr.GetClient(),
		Scheme:   mgr.GetScheme(),
		Clock:    realClock,
		Recorder: mgr.GetEventRecorder("golive"),
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to set up the controller", "controller", "UpdateRequest")
		os.Exit(1)
	}
	if err := (&controller.GoLiveWindowReconciler{
		Client:   mgr.GetClient(),
		Scheme:   mgr.GetScheme(),
		Clock:    realClock,
		Recorder: mgr.GetEventRecorder("golive"),
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to set up the controller", "controller", "GoLiveWindow")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to add the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to add the readiness check")
		os.Exit(1)
	}

	setupLog.Info("Starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

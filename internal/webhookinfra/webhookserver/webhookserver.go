// Package webhookserver serves golive's admission webhooks. It is
// controller-runtime's webhook server (its mux, its request metrics, its
// certificate watcher) with two differences: idle keep-alive connections are
// kept open longer than the kube-apiserver keeps them, and with a client CA it
// serves only callers with a client certificate (clientauth.go).
//
// The API server's webhook client drops a connection idle for 90 s (Go's
// http.DefaultTransport). controller-runtime's server closes one idle for the
// same 90 s, so now and then it closed a connection at the instant the API
// server reused it, and the admission call failed with "write: broken pipe"
// (3 of 4,000 approvals in a `make bench` run). With a longer idle timeout the
// client is always the one to close.
package webhookserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// IdleTimeout is how long an idle keep-alive connection stays open: longer
// than the API server's client keeps one (90 s).
const IdleTimeout = 2 * time.Minute

// The server's other limits, as controller-runtime sets them.
const (
	readHeaderTimeout = 32 * time.Second
	maxHeaderBytes    = 1 << 20
	shutdownTimeout   = time.Minute
)

// Options configure the server.
type Options struct {
	// Host is the address to listen on; empty for all.
	Host string
	// Port is the port to listen on.
	Port int
	// CertDir holds tls.crt and tls.key; they are reloaded when they change.
	CertDir string
	// TLSOpts change the TLS configuration (HTTP/2 is offered unless one removes it).
	TLSOpts []func(*tls.Config)
	// IdleTimeout overrides IdleTimeout; zero keeps it.
	IdleTimeout time.Duration
	// ClientCAFile, when set, is a PEM file of the CAs that sign the API
	// server's client certificate for webhooks: callers must present a
	// certificate they signed (see clientauth.go). It is read again when it
	// changes. Empty: callers are not authenticated.
	ClientCAFile string
	// ClientNames are the names (common name or DNS SAN) a caller's
	// certificate must carry one of; empty means DefaultClientNames.
	ClientNames []string
}

// Server implements webhook.Server. Registration, the mux and leader
// election are controller-runtime's; Start serves them.
type Server struct {
	webhook.Server
	options Options
	address string
	started atomic.Bool
}

var _ webhook.Server = &Server{}

// New returns a server that serves what is registered with it once started.
func New(options Options) *Server {
	if options.IdleTimeout == 0 {
		options.IdleTimeout = IdleTimeout
	}
	if len(options.ClientNames) == 0 {
		options.ClientNames = DefaultClientNames
	}
	return &Server{
		Server:  webhook.NewServer(webhook.Options{Host: options.Host, Port: options.Port, CertDir: options.CertDir}),
		options: options,
		address: net.JoinHostPort(options.Host, strconv.Itoa(options.Port)),
	}
}

// Start serves the webhooks until ctx is done, then shuts down gracefully.
func (s *Server) Start(ctx context.Context) error {
	logger := logf.FromContext(ctx).WithName("webhook-server")
	certificates, err := certwatcher.New(filepath.Join(s.options.CertDir, "tls.crt"), filepath.Join(s.options.CertDir, "tls.key"))
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	go func() {
		if err := certificates.Start(ctx); err != nil {
			logger.Error(err, "Failed to watch the serving certificate")
		}
	}()
	config := &tls.Config{NextProtos: []string{"h2"}, GetCertificate: certificates.GetCertificate}
	for _, option := range s.options.TLSOpts {
		option(config)
	}
	handler := http.Handler(s.WebhookMux())
	var errorLog *stdlog.Logger
	if s.options.ClientCAFile != "" {
		cas, err := loadClientCAs(s.options.ClientCAFile, logger)
		if err != nil {
			return err
		}
		requireClientCertificates(config, cas)
		handler = allowedCallers(handler, s.options.ClientNames, logger)
		errorLog = stdlog.New(connectionErrorLog{logger}, "", 0)
		logger.Info("Authenticating webhook callers by client certificate", "clientCA", s.options.ClientCAFile, "allowedNames", s.options.ClientNames)
	} else {
		logger.Info("Warning: webhook callers are not authenticated; anyone who reaches the webhook port can have ledger entries signed. " +
			"Set --webhook-client-ca (docs/security.md), or at least restrict the port with a NetworkPolicy")
	}
	listener, err := tls.Listen("tcp", s.address, config)
	if err != nil {
		return err
	}
	server := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return ctx },
		Handler:           handler,
		ErrorLog:          errorLog,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       s.options.IdleTimeout,
	}
	shutDown := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		shutDown <- server.Shutdown(shutdownCtx)
	}()
	logger.Info("Serving the admission webhooks", "address", s.address, "idleTimeout", s.options.IdleTimeout)
	s.started.Store(true)
	if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-shutDown
}

// StartedChecker is healthy once the server accepts TLS connections.
func (s *Server) StartedChecker() healthz.Checker {
	return func(*http.Request) error {
		if !s.started.Load() {
			return errors.New("the webhook server has not been started yet")
		}
		// Only that it answers: the certificate is not what is checked. A
		// server that requires client certificates refuses this one.
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.address, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec
		if err != nil {
			if s.options.ClientCAFile != "" && refusedWithAlert(err) {
				return nil
			}
			return fmt.Errorf("the webhook server is not reachable: %w", err)
		}
		return conn.Close()
	}
}

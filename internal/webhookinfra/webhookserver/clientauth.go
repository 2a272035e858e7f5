package webhookserver

// Caller authentication. The mutating webhook signs ledger entries for the
// user an AdmissionReview names, so a body posted by anyone but the API
// server must get nothing: with a client CA set, the server requires a client
// certificate that CA signed (the one the API server presents for webhooks,
// configured in its --admission-control-config-file) and answers 403 before
// any admission logic when the certificate's names are not the allowed ones.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// DefaultClientNames are the certificate names (common name or DNS SAN) a
// caller may present when Options.ClientNames is empty: the names the
// documentation suggests for the API server's webhook client certificate.
var DefaultClientNames = []string{"kube-apiserver", "kube-apiserver-webhook-client"}

// clientCAs is the pool of CAs in a PEM file, read again when the file's
// size or modification time changed (a Secret's volume replaces it on update).
type clientCAs struct {
	path   string
	logger logr.Logger

	mu      sync.Mutex
	size    int64
	modTime time.Time
	pool    *x509.CertPool
}

// loadClientCAs reads the CAs of path; it fails when there are none.
func loadClientCAs(path string, logger logr.Logger) (*clientCAs, error) {
	c := &clientCAs{path: path, logger: logger}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the webhook client CA: %w", err)
	}
	if c.pool, err = readCertPool(path); err != nil {
		return nil, err
	}
	c.size, c.modTime = info.Size(), info.ModTime()
	return c, nil
}

// current is the pool as the file holds it now; when the file changed but
// cannot be read, the last good pool stays in force.
func (c *clientCAs) current() *x509.CertPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, err := os.Stat(c.path)
	if err != nil || (info.Size() == c.size && info.ModTime().Equal(c.modTime)) {
		return c.pool
	}
	pool, err := readCertPool(c.path)
	if err != nil {
		c.logger.Error(err, "Failed to reload the webhook client CA; the previous one stays in force", "path", c.path)
		return c.pool
	}
	c.pool, c.size, c.modTime = pool, info.Size(), info.ModTime()
	c.logger.Info("Reloaded the webhook client CA", "path", c.path)
	return c.pool
}

func readCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the webhook client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("the webhook client CA %s holds no PEM certificate", path)
	}
	return pool, nil
}

// requireClientCertificates makes config require a client certificate signed
// by a CA of cas, read afresh for every connection.
func requireClientCertificates(config *tls.Config, cas *clientCAs) {
	config.ClientAuth = tls.RequireAndVerifyClientCert
	config.ClientCAs = cas.pool
	base := config.Clone()
	config.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		perConnection := base.Clone()
		perConnection.ClientCAs = cas.current()
		return perConnection, nil
	}
}

// allowedCallers refuses, with 403, a request whose verified client
// certificate carries none of names as common name or DNS SAN.
func allowedCallers(next http.Handler, names []string, logger logr.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			http.Error(w, "a client certificate is required", http.StatusForbidden)
			return
		}
		leaf := r.TLS.VerifiedChains[0][0]
		if !slices.Contains(names, leaf.Subject.CommonName) && !slices.ContainsFunc(leaf.DNSNames, func(name string) bool {
			return slices.Contains(names, name)
		}) {
			logger.Info("Refused a webhook caller whose certificate name is not allowed",
				"commonName", leaf.Subject.CommonName, "dnsNames", leaf.DNSNames, "remoteAddress", r.RemoteAddr)
			http.Error(w, "this client certificate may not call the webhooks", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refusedWithAlert is whether err of a handshake without a client
// certificate still shows a TLS server at the other end: one that refused it
// with an alert (TLS 1.2 reports that during the handshake, TLS 1.3 on the
// first read).
func refusedWithAlert(err error) bool {
	var opError *net.OpError
	return errors.As(err, &opError) && opError.Op == "remote error"
}

// connectionErrorLog receives the HTTP server's connection errors, among them
// the refused handshakes. The readiness check's own handshake, from loopback,
// fails on every probe, so those go to the debug level.
type connectionErrorLog struct{ logger logr.Logger }

func (l connectionErrorLog) Write(p []byte) (int, error) {
	message := strings.TrimSpace(string(p))
	if strings.Contains(message, "handshake error from 127.0.0.1:") || strings.Contains(message, "handshake error from [::1]:") {
		l.logger.V(1).Info("Refused a connection", "error", message)
	} else {
		l.logger.Info("Refused a connection", "error", message)
	}
	return len(p), nil
}

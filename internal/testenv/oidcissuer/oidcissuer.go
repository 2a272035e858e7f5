// Package oidcissuer runs a real OpenID Provider for tests in-process:
// internal/oidcprovider (zitadel's OpenID-certified pkg/op with the
// library's example storage and login page), served over TLS on 127.0.0.1.
// Tests log people in through it, and the API server trusts it through its
// structured authentication configuration (AuthenticationConfig).
package oidcissuer

import (
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/golive-dev/golive/internal/oidcprovider"
)

// Password is every test user's password.
const Password = "golive-test-password"

// Issuer is a running provider.
type Issuer struct {
	// URL is the issuer URL, https://127.0.0.1:<port>.
	URL string
	// CAPEM is the PEM certificate the provider serves with.
	CAPEM []byte
	// Client is an HTTP client that trusts the provider.
	Client *http.Client
	server *httptest.Server
}

// Start serves a provider with one web client (clientID, secret, allowed to
// redirect to redirectURLs) and users whose ID (the ID token's sub) and
// login name are the given names; it stops with the test.
func Start(t *testing.T, clientID, secret string, redirectURLs []string, users ...string) *Issuer {
	t.Helper()
	server := httptest.NewUnstartedServer(nil)
	issuer := "https://" + server.Listener.Addr().String()
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	handler, err := oidcprovider.Handler(oidcprovider.Config{Issuer: issuer, Users: users, Password: Password,
		ClientID: clientID, ClientSecret: secret, RedirectURLs: redirectURLs, Logger: logger})
	if err != nil {
		t.Fatalf("Setting up the provider: %v", err)
	}
	server.Config.Handler = handler
	server.StartTLS()
	t.Cleanup(server.Close)
	certificate := server.Certificate()
	return &Issuer{
		URL:    issuer,
		CAPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certificate.Raw}),
		Client: server.Client(),
		server: server,
	}
}

// CertPool holds the provider's certificate.
func (i *Issuer) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(i.CAPEM)
	return pool
}

// AuthenticationConfig writes a kube-apiserver AuthenticationConfiguration
// (its --authentication-config) into dir that trusts the provider's ID
// tokens for audience: the sub claim is the user name, unprefixed.
func (i *Issuer) AuthenticationConfig(dir, audience string) (string, error) {
	path := filepath.Join(dir, "authentication-config.yaml")
	return path, os.WriteFile(path, oidcprovider.AuthenticationConfig(i.URL, i.CAPEM, audience), 0o600)
}

// LoginForm answers the provider's login page: page is the URL the browser
// was sent to (/login/username?authRequestID=...); it returns the URL to post
// the form to and its fields for user.
func (i *Issuer) LoginForm(page *url.URL, user string) (string, url.Values, error) {
	return oidcprovider.LoginForm(i.URL, page, user, Password)
}

// Package oidcissuer runs a real OpenID Provider for tests: the in-memory
// provider of github.com/zitadel/oidc/v3 (pkg/op, OpenID certified, with the
// library's example storage and login page), served over TLS on 127.0.0.1.
// Tests log people in through it, and the API server trusts it through its
// structured authentication configuration (AuthenticationConfig).
package oidcissuer

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
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

// registerMu serialises RegisterClients, which changes the example storage's
// package-level client list.
var registerMu sync.Mutex

// Start serves a provider with one web client (clientID, secret, allowed to
// redirect to redirectURLs) and users whose ID (the ID token's sub) and
// login name are the given names; it stops with the test.
func Start(t *testing.T, clientID, secret string, redirectURLs []string, users ...string) *Issuer {
	t.Helper()
	server := httptest.NewUnstartedServer(nil)
	issuer := "https://" + server.Listener.Addr().String()
	store := map[string]*storage.User{}
	for _, user := range users {
		store[user] = &storage.User{ID: user, Username: user, Password: Password, FirstName: user, Email: user + "@example.com", EmailVerified: true}
	}
	usersFile := filepath.Join(t.TempDir(), "users.json")
	data, err := json.Marshal(store)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(usersFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	userStore, err := storage.StoreFromFile(usersFile)
	if err != nil {
		t.Fatalf("Loading the provider's users: %v", err)
	}
	registerMu.Lock()
	storage.RegisterClients(storage.WebClient(clientID, secret, redirectURLs...))
	registerMu.Unlock()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	server.Config.Handler = exampleop.SetupServer(issuer, storage.NewStorage(userStore), logger, false)
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
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(string(i.CAPEM)), "\n", "\n      ")
	config := fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: %s
    audiences: [%s]
    certificateAuthority: |
%s
  claimMappings:
    username:
      claim: sub
      prefix: ""
`, i.URL, audience, indented)
	path := filepath.Join(dir, "authentication-config.yaml")
	return path, os.WriteFile(path, []byte(config), 0o600)
}

// LoginForm answers the provider's login page: page is the URL the browser
// was sent to (/login/username?authRequestID=...); it returns the URL to post
// the form to and its fields for user.
func (i *Issuer) LoginForm(page *url.URL, user string) (string, url.Values, error) {
	id := page.Query().Get("authRequestID")
	if id == "" {
		return "", nil, fmt.Errorf("%s is not the provider's login page", page)
	}
	return i.URL + "/login/username", url.Values{"id": {id}, "username": {user}, "password": {Password}}, nil
}

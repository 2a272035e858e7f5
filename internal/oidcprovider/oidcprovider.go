// Package oidcprovider is the OpenID Provider of golive's tests and local
// clusters: the provider of github.com/zitadel/oidc/v3 (pkg/op, OpenID
// certified) with the library's example storage and login page, serving
// fixed users who share one password and one web client. The envtest tests
// run it in-process (internal/testenv/oidcissuer); the demo and the
// end-to-end tests run it as a program (hack/oidc-provider). The
// kube-apiserver trusts it through AuthenticationConfig.
package oidcprovider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// Config is what the provider serves.
type Config struct {
	// Issuer is the provider's https URL, as clients and the API server reach it.
	Issuer string
	// Users are the people who may log in: each name is both the login name
	// and the ID token's sub.
	Users []string
	// Password is every user's password.
	Password string
	// ClientID and ClientSecret are the one web client's credentials.
	ClientID, ClientSecret string
	// RedirectURLs are where the client may be sent back after a login.
	RedirectURLs []string
	// Logger logs the requests; exampleop makes it the process's default.
	Logger *slog.Logger
}

// Handler serves the provider at cfg.Issuer's root.
func Handler(cfg Config) (http.Handler, error) {
	if !strings.HasPrefix(cfg.Issuer, "https://") {
		return nil, fmt.Errorf("issuer %q is not an https URL: the kube-apiserver trusts no other", cfg.Issuer)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.Password == "" {
		return nil, errors.New("a client ID, its secret and the users' password are required")
	}
	users := users{}
	for _, name := range cfg.Users {
		users[name] = &storage.User{ID: name, Username: name, Password: cfg.Password, FirstName: name,
			Email: name, EmailVerified: true}
	}
	clients := map[string]*storage.Client{cfg.ClientID: storage.WebClient(cfg.ClientID, cfg.ClientSecret, cfg.RedirectURLs...)}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return exampleop.SetupServer(cfg.Issuer, storage.NewStorageWithClients(users, clients), logger, false), nil
}

// users is the example storage's user store, in memory.
type users map[string]*storage.User

func (u users) GetUserByID(id string) *storage.User { return u[id] }

func (u users) GetUserByUsername(name string) *storage.User { return u[name] }

// ExampleClientID names the example storage's service client, which logs no person in.
func (u users) ExampleClientID() string { return "service" }

// AuthenticationConfig is a kube-apiserver AuthenticationConfiguration (its
// --authentication-config) that trusts the ID tokens of the provider at
// issuer, served with a certificate of caPEM, for audience: the sub claim
// is the user name, unprefixed.
func AuthenticationConfig(issuer string, caPEM []byte, audience string) []byte {
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(string(caPEM)), "\n", "\n      ")
	return fmt.Appendf(nil, `apiVersion: apiserver.config.k8s.io/v1
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
`, issuer, audience, indented)
}

// LoginForm answers the provider's login page: page is the URL a browser
// was sent to (<issuer>/login/username?authRequestID=...); it returns the
// URL to post the form to and its fields for user.
func LoginForm(issuer string, page *url.URL, user, password string) (string, url.Values, error) {
	id := page.Query().Get("authRequestID")
	if id == "" || !strings.HasPrefix(page.String(), issuer+"/login/") {
		return "", nil, fmt.Errorf("%s is not the login page of the provider %s", page, issuer)
	}
	return issuer + "/login/username", url.Values{"id": {id}, "username": {user}, "password": {password}}, nil
}

// SelfSignedCertificate is a certificate for hosts (names or IP
// addresses), valid for a year, and its key, both PEM: the provider serves
// with it and the API server and the console trust it as their CA.
func SelfSignedCertificate(hosts ...string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "golive local OIDC provider"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, host := range hosts {
		if ip := net.ParseIP(host); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, host)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

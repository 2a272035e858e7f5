package oidcprovider

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"
)

func TestSelfSignedCertificateIsItsOwnCAForTheHost(t *testing.T) {
	certPEM, keyPEM, err := SelfSignedCertificate("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("The certificate and key do not make a pair: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("Trusting the certificate as its own CA for %s: %v", host, err)
		}
	}
}

func TestLoginFormAnswersOnlyTheProvidersLoginPage(t *testing.T) {
	const issuer = "https://127.0.0.1:5556"
	tests := []struct {
		page    string
		wantErr bool
	}{
		{page: issuer + "/login/username?authRequestID=abc"},
		{page: issuer + "/login/username", wantErr: true},
		{page: "https://elsewhere.example/login/username?authRequestID=abc", wantErr: true},
	}
	for _, tt := range tests {
		page, err := url.Parse(tt.page)
		if err != nil {
			t.Fatal(err)
		}
		action, form, err := LoginForm(issuer, page, "bob@example.com", "pw")
		if (err != nil) != tt.wantErr {
			t.Errorf("LoginForm(%s): error %v, want an error: %t", tt.page, err, tt.wantErr)
			continue
		}
		if err == nil && (action != issuer+"/login/username" || form.Get("id") != "abc" || form.Get("username") != "bob@example.com") {
			t.Errorf("LoginForm(%s) = %s %v", tt.page, action, form)
		}
	}
}

func TestHandlerWantsAnHTTPSIssuer(t *testing.T) {
	_, err := Handler(Config{Issuer: "http://127.0.0.1:5556", Users: []string{"bob"}, Password: "pw", ClientID: "c", ClientSecret: "s"})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("Handler with an http issuer: %v, want a refusal naming https", err)
	}
}

func TestAuthenticationConfigTrustsTheIssuerForTheAudience(t *testing.T) {
	config := string(AuthenticationConfig("https://127.0.0.1:5556", []byte("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n"), "golive-console"))
	for _, want := range []string{"kind: AuthenticationConfiguration", "url: https://127.0.0.1:5556", "audiences: [golive-console]",
		"      -----BEGIN CERTIFICATE-----\n      AAA\n", "claim: sub", `prefix: ""`} {
		if !strings.Contains(config, want) {
			t.Errorf("The configuration lacks %q:\n%s", want, config)
		}
	}
}

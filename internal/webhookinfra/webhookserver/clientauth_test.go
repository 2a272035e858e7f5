package webhookserver_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/webhookinfra/webhookserver"
)

func TestClientCertificatesAreRequiredWithAClientCA(t *testing.T) {
	trusted := newCA(t, "trusted")
	other := newCA(t, "other")
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	writeFile(t, caFile, trusted.PEM)
	server, address := startServer(t, webhookserver.Options{ClientCAFile: caFile})

	for _, tc := range []struct {
		name        string
		certificate *tls.Certificate
		want        string
	}{
		{name: "no certificate", want: "refused"},
		{name: "a certificate of another CA", certificate: clientCertificate(t, other, "kube-apiserver"), want: "refused"},
		{name: "a name not allowed", certificate: clientCertificate(t, trusted, "mallory"), want: "403"},
		{name: "the API server's common name", certificate: clientCertificate(t, trusted, "kube-apiserver-webhook-client"), want: "200 hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(address, tc.certificate); got != tc.want {
				t.Fatalf("GET /hello with %s: %s, want %s", tc.name, got, tc.want)
			}
		})
	}
	if err := server.StartedChecker()(nil); err != nil {
		t.Fatalf("Started check of a server that requires client certificates: %v", err)
	}
}

func TestAllowedClientNamesAreConfigurable(t *testing.T) {
	ca := newCA(t, "trusted")
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	writeFile(t, caFile, ca.PEM)
	_, address := startServer(t, webhookserver.Options{ClientCAFile: caFile, ClientNames: []string{"apiserver.example.com"}})

	if got := get(address, clientCertificate(t, ca, "apiserver.example.com")); got != "200 hello" {
		t.Fatalf("An allowed DNS name: %s, want 200 hello", got)
	}
	if got := get(address, clientCertificate(t, ca, "kube-apiserver")); got != "403" {
		t.Fatalf("A default name that the options replaced: %s, want 403", got)
	}
}

func TestTheClientCAIsReloadedWhenItChanges(t *testing.T) {
	before, after := newCA(t, "before"), newCA(t, "after")
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	writeFile(t, caFile, before.PEM)
	_, address := startServer(t, webhookserver.Options{ClientCAFile: caFile})
	if got := get(address, clientCertificate(t, before, "kube-apiserver")); got != "200 hello" {
		t.Fatalf("A certificate of the CA in the file: %s, want 200 hello", got)
	}

	writeFile(t, caFile, after.PEM)
	// The modification time alone may not change within the file system's resolution.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(caFile, later, later); err != nil {
		t.Fatal(err)
	}
	if got := get(address, clientCertificate(t, after, "kube-apiserver")); got != "200 hello" {
		t.Fatalf("A certificate of the new CA: %s, want 200 hello", got)
	}
	if got := get(address, clientCertificate(t, before, "kube-apiserver")); got != "refused" {
		t.Fatalf("A certificate of the replaced CA: %s, want refused", got)
	}

	// A broken file keeps the CA that was last read in force.
	writeFile(t, caFile, []byte("not a certificate"))
	if got := get(address, clientCertificate(t, after, "kube-apiserver")); got != "200 hello" {
		t.Fatalf("After the file broke, a certificate of the last good CA: %s, want 200 hello", got)
	}
}

func TestStartFailsWithoutAClientCA(t *testing.T) {
	certDir := t.TempDir()
	certificate, key, err := certutil.GenerateSelfSignedCertKey("localhost", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(certDir, "tls.crt"), certificate)
	writeFile(t, filepath.Join(certDir, "tls.key"), key)
	server := webhookserver.New(webhookserver.Options{
		Host: "127.0.0.1", Port: testenv.FreePort(t), CertDir: certDir,
		ClientCAFile: filepath.Join(t.TempDir(), "missing.crt"),
	})
	if err := server.Start(t.Context()); err == nil {
		t.Fatal("Start with a missing client CA file succeeded")
	}
}

func newCA(t *testing.T, name string) *testenv.ClientCA {
	t.Helper()
	ca, err := testenv.NewClientCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func clientCertificate(t *testing.T, ca *testenv.ClientCA, name string) *tls.Certificate {
	t.Helper()
	certificate, err := ca.TLSCertificate(name)
	if err != nil {
		t.Fatal(err)
	}
	return &certificate
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}

// get asks for /hello on a new connection, presenting certificate if not nil,
// and says how it went: "refused" when the TLS handshake or the connection
// failed, else the status code and, for 200, the body.
func get(address string, certificate *tls.Certificate) string {
	config := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the server's certificate is not what is tested
	if certificate != nil {
		// Presented whatever CAs the server names as acceptable: Go's client
		// would otherwise keep back a certificate of another CA.
		config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return certificate, nil }
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: config, DisableKeepAlives: true}}
	response, err := client.Get("https://" + address + "/hello")
	if err != nil {
		return "refused"
	}
	defer func() { _ = response.Body.Close() }()
	body, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusOK {
		return fmt.Sprint(response.StatusCode)
	}
	return fmt.Sprintf("%d %s", response.StatusCode, body)
}

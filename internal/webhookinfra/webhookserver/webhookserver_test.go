package webhookserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/webhookinfra/webhookserver"
)

// The API server's webhook client is a client-go transport, which keeps Go's
// default idle timeout; the server must keep connections longer.
func TestIdleTimeoutOutlastsTheAPIServersClient(t *testing.T) {
	clientIdle := http.DefaultTransport.(*http.Transport).IdleConnTimeout
	if webhookserver.IdleTimeout <= clientIdle {
		t.Fatalf("IdleTimeout %s: the server would close idle connections no later than the API server (%s), which may reuse one as it closes", webhookserver.IdleTimeout, clientIdle)
	}
}

func TestServesRegisteredWebhooksAndClosesIdleConnections(t *testing.T) {
	const idle = 300 * time.Millisecond
	server, address := startServer(t, webhookserver.Options{IdleTimeout: idle, TLSOpts: []func(*tls.Config){
		func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} },
	}})
	conn, err := tls.Dial("tcp", address, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec
	if err != nil {
		t.Fatalf("Dialling the server: %v", err)
	}
	defer func() { _ = conn.Close() }()
	reader := bufio.NewReader(conn)
	for i := range 2 {
		if _, err := fmt.Fprintf(conn, "GET /hello HTTP/1.1\r\nHost: %s\r\n\r\n", address); err != nil {
			t.Fatalf("Request %d on one connection: %v", i, err)
		}
		response, err := http.ReadResponse(reader, nil)
		if err != nil {
			t.Fatalf("Reading response %d: %v", i, err)
		}
		body, _ := io.ReadAll(response.Body)
		_ = response.Body.Close()
		if response.StatusCode != http.StatusOK || string(body) != "hello" {
			t.Fatalf("Response %d: %d %q, want 200 \"hello\"", i, response.StatusCode, body)
		}
	}
	// Left idle, the connection is closed by the server after its idle timeout.
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("Idle connection: read %v, want EOF: the server did not close it after %s", err, idle)
	}
	if err := server.StartedChecker()(nil); err != nil {
		t.Fatalf("Started check of a serving server: %v", err)
	}
}

func TestStartedCheckFailsBeforeStart(t *testing.T) {
	server := webhookserver.New(webhookserver.Options{Host: "127.0.0.1", Port: testenv.FreePort(t), CertDir: t.TempDir()})
	if err := server.StartedChecker()(nil); err == nil {
		t.Fatal("Started check of a server not started passed")
	}
}

// startServer serves a "hello" webhook with a self-signed certificate until
// the test ends and returns the server and its address once it answers.
func startServer(t *testing.T, options webhookserver.Options) (*webhookserver.Server, string) {
	t.Helper()
	options.Host, options.Port, options.CertDir = "127.0.0.1", testenv.FreePort(t), t.TempDir()
	certificate, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"tls.crt": certificate, "tls.key": key} {
		if err := os.WriteFile(filepath.Join(options.CertDir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	server := webhookserver.New(options)
	server.Register("/hello", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- server.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("Stopping the server: %v", err)
		}
	})
	testenv.Eventually(t, func(context.Context) string {
		if err := server.StartedChecker()(nil); err != nil {
			return err.Error()
		}
		return ""
	})
	return server, net.JoinHostPort(options.Host, strconv.Itoa(options.Port))
}

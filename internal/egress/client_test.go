package egress_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golive-dev/golive/internal/egress"
)

// get sends a GET to url with policy's client and returns the status, or the error.
func get(t *testing.T, policy *egress.Policy, url string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	response, err := policy.Client().Do(request)
	if err != nil {
		return 0, err
	}
	defer func() { _ = response.Body.Close() }()
	return response.StatusCode, nil
}

func okServer(t *testing.T) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(server.Close)
	return server
}

func TestTheLoopbackIsRefusedUnlessListed(t *testing.T) {
	server := okServer(t) // on 127.0.0.1
	tests := []struct {
		name  string
		allow []string
		url   string
		want  error
	}{
		{name: "by default", url: server.URL, want: egress.ErrRefused},
		{name: "by default, named localhost", url: strings.Replace(server.URL, "127.0.0.1", "localhost", 1), want: egress.ErrRefused},
		{name: "allowed by name only", allow: []string{"localhost"}, url: strings.Replace(server.URL, "127.0.0.1", "localhost", 1), want: egress.ErrRefused},
		{name: "another CIDR listed", allow: []string{"10.0.0.0/8"}, url: server.URL, want: egress.ErrRefused},
		{name: "everything listed", allow: []string{"0.0.0.0/0"}, url: server.URL, want: egress.ErrRefused},
		{name: "listed", allow: []string{"127.0.0.1/32"}, url: server.URL},
		{name: "listed, named localhost", allow: []string{"127.0.0.1/32", "::1/128"}, url: strings.Replace(server.URL, "127.0.0.1", "localhost", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, err := get(t, mustParse(t, tt.allow...), tt.url)
			if tt.want == nil {
				if err != nil || status != http.StatusNoContent {
					t.Fatalf("GET %s = %d, %v; want 204", tt.url, status, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("GET %s = %d, %v; want %v", tt.url, status, err, tt.want)
			}
			if got := egress.Describe(err); got != egress.ClassRefused {
				t.Errorf("Describe() = %q, want %q", got, egress.ClassRefused)
			}
		})
	}
}

func TestARedirectToARefusedAddressIsRefused(t *testing.T) {
	// Counted: the redirect must not even reach a server that is refused.
	refused := make(chan struct{}, 10)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		refused <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(target.Close)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	for name, location := range map[string]string{
		"metadata":          "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"IPv6 metadata":     "http://[fd00:ec2::254]/latest/meta-data/",
		"another loopback":  "http://127.0.0.2:" + port + "/",
		"the IPv6 loopback": "http://[::1]:" + port + "/",
		"another scheme":    "ftp://127.0.0.1:" + port + "/",
	} {
		t.Run(name, func(t *testing.T) {
			redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, location, http.StatusFound)
			}))
			t.Cleanup(redirecting.Close)
			// Only the redirecting server's address is listed.
			status, err := get(t, mustParse(t, "127.0.0.1/32"), redirecting.URL)
			if !errors.Is(err, egress.ErrRefused) {
				t.Fatalf("GET = %d, %v; want %v", status, err, egress.ErrRefused)
			}
		})
	}
	if n := len(refused); n != 0 {
		t.Errorf("a refused server was reached %d times", n)
	}
}

func TestARedirectWithinThePolicyIsFollowed(t *testing.T) {
	target := okServer(t)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	t.Cleanup(redirecting.Close)
	if status, err := get(t, mustParse(t, "127.0.0.1/32"), redirecting.URL); err != nil || status != http.StatusNoContent {
		t.Fatalf("GET = %d, %v; want 204", status, err)
	}
}

func TestDescribeSaysOnlyACoarseClass(t *testing.T) {
	open := mustParse(t, "127.0.0.1/32")

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddress := closed.Addr().String()
	_ = closed.Close()

	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hanging.Close)

	tlsServer := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsServer.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsServer.StartTLS()
	t.Cleanup(tlsServer.Close)

	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	t.Cleanup(loop.Close)

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		want    string
	}{
		{name: "refused by the policy", url: "http://169.254.169.254/", want: egress.ClassRefused},
		{name: "connection refused", url: "http://" + closedAddress + "/", want: egress.ClassUnreachable},
		{name: "no such host", url: "http://no-such-host.invalid/", want: egress.ClassUnreachable},
		{name: "a certificate not trusted", url: tlsServer.URL, want: egress.ClassUnreachable},
		{name: "no answer in time", url: hanging.URL, timeout: 100 * time.Millisecond, want: egress.ClassTimedOut},
		{name: "a redirect loop", url: loop.URL, want: egress.ClassTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			request, err := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			client := open.Client()
			if tt.name == "no such host" {
				client = mustParse(t).Client()
			}
			response, err := client.Do(request)
			if err == nil {
				_ = response.Body.Close()
				t.Fatalf("GET %s succeeded", tt.url)
			}
			if got := egress.Describe(err); got != tt.want {
				t.Errorf("Describe(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
}

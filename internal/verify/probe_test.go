package verify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/egress"
)

// startServer serves the paths the probe tests use.
func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != userAgent {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	// Runs before server.Close, which waits for handlers still blocked.
	t.Cleanup(func() { close(release) })
	return server
}

func checkOf(url string, options ...httpCheckOption) v1alpha1.HTTPCheck {
	return makeHTTPCheck(append([]httpCheckOption{func(check *v1alpha1.HTTPCheck) { check.URL = url }}, options...)...)
}

func TestProbe(t *testing.T) {
	server := startServer(t)
	tests := []struct {
		name  string
		check v1alpha1.HTTPCheck
		want  ProbeResult
	}{
		{name: "200", check: checkOf(server.URL + "/ok"), want: ProbeResult{StatusCode: 200}},
		{name: "500", check: checkOf(server.URL + "/error"), want: ProbeResult{StatusCode: 500}},
		{
			name:  "a redirect is followed when no 3xx is expected",
			check: checkOf(server.URL + "/redirect"), want: ProbeResult{StatusCode: 200},
		},
		{
			name:  "a redirect is the answer when a 3xx is expected",
			check: checkOf(server.URL+"/redirect", withExpectStatus(200, 302)), want: ProbeResult{StatusCode: 302},
		},
		{
			name:  "a redirect loop is no answer",
			check: checkOf(server.URL + "/loop"), want: ProbeResult{Error: "redirected too many times"},
		},
		{
			name:  "a server slower than the period is no answer",
			check: checkOf(server.URL+"/slow", withPeriod(time.Second)), want: ProbeResult{Error: "timed out after 1s"},
		},
		{
			name:  "a URL that cannot be requested is a permanent failure",
			check: checkOf("http://[::1"),
			want:  ProbeResult{Error: `invalid URL "http://[::1": parse "http://[::1": missing ']' in host`, Permanent: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Probe(t.Context(), &http.Client{}, tt.check)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Probe() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProbeConnectionRefused(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listening: %v", err)
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatalf("Closing the listener: %v", err)
	}

	// Whether nothing listens, a firewall drops or DNS fails, the author of the
	// check learns only that it was unreachable, never the address or the port's state.
	got := Probe(t.Context(), nil, checkOf("http://"+address+"/healthz"))
	want := ProbeResult{Error: "unreachable"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Probe() mismatch (-want +got):\n%s", diff)
	}
}

func TestProbeStoppedByItsCaller(t *testing.T) {
	server := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := Probe(ctx, nil, checkOf(server.URL+"/ok"))
	if diff := cmp.Diff(ProbeResult{Error: "probe stopped: context canceled"}, got); diff != "" {
		t.Errorf("Probe() mismatch (-want +got):\n%s", diff)
	}
}

func TestProbeLeavesTheClientAlone(t *testing.T) {
	server := startServer(t)
	httpClient := &http.Client{}
	Probe(t.Context(), httpClient, checkOf(server.URL+"/redirect", withExpectStatus(302)))
	if httpClient.CheckRedirect != nil {
		t.Error("Probe() changed the redirect policy of the client it was given")
	}
}

func TestProbeAll(t *testing.T) {
	server := startServer(t)
	checks := []v1alpha1.HTTPCheck{
		checkOf(server.URL+"/slow", withPeriod(time.Second)),
		checkOf(server.URL + "/error"),
		checkOf(server.URL + "/ok"),
	}
	want := []ProbeResult{{Error: "timed out after 1s"}, {StatusCode: 500}, {StatusCode: 200}}
	if diff := cmp.Diff(want, ProbeAll(t.Context(), nil, checks)); diff != "" {
		t.Errorf("ProbeAll() mismatch (-want +got):\n%s", diff)
	}
	if got := ProbeAll(t.Context(), nil, nil); len(got) != 0 {
		t.Errorf("ProbeAll() of no checks = %v, want none", got)
	}
}

func TestProbeTimeout(t *testing.T) {
	for period, want := range map[time.Duration]time.Duration{
		0:                10 * time.Second,
		time.Second:      time.Second,
		5 * time.Second:  5 * time.Second,
		10 * time.Second: 10 * time.Second,
		time.Hour:        10 * time.Second,
	} {
		if got := ProbeTimeout(makeHTTPCheck(withPeriod(period))); got != want {
			t.Errorf("ProbeTimeout() with period %v = %v, want %v", period, got, want)
		}
	}
}

func TestProbeThroughTheEgressPolicy(t *testing.T) {
	server := startServer(t) // on 127.0.0.1
	policy := func(allow ...string) *http.Client {
		p, err := egress.Parse(allow)
		if err != nil {
			t.Fatal(err)
		}
		return p.Client()
	}
	tests := []struct {
		name   string
		client *http.Client
		check  v1alpha1.HTTPCheck
		want   ProbeResult
	}{
		{name: "the loopback is refused by default", client: policy(), check: checkOf(server.URL + "/ok"),
			want: ProbeResult{Error: "refused by golive's egress policy"}},
		{name: "the loopback is refused when not listed", client: policy("10.0.0.0/8", "*.svc.cluster.local"), check: checkOf(server.URL + "/ok"),
			want: ProbeResult{Error: "refused by golive's egress policy"}},
		{name: "the loopback listed", client: policy("127.0.0.1/32"), check: checkOf(server.URL + "/ok"),
			want: ProbeResult{StatusCode: 200}},
		{name: "a redirect within the policy", client: policy("127.0.0.1/32"), check: checkOf(server.URL + "/redirect"),
			want: ProbeResult{StatusCode: 200}},
		{name: "a redirect to the metadata service", client: policy("127.0.0.1/32"), check: checkOf(server.URL + "/metadata"),
			want: ProbeResult{Error: "refused by golive's egress policy"}},
		{name: "a redirect to the metadata service, expected as the answer", client: policy("127.0.0.1/32"),
			check: checkOf(server.URL+"/metadata", withExpectStatus(302)), want: ProbeResult{StatusCode: 302}},
		{name: "a redirect loop", client: policy("127.0.0.1/32"), check: checkOf(server.URL + "/loop"),
			want: ProbeResult{Error: "redirected too many times"}},
		{name: "the metadata service", client: policy("0.0.0.0/0"), check: checkOf("http://169.254.169.254/latest/meta-data/"),
			want: ProbeResult{Error: "refused by golive's egress policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Probe(t.Context(), tt.client, tt.check)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Probe() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// What a refused probe leaves in the check's status: the class, no address.
func TestARefusedProbeIsRecordedAsNoAnswer(t *testing.T) {
	server := startServer(t)
	policy, err := egress.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	check := checkOf(server.URL + "/ok")
	state := NextHTTPState(CheckState{}, check, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Probe(t.Context(), policy.Client(), check))
	if want := "no answer: refused by golive's egress policy (0/3 successes in a row)"; state.Message != want || state.Result != v1alpha1.CheckRunning {
		t.Errorf("state = %s %q, want %s %q", state.Result, state.Message, v1alpha1.CheckRunning, want)
	}
}

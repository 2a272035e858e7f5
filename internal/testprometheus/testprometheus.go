// Package testprometheus runs, for tests, a real Prometheus (the binary
// hack/build-prometheus.sh builds from source, named by $PROMETHEUS) as a
// local process scraping an exporter the test serves, whose error rate the
// test controls.
package testprometheus

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
)

const (
	// ScrapeInterval is how often the test's Prometheus scrapes the exporter.
	ScrapeInterval = time.Second
	// requestsPerTick is how many requests the exporter counts every tick.
	requestsPerTick = 20
	tick            = 100 * time.Millisecond
	startTimeout    = time.Minute
	dataTimeout     = time.Minute
)

// ErrorRateQuery is the share of the exporter's requests in the
// environment's namespace that answered 5xx over the last 5 seconds, as a
// release's metric check asks it.
const ErrorRateQuery = `sum(rate(http_requests_total{namespace="{{.Namespace}}",code=~"5.."}[5s])) / sum(rate(http_requests_total{namespace="{{.Namespace}}"}[5s]))`

// Exporter serves http_requests_total{namespace,code} of simulated traffic:
// in every namespace given an error rate, requestsPerTick requests every
// 100ms, of which that share answered 500 and the rest 200.
type Exporter struct {
	// URL is the exporter's metrics endpoint.
	URL string

	mu         sync.Mutex
	errorRates map[string]float64
	carried    map[string]float64 // fractional 5xx carried to the next tick
}

// StartExporter serves the simulated traffic until the test ends; there is
// none until SetErrorRate names a namespace.
func StartExporter(t testing.TB) *Exporter {
	t.Helper()
	registry := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests served, by namespace and status code."},
		[]string{"namespace", "code"})
	registry.MustRegister(requests)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(listener) }()

	e := &Exporter{URL: "http://" + listener.Addr().String() + "/metrics", errorRates: map[string]float64{}, carried: map[string]float64{}}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(tick)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				for namespace, failed := range e.countTick() {
					requests.WithLabelValues(namespace, "500").Add(float64(failed))
					requests.WithLabelValues(namespace, "200").Add(float64(requestsPerTick - failed))
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-stopped
		_ = server.Close()
	})
	return e
}

// SetErrorRate sets the share of namespace's requests, from 0 to 1, that
// answer 500 from now on.
func (e *Exporter) SetErrorRate(namespace string, rate float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errorRates[namespace] = min(max(rate, 0), 1)
}

// countTick is how many of this tick's requests failed, by namespace.
func (e *Exporter) countTick() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	failed := make(map[string]int, len(e.errorRates))
	for namespace, rate := range e.errorRates {
		e.carried[namespace] += rate * requestsPerTick
		failed[namespace] = int(e.carried[namespace])
		e.carried[namespace] -= float64(failed[namespace])
	}
	return failed
}

// Prometheus is a Prometheus server process of the test.
type Prometheus struct {
	// URL is the server's address, for prometheus.address.
	URL string
	api promv1.API
}

// Binary is the Prometheus binary the Makefile names in $PROMETHEUS; the
// test fails without it.
func Binary(t testing.TB) string {
	t.Helper()
	binary := os.Getenv("PROMETHEUS")
	if binary == "" {
		t.Fatal("PROMETHEUS is not set: run this test through `make test`, which builds Prometheus from source " +
			"(hack/build-prometheus.sh) and sets PROMETHEUS")
	}
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("PROMETHEUS: %v: `make prometheus` builds it", err)
	}
	return binary
}

// Start runs Prometheus scraping the exporters' endpoints every second,
// waits until it is ready, and stops it when the test ends, printing the end
// of its log if the test failed.
func Start(t testing.TB, exporters ...*Exporter) *Prometheus {
	t.Helper()
	binary := Binary(t)
	dir := t.TempDir()
	var targets []string
	for _, e := range exporters {
		targets = append(targets, fmt.Sprintf("%q", strings.TrimSuffix(strings.TrimPrefix(e.URL, "http://"), "/metrics")))
	}
	config := fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\nscrape_configs:\n- job_name: exporter\n  static_configs:\n  - targets: [%s]\n",
		ScrapeInterval, ScrapeInterval, strings.Join(targets, ", "))
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	address := freeAddress(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+address, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("Prometheus's log:\n%s", log)
		}
	})

	p := &Prometheus{URL: "http://" + address}
	client, err := promapi.NewClient(promapi.Config{Address: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	p.api = promv1.NewAPI(client)
	poll(t, startTimeout, "Prometheus to be ready", func(ctx context.Context) (bool, string) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("Prometheus exited: %s", log)
		default:
		}
		request, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/-/ready", nil)
		if err != nil {
			return false, err.Error()
		}
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			return false, err.Error()
		}
		_ = response.Body.Close()
		return response.StatusCode == http.StatusOK, response.Status
	})
	return p
}

// WaitForValue waits until query returns a sample for which accept is true,
// as a metric check would read it, and returns its value.
func (p *Prometheus) WaitForValue(t testing.TB, query string, accept func(float64) bool) float64 {
	t.Helper()
	var value float64
	poll(t, dataTimeout, "Prometheus to answer "+query, func(ctx context.Context) (bool, string) {
		result, _, _, err := p.api.Query(ctx, query, time.Time{})
		if err != nil {
			return false, err.Error()
		}
		vector, ok := result.(model.Vector)
		if !ok || len(vector) == 0 {
			return false, fmt.Sprintf("no data: %v", result)
		}
		value = float64(vector[0].Value)
		return accept(value), fmt.Sprintf("value %g", value)
	})
	return value
}

// UnreachableAddress is an http address on the loopback where nothing listens.
func UnreachableAddress(t testing.TB) string {
	t.Helper()
	return "http://" + freeAddress(t)
}

func freeAddress(t testing.TB) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatal(err)
	}
	return address
}

// poll calls check every 200ms until it is done, failing the test with its
// last state after timeout.
func poll(t testing.TB, timeout time.Duration, what string, check func(ctx context.Context) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var state string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done, last := check(ctx)
		cancel()
		if done {
			return
		}
		state = last
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s: %s", timeout, what, state)
}

// ErrorRate is ErrorRateQuery for namespace, as Prometheus runs it.
func ErrorRate(namespace string) string {
	return strings.ReplaceAll(ErrorRateQuery, "{{.Namespace}}", namespace)
}

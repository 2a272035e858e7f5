package verify

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/egress"
	"github.com/golive-dev/golive/internal/testprometheus"
)

// TestQueryAgainstPrometheus queries a real Prometheus, scraping an exporter
// of the test, as the controller does.
func TestQueryAgainstPrometheus(t *testing.T) {
	exporter := testprometheus.StartExporter(t)
	exporter.SetErrorRate("billing", 0.25)
	prometheus := testprometheus.Start(t, exporter)
	prometheus.WaitForValue(t, testprometheus.ErrorRate("billing"), func(v float64) bool { return v > 0.2 && v < 0.3 })

	check := makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Prometheus.Address = prometheus.URL })
	query, err := RenderQuery(testprometheus.ErrorRateQuery, NewQueryVars("billing", "billing-2-4-0", EnvironmentProduction, []string{"billing-api"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		query      MetricQuery
		wantValues int
		wantError  string
	}{
		{name: "a ratio is a vector of one sample", query: MetricQuery{Check: check, Query: query}, wantValues: 1},
		{name: "a scalar", query: MetricQuery{Check: check, Query: "scalar(vector(0.5))"}, wantValues: 1},
		{name: "a namespace without traffic has no samples", query: MetricQuery{Check: check, Query: strings.ReplaceAll(query, "billing", "other")}},
		{name: "Prometheus's own error is quoted", query: MetricQuery{Check: check, Query: "rate(http_requests_total[1m]"},
			wantError: "Prometheus answered bad_data: "},
		{name: "a range vector is refused", query: MetricQuery{Check: check, Query: "http_requests_total[1m]"},
			wantError: "the query returned a matrix"},
		{name: "an unreachable Prometheus is named in a coarse class",
			query:     MetricQuery{Check: makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Prometheus.Address = testprometheus.UnreachableAddress(t) }), Query: query},
			wantError: ": unreachable"},
		{name: "a query that could not be prepared is not sent", query: MetricQuery{Check: check, Error: "Secret billing/prometheus, named by secretRef, does not exist"},
			wantError: "Secret billing/prometheus, named by secretRef, does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Query(t.Context(), nil, tt.query)
			if tt.wantError != "" {
				if !strings.Contains(got.Error, tt.wantError) {
					t.Errorf("Query() = %+v, want an error containing %q", got, tt.wantError)
				}
				return
			}
			if got.Error != "" || len(got.Values) != tt.wantValues {
				t.Errorf("Query() = %+v, want %d values", got, tt.wantValues)
			}
		})
	}

	// Queries go out under the egress rules, as probes do.
	policy, err := egress.Parse([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	if got := Query(t.Context(), policy.Client(), MetricQuery{Check: check, Query: query}); got.Error != "" || len(got.Values) != 1 {
		t.Errorf("an allowed Prometheus through the egress client: %+v", got)
	}
	outside := makeMetricCheck(func(c *v1alpha1.MetricCheck) {
		c.Prometheus.Address = strings.Replace(prometheus.URL, "127.0.0.1", "127.0.0.2", 1)
	})
	if got := Query(t.Context(), policy.Client(), MetricQuery{Check: outside, Query: query}); !strings.HasSuffix(got.Error, ": "+egress.ClassRefused) {
		t.Errorf("a Prometheus outside the egress rules: %+v, want %q", got, egress.ClassRefused)
	}

	measurement := Measure(check, t0, Query(t.Context(), nil, MetricQuery{Check: check, Query: query}))
	if measurement.Result != "Failed" || !strings.HasPrefix(measurement.Value, "0.2") {
		t.Errorf("an error rate of 25%% against result < 0.01: %+v, want Failed with the value", measurement)
	}
}

// TestQueryWithABearerToken queries a real Prometheus behind a proxy that
// demands a bearer token over https, as kube-rbac-proxy or a hosted
// Prometheus does: the check's token opens it, a wrong or missing one is
// refused with the proxy's status, and a redirect is not followed with the
// token.
func TestQueryWithABearerToken(t *testing.T) {
	exporter := testprometheus.StartExporter(t)
	exporter.SetErrorRate("billing", 0.25)
	prometheus := testprometheus.Start(t, exporter)
	prometheus.WaitForValue(t, testprometheus.ErrorRate("billing"), func(v float64) bool { return v > 0.2 && v < 0.3 })
	upstream, err := url.Parse(prometheus.URL)
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cr3t-token"
	var elsewhere atomic.Int32
	stranger := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			elsewhere.Add(1)
		}
		http.Error(w, "not here", http.StatusNotFound)
	}))
	t.Cleanup(stranger.Close)
	forward := httputil.NewSingleHostReverseProxy(upstream)
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/moved/") {
			http.Redirect(w, r, stranger.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	// The proxy and the stranger share httptest's certificate.
	client := proxy.Client()

	query, err := RenderQuery(testprometheus.ErrorRateQuery, NewQueryVars("billing", "billing-2-4-0", EnvironmentProduction, []string{"billing-api"}))
	if err != nil {
		t.Fatal(err)
	}
	check := makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Prometheus.Address = proxy.URL })
	if got := Query(t.Context(), client, MetricQuery{Check: check, Query: query, Token: token}); got.Error != "" || len(got.Values) != 1 {
		t.Errorf("with the token: %+v, want one value", got)
	}
	for name, wrong := range map[string]string{"without a token": "", "with another token": "guess"} {
		if got := Query(t.Context(), client, MetricQuery{Check: check, Query: query, Token: wrong}); !strings.Contains(got.Error, "401") {
			t.Errorf("%s: %+v, want the proxy's 401", name, got)
		}
	}
	moved := makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Prometheus.Address = proxy.URL + "/moved" })
	if got := Query(t.Context(), client, MetricQuery{Check: moved, Query: query, Token: token}); got.Error == "" {
		t.Errorf("a redirect answered as if it were Prometheus: %+v", got)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the token followed a redirect to another server %d times", n)
	}
}

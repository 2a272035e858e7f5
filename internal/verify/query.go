package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/egress"
)

// maxQueryTimeout bounds one query: a reconcile waits for it.
const maxQueryTimeout = 10 * time.Second

// MetricQuery is one metric check to measure: the check, its query rendered
// for the environment, and the bearer token of its secretRef, if any.
type MetricQuery struct {
	Check v1alpha1.MetricCheck
	// Query is the check's query rendered with the environment's QueryVars.
	Query string
	// Token is sent as a bearer token; empty sends none.
	Token string
	// Error, when set, says why the query cannot be sent (its template does
	// not render, its Secret cannot be read); the measurement is inconclusive.
	Error string
}

// QueryTimeout is how long one query of check waits for an answer: its
// interval, at most 10s.
func QueryTimeout(check v1alpha1.MetricCheck) time.Duration {
	return min(intervalOf(check), maxQueryTimeout)
}

// Query sends one instant query to the check's Prometheus with the
// Prometheus HTTP API client and reads its samples. The evaluation time is
// left to the server (its now): golive's clock may be a test's. httpClient
// is copied, never changed; it should be an egress.Policy's client, as the
// address is chosen by whoever wrote the request. Why there was no answer is
// said in a coarse class only, with the detail at V(1) in ctx's logger; an
// answer of Prometheus's own, such as a parse error, is quoted.
func Query(ctx context.Context, httpClient *http.Client, query MetricQuery) QueryResult {
	if query.Error != "" {
		return QueryResult{Error: query.Error}
	}
	timeout := QueryTimeout(query.Check)
	queryCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client, err := promapi.NewClient(promapi.Config{Address: query.Check.Prometheus.Address, Client: queryClient(httpClient, query.Token)})
	if err != nil {
		return QueryResult{Error: fmt.Sprintf("invalid Prometheus address %q: %v", query.Check.Prometheus.Address, err)}
	}
	value, _, _, err := promv1.NewAPI(client).Query(queryCtx, query.Query, time.Time{})
	if err == nil {
		return ResultOf(value)
	}
	if ctx.Err() != nil {
		return QueryResult{Error: fmt.Sprintf("query stopped: %v", context.Cause(ctx))}
	}
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) {
		return QueryResult{Error: fmt.Sprintf("Prometheus answered %s: %s", apiErr.Type, apiErr.Msg)}
	}
	class := egress.Describe(err)
	log.FromContext(ctx).V(1).Info("Queried Prometheus without an answer", "check", query.Check.Name, "class", class, "error", egress.Detail(err))
	if class == egress.ClassTimedOut {
		class += " after " + durationfmt.Short(timeout)
	}
	return QueryResult{Error: "Prometheus at " + query.Check.Prometheus.Address + ": " + class}
}

// QueryAll sends queries side by side and returns their results in the same
// order once every one returned.
func QueryAll(ctx context.Context, httpClient *http.Client, queries []MetricQuery) []QueryResult {
	results := make([]QueryResult, len(queries))
	var running sync.WaitGroup
	for i, query := range queries {
		running.Go(func() { results[i] = Query(ctx, httpClient, query) })
	}
	running.Wait()
	return results
}

// queryClient is a copy of httpClient that sends token as a bearer token,
// and then follows no redirect, so the token goes nowhere else.
func queryClient(httpClient *http.Client, token string) *http.Client {
	var client http.Client
	if httpClient != nil {
		client = *httpClient
	}
	if token != "" {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		next := client.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		client.Transport = bearerToken{token: token, next: next}
	}
	return &client
}

// bearerToken adds an Authorization header to every request it carries.
type bearerToken struct {
	token string
	next  http.RoundTripper
}

func (b bearerToken) RoundTrip(request *http.Request) (*http.Response, error) {
	request = request.Clone(request.Context())
	request.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(request)
}

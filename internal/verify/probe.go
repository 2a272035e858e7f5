package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
)

// maxProbeTimeout bounds one probe: a reconcile waits for it.
const maxProbeTimeout = 10 * time.Second

// maxDrainedBody is how much of an answer is read so its connection can be
// reused; the body itself is never looked at.
const maxDrainedBody = 64 << 10

const userAgent = "golive-verify"

// ProbeResult is what one probe of an HTTP check saw.
type ProbeResult struct {
	// StatusCode of the answer; 0 when there was none.
	StatusCode int
	// Error says why there was no answer; empty when there was one.
	Error string
	// Permanent is true when the URL could not even be made into a request:
	// probing again cannot help.
	Permanent bool
}

// ProbeTimeout is how long one probe of check waits for an answer: its
// period, at most 10s.
func ProbeTimeout(check v1alpha1.HTTPCheck) time.Duration {
	return min(periodOf(check), maxProbeTimeout)
}

// Probe sends one GET to check's URL and waits at most ProbeTimeout for the
// answer's status. Redirects are followed unless expectStatus lists a 3xx
// code, in which case the first answer counts. httpClient is copied, never
// changed; nil means a plain client. It must not carry credentials: the URL
// is chosen by whoever wrote the request. When ctx ends first, the result
// says so; a caller that is stopping should not record it.
func Probe(ctx context.Context, httpClient *http.Client, check v1alpha1.HTTPCheck) ProbeResult {
	timeout := ProbeTimeout(check)
	probeCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	request, err := http.NewRequestWithContext(probeCtx, http.MethodGet, check.URL, nil)
	if err != nil {
		return ProbeResult{Error: fmt.Sprintf("invalid URL %q: %v", check.URL, err), Permanent: true}
	}
	request.Header.Set("User-Agent", userAgent)

	response, err := probeClient(httpClient, check).Do(request)
	if err != nil {
		return ProbeResult{Error: describeProbeError(ctx, err, timeout)}
	}
	defer func() { _ = response.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, maxDrainedBody))
	return ProbeResult{StatusCode: response.StatusCode}
}

// ProbeAll probes checks side by side and returns their results in the same
// order once every probe returned, so a reconcile waits for the slowest probe
// rather than for the sum of them, and leaves nothing running behind.
func ProbeAll(ctx context.Context, httpClient *http.Client, checks []v1alpha1.HTTPCheck) []ProbeResult {
	results := make([]ProbeResult, len(checks))
	var probes sync.WaitGroup
	for i, check := range checks {
		probes.Go(func() { results[i] = Probe(ctx, httpClient, check) })
	}
	probes.Wait()
	return results
}

func probeClient(httpClient *http.Client, check v1alpha1.HTTPCheck) *http.Client {
	var client http.Client
	if httpClient != nil {
		client = *httpClient
	}
	if expectsRedirect(check) {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &client
}

func expectsRedirect(check v1alpha1.HTTPCheck) bool {
	for _, status := range expectStatusOf(check) {
		if status >= 300 && status < 400 {
			return true
		}
	}
	return false
}

// describeProbeError says why there was no answer, without repeating the URL
// that net/http puts in front of every error.
func describeProbeError(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("probe stopped: %v", context.Cause(ctx))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", durationfmt.Short(timeout))
	}
	if urlError, ok := errors.AsType[*url.Error](err); ok {
		return urlError.Err.Error()
	}
	return err.Error()
}

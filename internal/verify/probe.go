package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/egress"
)

// maxProbeTimeout bounds one probe: a reconcile waits for it.
const maxProbeTimeout = 10 * time.Second

// maxDrainedBody is how much of an answer is read so its connection can be
// reused; the body itself is never looked at.
const maxDrainedBody = 64 << 10

const userAgent = "golive-verify"

// maxRedirects is how many redirects a probe follows, as net/http's default client.
const maxRedirects = 10

// ProbeResult is what one probe of an HTTP check saw.
type ProbeResult struct {
	// StatusCode of the answer; 0 when there was none.
	StatusCode int
	// Error says why there was no answer, in a coarse class that reveals
	// nothing of the network (egress.Describe); empty when there was one.
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
// changed; nil means a plain client. It must not carry credentials, and it
// should be an egress.Policy's client: the URL is chosen by whoever wrote the
// request. Why there was no answer is said in a coarse class only; the
// detail goes to ctx's logger, at V(1). When ctx ends first, the result says
// so; a caller that is stopping should not record it.
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
		if ctx.Err() != nil {
			return ProbeResult{Error: fmt.Sprintf("probe stopped: %v", context.Cause(ctx))}
		}
		class := egress.Describe(err)
		log.FromContext(ctx).V(1).Info("Probed an HTTP check without an answer", "check", check.Name, "class", class, "error", egress.Detail(err))
		if class == egress.ClassTimedOut {
			return ProbeResult{Error: class + " after " + durationfmt.Short(timeout)}
		}
		return ProbeResult{Error: class}
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
	switch {
	case expectsRedirect(check):
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	case client.CheckRedirect == nil:
		// net/http's default, with an error egress.Describe knows.
		client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return egress.ErrTooManyRedirects
			}
			return nil
		}
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

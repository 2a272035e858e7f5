package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

const (
	dialTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
	// maxRedirects is how many redirects a Client follows, as net/http's default client.
	maxRedirects = 10
)

// ErrTooManyRedirects is the error of a call redirected more than 10 times.
var ErrTooManyRedirects = errors.New("redirected too many times")

// Client is an HTTP client whose every connection goes only where p allows.
// It carries no credentials and ignores HTTP_PROXY and HTTPS_PROXY: through
// a proxy, the policy would check the proxy's address, not the URL's.
func (p *Policy) Client() *http.Client {
	return &http.Client{Transport: p.Transport(), CheckRedirect: p.CheckRedirect}
}

// Transport is net/http's default transport without a proxy, dialing
// through p.
func (p *Policy) Transport() *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = p.DialContext
	// A custom DialTLSContext would bypass DialContext; none is set.
	transport.DialTLSContext = nil
	return transport
}

// CheckRedirect refuses a redirect to a URL that is neither http nor https,
// or whose host is an address p refuses, before anything is sent there
// (the dial would refuse it too), and stops after 10 redirects.
func (p *Policy) CheckRedirect(request *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return ErrTooManyRedirects
	}
	return p.checkURL(request.URL)
}

func (p *Policy) checkURL(target *url.URL) error {
	if target.Scheme != "http" && target.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q", ErrRefused, target.Scheme)
	}
	if addr, err := netip.ParseAddr(target.Hostname()); err == nil && !p.AllowsAddr(addr, false) {
		return fmt.Errorf("%w: %s", ErrRefused, addr)
	}
	return nil
}

// The coarse classes of a failed call: all that golive tells the author of a
// request, in status messages and Events, so that golive cannot be used to
// map the network behind it.
const (
	// ClassRefused: the policy refused the address.
	ClassRefused = "refused by golive's egress policy"
	// ClassUnreachable: no answer for any other reason: DNS, connection refused
	// or reset, TLS.
	ClassUnreachable = "unreachable"
	// ClassTimedOut: no answer in time.
	ClassTimedOut = "timed out"
	// ClassTooManyRedirects: redirected more than 10 times.
	ClassTooManyRedirects = "redirected too many times"
)

// Describe is the coarse class of err, an HTTP client's error: never the
// address, the port's state or the error's text.
func Describe(err error) string {
	var netError net.Error
	switch {
	case errors.Is(err, ErrRefused):
		return ClassRefused
	case errors.Is(err, ErrTooManyRedirects):
		return ClassTooManyRedirects
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netError) && netError.Timeout():
		return ClassTimedOut
	}
	return ClassUnreachable
}

// Detail is err without the URL net/http puts in front of it (its path or
// query may hold a token), for golive's own log.
func Detail(err error) string {
	var urlError *url.Error
	if errors.As(err, &urlError) {
		return urlError.Op + ": " + urlError.Err.Error()
	}
	return err.Error()
}

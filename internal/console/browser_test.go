package console

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/golive-dev/golive/internal/testenv/oidcissuer"
)

// browser is a person's HTTP client with a cookie jar, as a browser without
// JavaScript behaves: it follows redirects and posts forms. It keeps every
// response it saw, so a test can check that no token ever reached it.
type browser struct {
	t      *testing.T
	client *http.Client

	mu   sync.Mutex
	seen []string // every response's headers and body
}

func newBrowser(t *testing.T, roots *x509.CertPool) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig.RootCAs = roots
	b.client = &http.Client{Jar: jar, Transport: &recordingTransport{next: transport, browser: b}}
	return b
}

type recordingTransport struct {
	next    http.RoundTripper
	browser *browser
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var headers strings.Builder
	_ = resp.Header.Write(&headers)
	r.browser.mu.Lock()
	r.browser.seen = append(r.browser.seen, resp.Request.URL.String()+"\n"+headers.String()+"\n"+string(body))
	r.browser.mu.Unlock()
	return resp, nil
}

// page is a response a test reads.
type page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(address string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, address, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(address string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, address, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login opens the console, is sent to the provider's login page, fills it
// in as user and returns the page the console sends them back to.
func (b *browser) login(issuer *oidcissuer.Issuer, consoleURL, user string) page {
	b.t.Helper()
	loginPage := b.get(consoleURL + "/")
	action, form, err := issuer.LoginForm(loginPage.URL, user)
	if err != nil {
		b.t.Fatalf("Opening the console as %s: %v (status %d)", user, err, loginPage.Status)
	}
	return b.post(action, form)
}

// sawAny reports whether any response the browser saw contained one of secrets.
func (b *browser) sawAny(secrets ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, seen := range b.seen {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(seen, secret) {
				return true
			}
		}
	}
	return false
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token of the page's forms.
func csrfOf(t *testing.T, p page) string {
	t.Helper()
	match := csrfField.FindStringSubmatch(p.Body)
	if match == nil {
		t.Fatalf("The page %s has no form with a CSRF token:\n%s", p.URL, p.Body)
	}
	return match[1]
}

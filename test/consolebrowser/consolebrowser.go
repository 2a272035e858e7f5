// Package consolebrowser is a person's browser for golive's console without
// JavaScript, as the end-to-end tests and the demo use it: a cookie jar, real
// redirects to the OIDC provider's login page and back, and the console's
// forms posted with their CSRF token.
package consolebrowser

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/golive-dev/golive/internal/oidcprovider"
)

// Browser is one person's browser.
type Browser struct {
	client *http.Client
	issuer string
}

// New is a browser that trusts roots (the OIDC provider's CA) besides
// nothing else, for the provider at issuer.
func New(issuer string, roots *x509.CertPool) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	return &Browser{client: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}, issuer: issuer}
}

// Page is a response as the person sees it, after redirects.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

func (b *Browser) do(ctx context.Context, method, address string, form url.Values) (Page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	request, err := http.NewRequestWithContext(ctx, method, address, body)
	if err != nil {
		return Page{}, err
	}
	if form != nil {
		request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	response, err := b.client.Do(request)
	if err != nil {
		return Page{}, err
	}
	defer func() { _ = response.Body.Close() }()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		return Page{}, err
	}
	return Page{URL: response.Request.URL, Status: response.StatusCode, Body: string(data)}, nil
}

// Get opens address.
func (b *Browser) Get(ctx context.Context, address string) (Page, error) {
	return b.do(ctx, http.MethodGet, address, nil)
}

// Post posts form to address.
func (b *Browser) Post(ctx context.Context, address string, form url.Values) (Page, error) {
	return b.do(ctx, http.MethodPost, address, form)
}

// Login opens the console at consoleURL, is sent to the provider's login
// page, logs in there as user and returns the page the console sends them
// back to: "waiting for me" when all went well.
func (b *Browser) Login(ctx context.Context, consoleURL, user, password string) (Page, error) {
	loginPage, err := b.Get(ctx, consoleURL+"/")
	if err != nil {
		return Page{}, err
	}
	action, form, err := oidcprovider.LoginForm(b.issuer, loginPage.URL, user, password)
	if err != nil {
		return Page{}, fmt.Errorf("opening the console as %s (status %d): %w", user, loginPage.Status, err)
	}
	return b.Post(ctx, action, form)
}

// Command opens a request's page (requestURL, the console's
// /requests/<namespace>/<name>) and posts its command form: action
// (approve, reject, accept, go, abort) with fields such as role and comment.
// The console answers 200 with the confirmation, or the refusal.
func (b *Browser) Command(ctx context.Context, requestURL, action string, fields url.Values) (Page, error) {
	page, err := b.Get(ctx, requestURL)
	if err != nil {
		return Page{}, err
	}
	token, err := CSRF(page)
	if err != nil {
		return Page{}, err
	}
	form := url.Values{"csrf": {token}, "action": {action}}
	for key, values := range fields {
		form[key] = values
	}
	return b.Post(ctx, requestURL, form)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF is the CSRF token of the page's forms.
func CSRF(page Page) (string, error) {
	match := csrfField.FindStringSubmatch(page.Body)
	if match == nil {
		return "", errors.New("the page " + page.URL.String() + " has no form with a CSRF token")
	}
	return match[1], nil
}

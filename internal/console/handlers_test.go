package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"

	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testenv/oidcissuer"
)

// newTestServer is a console in front of a real OIDC provider and an API
// server address where nothing listens: these tests never reach the API.
func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	issuer := oidcissuer.Start(t, "handler-tests", "secret", []string{"https://console.example/callback"}, "bob")
	opts.Issuer, opts.ClientID, opts.ClientSecret = issuer.URL, "handler-tests", "secret"
	opts.RedirectURL, opts.IssuerHTTPClient = "https://console.example/callback", issuer.Client
	opts.API, opts.Scheme = &rest.Config{Host: "https://127.0.0.1:1"}, testenv.NewScheme()
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatalf("Starting the console: %v", err)
	}
	return s
}

// withSession stores a session for bob and returns its cookie.
func withSession(s *Server) (*http.Cookie, *session) {
	sess := &session{User: "bob", Subject: "bob", RawIDToken: "id-token", IDTokenExpiry: time.Now().Add(time.Hour),
		Token: &oauth2.Token{AccessToken: "access", RefreshToken: "refresh"}, CSRF: "the-csrf-token", Expires: time.Now().Add(time.Hour)}
	return &http.Cookie{Name: sessionCookie, Value: s.store.addSession(sess, time.Now())}, sess
}

func serve(s *Server, req *http.Request) *httptest.ResponseRecorder {
	recorder := httptest.NewRecorder()
	s.Handler().ServeHTTP(recorder, req)
	return recorder
}

func TestSecurityHeaders(t *testing.T) {
	s := newTestServer(t, Options{})
	resp := serve(s, httptest.NewRequest(http.MethodGet, "/logged-out", nil))
	if resp.Code != http.StatusOK {
		t.Fatalf("GET /logged-out: %d", resp.Code)
	}
	for header, want := range map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header().Get(header); got != want {
			t.Errorf("%s is %q, want %q", header, got, want)
		}
	}
	if !strings.Contains(contentSecurityPolicy, "default-src 'none'") || strings.Contains(contentSecurityPolicy, "script-src") {
		t.Errorf("The CSP allows more than the console's stylesheet and forms: %s", contentSecurityPolicy)
	}
}

func TestCommandWithoutTheSessionsCSRFTokenIsRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	cookie, _ := withSession(s)
	for name, token := range map[string]string{"missing": "", "another session's": "forged"} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"action": {"approve"}, "role": {"rnd-lead"}}
			if token != "" {
				form.Set("csrf", token)
			}
			req := httptest.NewRequest(http.MethodPost, "/requests/billing/billing-2-4-0", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(cookie)
			if resp := serve(s, req); resp.Code != http.StatusForbidden || !strings.Contains(resp.Body.String(), "CSRF") {
				t.Errorf("POST with a %s CSRF token: %d, want 403 naming the CSRF token:\n%s", name, resp.Code, resp.Body)
			}
		})
	}
}

// A form larger than any the console serves is refused as too large, with
// the session's own CSRF token in it, before a handler reads it.
func TestOversizedFormIsRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	cookie, sess := withSession(s)
	form := url.Values{"csrf": {sess.CSRF}, "action": {"approve"}, "role": {"rnd-lead"}, "comment": {strings.Repeat("a", maxFormBytes)}}
	req := httptest.NewRequest(http.MethodPost, "/requests/billing/billing-2-4-0", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	if resp := serve(s, req); resp.Code != http.StatusRequestEntityTooLarge || !strings.Contains(resp.Body.String(), "too large") {
		t.Errorf("An oversized form got %d, want 413 saying it is too large:\n%s", resp.Code, resp.Body)
	}
}

func TestCrossSiteFormPostIsRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	cookie, sess := withSession(s)
	form := url.Values{"csrf": {sess.CSRF}, "action": {"approve"}, "role": {"rnd-lead"}}
	req := httptest.NewRequest(http.MethodPost, "/requests/billing/billing-2-4-0", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.AddCookie(cookie)
	if resp := serve(s, req); resp.Code != http.StatusForbidden {
		t.Errorf("A cross-site form post got %d, want 403", resp.Code)
	}
}

func TestPagesWithoutSessionGoToLogin(t *testing.T) {
	s := newTestServer(t, Options{})
	resp := serve(s, httptest.NewRequest(http.MethodGet, "/requests/billing/billing-2-4-0", nil))
	if resp.Code != http.StatusFound || resp.Header().Get("Location") != "/login?next=%2Frequests%2Fbilling%2Fbilling-2-4-0" {
		t.Errorf("GET without a session: %d to %q, want the login", resp.Code, resp.Header().Get("Location"))
	}
	post := httptest.NewRequest(http.MethodPost, "/requests/billing/billing-2-4-0", strings.NewReader("action=approve"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp := serve(s, post); resp.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", resp.Code)
	}
}

func TestLoginUsesPKCEAndBindsStateToTheBrowser(t *testing.T) {
	s := newTestServer(t, Options{})
	resp := serve(s, httptest.NewRequest(http.MethodGet, "/login?next=/windows", nil))
	if resp.Code != http.StatusFound {
		t.Fatalf("GET /login: %d", resp.Code)
	}
	location, err := url.Parse(resp.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	query := location.Query()
	if query.Get("code_challenge_method") != "S256" || query.Get("code_challenge") == "" || query.Get("nonce") == "" ||
		query.Get("state") == "" || query.Get("response_type") != "code" {
		t.Errorf("The authorization request lacks PKCE, nonce or state: %s", location)
	}
	cookies := resp.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != loginCookie || cookies[0].Value != query.Get("state") ||
		!cookies[0].HttpOnly || !cookies[0].Secure || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("The login cookie is %+v, want the state, HttpOnly, Secure, SameSite=Lax", cookies)
	}

	// A callback with another state than the browser's cookie is refused.
	callback := httptest.NewRequest(http.MethodGet, "/callback?code=stolen&state=other", nil)
	callback.AddCookie(cookies[0])
	if resp := serve(s, callback); resp.Code != http.StatusBadRequest {
		t.Errorf("A callback with a foreign state: %d, want 400", resp.Code)
	}
}

func TestLoginsAreRateLimitedPerAddress(t *testing.T) {
	s := newTestServer(t, Options{LoginRate: 0.001, LoginBurst: 2})
	var codes []int
	for range 3 {
		codes = append(codes, serve(s, httptest.NewRequest(http.MethodGet, "/login", nil)).Code)
	}
	if diff := cmp.Diff([]int{http.StatusFound, http.StatusFound, http.StatusTooManyRequests}, codes); diff != "" {
		t.Errorf("Login answers (-want +got):\n%s", diff)
	}
}

// Behind a trusted proxy each browser has its own limit, taken from the
// address the proxy appended; a browser's own X-Forwarded-For is not believed.
func TestLoginsBehindATrustedProxyAreLimitedPerBrowser(t *testing.T) {
	s := newTestServer(t, Options{LoginRate: 0.001, LoginBurst: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}})
	login := func(peer string, forwardedFor ...string) int {
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		req.RemoteAddr = peer
		for _, value := range forwardedFor {
			req.Header.Add("X-Forwarded-For", value)
		}
		return serve(s, req).Code
	}
	steps := []struct {
		name         string
		peer         string
		forwardedFor []string
		want         int
	}{
		{"the first browser through the proxy", "10.0.0.7:4000", []string{"198.51.100.1"}, http.StatusFound},
		{"a second browser through the proxy", "10.0.0.7:4001", []string{"198.51.100.2"}, http.StatusFound},
		{"the first browser again, through another hop of the proxy", "10.0.0.8:4000", []string{"198.51.100.1, 10.0.0.7"}, http.StatusTooManyRequests},
		{"the first browser claiming another address before its own", "10.0.0.7:4002", []string{"203.0.113.9", "198.51.100.1"}, http.StatusTooManyRequests},
		{"an untrusted peer's claim is not believed", "192.0.2.5:4000", []string{"198.51.100.3"}, http.StatusFound},
		{"nor its second claim", "192.0.2.5:4001", []string{"198.51.100.4"}, http.StatusTooManyRequests},
	}
	for _, step := range steps {
		if got := login(step.peer, step.forwardedFor...); got != step.want {
			t.Errorf("%s: %d, want %d", step.name, got, step.want)
		}
	}
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer   string
		forwardedFor []string
		want         string
	}{
		{"a direct connection", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"a direct connection's claim", "192.0.2.1:5000", []string{"198.51.100.1"}, "192.0.2.1"},
		{"through the proxy", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"through two hops of the proxy", "10.1.2.3:5000", []string{"198.51.100.1,10.9.9.9"}, "198.51.100.1"},
		{"a forged left part", "10.1.2.3:5000", []string{"203.0.113.7, 198.51.100.1"}, "198.51.100.1"},
		{"an IPv6 proxy and an IPv4-mapped client", "[fd00::1]:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"the proxy without the header", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"only proxies in the header", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.4.4.4"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		req.RemoteAddr = tc.peer
		for _, value := range tc.forwardedFor {
			req.Header.Add("X-Forwarded-For", value)
		}
		if got := clientAddress(req, trusted); got != tc.want {
			t.Errorf("%s: clientAddress() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLanguage(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, tc := range []struct {
		acceptLanguage, cookie, wantLang, wantText string
	}{
		{"", "", "en", "You are logged out."},
		{"de-DE,de;q=0.9,en;q=0.5", "", "de", "Sie sind abgemeldet."},
		{"zh-CN,zh;q=0.9", "", "zh", "您已退出登录。"},
		{"fr-FR", "", "en", "You are logged out."},
		{"de-DE", "zh", "zh", "您已退出登录。"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/logged-out", nil)
		req.Header.Set("Accept-Language", tc.acceptLanguage)
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: languageCookie, Value: tc.cookie})
		}
		resp := serve(s, req)
		if !strings.Contains(resp.Body.String(), `<html lang="`+tc.wantLang+`">`) || !strings.Contains(resp.Body.String(), tc.wantText) {
			t.Errorf("Accept-Language %q, choice %q: want %s with %q, got:\n%s", tc.acceptLanguage, tc.cookie, tc.wantLang, tc.wantText, resp.Body)
		}
	}
}

func TestPreferencesRedirectOnlyWithinTheConsole(t *testing.T) {
	s := newTestServer(t, Options{})
	for next, want := range map[string]string{
		"/windows":              "/windows",
		"//evil.example/":       "/",
		"https://evil.example/": "/",
		"/\\evil.example":       "/",
		"":                      "/",
		"/requests/a/b?x=1":     "/requests/a/b?x=1",
	} {
		resp := serve(s, httptest.NewRequest(http.MethodGet, "/preferences?lang=de&tz=Europe/Berlin&next="+url.QueryEscape(next), nil))
		if got := resp.Header().Get("Location"); got != want {
			t.Errorf("next=%q redirected to %q, want %q", next, got, want)
		}
		var names []string
		for _, cookie := range resp.Result().Cookies() {
			names = append(names, cookie.Name+"="+cookie.Value)
		}
		if diff := cmp.Diff([]string{"golive_lang=de", "golive_tz=Europe/Berlin"}, names); diff != "" {
			t.Errorf("Cookies (-want +got):\n%s", diff)
		}
	}
}

func TestMessagesComplete(t *testing.T) {
	for lang, words := range messages {
		for key := range messages["en"] {
			if _, ok := words[key]; !ok {
				t.Errorf("%s lacks the message %q", lang, key)
			}
		}
	}
}

func TestFormatTimeShowsTheViewersZoneAndUTC(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 18, 30, 0, 0, time.UTC)
	if got, want := formatTime(at, berlin), "2026-12-07 19:30 CET (18:30 UTC)"; got != want {
		t.Errorf("formatTime in Berlin = %q, want %q", got, want)
	}
	if got, want := formatTime(at, time.UTC), "2026-12-07 18:30 UTC"; got != want {
		t.Errorf("formatTime in UTC = %q, want %q", got, want)
	}
	if got := formatTime(time.Time{}, berlin); got != "-" {
		t.Errorf("formatTime of no time = %q, want -", got)
	}
}

func TestLogoutNeedsTheCSRFTokenAndEndsTheSession(t *testing.T) {
	s := newTestServer(t, Options{})
	cookie, sess := withSession(s)
	logout := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		return serve(s, req)
	}
	if resp := logout("forged"); resp.Code != http.StatusForbidden {
		t.Errorf("A logout with a forged CSRF token got %d, want 403", resp.Code)
	}
	if s.store.session(cookie.Value, time.Now()) == nil {
		t.Fatal("A forged logout ended the session")
	}
	resp := logout(sess.CSRF)
	if resp.Code != http.StatusSeeOther || resp.Header().Get("Location") != "/logged-out" {
		t.Errorf("The logout got %d to %q, want 303 to /logged-out", resp.Code, resp.Header().Get("Location"))
	}
	if s.store.session(cookie.Value, time.Now()) != nil {
		t.Error("The session outlived the logout")
	}
	cleared := resp.Result().Cookies()
	if len(cleared) != 1 || cleared[0].Name != sessionCookie || cleared[0].MaxAge >= 0 {
		t.Errorf("The logout did not clear the session cookie: %+v", cleared)
	}
}

// Names from a URL are checked as Kubernetes names before any API call (this
// server's API address answers nothing): a bad one is simply not found.
func TestReportAndRecordPathsCheckNames(t *testing.T) {
	s := newTestServer(t, Options{})
	cookie, _ := withSession(s)
	for _, path := range []string{
		"/requests/Billing/billing-2-4-0/report.md",
		"/requests/billing/billing_2_4_0/report.md",
		"/records/golive-system/..%2F..%2Fetc",
		"/records/golive-system/UPPER/report.md",
		"/records/golive_system/billing.billing-2-4-0.6f1c2a9e",
	} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(cookie)
		resp := serve(s, req)
		if resp.Code != http.StatusNotFound || resp.Header().Get("Content-Disposition") != "" {
			t.Errorf("GET %s: %d (%q), want 404 and no download:\n%s", path, resp.Code, resp.Header().Get("Content-Disposition"), resp.Body)
		}
	}
	resp := serve(s, httptest.NewRequest(http.MethodGet, "/records", nil))
	if resp.Code != http.StatusFound || !strings.HasPrefix(resp.Header().Get("Location"), "/login?next=%2Frecords") {
		t.Errorf("GET /records without a session: %d to %q, want the login", resp.Code, resp.Header().Get("Location"))
	}
}

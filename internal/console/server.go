// Package console is golive's approver console: a server-rendered web page
// on which people who never open a terminal see what waits for them and
// approve, reject, accept, say go or abort. It logs them in with OIDC
// (authorization code with PKCE) and calls the API server with the person's
// own ID token, so that golive's webhook checks and signs the real person;
// the console's own rights are never used for a person's action unless the
// impersonation fallback is switched on.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-logr/logr"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/console.css
var stylesheet []byte

// Options configure a Server.
type Options struct {
	// Issuer is the OIDC issuer URL; the API server must trust the same issuer
	// (its structured authentication configuration) unless Impersonate is set.
	Issuer string
	// ClientID and ClientSecret are the console's OIDC client.
	ClientID     string
	ClientSecret string
	// RedirectURL is the console's callback as browsers reach it: <public URL>/callback.
	RedirectURL string
	// Scopes are asked besides openid; offline_access lets the console
	// refresh the ID token without a new login.
	Scopes []string
	// IssuerHTTPClient talks to the issuer (its CA); nil is http.DefaultClient.
	IssuerHTTPClient *http.Client

	// API is where the API server is. Without Impersonate its credentials
	// are dropped: every call carries the person's ID token alone.
	API    *rest.Config
	Scheme *runtime.Scheme
	// Namespaces are where "waiting for me" looks when the person names
	// none; empty looks in all namespaces (which needs the right to list
	// update requests cluster-wide).
	Namespaces []string
	// ArchiveNamespace is where golive keeps its ReleaseRecords and the
	// public keys that verify them; empty is golive-system.
	ArchiveNamespace string
	// Impersonate is the fallback for clusters that cannot trust the issuer:
	// the console's own credentials impersonate the verified user and groups.
	Impersonate bool
	// UsernameClaim and GroupsClaim name the ID token claims impersonation
	// acts as, with UsernamePrefix and GroupsPrefix put in front, as the API
	// server's own OIDC authenticator would.
	UsernameClaim, UsernamePrefix string
	GroupsClaim, GroupsPrefix     string

	// InsecureCookies drops the Secure attribute, for a console reached over
	// plain HTTP on 127.0.0.1 only.
	InsecureCookies bool
	// SessionLifetime ends a session however long its tokens live.
	SessionLifetime time.Duration
	// MaxSessions bounds the sessions (and pending logins) kept in memory.
	MaxSessions int
	// LoginRate and LoginBurst bound the logins started per client address.
	LoginRate  rate.Limit
	LoginBurst int
	// TrustedProxies are the addresses of the proxies in front of the
	// console (an Ingress controller's pods) whose X-Forwarded-For is
	// believed; a connection from anywhere else is its own client address.
	TrustedProxies []netip.Prefix

	Clock  clock.PassiveClock
	Logger logr.Logger
}

// DefaultArchiveNamespace is golive's archive namespace unless the
// installation chose another (the chart's records.archiveNamespace).
const DefaultArchiveNamespace = "golive-system"

// Server serves the console.
type Server struct {
	opts      Options
	oauth     oauth2.Config
	verifier  *oidc.IDTokenVerifier
	issuerCtx func(context.Context) context.Context
	client    client.Client
	store     *store
	pages     map[string]*template.Template
	clock     clock.PassiveClock
	log       logr.Logger

	limitersMu sync.Mutex
	limiters   map[string]*rate.Limiter
	// refreshes lets one refresh of a session's tokens serve all its requests.
	refreshes singleflight.Group
}

// New discovers the issuer and prepares the console.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Issuer == "" || opts.ClientID == "" || opts.RedirectURL == "" {
		return nil, errors.New("the issuer, the client ID and the redirect URL are required")
	}
	if opts.API == nil || opts.Scheme == nil {
		return nil, errors.New("the API server's configuration and a scheme are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.SessionLifetime == 0 {
		opts.SessionLifetime = 8 * time.Hour
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = 10000
	}
	if opts.LoginRate == 0 {
		opts.LoginRate, opts.LoginBurst = rate.Every(6*time.Second), 10
	}
	if opts.ArchiveNamespace == "" {
		opts.ArchiveNamespace = DefaultArchiveNamespace
	}
	if opts.UsernameClaim == "" {
		opts.UsernameClaim = "sub"
	}
	issuerCtx := func(ctx context.Context) context.Context {
		if opts.IssuerHTTPClient == nil {
			return ctx
		}
		return oidc.ClientContext(ctx, opts.IssuerHTTPClient)
	}
	provider, err := oidc.NewProvider(issuerCtx(ctx), opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering the OIDC issuer %s: %w", opts.Issuer, err)
	}
	personClient, err := newPersonClient(opts.API, opts.Scheme, opts.Impersonate)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts,
		oauth: oauth2.Config{
			ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURL: opts.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, opts.Scopes...),
		},
		issuerCtx: issuerCtx,
		client:    personClient,
		store:     newStore(opts.MaxSessions),
		pages:     pages,
		clock:     opts.Clock,
		log:       opts.Logger,
		limiters:  map[string]*rate.Limiter{},
	}
	s.verifier = provider.VerifierContext(issuerCtx(ctx), &oidc.Config{ClientID: opts.ClientID, Now: func() time.Time { return s.clock.Now() }})
	return s, nil
}

// Handler is the console's HTTP handler: every route behind the security
// headers, and every unsafe method behind Go's cross-origin protection (the
// session's CSRF token is checked besides, by each form's handler).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveWaiting)
	mux.HandleFunc("GET /login", s.serveLogin)
	mux.HandleFunc("GET /callback", s.serveCallback)
	mux.HandleFunc("POST /logout", s.serveLogout)
	mux.HandleFunc("GET /logged-out", s.serveLoggedOut)
	mux.HandleFunc("GET /requests/{namespace}/{name}", s.serveRequest)
	mux.HandleFunc("POST /requests/{namespace}/{name}", s.serveCommand)
	mux.HandleFunc("GET /requests/{namespace}/{name}/report.md", s.serveRequestReport)
	mux.HandleFunc("GET /records", s.serveRecords)
	mux.HandleFunc("GET /records/{namespace}/{name}", s.serveRecord)
	mux.HandleFunc("GET /records/{namespace}/{name}/report.md", s.serveRecordReport)
	mux.HandleFunc("GET /windows", s.serveWindows)
	mux.HandleFunc("GET /preferences", s.servePreferences)
	mux.HandleFunc("GET /static/console.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(stylesheet)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return securityHeaders(http.NewCrossOriginProtection().Handler(readForms(mux)))
}

// maxFormBytes bounds a form's body: a comment is at most 1 KiB, and a
// larger body is refused before it is read into memory.
const maxFormBytes = 64 << 10

// readForms reads the form of every POST, at most maxFormBytes, and refuses
// one it cannot read with the reason, before any handler looks at it (a
// handler's PostFormValue would otherwise see an empty form and refuse it
// for the wrong reason).
func readForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				status := http.StatusBadRequest
				if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
					status = http.StatusRequestEntityTooLarge
				}
				http.Error(w, "The form could not be read: "+err.Error(), status)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows the console's own stylesheet and forms, and
// nothing else: no scripts at all, no framing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// allowLogin applies the per-address login rate limit.
func (s *Server) allowLogin(r *http.Request) bool {
	host := clientAddress(r, s.opts.TrustedProxies)
	s.limitersMu.Lock()
	defer s.limitersMu.Unlock()
	limiter, ok := s.limiters[host]
	if !ok {
		if len(s.limiters) >= s.opts.MaxSessions {
			clear(s.limiters)
		}
		limiter = rate.NewLimiter(s.opts.LoginRate, s.opts.LoginBurst)
		s.limiters[host] = limiter
	}
	return limiter.AllowN(s.clock.Now(), 1)
}

// localPath returns next when it is a path on this console, "/" otherwise:
// no open redirects after login.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}

// clientAddress is the address of the person's browser: the connection's
// peer, unless that peer is a trusted proxy; then the nearest address in
// X-Forwarded-For that is not a trusted proxy. Addresses further left are
// the client's own claim and never believed, so a browser cannot pick its
// own rate limit by sending the header.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(address string) bool {
		addr, err := netip.ParseAddr(strings.TrimSpace(address))
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(addr) })
	}
	if !isTrusted(host) {
		return host
	}
	var hops []string
	for _, header := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(header, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if !isTrusted(hop) {
			if addr, err := netip.ParseAddr(hop); err == nil {
				return addr.Unmap().String()
			}
			return hop
		}
		host = hop
	}
	return host
}

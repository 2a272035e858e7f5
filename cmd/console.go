package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/console"
	"github.com/golive-dev/golive/internal/egress"
)

// consoleSecretEnv may hold the console's OIDC client secret instead of a file.
const consoleSecretEnv = "GOLIVE_CONSOLE_CLIENT_SECRET"

// runConsole is `golive console`: the approver console, a web server of its
// own that acts on the API server as the person logged in.
func runConsole(args []string) error {
	flags := flag.NewFlagSet("console", flag.ContinueOnError)
	var (
		bind, issuer, clientID, secretFile, redirectURL, scopes, issuerCA string
		tlsCert, tlsKey, namespaces, archive, trustedProxies              string
		impersonate, insecureCookies                                      bool
		usernameClaim, usernamePrefix, groupsClaim, groupsPrefix          string
		sessionLifetime                                                   time.Duration
	)
	var port int
	flags.StringVar(&bind, "bind-address", defaultConsoleHost(),
		"Host to serve on: the pod's address ($POD_IP) in a pod, 127.0.0.1 otherwise; never all interfaces unless given.")
	flags.IntVar(&port, "port", 8080, "Port to serve on.")
	flags.StringVar(&issuer, "issuer", "", "OIDC issuer URL; the API server must trust it too, unless --impersonate.")
	flags.StringVar(&clientID, "client-id", "golive-console", "OIDC client ID.")
	flags.StringVar(&secretFile, "client-secret-file", "", "File holding the OIDC client secret (or set "+consoleSecretEnv+").")
	flags.StringVar(&redirectURL, "redirect-url", "", "The console's callback as browsers reach it, https://<host>/callback.")
	flags.StringVar(&scopes, "scopes", "profile,email,offline_access", "Scopes asked besides openid; offline_access allows refreshing without a new login.")
	flags.StringVar(&issuerCA, "issuer-ca-file", "", "PEM CA bundle for the issuer, when the system roots do not sign it.")
	flags.StringVar(&tlsCert, "tls-cert-file", "", "Serve HTTPS with this certificate (else plain HTTP behind a TLS-terminating Ingress).")
	flags.StringVar(&tlsKey, "tls-key-file", "", "Key of --tls-cert-file.")
	flags.StringVar(&namespaces, "namespaces", "",
		"Comma-separated namespaces \"waiting for me\" looks in; empty looks in all (people then need to list update requests cluster-wide).")
	flags.StringVar(&archive, "archive-namespace", console.DefaultArchiveNamespace,
		"The namespace golive keeps its ReleaseRecords and their public keys (ConfigMap golive-record-key) in.")
	flags.BoolVar(&impersonate, "impersonate", false,
		"Fallback for clusters that cannot trust the issuer: impersonate the verified user and groups with the console's own "+
			"ServiceAccount (needs the impersonate right; see docs/console.md).")
	flags.StringVar(&usernameClaim, "username-claim", "sub", "With --impersonate: the ID token claim acted as the user.")
	flags.StringVar(&usernamePrefix, "username-prefix", "", "With --impersonate: put in front of the user name.")
	flags.StringVar(&groupsClaim, "groups-claim", "groups", "With --impersonate: the ID token claim listing the groups.")
	flags.StringVar(&groupsPrefix, "groups-prefix", "", "With --impersonate: put in front of each group.")
	flags.BoolVar(&insecureCookies, "insecure-cookies", false, "Cookies without Secure, for plain HTTP on 127.0.0.1 only.")
	flags.StringVar(&trustedProxies, "trusted-proxies", "",
		"Comma-separated CIDRs of the proxies in front of the console (the Ingress controller's pods) whose X-Forwarded-For "+
			"names the client for the login rate limit; empty: every connection is its own client.")
	flags.DurationVar(&sessionLifetime, "session-lifetime", 8*time.Hour, "A session ends after this however long its tokens live.")
	logOptions := zap.Options{}
	logOptions.BindFlags(flags)
	if err := flags.Parse(args); err != nil {
		return err
	}
	if insecureCookies && !isLoopback(bind) {
		return fmt.Errorf("--insecure-cookies is for a console served on a loopback address only; --bind-address %q is not one", bind)
	}
	proxies, err := parsePrefixes(trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	logger := zap.New(zap.UseFlagOptions(&logOptions)).WithName("console")
	ctrl.SetLogger(logger)

	secret := os.Getenv(consoleSecretEnv)
	if secretFile != "" {
		data, err := os.ReadFile(secretFile)
		if err != nil {
			return fmt.Errorf("reading --client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(data))
	}
	issuerClient, err := issuerHTTPClient(issuerCA)
	if err != nil {
		return err
	}
	api, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("finding the API server: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	server, err := console.New(ctx, console.Options{
		Issuer: issuer, ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURL,
		Scopes: splitList(scopes), IssuerHTTPClient: issuerClient, Namespaces: splitList(namespaces),
		API: api, Scheme: consoleScheme(), ArchiveNamespace: archive,
		Impersonate: impersonate, UsernameClaim: usernameClaim, UsernamePrefix: usernamePrefix,
		GroupsClaim: groupsClaim, GroupsPrefix: groupsPrefix,
		InsecureCookies: insecureCookies, SessionLifetime: sessionLifetime,
		LoginRate: rate.Every(6 * time.Second), LoginBurst: 10, TrustedProxies: proxies,
		Logger: logger,
	})
	if err != nil {
		return err
	}
	httpServer := &http.Server{
		Addr: net.JoinHostPort(bind, strconv.Itoa(port)), Handler: server.Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = httpServer.Shutdown(shutdown)
	}()
	logger.Info("Serving the console", "address", httpServer.Addr, "issuer", issuer, "impersonate", impersonate)
	if tlsCert != "" {
		httpServer.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		err = httpServer.ListenAndServeTLS(tlsCert, tlsKey)
	} else {
		err = httpServer.ListenAndServe()
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// consoleScheme holds the kinds the console reads and asks about.
func consoleScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(golivev1alpha1.AddToScheme(scheme))
	return scheme
}

// defaultConsoleHost is the pod's address in a pod, loopback elsewhere.
func defaultConsoleHost() string {
	if ip := os.Getenv("POD_IP"); ip != "" {
		return ip
	}
	return "127.0.0.1"
}

// issuerHTTPClient trusts caFile besides the system roots; nil without one.
func issuerHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading --issuer-ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--issuer-ca-file %s holds no PEM certificate", caFile)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}

// isLoopback tells whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// parsePrefixes reads comma-separated CIDRs as the egress rules do; a bare
// address is its own /32 or /128.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, item := range splitList(list) {
		prefix, err := egress.ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		prefixes = append(prefixes, prefix)
	}
	return prefixes, nil
}

// oidc-provider is the OpenID Provider of the local cluster (the demo and
// the end-to-end tests): internal/oidcprovider served over HTTPS, with a
// self-signed certificate it writes out when none is given, so that the
// kube-apiserver trusts it through the AuthenticationConfiguration it writes
// (--authentication-config) and the console through --issuer-ca-file.
// hack/build-oidc-provider.sh builds and caches it; $OIDC_PROVIDER names it.
//
//	oidc-provider --address 127.0.0.1:5556 --cert-file ca.crt --key-file ca.key \
//	  --users alice@example.com,bob@example.com --password-file password \
//	  --client-id golive-console --client-secret-file secret \
//	  --redirect-url http://127.0.0.1:8080/callback --authentication-config auth.yaml
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/golive-dev/golive/internal/oidcprovider"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-provider:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("oidc-provider", flag.ContinueOnError)
	var (
		address, issuer, certFile, keyFile, users, passwordFile string
		clientID, secretFile, redirectURLs, authConfig          string
	)
	flags.StringVar(&address, "address", "127.0.0.1:5556", "Address to serve HTTPS on.")
	flags.StringVar(&issuer, "issuer", "", "The issuer URL as clients reach it; https://<address> when empty.")
	flags.StringVar(&certFile, "cert-file", "", "PEM certificate to serve with; written, self-signed for the issuer's host, when it does not exist (required).")
	flags.StringVar(&keyFile, "key-file", "", "PEM key of --cert-file (required).")
	flags.StringVar(&users, "users", "", "Comma-separated people who may log in; each is both the login name and the ID token's sub.")
	flags.StringVar(&passwordFile, "password-file", "", "File holding every user's password (required).")
	flags.StringVar(&clientID, "client-id", "golive-console", "The web client's ID, also the ID tokens' audience.")
	flags.StringVar(&secretFile, "client-secret-file", "", "File holding the web client's secret (required).")
	flags.StringVar(&redirectURLs, "redirect-url", "", "Comma-separated URLs the client may be sent back to after a login.")
	flags.StringVar(&authConfig, "authentication-config", "",
		"Write the kube-apiserver's AuthenticationConfiguration trusting this provider (for --authentication-config) to this file.")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if certFile == "" || keyFile == "" || passwordFile == "" || secretFile == "" {
		return errors.New("--cert-file, --key-file, --password-file and --client-secret-file are required")
	}
	if issuer == "" {
		issuer = "https://" + address
	}
	password, err := readSecret(passwordFile)
	if err != nil {
		return err
	}
	secret, err := readSecret(secretFile)
	if err != nil {
		return err
	}
	caPEM, err := certificate(issuer, certFile, keyFile)
	if err != nil {
		return err
	}
	if authConfig != "" {
		if err := os.WriteFile(authConfig, oidcprovider.AuthenticationConfig(issuer, caPEM, clientID), 0o600); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	handler, err := oidcprovider.Handler(oidcprovider.Config{Issuer: issuer, Users: split(users), Password: password,
		ClientID: clientID, ClientSecret: secret, RedirectURLs: split(redirectURLs), Logger: logger})
	if err != nil {
		return err
	}
	server := &http.Server{Addr: address, Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	logger.Info("Serving the OIDC provider", "issuer", issuer, "address", address, "users", users)
	if err := server.ListenAndServeTLS(certFile, keyFile); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// certificate returns the PEM certificate at certFile, first writing a
// self-signed one for the issuer's host (and its key) when there is none.
func certificate(issuer, certFile, keyFile string) ([]byte, error) {
	if existing, err := os.ReadFile(certFile); err == nil {
		return existing, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	host := strings.TrimPrefix(issuer, "https://")
	host, _, _ = strings.Cut(host, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	certPEM, keyPEM, err := oidcprovider.SelfSignedCertificate(host)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	return certPEM, os.WriteFile(certFile, certPEM, 0o644)
}

func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return value, nil
}

func split(list string) []string {
	var items []string
	for item := range strings.SplitSeq(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

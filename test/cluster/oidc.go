package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The local OIDC provider's client, as the console knows it, and the
// password of every person who logs in through it.
const (
	ConsoleClientID = "golive-console"
	OIDCPassword    = "golive-e2e-password"
	// processStopTimeout is how long the provider and the console get to
	// stop on SIGTERM before they are killed.
	processStopTimeout = 10 * time.Second
)

// OIDCProvider is the local OIDC provider ($OIDC_PROVIDER, hack/oidc-provider)
// of a cluster started with Options.OIDCUsers: the kube-apiserver trusts
// its ID tokens for ConsoleClientID (--authentication-config).
type OIDCProvider struct {
	// Issuer is its https URL on 127.0.0.1.
	Issuer string
	// CAFile is the PEM certificate it serves with (self-signed).
	CAFile string
	// Roots holds that certificate.
	Roots *x509.CertPool
	// LogPath is the file it logs to.
	LogPath string

	secretFile string
}

// startOIDCProvider starts the provider for users, the console's redirect
// URL at c.consoleAddress registered, waits until it serves and returns the
// kube-apiserver's AuthenticationConfiguration file. It stops when the test ends.
func (c *Cluster) startOIDCProvider(t *testing.T, users []string) string {
	t.Helper()
	binary := os.Getenv("OIDC_PROVIDER")
	if binary == "" {
		t.Fatal("OIDC_PROVIDER not set: run this test through `make test`, which builds the local OIDC provider " +
			"(make oidc-provider) and sets OIDC_PROVIDER")
	}
	dir := filepath.Join(c.work, "oidc")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := &OIDCProvider{CAFile: filepath.Join(dir, "ca.crt"), LogPath: filepath.Join(dir, "provider.log"),
		secretFile: filepath.Join(dir, "client-secret")}
	address := freeAddress(t)
	p.Issuer = "https://" + address
	passwordFile := filepath.Join(dir, "password")
	for file, content := range map[string]string{passwordFile: OIDCPassword, p.secretFile: "secret-" + randomSuffix(t)} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	authConfig := filepath.Join(dir, "authentication-config.yaml")
	cmd := exec.Command(binary, "--address", address, "--cert-file", p.CAFile, "--key-file", filepath.Join(dir, "ca.key"),
		"--users", strings.Join(users, ","), "--password-file", passwordFile,
		"--client-id", ConsoleClientID, "--client-secret-file", p.secretFile,
		"--redirect-url", c.ConsoleURL()+"/callback", "--authentication-config", authConfig)
	stop := startProcess(t, "the OIDC provider", cmd, p.LogPath)
	t.Cleanup(stop)
	Eventually(t, time.Minute, "the OIDC provider to serve", func(ctx context.Context) (bool, string, error) {
		if p.Roots == nil {
			pem, err := os.ReadFile(p.CAFile)
			if err != nil {
				return false, "no certificate yet", nil
			}
			p.Roots = x509.NewCertPool()
			p.Roots.AppendCertsFromPEM(pem)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots, MinVersion: tls.VersionTLS12}}}
		err := get(ctx, client, p.Issuer+"/.well-known/openid-configuration")
		return err == nil, "discovery: " + fmt.Sprint(err), nil
	})
	c.OIDC = p
	return authConfig
}

// ConsoleURL is where StartConsole serves the console, http on 127.0.0.1.
func (c *Cluster) ConsoleURL() string { return "http://" + c.consoleAddress }

// Console is `golive console`, built from the work tree, running against a
// Cluster and its OIDC provider.
type Console struct {
	// URL is where browsers reach it.
	URL string
	// LogPath is the file it logs to.
	LogPath string
}

// StartConsole runs `golive console` on 127.0.0.1 against the cluster,
// logging people in through the cluster's OIDC provider (Options.OIDCUsers)
// and calling the API server with their own ID tokens; "waiting for me"
// looks in namespaces. It waits until the console serves, and stops it when
// the test ends.
func (c *Cluster) StartConsole(t *testing.T, namespaces ...string) *Console {
	t.Helper()
	if c.OIDC == nil {
		t.Fatal("StartConsole: the cluster was started without an OIDC provider (Options.OIDCUsers)")
	}
	binary := c.goliveBinary(t)
	_, port, _ := strings.Cut(c.consoleAddress, ":")
	console := &Console{URL: c.ConsoleURL(), LogPath: filepath.Join(c.work, "console.log")}
	cmd := exec.Command(binary, "console", "--bind-address", "127.0.0.1", "--port", port,
		"--issuer", c.OIDC.Issuer, "--issuer-ca-file", c.OIDC.CAFile,
		"--client-id", ConsoleClientID, "--client-secret-file", c.OIDC.secretFile,
		"--redirect-url", console.URL+"/callback", "--insecure-cookies",
		"--namespaces", strings.Join(namespaces, ","))
	// The console drops these credentials: it calls the API server with the
	// person's ID token only. It needs the server's address and CA.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	stop := startProcess(t, "the console", cmd, console.LogPath)
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("the end of the console's log (%s):\n%s\nthe end of the OIDC provider's log (%s):\n%s",
				console.LogPath, tail(console.LogPath, logTailLines), c.OIDC.LogPath, tail(c.OIDC.LogPath, logTailLines))
		}
	})
	Eventually(t, time.Minute, "the console to serve", func(ctx context.Context) (bool, string, error) {
		err := get(ctx, http.DefaultClient, console.URL+"/healthz")
		return err == nil, fmt.Sprint(err), nil
	})
	return console
}

// goliveBinary builds golive from the work tree once per cluster.
func (c *Cluster) goliveBinary(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(c.work, "golive")
	if _, err := os.Stat(binary); err == nil {
		return binary
	}
	runIn(t, c.dirs.repo, os.Environ(), "go", "build", "-o", binary, "./cmd")
	if t.Failed() {
		t.FailNow()
	}
	return binary
}

// startProcess starts cmd logging to logPath and returns how to stop it:
// SIGTERM, then SIGKILL after processStopTimeout. The test fails when the
// process ended on its own before that.
func startProcess(t *testing.T, what string, cmd *exec.Cmd, logPath string) (stop func()) {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting %s: %v", what, err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		_ = log.Close()
	}()
	return func() {
		select {
		case err := <-exited:
			t.Errorf("%s exited before the test ended: %v; its log (%s):\n%s", what, err, logPath, tail(logPath, logTailLines))
			return
		default:
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("stopping %s: %v", what, err)
		}
		select {
		case <-exited:
		case <-time.After(processStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
}

// get asks url and wants 200 OK.
func get(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	_ = response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return errors.New("answered " + response.Status)
	}
	return nil
}

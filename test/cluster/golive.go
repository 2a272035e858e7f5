package cluster

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/testenv"
)

// Where golive runs and who it is, as the chart (release golive), config/rbac
// and hack/demo.sh have it.
const (
	GoliveNamespace      = "golive-system"
	GoliveServiceAccount = "golive"
	// goliveLease is the leader-election Lease of cmd/main.go.
	goliveLease = "golive.golive.dev"
	// goliveStartTimeout bounds golive's start: it builds nothing then, but
	// waits for its caches, the webhook certificate and the lease.
	goliveStartTimeout = 2 * time.Minute
	// goliveStopTimeout is how long golive gets to stop on SIGTERM before it is killed.
	goliveStopTimeout = 30 * time.Second
	// logTailLines is how much of golive's log a failed test shows.
	logTailLines = 80
)

// GoliveOptions shape how StartGoliveWith runs golive; the zero value is
// how StartGolive runs it.
type GoliveOptions struct {
	// Metrics serves golive's metrics over plain HTTP on a free local port,
	// at MetricsURL.
	Metrics bool
	// ServiceAccountToken authenticates golive with a token of its
	// ServiceAccount instead of impersonating it. Its rights are the same;
	// the API server sees golive as the user that authenticated, as in a
	// cluster, so that an audit policy can select golive's requests.
	ServiceAccountToken bool
	// Args are further flags for golive.
	Args []string
}

// Golive is golive's manager running out of cluster against a Cluster.
type Golive struct {
	// Namespace is golive's own namespace, holding its ledger key and lease.
	Namespace string
	// LogPath is the file golive logs to, across restarts.
	LogPath string
	// MetricsURL is golive's metrics endpoint (GoliveOptions.Metrics), else "".
	MetricsURL string

	cluster *Cluster
	args    []string
	env     []string
	probe   string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartGolive installs golive with its Helm chart (charts/golive) in the
// chart's externalManager mode: the CRDs, ServiceAccount, RBAC, admission
// policy and admission webhooks, the webhooks calling golive at
// https://localhost:<port>. It builds golive from the work tree, runs it out
// of cluster as the chart's ServiceAccount (impersonated, as hack/demo.sh
// does) with --webhook-client-ca, so that it serves only the kube-apiserver,
// and waits until it is ready, leads and has injected its CA into the
// webhook configurations. So the tests prove that the chart grants golive
// enough, and people's commands go through the webhooks as in production.
// golive looks for the VolumeSnapshot API when it starts, so StartCSI comes
// first for a test with volumes. golive is stopped when the test ends; if
// the test failed, the end of its log is printed.
func (c *Cluster) StartGolive(t *testing.T) *Golive {
	t.Helper()
	return c.StartGoliveWith(t, GoliveOptions{})
}

// StartGoliveWith is StartGolive with options.
func (c *Cluster) StartGoliveWith(t *testing.T, opts GoliveOptions) *Golive {
	t.Helper()
	g := &Golive{Namespace: GoliveNamespace, LogPath: filepath.Join(c.work, "golive.log"), cluster: c}

	webhookPort := c.webhookPort
	c.run(t, c.dirs.helm, "install", "golive", filepath.Join(c.dirs.repo, "charts", "golive"),
		"--kubeconfig", c.Kubeconfig, "--namespace", g.Namespace, "--create-namespace", "--wait",
		"--set", "externalManager.enabled=true",
		"--set", fmt.Sprintf("externalManager.webhookURL=https://localhost:%d", webhookPort))
	if t.Failed() {
		t.FailNow()
	}
	// kubectl wait fails at once on a CRD without status yet, so ask again.
	Eventually(t, time.Minute, "golive's CRDs to be established", func(ctx context.Context) (bool, string, error) {
		out, err := c.kubectlOutput(ctx, "wait", "--for=condition=Established", "--timeout=5s",
			"crd/updaterequests.golive.dev", "crd/golivewindows.golive.dev")
		return err == nil, out, err
	})

	binary := c.goliveBinary(t)
	var kubeconfig string
	if opts.ServiceAccountToken {
		kubeconfig = c.tokenKubeconfig(t, g.Namespace, GoliveServiceAccount)
	} else {
		kubeconfig = c.impersonatingKubeconfig(t, "system:serviceaccount:"+g.Namespace+":"+GoliveServiceAccount,
			"system:serviceaccounts", "system:serviceaccounts:"+g.Namespace, "system:authenticated")
	}

	metrics := "0"
	if opts.Metrics {
		metrics = freeAddress(t)
		g.MetricsURL = "http://" + metrics + "/metrics"
	}
	g.probe = freeAddress(t)
	g.args = []string{binary,
		"--leader-elect", "--leader-election-namespace", g.Namespace,
		"--namespace", g.Namespace,
		"--metrics-bind-address", metrics,
		"--health-probe-bind-address", g.probe,
		"--webhook-port", strconv.Itoa(webhookPort),
		"--webhook-cert-dir", filepath.Join(c.work, "golive-certs"),
		"--webhook-dns-names", "localhost",
		// The kube-apiserver presents a certificate of this CA (Start).
		"--webhook-client-ca", c.webhookClientCA,
		// The tests' health and notification endpoints run on this machine; the
		// egress policy refuses the loopback unless it is listed.
		"--egress-allow", "127.0.0.1/32",
	}
	if opts.Metrics {
		g.args = append(g.args, "--metrics-secure=false")
	}
	g.args = append(g.args, opts.Args...)
	g.env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "SSL_CERT_FILE="+c.httptestCertificate(t))
	t.Cleanup(func() {
		g.stop(t)
		if t.Failed() {
			t.Logf("the end of golive's log (%s):\n%s", g.LogPath, g.LogTail(logTailLines))
		}
	})
	g.start(t)
	c.waitForWebhookCA(t)
	return g
}

// Kill kills golive at once (SIGKILL): no cleanup, no lease released, a
// step or a status patch possibly half-way, as a crash or an OOM kill would.
func (g *Golive) Kill(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("killing golive: %v", err)
	}
	<-g.exited
}

// Restart starts golive again after Kill, with the same flags and
// identity, and waits until it is ready and leads: it takes the lease over
// once the killed one's expires.
func (g *Golive) Restart(t *testing.T) {
	t.Helper()
	if !g.Exited() {
		t.Fatal("Restart: golive still runs; Kill it first")
	}
	g.start(t)
}

// PID is the process id of the running golive, for reading /proc.
func (g *Golive) PID() int { return g.cmd.Process.Pid }

// Exited is whether golive's process ended, as it does when it loses its
// lease for longer than its renew deadline.
func (g *Golive) Exited() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

// ExitError is how golive's process ended, once it has.
func (g *Golive) ExitError() error {
	if !g.Exited() {
		return nil
	}
	return g.waitErr
}

// start runs golive and waits until it is ready and holds the lease.
func (g *Golive) start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(g.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(log, "=== golive starts at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(g.args[0], g.args[1:]...)
	cmd.Env = g.env
	cmd.Stdout, cmd.Stderr = log, log
	// Leader election keeps its times to the microsecond; a second of slack.
	startedAt := time.Now().Add(-time.Second)
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting golive: %v", err)
	}
	exited := make(chan struct{})
	g.cmd, g.exited, g.waitErr = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		_ = log.Close()
		g.waitErr = err
		close(exited)
	}()

	c := g.cluster
	Eventually(t, goliveStartTimeout, "golive to be ready and lead", func(ctx context.Context) (bool, string, error) {
		select {
		case <-exited:
			return false, "", Permanent(fmt.Errorf("golive exited: %v", g.waitErr))
		default:
		}
		if err := get(ctx, http.DefaultClient, "http://"+g.probe+"/readyz"); err != nil {
			return false, "readyz: " + err.Error(), nil
		}
		var lease coordinationv1.Lease
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: goliveLease}, &lease); err != nil {
			return false, "", err
		}
		// A restarted golive leads once it acquired the lease, after the
		// killed one's expired; the identity alone is the same host's.
		holder := ptr.Deref(lease.Spec.HolderIdentity, "")
		leads := holder != "" && lease.Spec.AcquireTime != nil && lease.Spec.AcquireTime.After(startedAt)
		return leads, fmt.Sprintf("lease %s held by %q since %v", goliveLease, holder, lease.Spec.AcquireTime), nil
	})
}

// waitForWebhookCA waits until golive injected its CA into both webhook configurations.
func (c *Cluster) waitForWebhookCA(t *testing.T) {
	t.Helper()
	for _, config := range []string{"mutatingwebhookconfiguration/golive-mutating-webhook-configuration",
		"validatingwebhookconfiguration/golive-validating-webhook-configuration"} {
		Eventually(t, goliveStartTimeout, "golive's CA in "+config, func(ctx context.Context) (bool, string, error) {
			out, err := c.kubectlOutput(ctx, "get", config, "-o", "jsonpath={.webhooks[*].clientConfig.caBundle}")
			return err == nil && out != "", "no caBundle yet", err
		})
	}
}

// LogTail is the last n lines of golive's log.
func (g *Golive) LogTail(n int) string { return tail(g.LogPath, n) }

// stop sends golive SIGTERM and waits for it to exit, killing it after goliveStopTimeout.
func (g *Golive) stop(t *testing.T) {
	t.Helper()
	select {
	case <-g.exited:
		if g.waitErr != nil {
			t.Errorf("golive exited before the test ended: %v", g.waitErr)
		}
		return
	default:
	}
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stopping golive: %v", err)
	}
	select {
	case <-g.exited:
	case <-time.After(goliveStopTimeout):
		t.Errorf("golive did not stop within %s of SIGTERM; killing it", goliveStopTimeout)
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// impersonatingKubeconfig writes a copy of the admin kubeconfig whose user
// impersonates user in groups, and returns its path.
func (c *Cluster) impersonatingKubeconfig(t *testing.T, user string, groups ...string) string {
	t.Helper()
	return c.kubeconfigAs(t, "impersonating.kubeconfig", func(admin *clientcmdapi.AuthInfo) *clientcmdapi.AuthInfo {
		admin.Impersonate = user
		admin.ImpersonateGroups = groups
		return admin
	})
}

// tokenKubeconfig writes a copy of the admin kubeconfig whose user
// authenticates with a token of the ServiceAccount namespace/name, and
// returns its path. The token lasts a day, longer than any test.
func (c *Cluster) tokenKubeconfig(t *testing.T, namespace, name string) string {
	t.Helper()
	serviceAccount := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(24 * 60 * 60))}}
	if err := c.Client.SubResource("token").Create(t.Context(), serviceAccount, request); err != nil {
		t.Fatalf("requesting a token of ServiceAccount %s/%s: %v", namespace, name, err)
	}
	return c.kubeconfigAs(t, "token.kubeconfig", func(*clientcmdapi.AuthInfo) *clientcmdapi.AuthInfo {
		return &clientcmdapi.AuthInfo{Token: request.Status.Token}
	})
}

// kubeconfigAs writes a copy of the admin kubeconfig, named file in the
// test's folder, whose current user is what user makes of the admin's, and
// returns its path.
func (c *Cluster) kubeconfigAs(t *testing.T, file string, user func(admin *clientcmdapi.AuthInfo) *clientcmdapi.AuthInfo) string {
	t.Helper()
	config, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	context, found := config.Contexts[config.CurrentContext]
	if !found {
		t.Fatalf("kubeconfig %s has no current context", c.Kubeconfig)
	}
	admin, found := config.AuthInfos[context.AuthInfo]
	if !found {
		t.Fatalf("kubeconfig %s has no user %q", c.Kubeconfig, context.AuthInfo)
	}
	config.AuthInfos[context.AuthInfo] = user(admin)
	path := filepath.Join(c.work, file)
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeAddress is a 127.0.0.1 address with a port free at the moment.
func freeAddress(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))
}

// httptestCertificate writes the certificate httptest serves every TLS
// server with to a file, for golive to trust (SSL_CERT_FILE): notification
// webhooks with a secretRef must be https.
func (c *Cluster) httptestCertificate(t *testing.T) string {
	t.Helper()
	server := httptest.NewTLSServer(http.NotFoundHandler())
	certificate := server.Certificate()
	server.Close()
	path := filepath.Join(c.work, "httptest-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certificate.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

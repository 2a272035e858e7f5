package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/approval"
)

// Where golive runs and who it is, as config/rbac and hack/demo.sh have it.
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

// Golive is golive's manager running out of cluster against a Cluster.
type Golive struct {
	// Namespace is golive's own namespace, holding its ledger key and lease.
	Namespace string
	// LogPath is the file golive logs to.
	LogPath string

	cluster *Cluster
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartGolive installs golive's CRDs, RBAC and admission policy on the
// cluster (server-side, as shipped in config/), builds golive from the work
// tree and runs it out of cluster as its ServiceAccount (impersonated, as
// hack/demo.sh does), and waits until it is ready and leads. golive looks
// for the VolumeSnapshot API when it starts, so StartCSI comes first for a
// test with volumes. golive is stopped when the test ends; if the test
// failed, the end of its log is printed.
func (c *Cluster) StartGolive(t *testing.T) *Golive {
	t.Helper()
	ctx := t.Context()
	g := &Golive{Namespace: GoliveNamespace, LogPath: filepath.Join(c.work, "golive.log"), cluster: c, exited: make(chan struct{})}

	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: g.Namespace}}
	if err := c.Client.Create(ctx, namespace); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", g.Namespace, err)
	}
	config := func(dir string) string { return filepath.Join(c.dirs.repo, "config", dir) }
	c.Kubectl(t, "apply", "--server-side", "-k", config("crd"))
	// kubectl wait fails at once on a CRD without status yet, so ask again.
	Eventually(t, time.Minute, "golive's CRDs to be established", func(ctx context.Context) (bool, string, error) {
		out, err := c.kubectlOutput(ctx, "wait", "--for=condition=Established", "--timeout=5s",
			"crd/updaterequests.golive.dev", "crd/golivewindows.golive.dev")
		return err == nil, out, err
	})
	c.Kubectl(t, "apply", "--server-side", "-k", config("rbac"))
	c.Kubectl(t, "apply", "--server-side", "-k", config("admission"))

	binary := filepath.Join(c.work, "golive")
	runIn(t, c.dirs.repo, os.Environ(), "go", "build", "-o", binary, "./cmd")
	if t.Failed() {
		t.FailNow()
	}
	kubeconfig := c.impersonatingKubeconfig(t, "system:serviceaccount:"+g.Namespace+":"+GoliveServiceAccount,
		"system:serviceaccounts", "system:serviceaccounts:"+g.Namespace, "system:authenticated")

	probe := freeAddress(t)
	log, err := os.Create(g.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(binary,
		"--leader-elect", "--leader-election-namespace", g.Namespace,
		"--namespace", g.Namespace,
		"--metrics-bind-address", "0",
		"--health-probe-bind-address", probe,
		"--webhook-port", strconv.Itoa(freePort(t)),
		"--webhook-cert-dir", filepath.Join(c.work, "golive-certs"),
		"--webhook-dns-names", "localhost",
	)
	g.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	g.cmd.Stdout, g.cmd.Stderr = log, log
	if err := g.cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting golive: %v", err)
	}
	go func() {
		g.waitErr = g.cmd.Wait()
		_ = log.Close()
		close(g.exited)
	}()
	t.Cleanup(func() {
		g.stop(t)
		if t.Failed() {
			t.Logf("the end of golive's log (%s):\n%s", g.LogPath, g.LogTail(logTailLines))
		}
	})

	Eventually(t, goliveStartTimeout, "golive to be ready and lead", func(ctx context.Context) (bool, string, error) {
		select {
		case <-g.exited:
			return false, "", Permanent(fmt.Errorf("golive exited: %v", g.waitErr))
		default:
		}
		if err := ready(ctx, "http://"+probe+"/readyz"); err != nil {
			return false, "readyz: " + err.Error(), nil
		}
		var lease coordinationv1.Lease
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: goliveLease}, &lease); err != nil {
			return false, "", err
		}
		return ptr.Deref(lease.Spec.HolderIdentity, "") != "", "lease " + goliveLease + " has no holder", nil
	})
	return g
}

// LedgerKey is the key golive signs the approval ledger with, from the
// Secret it created when it started; a test that plays the admission
// webhook signs its ledger entries with it.
func (g *Golive) LedgerKey(t *testing.T) []byte {
	t.Helper()
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: g.Namespace, Name: approval.DefaultLedgerKeySecret}
	if err := g.cluster.Client.Get(t.Context(), key, &secret); err != nil {
		t.Fatalf("reading the ledger key Secret %s: %v", key, err)
	}
	ledgerKey := secret.Data[approval.LedgerKeyField]
	if len(ledgerKey) == 0 {
		t.Fatalf("the ledger key Secret %s has no data.%s", key, approval.LedgerKeyField)
	}
	return ledgerKey
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
	config, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	context, found := config.Contexts[config.CurrentContext]
	if !found {
		t.Fatalf("kubeconfig %s has no current context", c.Kubeconfig)
	}
	authInfo, found := config.AuthInfos[context.AuthInfo]
	if !found {
		t.Fatalf("kubeconfig %s has no user %q", c.Kubeconfig, context.AuthInfo)
	}
	authInfo.Impersonate = user
	authInfo.ImpersonateGroups = groups
	path := filepath.Join(c.work, "impersonating.kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// ready asks a health endpoint whether it is ready.
func ready(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return err
	}
	_ = response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", response.Status)
	}
	return nil
}

// freeAddress is a 127.0.0.1 address with a port free at the moment.
func freeAddress(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// freePort is a TCP port that is free at the moment; another process may
// take it before it is used, which is unlikely enough for tests.
func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listener.Close() }()
	return listener.Addr().(*net.TCPAddr).Port
}

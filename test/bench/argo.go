package bench

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
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/test/cluster"
)

// Argo Rollouts, golive's peer: its controller runs out of cluster as its
// ServiceAccount, with its own ClusterRole, so that the audit log names its
// requests as it names golive's.
const (
	argoNamespace      = "argo-rollouts"
	argoServiceAccount = "argo-rollouts"
	argoClusterRole    = "argo-rollouts"
	argoUser           = "system:serviceaccount:" + argoNamespace + ":" + argoServiceAccount
	// envArgo is the controller's binary, as the Makefile exports it; its
	// CRDs and ClusterRole are in the folder of the same name with -manifests.
	envArgo = "ARGO_ROLLOUTS"
	// argoStartTimeout bounds the controller's start, its caches synced.
	argoStartTimeout = 2 * time.Minute
	argoStopTimeout  = 30 * time.Second
)

// argoRollouts is Argo Rollouts' controller running against the cluster.
type argoRollouts struct {
	binary, manifests string
	// metricsURL is its metrics endpoint; healthzURL its health.
	metricsURL, healthzURL string
	logPath                string
	args, env              []string
	cmd                    *exec.Cmd
	exited                 chan struct{}
	waitErr                error
}

// startArgo installs Argo Rollouts' CRDs and ClusterRole, binds that role to
// its ServiceAccount, and runs its controller as it: no client-side QPS
// limit (--qps -1), no leader election (one instance), its metrics and
// health on free ports (the controller listens on every interface: it has
// no flag for the address). It is stopped when the test ends.
func startArgo(t *testing.T, cl *cluster.Cluster, binary string) *argoRollouts {
	t.Helper()
	a := &argoRollouts{binary: binary, manifests: binary + "-manifests", logPath: filepath.Join(t.TempDir(), "argo-rollouts.log")}
	if _, err := os.Stat(a.manifests); err != nil {
		t.Fatalf("Argo Rollouts' manifests: %v (hack/build-argo-rollouts.sh puts them next to %s)", err, binary)
	}
	// kubectl create, not apply: the Rollout CRD is too large for apply's annotation.
	cl.Kubectl(t, "create", "-f", a.manifests)
	if t.Failed() {
		t.FailNow()
	}
	// kubectl wait fails at once on a CRD without status yet, so the driver asks.
	cluster.Eventually(t, time.Minute, "the Rollout CRD to be established", func(ctx context.Context) (bool, string, error) {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
		if err := cl.Client.Get(ctx, client.ObjectKey{Name: "rollouts.argoproj.io"}, crd); err != nil {
			return false, "", err
		}
		conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, condition := range conditions {
			if c, ok := condition.(map[string]any); ok && c["type"] == "Established" && c["status"] == "True" {
				return true, "", nil
			}
		}
		return false, "not established yet", nil
	})
	kubeconfig := argoKubeconfig(t, cl)
	metrics, healthz := testenv.FreePort(t), testenv.FreePort(t)
	a.metricsURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(metrics)) + "/metrics"
	a.healthzURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(healthz)) + "/healthz"
	a.args = []string{binary, "--kubeconfig", kubeconfig, "--qps", "-1", "--leader-elect=false",
		"--metricsPort", strconv.Itoa(metrics), "--healthzPort", strconv.Itoa(healthz), "--loglevel", "warn"}
	// Its own namespace, where it would read its ConfigMap, is POD_NAMESPACE's.
	a.env = append(os.Environ(), "POD_NAMESPACE="+argoNamespace)
	a.start(t)
	t.Cleanup(func() {
		a.stop(t)
		if t.Failed() {
			t.Logf("the end of Argo Rollouts' log:\n%s", tailOf(a.logPath, 40))
		}
	})
	return a
}

// argoKubeconfig creates Argo Rollouts' namespace and ServiceAccount, binds
// its ClusterRole, and writes a kubeconfig with a token of it.
func argoKubeconfig(t *testing.T, cl *cluster.Cluster) string {
	t.Helper()
	ctx := t.Context()
	serviceAccount := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: argoNamespace, Name: argoServiceAccount}}
	for _, object := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: argoNamespace}},
		serviceAccount,
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: argoClusterRole},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: argoClusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: argoNamespace, Name: argoServiceAccount}},
		},
	} {
		if err := cl.Client.Create(ctx, object); err != nil {
			t.Fatalf("creating %T %s: %v", object, object.GetName(), err)
		}
	}
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(24 * 60 * 60))}}
	if err := cl.Client.SubResource("token").Create(ctx, serviceAccount, request); err != nil {
		t.Fatalf("requesting a token of Argo Rollouts' ServiceAccount: %v", err)
	}
	config, err := clientcmd.LoadFromFile(cl.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current, found := config.Contexts[config.CurrentContext]
	if !found {
		t.Fatalf("kubeconfig %s has no current context", cl.Kubeconfig)
	}
	config.AuthInfos[current.AuthInfo] = &clientcmdapi.AuthInfo{Token: request.Status.Token}
	current.Namespace = argoNamespace
	path := filepath.Join(t.TempDir(), "argo-rollouts.kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs the controller and waits until it answers its health check.
func (a *argoRollouts) start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(a.args[0], a.args[1:]...)
	cmd.Env = a.env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting Argo Rollouts: %v", err)
	}
	exited := make(chan struct{})
	a.cmd, a.exited, a.waitErr = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		_ = log.Close()
		a.waitErr = err
		close(exited)
	}()
	cluster.Eventually(t, argoStartTimeout, "Argo Rollouts to be healthy", func(ctx context.Context) (bool, string, error) {
		select {
		case <-exited:
			return false, "", cluster.Permanent(fmt.Errorf("Argo Rollouts exited: %v; its log:\n%s", a.waitErr, tailOf(a.logPath, 40)))
		default:
		}
		if err := get(ctx, a.healthzURL); err != nil {
			return false, "healthz: " + err.Error(), nil
		}
		if err := get(ctx, a.metricsURL); err != nil {
			return false, "metrics: " + err.Error(), nil
		}
		return true, "", nil
	})
}

// restart stops the controller and starts it again, so that its peak
// memory is what follows.
func (a *argoRollouts) restart(t *testing.T) {
	t.Helper()
	a.stop(t)
	a.start(t)
}

// stop sends the controller SIGTERM and waits for it to exit, killing it
// after argoStopTimeout.
func (a *argoRollouts) stop(t *testing.T) {
	t.Helper()
	select {
	case <-a.exited:
		if a.waitErr != nil {
			t.Errorf("Argo Rollouts exited before the test ended: %v", a.waitErr)
		}
		return
	default:
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stopping Argo Rollouts: %v", err)
	}
	select {
	case <-a.exited:
	case <-time.After(argoStopTimeout):
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

func (a *argoRollouts) pid() int { return a.cmd.Process.Pid }

// tailOf is the last n lines of the file at path.
func tailOf(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// get asks url and wants 200 OK.
func get(ctx context.Context, url string) error {
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

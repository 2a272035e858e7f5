// Package cluster starts what golive's end-to-end tests run against: a kwok
// cluster of their own whose control plane is the real kube-apiserver,
// kube-controller-manager, kube-scheduler and etcd, fake nodes that kwok
// plays, optionally the CSI snapshot chain (hack/csi.sh) and golive itself,
// installed with its Helm chart, built from the work tree and run out of
// cluster as the chart's ServiceAccount; optionally the local OIDC provider,
// which the kube-apiserver trusts, and golive's console logging people in
// there (oidc.go).
// Everything started is stopped and deleted when the test ends, passed or
// not; on failure the logs of what ran are printed.
//
// The binaries come from the Makefile (CONTROLPLANE_DIR, KWOK_DIR, CSI_DIR, HELM,
// and OIDC_PROVIDER for a cluster with the provider): a test fails without
// them, and GOLIVE_SKIP_E2E=1 skips it.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

func init() {
	// The tests' clients have nothing to log; without a logger
	// controller-runtime prints a warning with a stack trace.
	log.SetLogger(logr.Discard())
}

// DefaultNode is the fake node every cluster gets.
const DefaultNode = "kwok-node-0"

// LabelFailPod on a pod (a verification Job's pod template) makes kwok end
// the pod Failed, exit code 1, once it runs: the pod-fail Stage of
// kwok-stages.yaml. Other Job pods complete.
const LabelFailPod = "e2e.golive.dev/fail"

// kwokStages are the Stages kwok plays pods and nodes with.
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// commandTimeout bounds one command the helpers run (kwokctl, kubectl,
// hack/csi.sh, go build): each takes seconds, but the machine may be busy
// with other test packages.
const commandTimeout = 3 * time.Minute

// Options shape a cluster.
type Options struct {
	// Name starts the kwokctl cluster's name; a random suffix makes it unique.
	Name string
	// Authorization turns on RBAC (kwokctl --kube-authorization), so that
	// what runs as a ServiceAccount gets only what its roles grant.
	Authorization bool
	// Nodes is how many fake nodes of 110 pods the cluster gets, DefaultNode
	// first; 0 means one.
	Nodes int
	// DisableQPSLimits lifts the client QPS limits of the control plane's
	// components and the API server's in-flight limits (kwokctl
	// --disable-qps-limits), so that a load test measures the components'
	// work, not their throttles.
	DisableQPSLimits bool
	// AuditPolicy, when set, is the kube-apiserver's audit policy (YAML); the
	// audit log is written to AuditLogPath.
	AuditPolicy []byte
	// OIDCUsers, when set, starts the local OIDC provider ($OIDC_PROVIDER)
	// first, where these people log in with OIDCPassword (each name is the
	// ID token's sub), and has the kube-apiserver trust its ID tokens
	// through its structured authentication configuration: Cluster.OIDC,
	// for StartConsole.
	OIDCUsers []string
}

// Cluster is a running kwok cluster of one test.
type Cluster struct {
	// Name is the kwokctl cluster's name.
	Name string
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig string
	// Config is the admin rest config.
	Config *rest.Config
	// Client is an admin client whose scheme knows the core, snapshot and golive types.
	Client client.Client

	dirs    dirs
	work    string
	environ []string
	// webhookPort is where golive serves its webhooks on localhost: the API
	// server's client certificate for webhooks is configured for it.
	webhookPort int
	// webhookClientCA is the PEM file of the CA that signed that certificate.
	webhookClientCA string
	// webhookCallers is that CA, which golive's webhook server trusts.
	webhookCallers *testenv.ClientCA
	// OIDC is the cluster's OIDC provider (Options.OIDCUsers), else nil.
	OIDC *OIDCProvider
	// consoleAddress is where StartConsole serves: the provider allows
	// redirects there, so it is chosen before the provider starts.
	consoleAddress string
}

// dirs are where the binaries are, as the Makefile exports them, and the repository.
type dirs struct {
	controlPlane, kwok, csi, helm, repo string
}

// Start starts a kwok cluster of its own with its fake nodes (one,
// DefaultNode, unless opts say more) and deletes it when the test ends.
func Start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	d := requireDirs(t)
	work := t.TempDir()
	if opts.Name == "" {
		opts.Name = "golive-e2e"
	}
	c := &Cluster{
		Name:       opts.Name + "-" + randomSuffix(t),
		Kubeconfig: filepath.Join(work, "kubeconfig"),
		dirs:       d,
		work:       work,
	}
	kubectl := filepath.Join(d.controlPlane, "kubectl")
	c.environ = append(os.Environ(),
		"KWOK_KUBE_VERSION="+kubeVersion(t, d),
		"KWOK_KUBECTL_BINARY="+kubectl,
		"KUBECONFIG="+c.Kubeconfig,
		"GOLIVE_CSI_WORK_DIR="+filepath.Join(work, "csi"),
		"CSI_DIR="+d.csi,
		"CONTROLPLANE_DIR="+d.controlPlane,
	)

	kwokctl := filepath.Join(d.kwok, "kwokctl")
	stages := filepath.Join(work, "kwok-stages.yaml")
	if err := os.WriteFile(stages, kwokStages, 0o644); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-registered first: whatever runs on the cluster stops
	// before the cluster goes.
	t.Cleanup(func() {
		c.run(t, kwokctl, "delete", "cluster", "--v=WARN", "--name", c.Name, "--kubeconfig", c.Kubeconfig)
	})
	args := []string{"create", "cluster", "--v=WARN", "--name", c.Name, "--runtime", "binary",
		"--kubeconfig", c.Kubeconfig, "--config", stages,
		"--etcd-binary", filepath.Join(d.controlPlane, "etcd"),
		"--kube-apiserver-binary", filepath.Join(d.controlPlane, "kube-apiserver"),
		"--kube-controller-manager-binary", filepath.Join(d.controlPlane, "kube-controller-manager"),
		"--kube-scheduler-binary", filepath.Join(d.controlPlane, "kube-scheduler"),
		"--kwok-controller-binary", filepath.Join(d.kwok, "kwok"),
		"--wait", "2m"}
	if opts.Authorization {
		args = append(args, "--kube-authorization")
	}
	if opts.DisableQPSLimits {
		args = append(args, "--disable-qps-limits")
	}
	args = append(args, "--extra-args", "kube-apiserver=admission-control-config-file="+c.webhookClientAuth(t))
	if len(opts.OIDCUsers) > 0 {
		c.consoleAddress = freeAddress(t)
		args = append(args, "--extra-args", "kube-apiserver=authentication-config="+c.startOIDCProvider(t, opts.OIDCUsers))
	}
	if opts.AuditPolicy != nil {
		policy := filepath.Join(work, "audit-policy.yaml")
		if err := os.WriteFile(policy, opts.AuditPolicy, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--kube-audit-policy", policy)
	}
	c.run(t, kwokctl, args...)
	if t.Failed() {
		t.FailNow()
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c.Config = cfg
	c.Client, err = client.New(cfg, client.Options{Scheme: Scheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	c.addNode(t, DefaultNode)
	for i := 1; i < opts.Nodes; i++ {
		c.addNode(t, fmt.Sprintf("kwok-node-%d", i))
	}
	return c
}

// webhookClientAuth creates a CA and a client certificate of it that the
// kube-apiserver presents to golive's webhooks at localhost:<webhookPort>, as
// docs/security.md tells operators to configure a cluster, and returns the
// kube-apiserver's admission configuration file. golive gets the CA with
// --webhook-client-ca.
func (c *Cluster) webhookClientAuth(t *testing.T) string {
	t.Helper()
	ca, err := testenv.NewClientCA("golive-e2e-webhook-client-ca")
	if err != nil {
		t.Fatal(err)
	}
	c.webhookCallers = ca
	c.webhookClientCA = filepath.Join(c.work, "webhook-client-ca.crt")
	if err := os.WriteFile(c.webhookClientCA, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c.webhookPort = testenv.FreePort(t)
	admissionConfig, err := testenv.WriteAdmissionConfig(c.work, ca, net.JoinHostPort("localhost", strconv.Itoa(c.webhookPort)))
	if err != nil {
		t.Fatal(err)
	}
	return admissionConfig
}

// WebhookCallerCertificate is a client certificate for commonName signed by
// the CA golive's webhook server trusts, the one that signed the
// kube-apiserver's: for tests that call the webhooks as someone else would.
func (c *Cluster) WebhookCallerCertificate(t *testing.T, commonName string) tls.Certificate {
	t.Helper()
	certificate, err := c.webhookCallers.TLSCertificate(commonName)
	if err != nil {
		t.Fatal(err)
	}
	return certificate
}

// AuditLogPath is where the kube-apiserver writes its audit log, when the
// cluster was started with an AuditPolicy.
func (c *Cluster) AuditLogPath() string {
	return filepath.Join(c.kwokWorkDir(), "clusters", c.Name, "logs", "audit.log")
}

// Scheme knows the core Kubernetes types, VolumeSnapshots and golive's types.
func Scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, snapv1.AddToScheme, golivev1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

// addNode adds a fake node that kwok keeps Ready and whose pods it runs.
func (c *Cluster) addNode(t *testing.T, name string) {
	t.Helper()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":           "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
			Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if err := c.Client.Create(t.Context(), node); err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
}

// Kubectl runs the control plane's kubectl with the admin kubeconfig; a
// failure fails the test.
func (c *Cluster) Kubectl(t *testing.T, args ...string) {
	t.Helper()
	c.run(t, filepath.Join(c.dirs.controlPlane, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	if t.Failed() {
		t.FailNow()
	}
}

// kubectlOutput runs kubectl with the admin kubeconfig and returns its output.
func (c *Cluster) kubectlOutput(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.dirs.controlPlane, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Env = c.environ
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// run runs a command to completion within commandTimeout, logging its
// output; a failure fails the test but lets the caller (or a cleanup) go on.
func (c *Cluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	runIn(t, "", c.environ, name, args...)
}

// runIn runs a command in dir (empty: the current directory) as run does.
func runIn(t *testing.T, dir string, environ []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = environ
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s (%s):\n%s", filepath.Base(name), strings.Join(args[:min(2, len(args))], " "), time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
}

// requireDirs reads where the binaries are from the environment the
// Makefile sets, failing the test without them; GOLIVE_SKIP_E2E=1 skips it.
func requireDirs(t *testing.T) dirs {
	t.Helper()
	if os.Getenv("GOLIVE_SKIP_E2E") == "1" {
		t.Skip("GOLIVE_SKIP_E2E=1: skipping the kwok end-to-end test")
	}
	var missing []string
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	d := dirs{controlPlane: get("CONTROLPLANE_DIR"), kwok: get("KWOK_DIR"), csi: get("CSI_DIR"), helm: get("HELM")}
	if len(missing) > 0 {
		t.Fatalf("%s not set: run this test through `make test`, which builds the control plane, kwok, "+
			"the CSI sidecars and helm and sets CONTROLPLANE_DIR, KWOK_DIR, CSI_DIR and HELM (GOLIVE_SKIP_E2E=1 skips it)",
			strings.Join(missing, ", "))
	}
	repo, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	d.repo = repo
	return d
}

// repoRoot finds the module root above the test's working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// kubeVersion is the control plane's version, for kwokctl's defaults: from
// the Makefile's KUBERNETES_VERSION, else from kube-apiserver itself.
func kubeVersion(t *testing.T, d dirs) string {
	t.Helper()
	if v := os.Getenv("KUBERNETES_VERSION"); v != "" {
		return v
	}
	out, err := exec.Command(filepath.Join(d.controlPlane, "kube-apiserver"), "--version").Output()
	if err != nil {
		t.Fatalf("kube-apiserver --version: %v", err)
	}
	v := regexp.MustCompile(`v\d+\.\d+\.\d+\S*`).FindString(string(out))
	if v == "" {
		t.Fatalf("no version in %q", out)
	}
	return v
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// permanentError ends an Eventually at once.
type permanentError struct{ error }

// Permanent wraps err so that Eventually fails at once instead of polling on:
// for a state the wait can never leave, such as a process that exited.
func Permanent(err error) error { return permanentError{err} }

// Eventually polls cond until it reports done, for at most timeout; on
// timeout the test fails with what, cond's last description of the state and
// its last error. An error counts as not done yet, unless it is Permanent.
func Eventually(t *testing.T, timeout time.Duration, what string, cond func(context.Context) (done bool, state string, err error)) {
	t.Helper()
	var state string
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		done, s, err := cond(ctx)
		state, lastErr = s, err
		var permanent permanentError
		if errors.As(err, &permanent) {
			return false, permanent.error
		}
		return done && err == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last state: %s, last error: %v)", what, err, state, lastErr)
	}
}

// tail is the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }()
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := scanner.Err(); err != nil {
		lines = append(lines, fmt.Sprintf("(reading %s: %v)", path, err))
	}
	return strings.Join(lines, "\n")
}

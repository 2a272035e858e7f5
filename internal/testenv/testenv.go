// Package testenv starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with golive's CRDs and admission policies installed, for the
// controller and API tests. The binaries are built from source by
// `make controlplane` and found through KUBEBUILDER_ASSETS. Its helpers that
// read gathered metrics (CounterValue, HistogramSamples) need no API server.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// BreakGlassGroup is the group golive's admission policies let do what
// otherwise golive alone may (config/admission). The tests' administrator,
// Config and Client, is a member: tests play golive and the cluster's
// controllers with it.
const BreakGlassGroup = "golive:break-glass"

// Env is a running API server with golive installed.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *k8sruntime.Scheme

	// Webhooks, when installed (WithWebhooks), says where the API server
	// calls them: a webhook server must listen on LocalServingHost and
	// LocalServingPort with the certificate in LocalServingCertDir.
	Webhooks *envtest.WebhookInstallOptions
	// WebhookClientCA, with the webhooks, signed the client certificate
	// (named WebhookClientName) the API server presents to them; its PEM is
	// in WebhookClientCAFile. ServeWebhooks requires callers to present a
	// certificate it signed, as golive's --webhook-client-ca does.
	WebhookClientCA     *ClientCA
	WebhookClientCAFile string

	// webhookAuthDir holds the client CA and the API server's admission configuration.
	webhookAuthDir string
	// kubeConfig is the break-glass administrator's kubeconfig.
	kubeConfig []byte

	environment *envtest.Environment
}

// Option changes what Start installs.
type Option func(*options)

type options struct {
	webhooks      bool
	snapshotCRDs  bool
	apiServerArgs map[string]string
}

// WithWebhooks also installs golive's admission webhooks from
// config/webhook/manifests.yaml, pointed at a local server (see
// Env.Webhooks). They are fail-closed: until a test serves them, every
// create and update of an UpdateRequest is refused.
func WithWebhooks() Option {
	return func(o *options) { o.webhooks = true }
}

// WithSnapshotCRDs also installs the CSI VolumeSnapshot CRDs (volumesnapshots,
// volumesnapshotcontents, volumesnapshotclasses) of the external-snapshotter
// client module that go.mod requires, read from the module cache.
func WithSnapshotCRDs() Option {
	return func(o *options) { o.snapshotCRDs = true }
}

// WithAPIServerArg sets a flag of the kube-apiserver, such as
// authentication-config for a test that logs people in through an OIDC issuer.
func WithAPIServerArg(name, value string) Option {
	return func(o *options) {
		if o.apiServerArgs == nil {
			o.apiServerArgs = map[string]string{}
		}
		o.apiServerArgs[name] = value
	}
}

// snapshotClientModule is the module whose config/crd holds the VolumeSnapshot CRDs.
const snapshotClientModule = "github.com/kubernetes-csi/external-snapshotter/client/v8"

// snapshotCRDPaths are the VolumeSnapshot CRD files of the snapshotter client
// module in the version go.mod requires (not the group snapshot CRDs).
func snapshotCRDPaths(ctx context.Context, root string) ([]string, error) {
	command := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", snapshotClientModule)
	command.Dir = root
	var stderr bytes.Buffer
	command.Stderr = &stderr
	out, err := command.Output()
	if err != nil {
		return nil, fmt.Errorf("finding the module %s: %w: %s", snapshotClientModule, err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return nil, fmt.Errorf("the module %s is not in the module cache: run `go mod download %s`", snapshotClientModule, snapshotClientModule)
	}
	var paths []string
	for _, resource := range []string{"volumesnapshotclasses", "volumesnapshotcontents", "volumesnapshots"} {
		paths = append(paths, filepath.Join(dir, "config", "crd", "snapshot.storage.k8s.io_"+resource+".yaml"))
	}
	return paths, nil
}

// RepoRoot is the repository's top folder, found from this file's location so
// that tests in any package read the same config/.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// NewScheme holds the built-in kinds, the CSI VolumeSnapshot kinds and golive's.
func NewScheme() *k8sruntime.Scheme {
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(snapshotv1.AddToScheme(scheme))
	utilruntime.Must(golivev1alpha1.AddToScheme(scheme))
	return scheme
}

// Start starts the API server, installs the CRDs from config/crd/bases and the
// admission policies from config/admission, and waits until both are in force;
// WithWebhooks also installs the admission webhooks, called by the API server
// with a client certificate of WebhookClientCA, WithSnapshotCRDs the
// VolumeSnapshot CRDs.
func Start(ctx context.Context, opts ...Option) (*Env, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make test`, or `make controlplane` and " +
			"`export KUBEBUILDER_ASSETS=$(make -s print-assets)` before `go test`")
	}
	root := RepoRoot()
	crdPaths := []string{filepath.Join(root, "config", "crd", "bases")}
	if o.snapshotCRDs {
		paths, err := snapshotCRDPaths(ctx, root)
		if err != nil {
			return nil, err
		}
		crdPaths = append(crdPaths, paths...)
	}
	scheme := NewScheme()
	environment := &envtest.Environment{
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
		// envtest waits 10 s by default for the CRDs to be served; the
		// UpdateRequest CRD (full Job templates) takes longer on a busy 2-core machine.
		CRDInstallOptions: envtest.CRDInstallOptions{MaxTime: 2 * time.Minute},
		Scheme:            scheme,
	}
	env := &Env{Scheme: scheme, environment: environment}
	for name, value := range o.apiServerArgs {
		environment.ControlPlane.GetAPIServer().Configure().Set(name, value)
	}
	if o.webhooks {
		// The webhooks' address must be known before the API server starts:
		// its admission configuration names the client certificate for it.
		env.Webhooks = &envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(root, "config", "webhook", "manifests.yaml")},
		}
		dir, err := os.MkdirTemp("", "golive-webhook-client-")
		if err != nil {
			return nil, err
		}
		env.webhookAuthDir = dir
		var admissionConfig string
		env.WebhookClientCA, env.WebhookClientCAFile, admissionConfig, err = prepareWebhookClientAuth(dir, env.Webhooks)
		if err != nil {
			return nil, errors.Join(err, env.removeWebhookFiles())
		}
		environment.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", admissionConfig)
	}
	config, err := environment.Start()
	if err != nil {
		// Start leaves the control plane running when installing the CRDs fails.
		return nil, errors.Join(fmt.Errorf("starting envtest: %w", err), environment.Stop(), env.removeWebhookFiles())
	}
	// The administrator is a member of the break-glass group: tests set up
	// phases by writing status, which the status policy allows golive and
	// that group alone.
	admin, err := environment.AddUser(envtest.User{Name: "golive-test-admin", Groups: []string{"system:masters", BreakGlassGroup}}, config)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("adding the break-glass administrator: %w", err), env.Stop())
	}
	if env.kubeConfig, err = admin.KubeConfig(); err != nil {
		return nil, errors.Join(fmt.Errorf("writing the administrator's kubeconfig: %w", err), env.Stop())
	}
	config = admin.Config()
	env.Config = config
	if env.Client, err = client.New(config, client.Options{Scheme: scheme}); err != nil {
		return nil, errors.Join(fmt.Errorf("creating a client: %w", err), env.Stop())
	}
	if err := env.applyAdmissionPolicies(ctx, filepath.Join(root, "config", "admission")); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	// After the policies: the policy probe must not meet unserved webhooks.
	if o.webhooks {
		if err := env.Webhooks.Install(config); err != nil {
			return nil, errors.Join(fmt.Errorf("installing the webhooks: %w", err), env.Stop())
		}
	}
	return env, nil
}

// KubeConfig is a kubeconfig file's content for an administrator of the API
// server, a member of the break-glass group.
func (e *Env) KubeConfig() []byte {
	return e.kubeConfig
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	return errors.Join(e.environment.Stop(), e.removeWebhookFiles())
}

// removeWebhookFiles removes the webhooks' serving certificate and client CA.
func (e *Env) removeWebhookFiles() error {
	var err error
	if e.Webhooks != nil {
		err = e.Webhooks.Cleanup()
	}
	if e.webhookAuthDir != "" {
		err = errors.Join(err, os.RemoveAll(e.webhookAuthDir))
	}
	return err
}

// applyAdmissionPolicies creates every object of the files config/admission's
// kustomization lists and waits until the API server enforces the policies: a
// ValidatingAdmissionPolicy takes effect only once the server has compiled it
// and seen its binding.
func (e *Env) applyAdmissionPolicies(ctx context.Context, dir string) error {
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return err
	}
	if err := utilyaml.Unmarshal(data, &kustomization); err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Join(dir, "kustomization.yaml"), err)
	}
	for _, resource := range kustomization.Resources {
		objects, err := ReadObjects(filepath.Join(dir, resource))
		if err != nil {
			return err
		}
		for _, object := range objects {
			if err := e.Client.Create(ctx, object); err != nil {
				return fmt.Errorf("creating %s %s: %w", object.GetKind(), object.GetName(), err)
			}
		}
	}
	return errors.Join(e.waitForNamespacePolicy(ctx), e.waitForStatusPolicy(ctx), e.waitForOwnedObjectsPolicy(ctx))
}

// waitForStatusPolicy dry-runs a status write by a cluster administrator
// outside the break-glass group until the status policy refuses it.
func (e *Env) waitForStatusPolicy(ctx context.Context) error {
	probe := probeRequest("status-policy-probe", "status-policy-probe-grey")
	if err := e.Client.Create(ctx, probe); err != nil {
		return fmt.Errorf("creating the status policy's probe: %w", err)
	}
	outsider := rest.CopyConfig(e.Config)
	outsider.Impersonate = rest.ImpersonationConfig{UserName: "status-policy-probe", Groups: []string{"system:masters"}}
	outsiderClient, err := client.New(outsider, client.Options{Scheme: e.Scheme})
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		probe.Status.Phase = golivev1alpha1.PhaseScheduled
		last = outsiderClient.Status().Update(ctx, probe, client.DryRunAll)
		return last != nil && strings.Contains(last.Error(), BreakGlassGroup), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the status policy to take effect (the probe got %v): %w", last, err)
	}
	return e.Client.Delete(ctx, probe)
}

// OwnedObjectsRefusal is part of the message of the policy that keeps
// everyone but golive from golive's own objects (owned_objects_policy.yaml).
const OwnedObjectsRefusal = "carries golive's request labels"

// ClientAs is a client that impersonates user with groups, through the
// administrator; with "system:masters" among groups it is a cluster admin
// outside the break-glass group.
func (e *Env) ClientAs(user string, groups ...string) (client.Client, error) {
	config := rest.CopyConfig(e.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return client.New(config, client.Options{Scheme: e.Scheme})
}

// waitForOwnedObjectsPolicy dry-runs, as a cluster admin outside the
// break-glass group, a ConfigMap with golive's labels until the policy refuses it.
func (e *Env) waitForOwnedObjectsPolicy(ctx context.Context) error {
	admin, err := e.ClientAs("policy-probe", "system:masters")
	if err != nil {
		return err
	}
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "policy-probe", Namespace: "default",
		Labels: map[string]string{golivev1alpha1.LabelRequestUID: "probe"}}}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		last = admin.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		return last != nil && strings.Contains(last.Error(), OwnedObjectsRefusal), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the owned-objects policy to take effect (the probe got %v): %w", last, err)
	}
	return nil
}

// waitForNamespacePolicy dry-runs a request that stages into its own namespace
// until the policy refuses it.
func (e *Env) waitForNamespacePolicy(ctx context.Context) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		last = e.Client.Create(ctx, probeRequest("policy-probe", "default"), client.DryRunAll)
		return last != nil && strings.Contains(last.Error(), "spec.staging.namespace"), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the admission policy to take effect (the probe got %v): %w", last, err)
	}
	return nil
}

// probeRequest is a minimal request in namespace default, staged in staging,
// dry-run to learn when an admission check is in force.
func probeRequest(name, staging string) *golivev1alpha1.UpdateRequest {
	return &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: "probe",
			Targets: []golivev1alpha1.Target{{Kind: golivev1alpha1.TargetDeployment, Name: "probe", Images: map[string]golivev1alpha1.Image{"probe": "probe:1"}}},
			Staging: golivev1alpha1.Staging{Namespace: staging},
			Approvals: golivev1alpha1.Approvals{
				Required: []golivev1alpha1.RoleQuorum{{Role: "probe", Count: 1}},
			},
			Window: golivev1alpha1.WindowReference{Name: "probe"},
		},
	}
}

// ReadObjects decodes every object of a multi-document YAML file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objects []*unstructured.Unstructured
	for {
		object := &unstructured.Unstructured{}
		if err := decoder.Decode(&object.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objects, nil
			}
			return nil, fmt.Errorf("decoding %s: %w", path, err)
		}
		if len(object.Object) > 0 {
			objects = append(objects, object)
		}
	}
}

// IgnoreAlreadyExists lets a test create shared fixtures more than once.
func IgnoreAlreadyExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Main is the TestMain of a package whose tests share one API server: it
// starts the server with opts into *env, runs the tests, stops the server and
// exits. Controller logs go to stderr only with -v.
func Main(m *testing.M, env **Env, opts ...Option) {
	flag.Parse()
	logOutput := io.Discard
	if testing.Verbose() {
		logOutput = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOutput), zap.UseDevMode(true)))

	var err error
	if *env, err = Start(context.Background(), opts...); err != nil {
		fmt.Fprintln(os.Stderr, "Failed to start the test API server:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := (*env).Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// NewNamespace creates a namespace named prefix plus a random suffix for one
// test. envtest runs no namespace controller, so it is not deleted afterwards.
func (e *Env) NewNamespace(t *testing.T, prefix string) string {
	t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := e.Client.Create(t.Context(), namespace); err != nil {
		t.Fatalf("Creating a namespace: %v", err)
	}
	return namespace.Name
}

// Eventually polls check until it returns "" and fails the test with the last
// thing check reported if that does not happen within 20 seconds.
func Eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 20*time.Second, true,
		func(ctx context.Context) (bool, error) {
			message := check(ctx)
			// A check cut short by the deadline says less than the one before it.
			if ctx.Err() == nil || last == "" {
				last = message
			}
			return message == "", nil
		})
	if err != nil {
		t.Fatalf("Condition not met in time: %s", last)
	}
}

// FreePort is a TCP port free at the moment on every interface, for a
// server a test starts. It is taken below the kernel's range of ephemeral
// ports, which outbound connections are given: a port from that range can be
// given to a connection between the check and the server's bind ("address
// already in use"). Each port is handed out once per test process.
func FreePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	low, high := freePortRange()
	for range 1000 {
		port := low + rand.IntN(high-low)
		if portsHandedOut[port] {
			continue
		}
		listener, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		_ = listener.Close()
		portsHandedOut[port] = true
		return port
	}
	t.Fatalf("no free TCP port in [%d, %d)", low, high)
	return 0
}

var (
	portsMu        sync.Mutex
	portsHandedOut = map[int]bool{}
)

// freePortRange is [10000, the first ephemeral port), the first read from
// /proc/sys/net/ipv4/ip_local_port_range; 32768, Linux's default, when it
// cannot be read or leaves too little room.
func freePortRange() (low, high int) {
	low, high = 10000, 32768
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	if fields := strings.Fields(string(data)); len(fields) == 2 {
		if first, err := strconv.Atoi(fields[0]); err == nil && first > low+1000 {
			high = first
		}
	}
	return low, high
}

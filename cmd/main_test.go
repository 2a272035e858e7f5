package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The manager binary, started as a user would start it against a real API
// server: it serves its probes and metrics, takes the leader lease, creates
// its ledger key and webhook certificate, serves the admission webhooks, and
// on SIGTERM stops cleanly and releases the lease.
func TestManagerServesProbesMetricsAndLeadership(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	}()

	dir := t.TempDir()
	binary := filepath.Join(dir, "golive")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig(), 0o600); err != nil {
		t.Fatal(err)
	}

	probes, metrics := freeAddress(t), freeAddress(t)
	_, webhookPort, err := net.SplitHostPort(freeAddress(t))
	if err != nil {
		t.Fatal(err)
	}
	// The webhooks as config/webhook installs them, but reached at the
	// manager's port on this machine instead of through the Service.
	installWebhooks(t, ctx, env, "https://localhost:"+webhookPort)
	manager := exec.Command(binary,
		"--kubeconfig", kubeconfig,
		"--health-probe-bind-address", probes,
		"--metrics-bind-address", metrics, "--metrics-secure=false",
		"--leader-elect", "--leader-election-namespace", "default",
		"--namespace", "default",
		"--webhook-port", webhookPort, "--webhook-cert-dir", filepath.Join(dir, "certs"),
		"--webhook-dns-names", "localhost",
	)
	var logs strings.Builder
	manager.Stdout, manager.Stderr = &logs, &logs
	if err := manager.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- manager.Wait() }()
	defer func() {
		if manager.ProcessState == nil {
			_ = manager.Process.Kill()
		}
		if t.Failed() {
			t.Logf("manager log:\n%s", logs.String())
		}
	}()

	for _, path := range []string{"/healthz", "/readyz"} {
		eventually(t, ctx, "GET "+path+" answers 200", func() bool {
			status, _ := get("http://" + probes + path)
			return status == http.StatusOK
		})
	}
	eventually(t, ctx, "the metrics endpoint serves controller-runtime's metrics", func() bool {
		status, body := get("http://" + metrics + "/metrics")
		return status == http.StatusOK && strings.Contains(body, `controller_runtime_reconcile_total{controller="updaterequest"`) &&
			strings.Contains(body, `controller_runtime_reconcile_total{controller="golivewindow"`)
	})
	var lease coordinationv1.Lease
	eventually(t, ctx, "the manager holds the leader lease", func() bool {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "golive.golive.dev"}, &lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != ""
	})

	var ledgerKey corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "golive-ledger-key"}, &ledgerKey); err != nil {
		t.Fatalf("reading the ledger key Secret: %v", err)
	}
	if n := len(ledgerKey.Data["key"]); n != 32 {
		t.Errorf("the ledger key has %d bytes, want 32", n)
	}
	// The API server trusts the manager's self-signed certificate through the
	// injected caBundle: a new request is stamped with its requester.
	grey := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "default-grey", Labels: map[string]string{golivev1alpha1.LabelStagingFor: "default"},
	}}
	if err := env.Client.Create(ctx, grey); err != nil {
		t.Fatal(err)
	}
	request := testfixtures.MakeUpdateRequest("default", "billing-2-4-0").
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "billing-api:2.4.0"}).
		Staging("default-grey").Approval("rnd-lead", 1).Window("thursday-evening").Obj()
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatalf("creating a request through the manager's webhooks: %v", err)
	}
	if requester := request.Annotations[golivev1alpha1.AnnotationRequestedBy]; requester == "" {
		t.Errorf("the request was not stamped with its requester: %v", request.Annotations)
	}

	if err := manager.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the manager exited with %v after SIGTERM", err)
		}
	case <-ctx.Done():
		t.Fatal("the manager did not stop after SIGTERM")
	}
	// The lease is released on a clean stop, so a new leader need not wait for it to expire.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&lease), &lease); err != nil {
		t.Fatal(err)
	}
	if holder := lease.Spec.HolderIdentity; holder != nil && *holder != "" {
		t.Errorf("the lease is still held by %q after a clean stop", *holder)
	}
}

// installWebhooks creates the webhook configurations of config/webhook,
// pointed at baseURL, without a caBundle: the manager injects it.
func installWebhooks(t *testing.T, ctx context.Context, env *testenv.Env, baseURL string) {
	t.Helper()
	objects, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, object := range objects {
		webhooks, _, err := unstructured.NestedSlice(object.Object, "webhooks")
		if err != nil {
			t.Fatal(err)
		}
		for _, hook := range webhooks {
			hook := hook.(map[string]any)
			path, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "path")
			hook["clientConfig"] = map[string]any{"url": baseURL + path}
		}
		if err := unstructured.SetNestedSlice(object.Object, webhooks, "webhooks"); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Create(ctx, object); err != nil {
			t.Fatalf("creating %s: %v", object.GetName(), err)
		}
	}
}

func freeAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

func get(url string) (int, string) {
	response, err := http.Get(url) //nolint:gosec // a test URL on loopback
	if err != nil {
		return 0, ""
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

func eventually(t *testing.T, ctx context.Context, what string, condition func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return condition(), nil
	})
	if err != nil {
		t.Fatal(fmt.Errorf("waiting until %s: %w", what, err))
	}
}

func TestGoMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantLimit int64
		wantSet   bool
	}{
		{name: "container limit", env: map[string]string{containerMemoryLimitEnv: "268435456"}, wantLimit: 241591905, wantSet: true},
		{name: "no container limit", env: map[string]string{}},
		{name: "GOMEMLIMIT set by hand wins", env: map[string]string{containerMemoryLimitEnv: "268435456", "GOMEMLIMIT": "200MiB"}},
		{name: "not a number", env: map[string]string{containerMemoryLimitEnv: "256Mi"}},
		{name: "zero", env: map[string]string{containerMemoryLimitEnv: "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, set := goMemoryLimit(func(name string) string { return tc.env[name] })
			if limit != tc.wantLimit || set != tc.wantSet {
				t.Errorf("goMemoryLimit = %d, %t; want %d, %t", limit, set, tc.wantLimit, tc.wantSet)
			}
		})
	}
}

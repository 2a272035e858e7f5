package chart_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

var consoleValues = filepath.Join("ci", "console-values.yaml")

func TestConsoleIsOffByDefault(t *testing.T) {
	in := render(t, "golive-system")
	for _, kind := range []string{"Deployment", "Service", "Ingress", "ServiceAccount"} {
		if in.find(kind, "golive-console") != nil {
			t.Errorf("the default install renders the console's %s", kind)
		}
	}
}

// The console's Deployment is hardened like the manager's, listens on the
// pod's address, runs `golive console`, and its pods are apart from the
// manager's: no selector of the manager's picks them.
func TestConsoleDeploymentIsHardenedAndApart(t *testing.T) {
	in := render(t, "golive-system", consoleValues)
	manager := named[appsv1.Deployment](t, in, "Deployment", "golive")
	console := named[appsv1.Deployment](t, in, "Deployment", "golive-console")
	pod := console.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("the console's pod has %d containers, want 1", len(pod.Containers))
	}
	container := pod.Containers[0]
	if diff := cmp.Diff(manager.Spec.Template.Spec.SecurityContext, pod.SecurityContext); diff != "" {
		t.Errorf("the console's pod securityContext differs from the manager's (-manager +console):\n%s", diff)
	}
	if diff := cmp.Diff(managerContainer(t, manager).SecurityContext, container.SecurityContext); diff != "" {
		t.Errorf("the console's container securityContext differs from the manager's (-manager +console):\n%s", diff)
	}
	if len(container.Args) == 0 || container.Args[0] != "console" {
		t.Fatalf("the console's container does not run `golive console`: %q", container.Args)
	}
	args := flags(t, container.Args[1:])
	if args["bind-address"] != "$(POD_IP)" {
		t.Errorf("--bind-address = %q, want the pod's address $(POD_IP)", args["bind-address"])
	}
	if args["redirect-url"] != "https://golive.example.com/callback" {
		t.Errorf("--redirect-url = %q", args["redirect-url"])
	}
	if _, ok := args["impersonate"]; ok {
		t.Error("the console impersonates without console.impersonation.enabled")
	}
	podLabels := console.Spec.Template.Labels
	if selects(manager.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the manager's selector %v picks the console's pods %v", manager.Spec.Selector.MatchLabels, podLabels)
	}
	for _, service := range in.ofKind("Service") {
		var s corev1.Service
		decode(t, service, &s)
		if s.Name != "golive-console" && selects(s.Spec.Selector, podLabels) {
			t.Errorf("Service %s picks the console's pods", s.Name)
		}
	}
	service := named[corev1.Service](t, in, "Service", "golive-console")
	if !selects(service.Spec.Selector, podLabels) {
		t.Errorf("the console's Service does not pick its pods")
	}
	ingress := named[networkingv1.Ingress](t, in, "Ingress", "golive-console")
	if backend := ingress.Spec.Rules[0].HTTP.Paths[0].Backend.Service; backend == nil || backend.Name != service.Name {
		t.Errorf("the Ingress does not lead to the console's Service: %+v", ingress.Spec.Rules)
	}
	// Its NetworkPolicy admits only its HTTP port, to its own pods.
	policy := named[networkingv1.NetworkPolicy](t, in, "NetworkPolicy", "golive-console")
	if !selects(policy.Spec.PodSelector.MatchLabels, podLabels) || len(policy.Spec.Ingress) != 1 ||
		len(policy.Spec.Ingress[0].Ports) != 1 || policy.Spec.Ingress[0].Ports[0].Port.String() != "http" {
		t.Errorf("the console's NetworkPolicy does not admit just its HTTP port: %+v", policy.Spec)
	}
	// No rights of its own: nothing binds its ServiceAccount.
	for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
		for _, binding := range in.ofKind(kind) {
			if bytes.Contains(mustJSON(t, binding.Object["subjects"]), []byte(`"golive-console"`)) {
				t.Errorf("%s %s grants the console's ServiceAccount rights", kind, binding.GetName())
			}
		}
	}
}

// Every flag the chart passes to the console is one `golive console` defines.
func TestConsoleAcceptsTheChartsFlags(t *testing.T) {
	in := render(t, "golive-system", consoleValues, writeValues(t, "console:\n  replicas: 2\n  trustedProxies: [10.0.0.0/8, fd00::/8]\n"+
		"  impersonation:\n    enabled: true\n  issuerCA:\n    configMapName: issuer-ca\n"))
	console := named[appsv1.Deployment](t, in, "Deployment", "golive-console")
	passed := flags(t, console.Spec.Template.Spec.Containers[0].Args[1:])
	if got := passed["trusted-proxies"]; got != "10.0.0.0/8,fd00::/8" {
		t.Errorf("console.trustedProxies passes --trusted-proxies=%q", got)
	}
	if service := named[corev1.Service](t, in, "Service", "golive-console"); service.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		t.Errorf("Two console replicas keep their sessions apart, but the Service's session affinity is %q", service.Spec.SessionAffinity)
	}
	binary := filepath.Join(t.TempDir(), "golive")
	build := exec.Command("go", "build", "-o", binary, "./cmd")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building golive: %v\n%s", err, out)
	}
	var usage bytes.Buffer
	help := exec.Command(binary, "console", "-help")
	help.Stdout, help.Stderr = &usage, &usage
	_ = help.Run() // -help exits with status 2 after printing the flags
	defined := map[string]bool{}
	for _, match := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		defined[match[1]] = true
	}
	if !defined["issuer"] {
		t.Fatalf("no console flags found in the usage:\n%s", usage.String())
	}
	for name := range passed {
		if !defined[name] {
			t.Errorf("the chart passes --%s, which `golive console` does not define", name)
		}
	}
	if _, ok := passed["impersonate"]; !ok {
		t.Error("console.impersonation.enabled does not pass --impersonate")
	}
	if in.find("ClusterRoleBinding", "golive-console-impersonator") == nil {
		t.Error("console.impersonation.enabled does not grant the console the right to impersonate")
	}
}

// mustJSON is value as JSON.
func mustJSON(t *testing.T, value any) []byte {
	t.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeValues writes a values file for one test.
func writeValues(t *testing.T, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

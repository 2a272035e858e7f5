// Package chart_test renders the Helm chart with the helm binary that `make`
// builds (its path in $HELM) and checks what it would install: the manager's
// hardening, its flags against the manager's own, RBAC equal to config/rbac
// (generated from markers) with no wildcards and no Secret beyond golive's
// own namespace, the webhooks equal to config/webhook, cert-manager mode, the
// out-of-cluster development mode, and the values schema; and that a real
// API server accepts every object it renders, and an install from config/
// moves to the chart as docs/install.md says. Without helm or the control
// plane it fails; GOLIVE_SKIP_CHART=1 skips it for a quick local run.
package chart_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/admission"
	"github.com/golive-dev/golive/internal/testenv"
)

const (
	// repoRoot is the repository, seen from this package's folder.
	repoRoot = "../.."
	// release is the release name the e2e suite and the docs use; it gives
	// the object names config/ uses.
	release = "golive"
	// certDirArg is the manager flag naming the webhook certificate folder.
	certDirArg = "webhook-cert-dir"
)

var (
	certManagerValues     = filepath.Join("ci", "certmanager-values.yaml")
	externalManagerValues = filepath.Join("ci", "external-manager-values.yaml")
)

// skipChartEnv, set to 1, skips the chart tests whose tools are missing, for
// a quick local run; CI and `make test` never set it, so there they fail.
const skipChartEnv = "GOLIVE_SKIP_CHART"

// needTool fails the test (or, with GOLIVE_SKIP_CHART=1, skips it) when a
// tool the Makefile provides is missing: a chart test that silently skips
// tests nothing.
func needTool(t *testing.T, problem string) {
	t.Helper()
	if os.Getenv(skipChartEnv) == "1" {
		t.Skip(problem + " (" + skipChartEnv + "=1: skipped)")
	}
	t.Fatal(problem + " (" + skipChartEnv + "=1 skips this test for a quick local run)")
}

// helm is the helm binary from $HELM, which the Makefile exports.
func helm(t *testing.T) string {
	t.Helper()
	path := os.Getenv("HELM")
	if path == "" {
		needTool(t, "HELM is not set: run `make chart-test`, which builds helm from source and exports HELM, or set HELM to a helm binary")
	} else if _, err := os.Stat(path); err != nil {
		needTool(t, fmt.Sprintf("HELM names no helm binary: %v", err))
	}
	return path
}

// helmTemplate runs `helm template` on the chart and returns its output, or
// the error with helm's message.
func helmTemplate(t *testing.T, releaseName, namespace string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", releaseName, ".", "--namespace", namespace}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// installation is a rendered chart.
type installation struct {
	namespace string
	objects   []*unstructured.Unstructured
}

// render renders the chart as release `golive` in namespace with the values files.
func render(t *testing.T, namespace string, valuesFiles ...string) installation {
	t.Helper()
	return renderRelease(t, release, namespace, valuesFiles...)
}

func renderRelease(t *testing.T, releaseName, namespace string, valuesFiles ...string) installation {
	t.Helper()
	var args []string
	for _, file := range valuesFiles {
		args = append(args, "--values", file)
	}
	out, err := helmTemplate(t, releaseName, namespace, args...)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeManifests(out)
	if err != nil {
		t.Fatalf("decoding helm's output: %v", err)
	}
	if len(objects) == 0 {
		t.Fatal("helm rendered nothing")
	}
	return installation{namespace: namespace, objects: objects}
}

// decodeManifests splits multi-document YAML into objects, skipping empty documents.
func decodeManifests(in []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in)))
	var objects []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, err
		}
		var object map[string]any
		if err := utilyaml.Unmarshal(doc, &object); err != nil {
			return nil, fmt.Errorf("%w in:\n%s", err, doc)
		}
		if len(object) > 0 {
			objects = append(objects, &unstructured.Unstructured{Object: object})
		}
	}
}

// readManifests decodes a YAML file of the repository.
func readManifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	in, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeManifests(in)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objects
}

// ofKind returns the objects of a kind.
func (in installation) ofKind(kind string) []*unstructured.Unstructured {
	var found []*unstructured.Unstructured
	for _, object := range in.objects {
		if object.GetKind() == kind {
			found = append(found, object)
		}
	}
	return found
}

// find returns the object of kind and name, or nil.
func (in installation) find(kind, name string) *unstructured.Unstructured {
	for _, object := range in.ofKind(kind) {
		if object.GetName() == name {
			return object
		}
	}
	return nil
}

// decode converts an object into its typed form, refusing fields the type
// does not know: a misspelt field in a template fails here, not in a cluster.
func decode(t *testing.T, object *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(object.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", object.GetKind(), object.GetName(), err)
	}
}

// only returns the single object of a kind, decoded.
func only[T any](t *testing.T, in installation, kind string) *T {
	t.Helper()
	objects := in.ofKind(kind)
	if len(objects) != 1 {
		t.Fatalf("want one %s, got %d", kind, len(objects))
	}
	var typed T
	decode(t, objects[0], &typed)
	return &typed
}

// onlyObject returns the single object of a kind that has no Go type here.
func onlyObject(t *testing.T, in installation, kind string) *unstructured.Unstructured {
	t.Helper()
	objects := in.ofKind(kind)
	if len(objects) != 1 {
		t.Fatalf("want one %s, got %d", kind, len(objects))
	}
	return objects[0]
}

// named returns the object of kind and name, decoded.
func named[T any](t *testing.T, in installation, kind, name string) *T {
	t.Helper()
	object := in.find(kind, name)
	if object == nil {
		t.Fatalf("no %s %s rendered", kind, name)
	}
	var typed T
	decode(t, object, &typed)
	return &typed
}

// managerContainer is the manager's container of the Deployment.
func managerContainer(t *testing.T, deployment *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, container := range deployment.Spec.Template.Spec.Containers {
		if container.Name == "manager" {
			return container
		}
	}
	t.Fatal("the Deployment has no manager container")
	return corev1.Container{}
}

// flags parses the manager's arguments: --name=value, or --name alone for true.
func flags(t *testing.T, args []string) map[string]string {
	t.Helper()
	parsed := map[string]string{}
	for _, arg := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || name == "" {
			t.Fatalf("argument %q is not a --flag", arg)
		}
		if !hasValue {
			value = "true"
		}
		if _, seen := parsed[name]; seen {
			t.Fatalf("flag --%s is passed twice", name)
		}
		parsed[name] = value
	}
	return parsed
}

// containerPort is the port of the named container port.
func containerPort(t *testing.T, container corev1.Container, name string) int32 {
	t.Helper()
	for _, port := range container.Ports {
		if port.Name == name {
			return port.ContainerPort
		}
	}
	t.Fatalf("the %s container has no port named %q", container.Name, name)
	return 0
}

// selects reports whether a Service-style selector picks the labels.
func selects(selector map[string]string, podLabels map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(podLabels))
}

func TestDefaultInstallHardensTheManager(t *testing.T) {
	in := render(t, "golive-system")
	deployment := only[appsv1.Deployment](t, in, "Deployment")
	pod := deployment.Spec.Template.Spec
	container := managerContainer(t, deployment)

	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod securityContext.runAsNonRoot is not true: %+v", pod.SecurityContext)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil ||
		pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile is not RuntimeDefault: %+v", pod.SecurityContext)
	}
	security := container.SecurityContext
	if security == nil {
		t.Fatal("the manager container has no securityContext")
	}
	if security.AllowPrivilegeEscalation == nil || *security.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if security.ReadOnlyRootFilesystem == nil || !*security.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if security.Capabilities == nil || !slices.Equal(security.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(security.Capabilities.Add) > 0 {
		t.Errorf("capabilities are not drop [ALL] and add nothing: %+v", security.Capabilities)
	}
	if security.Privileged != nil && *security.Privileged {
		t.Error("the container is privileged")
	}
	if security.RunAsNonRoot != nil && !*security.RunAsNonRoot {
		t.Error("the container overrides runAsNonRoot with false")
	}
	if security.SeccompProfile != nil && security.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the container overrides the seccomp profile: %+v", security.SeccompProfile)
	}

	args := flags(t, container.Args)
	// Probes on the probe port the manager listens on.
	probePort := containerPort(t, container, "probes")
	if want := fmt.Sprintf(":%d", probePort); args["health-probe-bind-address"] != want {
		t.Errorf("--health-probe-bind-address = %q, the probes port is %d", args["health-probe-bind-address"], probePort)
	}
	for probe, want := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"liveness": {container.LivenessProbe, "/healthz"}, "readiness": {container.ReadinessProbe, "/readyz"}} {
		if want.probe == nil || want.probe.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", probe)
			continue
		}
		if want.probe.HTTPGet.Path != want.path || want.probe.HTTPGet.Port != intstr.FromString("probes") {
			t.Errorf("%s probe = %s on %s, want %s on the probes port", probe, want.probe.HTTPGet.Path, want.probe.HTTPGet.Port.String(), want.path)
		}
	}
	if container.Resources.Requests.Memory().IsZero() || container.Resources.Limits.Memory().IsZero() {
		t.Errorf("the manager has no memory request and limit: %+v", container.Resources)
	}

	// The webhook certificate folder is a writable emptyDir: the root filesystem is read-only.
	certDir := args[certDirArg]
	var mounted string
	for _, mount := range container.VolumeMounts {
		if mount.MountPath == certDir {
			mounted = mount.Name
		}
	}
	if certDir == "" || mounted == "" {
		t.Fatalf("--%s=%q is not a mounted volume: %+v", certDirArg, certDir, container.VolumeMounts)
	}
	for _, volume := range pod.Volumes {
		if volume.Name == mounted && volume.EmptyDir == nil {
			t.Errorf("volume %s at %s is not an emptyDir", mounted, certDir)
		}
	}

	// From the downward API: POD_NAMESPACE, where the manager finds its
	// Secrets; GOLIVE_MEMORY_LIMIT, under which it keeps its Go heap.
	env := map[string]*corev1.EnvVar{}
	for i := range container.Env {
		env[container.Env[i].Name] = &container.Env[i]
	}
	if podNamespace := env["POD_NAMESPACE"]; podNamespace == nil || podNamespace.ValueFrom == nil || podNamespace.ValueFrom.FieldRef == nil ||
		podNamespace.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("POD_NAMESPACE is not metadata.namespace from the downward API: %+v", podNamespace)
	}
	if memoryLimit := env["GOLIVE_MEMORY_LIMIT"]; memoryLimit == nil || memoryLimit.ValueFrom == nil || memoryLimit.ValueFrom.ResourceFieldRef == nil ||
		memoryLimit.ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
		t.Errorf("GOLIVE_MEMORY_LIMIT is not limits.memory from the downward API: %+v", memoryLimit)
	}

	if args["leader-elect"] != "true" || args["webhook-cert-rotation"] != "true" {
		t.Errorf("want leader election and the manager's own certificate rotation by default, got %v", args)
	}
	for _, kind := range []string{"PodDisruptionBudget", "ServiceMonitor", "Certificate", "Issuer"} {
		if objects := in.ofKind(kind); len(objects) > 0 {
			t.Errorf("the default install renders a %s", kind)
		}
	}
}

// TestManagerAcceptsTheChartsFlags builds the manager and checks that every
// flag the chart passes is one it defines: a renamed flag would otherwise
// only fail when the Pod crash-loops.
func TestManagerAcceptsTheChartsFlags(t *testing.T) {
	passed := map[string]bool{}
	for _, values := range []string{certManagerValues, namespacedRBACValues} {
		in := render(t, "golive-system", values)
		for name := range flags(t, managerContainer(t, only[appsv1.Deployment](t, in, "Deployment")).Args) {
			passed[name] = true
		}
	}

	binary := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", binary, "./cmd")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	// -help prints the flags and exits before the manager does anything.
	var usage bytes.Buffer
	help := exec.Command(binary, "-help")
	help.Stdout, help.Stderr = &usage, &usage
	if err := help.Run(); err != nil {
		t.Fatalf("%s -help: %v\n%s", binary, err, usage.String())
	}
	defined := map[string]bool{}
	for _, match := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		defined[match[1]] = true
	}
	if len(defined) == 0 {
		t.Fatalf("no flags found in the manager's usage:\n%s", usage.String())
	}
	for name := range passed {
		if !defined[name] {
			t.Errorf("the chart passes --%s, which the manager does not define", name)
		}
	}
}

// egress.allow becomes one --egress-allow; without it the manager's default
// (any address but the always refused ones) holds.
func TestEgressAllowBecomesTheManagersFlag(t *testing.T) {
	byDefault := flags(t, managerContainer(t, only[appsv1.Deployment](t, render(t, "golive-system"), "Deployment")).Args)
	if value, ok := byDefault["egress-allow"]; ok {
		t.Errorf("the default install passes --egress-allow=%s, want none", value)
	}
	listed := flags(t, managerContainer(t, only[appsv1.Deployment](t, render(t, "golive-system", certManagerValues), "Deployment")).Args)
	if got, want := listed["egress-allow"], "10.96.0.0/12,*.svc.cluster.local,hooks.example.com"; got != want {
		t.Errorf("--egress-allow=%q, want %q", got, want)
	}
}

func TestWebhooksReachTheChartsService(t *testing.T) {
	const namespace = "platform-ops"
	in := render(t, namespace)
	deployment := only[appsv1.Deployment](t, in, "Deployment")
	container := managerContainer(t, deployment)
	args := flags(t, container.Args)
	podLabels := deployment.Spec.Template.Labels

	service := named[corev1.Service](t, in, "Service", args["webhook-service"])
	if service.Namespace != namespace {
		t.Errorf("webhook Service in namespace %q, want the release's %q", service.Namespace, namespace)
	}
	if !selects(service.Spec.Selector, podLabels) {
		t.Errorf("webhook Service selector %v does not select the manager's Pods %v", service.Spec.Selector, podLabels)
	}
	if len(service.Spec.Ports) != 1 || service.Spec.Ports[0].Port != 443 ||
		service.Spec.Ports[0].TargetPort != intstr.FromString("webhook-server") {
		t.Errorf("webhook Service ports = %+v, want 443 to webhook-server", service.Spec.Ports)
	}
	if got, want := fmt.Sprint(containerPort(t, container, "webhook-server")), args["webhook-port"]; got != want {
		t.Errorf("container port webhook-server = %s, --webhook-port = %s", got, want)
	}
	if !selects(deployment.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its Pods %v", deployment.Spec.Selector.MatchLabels, podLabels)
	}
	account := only[corev1.ServiceAccount](t, in, "ServiceAccount")
	if deployment.Spec.Template.Spec.ServiceAccountName != account.Name || account.Namespace != namespace {
		t.Errorf("the Pods run as %q, the chart's ServiceAccount is %s/%s", deployment.Spec.Template.Spec.ServiceAccountName, account.Namespace, account.Name)
	}

	// Each webhook is the generated one, reached through the chart's Service.
	wantService := func(path *string) *admissionregistrationv1.ServiceReference {
		return &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: service.Name, Path: path}
	}
	compareWebhooks(t, in, wantService, "")
}

// compareWebhooks checks the rendered webhook configurations against
// config/webhook/manifests.yaml, with each clientConfig as clientConfig(path)
// and the cert-manager annotation injectFrom (none when empty).
func compareWebhooks(t *testing.T, in installation, service func(path *string) *admissionregistrationv1.ServiceReference, url string) {
	t.Helper()
	manifests := installation{objects: readManifests(t, "config/webhook/manifests.yaml")}
	want := only[admissionregistrationv1.MutatingWebhookConfiguration](t, manifests, "MutatingWebhookConfiguration")
	got := only[admissionregistrationv1.MutatingWebhookConfiguration](t, in, "MutatingWebhookConfiguration")
	if got.Name != admission.MutatingWebhookConfiguration || got.Name != want.Name {
		t.Errorf("mutating configuration %q, the manager injects its CA into %q", got.Name, admission.MutatingWebhookConfiguration)
	}
	for i := range want.Webhooks {
		want.Webhooks[i].ClientConfig = clientConfig(want.Webhooks[i].ClientConfig.Service.Path, service, url)
	}
	if diff := cmp.Diff(want.Webhooks, got.Webhooks); diff != "" {
		t.Errorf("mutating webhooks differ from config/webhook (-want +got):\n%s", diff)
	}

	wantValidating := only[admissionregistrationv1.ValidatingWebhookConfiguration](t, manifests, "ValidatingWebhookConfiguration")
	gotValidating := only[admissionregistrationv1.ValidatingWebhookConfiguration](t, in, "ValidatingWebhookConfiguration")
	if gotValidating.Name != admission.ValidatingWebhookConfiguration || gotValidating.Name != wantValidating.Name {
		t.Errorf("validating configuration %q, the manager injects its CA into %q", gotValidating.Name, admission.ValidatingWebhookConfiguration)
	}
	for i := range wantValidating.Webhooks {
		wantValidating.Webhooks[i].ClientConfig = clientConfig(wantValidating.Webhooks[i].ClientConfig.Service.Path, service, url)
	}
	if diff := cmp.Diff(wantValidating.Webhooks, gotValidating.Webhooks); diff != "" {
		t.Errorf("validating webhooks differ from config/webhook (-want +got):\n%s", diff)
	}
}

// clientConfig is the clientConfig the chart should give a webhook of path:
// through service, or at url plus the path when service is nil.
func clientConfig(path *string, service func(*string) *admissionregistrationv1.ServiceReference, url string) admissionregistrationv1.WebhookClientConfig {
	if service != nil {
		return admissionregistrationv1.WebhookClientConfig{Service: service(path)}
	}
	full := url + *path
	return admissionregistrationv1.WebhookClientConfig{URL: &full}
}

// TestRBACIsLeastPrivilege checks every rendering's roles: no wildcards, no
// Secret outside the release namespace, every binding for the chart's
// ServiceAccount and a rendered role.
func TestRBACIsLeastPrivilege(t *testing.T) {
	const namespace = "platform-ops"
	for name, values := range map[string][]string{
		"default":          nil,
		"cert-manager":     {certManagerValues},
		"external manager": {externalManagerValues},
	} {
		t.Run(name, func(t *testing.T) {
			in := render(t, namespace, values...)
			account := only[corev1.ServiceAccount](t, in, "ServiceAccount")
			roles := map[string]bool{}
			for _, kind := range []string{"ClusterRole", "Role"} {
				for _, object := range in.ofKind(kind) {
					var rules []rbacv1.PolicyRule
					decodeRules(t, object, &rules)
					roles[kind+"/"+object.GetName()] = true
					for _, rule := range rules {
						checkNoWildcard(t, kind, object.GetName(), rule)
						if grantsSecrets(rule) && (kind == "ClusterRole" || object.GetNamespace() != namespace) {
							t.Errorf("%s %s (namespace %q) grants %v on Secrets outside golive's namespace %s",
								kind, object.GetName(), object.GetNamespace(), rule.Verbs, namespace)
						}
					}
				}
			}
			for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
				for _, object := range in.ofKind(kind) {
					var binding rbacv1.RoleBinding
					decode(t, object, &binding)
					if kind == "RoleBinding" && binding.Namespace != namespace {
						t.Errorf("RoleBinding %s/%s outside the release namespace", binding.Namespace, binding.Name)
					}
					if !roles[binding.RoleRef.Kind+"/"+binding.RoleRef.Name] {
						t.Errorf("%s %s binds %s %s, which the chart does not render", kind, binding.Name, binding.RoleRef.Kind, binding.RoleRef.Name)
					}
					want := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: account.Name, Namespace: namespace}}
					if diff := cmp.Diff(want, binding.Subjects); diff != "" {
						t.Errorf("%s %s binds someone other than the chart's ServiceAccount (-want +got):\n%s", kind, binding.Name, diff)
					}
				}
			}
		})
	}
}

// decodeRules decodes the rules of a Role or ClusterRole strictly.
func decodeRules(t *testing.T, object *unstructured.Unstructured, rules *[]rbacv1.PolicyRule) {
	t.Helper()
	switch object.GetKind() {
	case "ClusterRole":
		var role rbacv1.ClusterRole
		decode(t, object, &role)
		*rules = role.Rules
	case "Role":
		var role rbacv1.Role
		decode(t, object, &role)
		*rules = role.Rules
	}
}

func checkNoWildcard(t *testing.T, kind, name string, rule rbacv1.PolicyRule) {
	t.Helper()
	for field, values := range map[string][]string{
		"apiGroups": rule.APIGroups, "resources": rule.Resources, "verbs": rule.Verbs,
		"resourceNames": rule.ResourceNames, "nonResourceURLs": rule.NonResourceURLs,
	} {
		for _, value := range values {
			if strings.Contains(value, "*") {
				t.Errorf("%s %s has a wildcard in %s: %+v", kind, name, field, rule)
			}
		}
	}
}

// grantsSecrets reports whether a rule reaches core Secrets.
func grantsSecrets(rule rbacv1.PolicyRule) bool {
	return slices.Contains(rule.APIGroups, "") && slices.Contains(rule.Resources, "secrets")
}

// TestRBACEqualsConfig checks that the chart grants exactly what config/rbac
// grants (role.yaml is controller-gen's output from the markers): the same
// roles with the same rules, bound the same way, with golive-system mapped
// to the release namespace.
func TestRBACEqualsConfig(t *testing.T) {
	const namespace = "platform-ops"
	in := render(t, namespace)
	var config []*unstructured.Unstructured
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "rbac", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in config/rbac: %v", err)
	}
	for _, file := range files {
		rel, err := filepath.Rel(repoRoot, file)
		if err != nil {
			t.Fatal(err)
		}
		config = append(config, readManifests(t, rel)...)
	}
	rbacKinds := []string{"ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"}
	wantNames := map[string]bool{}
	for _, object := range config {
		kind := object.GetKind()
		if !slices.Contains(rbacKinds, kind) {
			continue
		}
		wantNames[kind+"/"+object.GetName()] = true
		got := in.find(kind, object.GetName())
		if got == nil {
			t.Errorf("config/rbac has %s %s, the chart does not render it", kind, object.GetName())
			continue
		}
		if kind == "Role" || kind == "RoleBinding" {
			if got.GetNamespace() != namespace {
				t.Errorf("%s %s in namespace %q, want the release's", kind, got.GetName(), got.GetNamespace())
			}
		}
		switch kind {
		case "ClusterRole", "Role":
			var want, have []rbacv1.PolicyRule
			decodeRules(t, object, &want)
			decodeRules(t, got, &have)
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("%s %s rules differ from config/rbac (-want +got):\n%s", kind, object.GetName(), diff)
			}
			if diff := cmp.Diff(aggregationLabels(object), aggregationLabels(got)); diff != "" {
				t.Errorf("%s %s aggregation labels differ from config/rbac (-want +got):\n%s", kind, object.GetName(), diff)
			}
		case "ClusterRoleBinding", "RoleBinding":
			var want, have rbacv1.RoleBinding
			decode(t, object, &want)
			decode(t, got, &have)
			for i := range want.Subjects {
				if want.Subjects[i].Namespace == "golive-system" {
					want.Subjects[i].Namespace = namespace
				}
			}
			if diff := cmp.Diff(want.RoleRef, have.RoleRef); diff != "" {
				t.Errorf("%s %s roleRef differs from config/rbac (-want +got):\n%s", kind, object.GetName(), diff)
			}
			if diff := cmp.Diff(want.Subjects, have.Subjects); diff != "" {
				t.Errorf("%s %s subjects differ from config/rbac (-want +got):\n%s", kind, object.GetName(), diff)
			}
		}
	}
	for _, kind := range rbacKinds {
		for _, object := range in.ofKind(kind) {
			if !wantNames[kind+"/"+object.GetName()] {
				t.Errorf("the chart renders %s %s, which config/rbac does not have", kind, object.GetName())
			}
		}
	}
}

// aggregationLabels are the labels that merge a ClusterRole into others.
func aggregationLabels(object *unstructured.Unstructured) map[string]string {
	found := map[string]string{}
	for key, value := range object.GetLabels() {
		if strings.HasPrefix(key, "rbac.authorization.k8s.io/aggregate-to-") {
			found[key] = value
		}
	}
	return found
}

// Windows are policy: no role aggregated into edit or admin may change them;
// golive-window-admin, aggregated into nothing, may.
func TestWindowsAreAdministeredApart(t *testing.T) {
	in := render(t, "golive-system")
	writes := []string{"create", "update", "patch", "delete"}
	grantsWindowWrites := func(object *unstructured.Unstructured) []string {
		var rules []rbacv1.PolicyRule
		decodeRules(t, object, &rules)
		var granted []string
		for _, rule := range rules {
			if slices.Contains(rule.APIGroups, "golive.dev") && slices.Contains(rule.Resources, "golivewindows") {
				for _, verb := range rule.Verbs {
					if slices.Contains(writes, verb) || verb == "*" {
						granted = append(granted, verb)
					}
				}
			}
		}
		return granted
	}
	for _, role := range in.ofKind("ClusterRole") {
		labels := aggregationLabels(role)
		if labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true" || labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true" {
			if granted := grantsWindowWrites(role); len(granted) > 0 {
				t.Errorf("ClusterRole %s is aggregated into edit/admin and grants %v on golivewindows", role.GetName(), granted)
			}
		}
	}
	admin := in.find("ClusterRole", "golive-window-admin")
	if admin == nil {
		t.Fatal("the chart renders no ClusterRole golive-window-admin")
	}
	if labels := aggregationLabels(admin); len(labels) != 0 {
		t.Errorf("golive-window-admin is aggregated (%v); it must be bound on its own", labels)
	}
	granted := grantsWindowWrites(admin)
	for _, verb := range writes {
		if !slices.Contains(granted, verb) {
			t.Errorf("golive-window-admin does not grant %s on golivewindows (grants %v)", verb, granted)
		}
	}
}

func TestAdmissionPolicyEqualsConfig(t *testing.T) {
	for _, tt := range []struct {
		file, name string
		// identities maps what config/ names to what the chart must name instead.
		identities map[string]string
		// archive, when set, is the namespace the chart's policy must select
		// instead of config/'s golive-system.
		archive string
	}{
		{file: "validating_admission_policy.yaml", name: "golive-updaterequest-namespaces"},
		{file: "owned_objects_policy.yaml", name: "golive-owned-objects", identities: map[string]string{
			// The release "golive" in namespace team-golive, with the chart's ServiceAccount.
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}},
		{file: "cleanup_finalizer_policy.yaml", name: "golive-cleanup-finalizer", identities: map[string]string{
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}},
		{file: "protected_workloads_policy.yaml", name: "golive-protected-workloads", identities: map[string]string{
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}},
		{file: "protected_workloads_policy.yaml", name: "golive-protected-workloads-list", identities: map[string]string{
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}},
		{file: "record_writers_policy.yaml", name: "golive-record-writers", identities: map[string]string{
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}},
		// The archive is the release namespace by default.
		{file: "record_configmaps_policy.yaml", name: "golive-record-configmaps", identities: map[string]string{
			"system:serviceaccount:golive-system:golive": "system:serviceaccount:team-golive:golive",
		}, archive: "team-golive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := render(t, "team-golive")
			config := installation{objects: readManifests(t, "config/admission/"+tt.file)}
			want := named[admissionregistrationv1.ValidatingAdmissionPolicy](t, config, "ValidatingAdmissionPolicy", tt.name)
			for i, variable := range want.Spec.Variables {
				for from, to := range tt.identities {
					want.Spec.Variables[i].Expression = strings.ReplaceAll(variable.Expression, from, to)
				}
			}
			if tt.archive != "" {
				want.Spec.MatchConstraints.NamespaceSelector.MatchLabels[corev1.LabelMetadataName] = tt.archive
			}
			object := in.find("ValidatingAdmissionPolicy", tt.name)
			if object == nil {
				t.Fatalf("the chart renders no ValidatingAdmissionPolicy %s", tt.name)
			}
			var got admissionregistrationv1.ValidatingAdmissionPolicy
			decode(t, object, &got)
			if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
				t.Errorf("admission policy differs from config/admission (-want +got):\n%s", diff)
			}
			wantBinding := named[admissionregistrationv1.ValidatingAdmissionPolicyBinding](t, config, "ValidatingAdmissionPolicyBinding", tt.name)
			bindingObject := in.find("ValidatingAdmissionPolicyBinding", tt.name)
			if bindingObject == nil {
				t.Fatalf("the chart renders no ValidatingAdmissionPolicyBinding %s", tt.name)
			}
			var gotBinding admissionregistrationv1.ValidatingAdmissionPolicyBinding
			decode(t, bindingObject, &gotBinding)
			wantBinding.Spec.PolicyName = got.Name
			if diff := cmp.Diff(wantBinding.Spec, gotBinding.Spec); diff != "" {
				t.Errorf("admission policy binding differs from config/admission (-want +got):\n%s", diff)
			}
		})
	}
}

// The policies that let golive alone act name the chart's ServiceAccount and
// breakGlass.group, not config/'s defaults.
func TestBreakGlassGroupIsTheChartsValue(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("breakGlass:\n  group: example:sre-on-call\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := render(t, "golive-ops", values)
	for _, name := range []string{"golive-owned-objects", "golive-status-writers", "golive-cleanup-finalizer",
		"golive-protected-workloads", "golive-protected-workloads-list"} {
		object := in.find("ValidatingAdmissionPolicy", name)
		if object == nil {
			t.Fatalf("the chart renders no ValidatingAdmissionPolicy %s", name)
		}
		var policy admissionregistrationv1.ValidatingAdmissionPolicy
		decode(t, object, &policy)
		got := map[string]string{}
		for _, variable := range policy.Spec.Variables {
			got[variable.Name] = variable.Expression
		}
		want := map[string]string{
			"manager":         "'system:serviceaccount:golive-ops:golive'",
			"breakGlassGroup": "'example:sre-on-call'",
		}
		for variable, expression := range want {
			if got[variable] != expression {
				t.Errorf("policy %s: variable %s = %q, want %q", name, variable, got[variable], expression)
			}
		}
	}
}

// The chain's head and the public keys are guarded where golive keeps them,
// records.archiveNamespace, and golive is the release's ServiceAccount.
func TestRecordConfigMapsPolicyGuardsTheArchive(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("records:\n  archiveNamespace: audit-archive\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := render(t, "golive-ops", values)
	policy := named[admissionregistrationv1.ValidatingAdmissionPolicy](t, in, "ValidatingAdmissionPolicy", "golive-record-configmaps")
	if got := policy.Spec.MatchConstraints.NamespaceSelector.MatchLabels; !cmp.Equal(got, map[string]string{corev1.LabelMetadataName: "audit-archive"}) {
		t.Errorf("the policy selects namespaces %v, want the archive audit-archive alone", got)
	}
	var names []string
	for _, rule := range policy.Spec.MatchConstraints.ResourceRules {
		names = append(names, rule.ResourceNames...)
	}
	if want := []string{"golive-record-chain", "golive-record-key"}; !cmp.Equal(names, want) {
		t.Errorf("the policy matches ConfigMaps %v, want %v", names, want)
	}
	manager := ""
	for _, variable := range policy.Spec.Variables {
		if variable.Name == "manager" {
			manager = variable.Expression
		}
	}
	if want := "'system:serviceaccount:golive-ops:golive'"; manager != want {
		t.Errorf("the policy's manager is %q, want %q", manager, want)
	}
	binding := named[admissionregistrationv1.ValidatingAdmissionPolicyBinding](t, in, "ValidatingAdmissionPolicyBinding", "golive-record-configmaps")
	if binding.Spec.PolicyName != policy.Name {
		t.Errorf("the binding binds %q, want %q", binding.Spec.PolicyName, policy.Name)
	}
	deployment := only[appsv1.Deployment](t, in, "Deployment")
	if got := flags(t, managerContainer(t, deployment).Args)["archive-namespace"]; got != "audit-archive" {
		t.Errorf("the manager writes its records into %q, want audit-archive, the namespace the policy guards", got)
	}
}

func TestCertManagerServiceMonitorAndReplicas(t *testing.T) {
	const namespace = "golive-system"
	in := render(t, namespace, certManagerValues)
	deployment := only[appsv1.Deployment](t, in, "Deployment")
	container := managerContainer(t, deployment)
	args := flags(t, container.Args)
	podLabels := deployment.Spec.Template.Labels

	if args["webhook-cert-rotation"] != "false" {
		t.Errorf("--webhook-cert-rotation = %q with cert-manager, want false", args["webhook-cert-rotation"])
	}
	certificate := onlyObject(t, in, "Certificate")
	if got, _, _ := unstructured.NestedString(certificate.Object, "spec", "secretName"); got != args["webhook-cert-secret"] {
		t.Errorf("cert-manager writes Secret %q, the manager reads %q", got, args["webhook-cert-secret"])
	}
	dnsNames, _, _ := unstructured.NestedStringSlice(certificate.Object, "spec", "dnsNames")
	if serviceName := args["webhook-service"] + "." + namespace + ".svc"; !slices.Contains(dnsNames, serviceName) {
		t.Errorf("the certificate's names %v miss the webhook Service %s", dnsNames, serviceName)
	}
	issuer := onlyObject(t, in, "Issuer")
	if got, _, _ := unstructured.NestedString(certificate.Object, "spec", "issuerRef", "name"); got != issuer.GetName() {
		t.Errorf("the certificate's issuer is %q, the chart's Issuer is %q", got, issuer.GetName())
	}
	injectFrom := namespace + "/" + certificate.GetName()
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, object := range in.ofKind(kind) {
			if got := object.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != injectFrom {
				t.Errorf("%s cert-manager.io/inject-ca-from = %q, want %q", kind, got, injectFrom)
			}
		}
	}
	service := named[corev1.Service](t, in, "Service", args["webhook-service"])
	compareWebhooks(t, in, func(path *string) *admissionregistrationv1.ServiceReference {
		return &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: service.Name, Path: path}
	}, "")

	// The metrics Service and the ServiceMonitor scraping it over HTTPS.
	var metricsService *corev1.Service
	for _, object := range in.ofKind("Service") {
		if object.GetName() != service.Name {
			metricsService = &corev1.Service{}
			decode(t, object, metricsService)
		}
	}
	if metricsService == nil || !selects(metricsService.Spec.Selector, podLabels) || len(metricsService.Spec.Ports) != 1 {
		t.Fatalf("no metrics Service with one port selecting the manager: %+v", metricsService)
	}
	if metricsService.Spec.Ports[0].TargetPort != intstr.FromString("metrics") || args["metrics-bind-address"] != fmt.Sprintf(":%d", containerPort(t, container, "metrics")) {
		t.Errorf("metrics Service targets %s; --metrics-bind-address = %q", metricsService.Spec.Ports[0].TargetPort.String(), args["metrics-bind-address"])
	}
	monitor := onlyObject(t, in, "ServiceMonitor")
	selector, _, _ := unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
	if !selects(selector, metricsService.Labels) || selects(selector, service.Labels) {
		t.Errorf("the ServiceMonitor selects %v, which should pick the metrics Service %v and not the webhook Service", selector, metricsService.Labels)
	}
	endpoints, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("want one ServiceMonitor endpoint, got %v", endpoints)
	}
	endpoint, _ := endpoints[0].(map[string]any)
	if endpoint["port"] != metricsService.Spec.Ports[0].Name || endpoint["scheme"] != "https" || endpoint["path"] != "/metrics" {
		t.Errorf("ServiceMonitor endpoint %v, want https /metrics on port %s", endpoint, metricsService.Spec.Ports[0].Name)
	}
	if monitor.GetLabels()["release"] != "prometheus" {
		t.Errorf("the ServiceMonitor misses its extra label: %v", monitor.GetLabels())
	}
	if in.find("ClusterRole", "golive-metrics-reader") == nil || in.find("ClusterRole", "golive-metrics-auth") == nil {
		t.Error("secure metrics need the metrics-reader and metrics-auth ClusterRoles")
	}

	// Two replicas behind a PodDisruptionBudget that keeps one serving.
	if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", deployment.Spec.Replicas)
	}
	budget := only[policyv1.PodDisruptionBudget](t, in, "PodDisruptionBudget")
	if budget.Spec.Selector == nil || !selects(budget.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the PodDisruptionBudget does not select the manager's Pods: %+v", budget.Spec.Selector)
	}
	if budget.Spec.MaxUnavailable == nil || *budget.Spec.MaxUnavailable != intstr.FromInt32(1) || budget.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget = %+v, want maxUnavailable 1", budget.Spec)
	}

	// Scheduling and extra values reach the Pod.
	pod := deployment.Spec.Template.Spec
	if pod.PriorityClassName != "platform-critical" || pod.NodeSelector["kubernetes.io/os"] != "linux" || len(pod.Tolerations) != 1 {
		t.Errorf("scheduling values missing: priorityClassName %q, nodeSelector %v, tolerations %v", pod.PriorityClassName, pod.NodeSelector, pod.Tolerations)
	}
	if deployment.Spec.Template.Annotations["example.com/team"] != "platform" {
		t.Errorf("pod annotations missing: %v", deployment.Spec.Template.Annotations)
	}
	if args["zap-log-level"] != "debug" || args["zap-encoder"] != "console" {
		t.Errorf("log level or extra args missing: %v", args)
	}
	if !slices.ContainsFunc(container.Env, func(env corev1.EnvVar) bool { return env.Name == "GOMEMLIMIT" }) {
		t.Errorf("extra env missing: %v", container.Env)
	}
}

func TestExternalManagerKeepsRBACAndPointsWebhooksAtTheURL(t *testing.T) {
	const namespace = "golive-system"
	in := render(t, namespace, externalManagerValues)
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "ServiceMonitor", "Certificate"} {
		if objects := in.ofKind(kind); len(objects) > 0 {
			t.Errorf("with an external manager the chart renders a %s", kind)
		}
	}
	account := only[corev1.ServiceAccount](t, in, "ServiceAccount")
	if account.Name != "golive" || account.Namespace != namespace {
		t.Errorf("ServiceAccount %s/%s, want golive/%s for the external manager to run as", account.Namespace, account.Name, namespace)
	}
	for _, name := range []string{"golive-manager", "golive-leader-election"} {
		if in.find("Role", name) == nil || in.find("RoleBinding", name) == nil {
			t.Errorf("Role or RoleBinding %s missing", name)
		}
	}
	if in.find("ClusterRole", "golive-manager") == nil || in.find("ClusterRoleBinding", "golive-manager") == nil {
		t.Error("the manager's ClusterRole or its binding is missing")
	}
	compareWebhooks(t, in, nil, "https://localhost:9443")
}

func TestReleaseNameAndNamespaceFlowThrough(t *testing.T) {
	const namespace = "tools"
	in := renderRelease(t, "ops", namespace)
	deployment := only[appsv1.Deployment](t, in, "Deployment")
	args := flags(t, managerContainer(t, deployment).Args)
	if deployment.Name != "ops-golive" {
		t.Errorf("Deployment %q, want ops-golive", deployment.Name)
	}
	named[corev1.Service](t, in, "Service", args["webhook-service"])
	if args["webhook-cert-secret"] != "ops-golive-webhook-server-cert" || args["ledger-key-secret"] != "ops-golive-ledger-key" {
		t.Errorf("Secret names do not follow the release: %v", args)
	}
	for _, object := range in.objects {
		if object.GetNamespace() != "" && object.GetNamespace() != namespace {
			t.Errorf("%s %s in namespace %q, want %q", object.GetKind(), object.GetName(), object.GetNamespace(), namespace)
		}
	}
	// The webhook configurations keep the names the manager injects its CA into.
	named[admissionregistrationv1.MutatingWebhookConfiguration](t, in, "MutatingWebhookConfiguration", admission.MutatingWebhookConfiguration)
	named[admissionregistrationv1.ValidatingWebhookConfiguration](t, in, "ValidatingWebhookConfiguration", admission.ValidatingWebhookConfiguration)
}

func TestValuesSchemaRefusesWrongValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values string
		// wantError is part of helm's message: where the schema failed, or the
		// chart's own message for combinations a schema cannot refuse.
		wantError string
	}{
		{"replicas as a word", `replicas: two`, "at '/replicas': got string, want integer"},
		{"negative replicas", `replicas: -1`, "at '/replicas'"},
		{"unknown pull policy", "image:\n  pullPolicy: Sometimes", "at '/image/pullPolicy'"},
		{"misspelt top-level value", `replica: 2`, "'replica' not allowed"},
		{"port out of range", "metrics:\n  port: 70000", "at '/metrics/port'"},
		{"boolean as a string", "leaderElection:\n  enabled: \"yes\"", "at '/leaderElection/enabled': got string, want boolean"},
		{"unknown log level", `logLevel: verbose`, "at '/logLevel'"},
		{"plain-HTTP webhook URL", "externalManager:\n  enabled: true\n  webhookURL: http://localhost:9443", "at '/externalManager/webhookURL'"},
		{"extra argument without dashes", "extraArgs: [enable-http2]", "at '/extraArgs/0'"},
		{"egress entries in one string", "egress:\n  allow: [\"10.0.0.0/8,hooks.example.com\"]", "at '/egress/allow/0'"},
		{"external manager without URL", "externalManager:\n  enabled: true", "externalManager.webhookURL"},
		{"client CA ConfigMap with a path", "webhook:\n  clientCA:\n    configMapName: ca/x", "at '/webhook/clientCA/configMapName'"},
		{"no allowed client names", "webhook:\n  clientNames: []", "at '/webhook/clientNames'"},
		{"metrics namespace as a selector", "networkPolicy:\n  metrics:\n    namespaces: [{name: monitoring}]", "at '/networkPolicy/metrics/namespaces/0'"},
		{"unknown RBAC scope", "rbac:\n  scope: namespace", "at '/rbac/scope'"},
		{"managed namespace with a slash", "rbac:\n  namespaces: [shop/grey]", "at '/rbac/namespaces/0'"},
		{"external manager with cert-manager", "externalManager:\n  enabled: true\n  webhookURL: https://localhost:9443\ncertManager:\n  enabled: true",
			"certManager.enabled does not work with externalManager.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(file, []byte(tc.values+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := helmTemplate(t, release, "golive-system", "--values", file)
			if err == nil {
				t.Fatalf("helm accepted %q", tc.values)
			}
			if !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("helm refused %q without naming %q: %v", tc.values, tc.wantError, err)
			}
		})
	}
}

// unservedKinds are the kinds of the optional integrations, whose CRDs the
// test API server does not have.
var unservedKinds = map[string]bool{
	"monitoring.coreos.com/ServiceMonitor": true,
	"cert-manager.io/Certificate":          true,
	"cert-manager.io/Issuer":               true,
}

// TestAPIServerAcceptsTheChart applies every rendered object to a real
// kube-apiserver (server-side, dry run): its validation, defaulting and
// admission, including the CEL of the admission policy and the webhook
// configurations' rules, judge what the chart would install.
func TestAPIServerAcceptsTheChart(t *testing.T) {
	helm(t)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		needTool(t, "KUBEBUILDER_ASSETS is not set: run `make chart-test` or `make test`, which build the control plane and set it")
	}
	env, err := testenv.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the API server: %v", err)
		}
	})
	for name, values := range map[string][]string{
		"default":          nil,
		"cert-manager":     {certManagerValues},
		"external manager": {externalManagerValues},
	} {
		t.Run(name, func(t *testing.T) {
			namespace := env.NewNamespace(t, "chart-")
			for _, object := range render(t, namespace, values...).objects {
				gvk := object.GroupVersionKind()
				_, err := env.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
				if meta.IsNoMatchError(err) && unservedKinds[gvk.Group+"/"+gvk.Kind] {
					continue
				}
				if err != nil {
					t.Errorf("%s %s: %v", gvk, object.GetName(), err)
					continue
				}
				err = env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(object),
					client.DryRunAll, client.ForceOwnership, client.FieldOwner("chart-test"))
				if err != nil {
					t.Errorf("the API server refused %s %s: %v", object.GetKind(), object.GetName(), err)
				}
			}
		})
	}
}

// By default the manager does not authenticate its callers (the API server
// must first be configured to present a client certificate); with
// webhook.clientCA it reads the CA from the ConfigMap, mounted as a folder so
// that updates reach it, and allows the names of webhook.clientNames.
func TestWebhookClientCA(t *testing.T) {
	defaults := flags(t, managerContainer(t, only[appsv1.Deployment](t, render(t, "golive-system"), "Deployment")).Args)
	for _, flag := range []string{"webhook-client-ca", "webhook-client-names"} {
		if value, set := defaults[flag]; set {
			t.Errorf("the default install passes --%s=%s, want it unset", flag, value)
		}
	}

	deployment := only[appsv1.Deployment](t, render(t, "golive-system", certManagerValues), "Deployment")
	container := managerContainer(t, deployment)
	args := flags(t, container.Args)
	if got, want := args["webhook-client-names"], "apiserver-webhook-client.example.com"; got != want {
		t.Errorf("--webhook-client-names = %q, want %q", got, want)
	}
	caFile := args["webhook-client-ca"]
	if caFile == "" {
		t.Fatal("no --webhook-client-ca with webhook.clientCA.configMapName set")
	}
	var mount *corev1.VolumeMount
	for i := range container.VolumeMounts {
		if container.VolumeMounts[i].MountPath == filepath.Dir(caFile) {
			mount = &container.VolumeMounts[i]
		}
	}
	if mount == nil || mount.SubPath != "" || !mount.ReadOnly {
		t.Fatalf("the folder of --webhook-client-ca=%s is not a read-only whole-volume mount: %+v", caFile, container.VolumeMounts)
	}
	var volume *corev1.Volume
	for i := range deployment.Spec.Template.Spec.Volumes {
		if deployment.Spec.Template.Spec.Volumes[i].Name == mount.Name {
			volume = &deployment.Spec.Template.Spec.Volumes[i]
		}
	}
	if volume == nil || volume.ConfigMap == nil {
		t.Fatalf("volume %s is not a ConfigMap: %+v", mount.Name, volume)
	}
	want := corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "apiserver-webhook-client-ca"},
		Items:                []corev1.KeyToPath{{Key: "ca.pem", Path: filepath.Base(caFile)}},
	}
	if diff := cmp.Diff(want, *volume.ConfigMap); diff != "" {
		t.Errorf("the client CA volume (-want +got):\n%s", diff)
	}
}

// The NetworkPolicy lets in only the webhook and metrics ports of the manager
// Pods, from anywhere by default and from the configured peers otherwise.
func TestNetworkPolicy(t *testing.T) {
	webhookPort := intstr.FromString("webhook-server")
	metricsPort := intstr.FromString("metrics")
	tcp := corev1.ProtocolTCP
	for _, tc := range []struct {
		name   string
		values []string
		want   []networkingv1.NetworkPolicyIngressRule
	}{
		{name: "default", want: []networkingv1.NetworkPolicyIngressRule{
			{Ports: []networkingv1.NetworkPolicyPort{{Port: &webhookPort, Protocol: &tcp}}},
			{Ports: []networkingv1.NetworkPolicyPort{{Port: &metricsPort, Protocol: &tcp}}},
		}},
		{name: "restricted", values: []string{certManagerValues}, want: []networkingv1.NetworkPolicyIngressRule{
			{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &webhookPort, Protocol: &tcp}},
				From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24"}}},
			},
			{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &metricsPort, Protocol: &tcp}},
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{"monitoring"}},
					},
				}}},
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := render(t, "golive-system", tc.values...)
			deployment := only[appsv1.Deployment](t, in, "Deployment")
			policy := only[networkingv1.NetworkPolicy](t, in, "NetworkPolicy")
			if !selects(policy.Spec.PodSelector.MatchLabels, deployment.Spec.Template.Labels) || len(policy.Spec.PodSelector.MatchExpressions) > 0 {
				t.Errorf("the NetworkPolicy's selector %+v does not select the manager Pods %v", policy.Spec.PodSelector, deployment.Spec.Template.Labels)
			}
			if !slices.Equal(policy.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
				t.Errorf("policyTypes %v, want [Ingress]", policy.Spec.PolicyTypes)
			}
			if diff := cmp.Diff(tc.want, policy.Spec.Ingress); diff != "" {
				t.Errorf("ingress rules (-want +got):\n%s", diff)
			}
			container := managerContainer(t, deployment)
			containerPort(t, container, webhookPort.StrVal)
			containerPort(t, container, metricsPort.StrVal)
		})
	}
	if policies := render(t, "golive-system", externalManagerValues).ofKind("NetworkPolicy"); len(policies) != 0 {
		t.Errorf("the external-manager install renders %d NetworkPolicies, want none: there are no manager Pods", len(policies))
	}
}

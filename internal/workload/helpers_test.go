package workload_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// workloadKind makes test workloads of one kind.
type workloadKind struct {
	kind v1alpha1.TargetKind
	new  func(name, namespace string) client.Object
}

var workloadKinds = []workloadKind{
	{v1alpha1.TargetDeployment, func(name, namespace string) client.Object { return newDeployment(name, namespace) }},
	{v1alpha1.TargetStatefulSet, func(name, namespace string) client.Object { return newStatefulSet(name, namespace) }},
	{v1alpha1.TargetDaemonSet, func(name, namespace string) client.Object { return newDaemonSet(name, namespace) }},
}

// create creates obj as the field manager "deployer" (the tool that installed it).
func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(t.Context(), obj, client.FieldOwner("deployer")); err != nil {
		t.Fatalf("Creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// get reads the target's workload as it is now.
func get(t *testing.T, target v1alpha1.Target, namespace string) client.Object {
	t.Helper()
	obj, err := workload.Get(t.Context(), env.Client, target, namespace)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// applyTemplateAs server-side applies a pod template to a workload as another
// field manager (a GitOps tool, say).
func applyTemplateAs(t *testing.T, manager string, force bool, kind v1alpha1.TargetKind, name, namespace string, template *corev1ac.PodTemplateSpecApplyConfiguration) error {
	t.Helper()
	var config runtime.ApplyConfiguration
	switch kind {
	case v1alpha1.TargetDeployment:
		config = appsv1ac.Deployment(name, namespace).WithSpec(appsv1ac.DeploymentSpec().WithTemplate(template))
	case v1alpha1.TargetStatefulSet:
		config = appsv1ac.StatefulSet(name, namespace).WithSpec(appsv1ac.StatefulSetSpec().WithTemplate(template))
	case v1alpha1.TargetDaemonSet:
		config = appsv1ac.DaemonSet(name, namespace).WithSpec(appsv1ac.DaemonSetSpec().WithTemplate(template))
	}
	options := []client.ApplyOption{client.FieldOwner(manager)}
	if force {
		options = append(options, client.ForceOwnership)
	}
	return env.Client.Apply(t.Context(), config, options...)
}

// ownedFields lists the fields that manager owns through operation, as paths
// such as .spec.template.spec.containers[{"name":"api"}].image.
func ownedFields(t *testing.T, obj client.Object, manager string, operation metav1.ManagedFieldsOperationType) []string {
	t.Helper()
	var paths []string
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager != manager || entry.Operation != operation || entry.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(entry.FieldsV1.Raw, &fields); err != nil {
			t.Fatalf("Decoding the fields of manager %s: %v", manager, err)
		}
		collectFieldPaths("", fields, &paths)
	}
	slices.Sort(paths)
	return paths
}

func collectFieldPaths(prefix string, fields map[string]any, paths *[]string) {
	for key, value := range fields {
		var path string
		switch {
		case key == ".":
			continue // the list element or map itself, implied by its fields
		case strings.HasPrefix(key, "f:"):
			path = prefix + "." + strings.TrimPrefix(key, "f:")
		case strings.HasPrefix(key, "k:"):
			path = prefix + "[" + strings.TrimPrefix(key, "k:") + "]"
		default:
			path = prefix + "/" + key
		}
		children, _ := value.(map[string]any)
		if len(children) == 0 || (len(children) == 1 && children["."] != nil) {
			*paths = append(*paths, path)
			continue
		}
		collectFieldPaths(path, children, paths)
	}
}

// setDeploymentStatus plays the Deployment controller.
func setDeploymentStatus(t *testing.T, deployment *appsv1.Deployment, status appsv1.DeploymentStatus) {
	t.Helper()
	deployment.Status = status
	if err := env.Client.Status().Update(t.Context(), deployment); err != nil {
		t.Fatalf("Setting the status of Deployment %s: %v", deployment.Name, err)
	}
}

// setStatefulSetStatus plays the StatefulSet controller.
func setStatefulSetStatus(t *testing.T, statefulSet *appsv1.StatefulSet, status appsv1.StatefulSetStatus) {
	t.Helper()
	statefulSet.Status = status
	if err := env.Client.Status().Update(t.Context(), statefulSet); err != nil {
		t.Fatalf("Setting the status of StatefulSet %s: %v", statefulSet.Name, err)
	}
}

// setDaemonSetStatus plays the DaemonSet controller.
func setDaemonSetStatus(t *testing.T, daemonSet *appsv1.DaemonSet, status appsv1.DaemonSetStatus) {
	t.Helper()
	daemonSet.Status = status
	if err := env.Client.Status().Update(t.Context(), daemonSet); err != nil {
		t.Fatalf("Setting the status of DaemonSet %s: %v", daemonSet.Name, err)
	}
}

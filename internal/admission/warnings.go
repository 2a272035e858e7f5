package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/window"
)

// A reference that does not exist yet is not refused: GitOps applies the
// request and its targets in any order, and golive waits (Stalled, naming
// the field) until they appear. But a person who typed a name wrong should
// hear it when they apply, not find it in the status later: so the webhook
// answers a new or changed spec with warnings, which kubectl prints, each
// naming the field, what exists instead, and "did you mean".

// maxWarnings bounds the warnings of one answer; the API server limits their size.
const maxWarnings = 10

// warningsBudget bounds the time spent looking for warnings, well within
// the webhooks' timeout (10 s in the chart).
const warningsBudget = 3 * time.Second

// specWarnings lists what the spec names that golive cannot find, and a plan
// the window can never take. A failure to look is logged, never a refusal:
// warnings are advice.
func (v validator) specWarnings(ctx context.Context, request *golivev1alpha1.UpdateRequest) []string {
	// A cache that cannot sync (golive's rights to watch taken away) would
	// hold the answer until the API server gives up on the webhook: advice
	// gets a bounded time.
	ctx, cancel := context.WithTimeout(ctx, warningsBudget)
	defer cancel()
	var warnings []string
	for _, check := range []func(context.Context, *golivev1alpha1.UpdateRequest) ([]string, error){
		v.targetWarnings, v.windowWarnings, v.roleWarnings,
	} {
		found, err := check(ctx, request)
		if err != nil {
			log.FromContext(ctx).V(1).Info("Could not look for warnings", "error", err.Error())
		}
		warnings = append(warnings, found...)
	}
	return warnings[:min(len(warnings), maxWarnings)]
}

// targetWarnings names targets missing from either namespace, and images
// for containers a target does not have.
func (v validator) targetWarnings(ctx context.Context, request *golivev1alpha1.UpdateRequest) ([]string, error) {
	var warnings []string
	for i, target := range request.Spec.Targets {
		for _, namespace := range []string{request.Namespace, request.Spec.Staging.Namespace} {
			found, err := v.targetWarningsIn(ctx, v.advisoryReader(), i, target, namespace)
			if err == nil && len(found) > 0 && v.Cached != nil {
				// The cache may lag behind a target created or changed just
				// before the request: only the API server's answer warns.
				found, err = v.targetWarningsIn(ctx, v.Reader, i, target, namespace)
			}
			if err != nil {
				return warnings, err
			}
			warnings = append(warnings, found...)
		}
	}
	return warnings, nil
}

// advisoryReader reads what only warnings need: the cache where there is one.
func (v validator) advisoryReader() client.Reader {
	if v.Cached != nil {
		return v.Cached
	}
	return v.Reader
}

// targetWarningsIn warns about spec.targets[i] in namespace, read with reader.
func (v validator) targetWarningsIn(ctx context.Context, reader client.Reader, i int, target golivev1alpha1.Target, namespace string) ([]string, error) {
	containers, found, err := podTemplateContainers(ctx, reader, target.Kind, namespace, target.Name)
	if err != nil {
		return nil, err
	}
	if !found {
		names, err := v.namesOf(ctx, target.Kind, namespace)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("spec.targets[%d]: %s %q not found in namespace %s%s; golive waits until it exists",
			i, target.Kind, target.Name, namespace, didYouMean(target.Name, names))}, nil
	}
	var warnings []string
	for _, container := range sortedKeys(target.Images) {
		if !slices.Contains(containers, container) {
			warnings = append(warnings, fmt.Sprintf("spec.targets[%d].images.%s: %s %q in namespace %s has no container %q; its containers: %s",
				i, container, target.Kind, target.Name, namespace, container, strings.Join(containers, ", ")))
		}
	}
	return warnings, nil
}

// podTemplateContainers lists the containers (init containers included) of a
// target's pod template, and whether the target exists. The cache's
// workloads are trimmed, but keep every container's name.
func podTemplateContainers(ctx context.Context, reader client.Reader, kind golivev1alpha1.TargetKind, namespace, name string) ([]string, bool, error) {
	var template *corev1.PodTemplateSpec
	var object client.Object
	switch kind {
	case golivev1alpha1.TargetDeployment:
		deployment := &appsv1.Deployment{}
		object, template = deployment, &deployment.Spec.Template
	case golivev1alpha1.TargetStatefulSet:
		statefulSet := &appsv1.StatefulSet{}
		object, template = statefulSet, &statefulSet.Spec.Template
	case golivev1alpha1.TargetDaemonSet:
		daemonSet := &appsv1.DaemonSet{}
		object, template = daemonSet, &daemonSet.Spec.Template
	default:
		return nil, false, fmt.Errorf("unknown target kind %q", kind)
	}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, object); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	var containers []string
	for _, c := range slices.Concat(template.Spec.InitContainers, template.Spec.Containers) {
		containers = append(containers, c.Name)
	}
	return containers, true, nil
}

// namesOf lists the names of the objects of kind in namespace, as metadata only.
func (v validator) namesOf(ctx context.Context, kind golivev1alpha1.TargetKind, namespace string) ([]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind(string(kind) + "List"))
	if err := v.Reader.List(ctx, list, client.InNamespace(namespace), client.Limit(500)); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.Name)
	}
	return names, nil
}

// windowWarnings names a missing window, and a plan it can never take
// (lifecycle.ImpossiblePlan, which Pending stalls on).
func (v validator) windowWarnings(ctx context.Context, request *golivev1alpha1.UpdateRequest) ([]string, error) {
	found, err := v.windowWarningsWith(ctx, v.advisoryReader(), request)
	if err == nil && len(found) > 0 && v.Cached != nil {
		// Only the API server's answer warns: the cache may lag behind a
		// window created or changed just before the request.
		return v.windowWarningsWith(ctx, v.Reader, request)
	}
	return found, err
}

// windowWarningsWith is windowWarnings, read with reader.
func (v validator) windowWarningsWith(ctx context.Context, reader client.Reader, request *golivev1alpha1.UpdateRequest) ([]string, error) {
	name := request.Spec.Window.Name
	var glw golivev1alpha1.GoLiveWindow
	err := reader.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: name}, &glw)
	if apierrors.IsNotFound(err) {
		var windows golivev1alpha1.GoLiveWindowList
		if err := reader.List(ctx, &windows, client.InNamespace(request.Namespace), client.Limit(500)); err != nil {
			return nil, err
		}
		var names []string
		for _, w := range windows.Items {
			names = append(names, w.Name)
		}
		return []string{fmt.Sprintf("spec.window.name: GoLiveWindow %q not found in namespace %s%s; golive waits until it exists",
			name, request.Namespace, didYouMean(name, names))}, nil
	}
	if err != nil {
		return nil, err
	}
	calendar, err := window.Compile(glw.Spec)
	if err != nil {
		return []string{fmt.Sprintf("spec.window.name: GoLiveWindow %q is invalid: %v", name, err)}, nil
	}
	if impossible := lifecycle.ImpossiblePlan(&request.Spec, glw.Spec, calendar, v.Clock.Now()); impossible != "" {
		return []string{impossible}, nil
	}
	return nil, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

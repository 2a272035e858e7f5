package backup

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// StopTargets scales the request's targets in its namespace to zero, for
// spec.backup.quiesce ScaleToZero and before a data restore. The caller
// records the replica counts first (the lifecycle keeps them in
// status.backup.quiescedReplicas; a rollback re-applies the saved specs), so
// a crash after scaling never loses them. A target already at zero is not
// touched, so StopTargets can be repeated.
//
// DaemonSets cannot be scaled and are left running: the API refuses
// ScaleToZero with a DaemonSet target, and a data restore waits for the pods
// that use a claim, whoever runs them.
func StopTargets(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest) error {
	for _, target := range request.Spec.Targets {
		if target.Kind == v1alpha1.TargetDaemonSet {
			continue
		}
		replicas, err := workload.Replicas(ctx, c, target, request.Namespace)
		if err != nil {
			return err
		}
		if replicas == 0 {
			continue
		}
		if err := workload.Scale(ctx, c, target, request.Namespace, 0); err != nil {
			return err
		}
	}
	return nil
}

// Stopped tells, without changing anything, whether every scalable target of
// the request asks for zero replicas and none of its pods is left; message
// says what it waits for when not.
func Stopped(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest) (stopped bool, message string, err error) {
	var waiting []string
	for _, target := range request.Spec.Targets {
		if target.Kind == v1alpha1.TargetDaemonSet {
			continue
		}
		replicas, err := workload.Replicas(ctx, c, target, request.Namespace)
		if err != nil {
			return false, "", err
		}
		pods, err := runningPods(ctx, c, target, request.Namespace)
		if err != nil {
			return false, "", err
		}
		switch {
		case replicas > 0:
			waiting = append(waiting, fmt.Sprintf("%s %s to scale to zero (it asks for %d replicas)", target.Kind, target.Name, replicas))
		case pods == 1:
			waiting = append(waiting, fmt.Sprintf("1 pod of %s %s to stop", target.Kind, target.Name))
		case pods > 1:
			waiting = append(waiting, fmt.Sprintf("%d pods of %s %s to stop", pods, target.Kind, target.Name))
		}
	}
	if len(waiting) > 0 {
		return false, "Waiting for " + strings.Join(waiting, ", "), nil
	}
	return true, "", nil
}

// runningPods counts the pods in namespace that the target's selector
// selects and that have not terminated; pods being deleted count.
func runningPods(ctx context.Context, reader client.Reader, target v1alpha1.Target, namespace string) (int, error) {
	obj, err := workload.Get(ctx, reader, target, namespace)
	if err != nil {
		return 0, err
	}
	var selector *metav1.LabelSelector
	switch typed := obj.(type) {
	case *appsv1.Deployment:
		selector = typed.Spec.Selector
	case *appsv1.StatefulSet:
		selector = typed.Spec.Selector
	}
	matching, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return 0, fmt.Errorf("reading the selector of %s %s/%s: %w", target.Kind, namespace, target.Name, err)
	}
	var pods corev1.PodList
	if err := reader.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: matching}); err != nil {
		return 0, fmt.Errorf("listing the pods of %s %s/%s: %w", target.Kind, namespace, target.Name, err)
	}
	count := 0
	for i := range pods.Items {
		if running(&pods.Items[i]) {
			count++
		}
	}
	return count, nil
}

package backup

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=list;watch

// SelectClaims returns the sorted names of the PersistentVolumeClaims in
// namespace that selector selects. A nil selector selects none, an empty one all.
func SelectClaims(ctx context.Context, reader client.Reader, namespace string, selector *metav1.LabelSelector) ([]string, error) {
	if selector == nil {
		return nil, nil
	}
	matching, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("spec.backup.volumeClaimSelector: %w", err)
	}
	var claims corev1.PersistentVolumeClaimList
	if err := reader.List(ctx, &claims, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: matching}); err != nil {
		return nil, fmt.Errorf("listing the PersistentVolumeClaims in %s: %w", namespace, err)
	}
	names := make([]string, 0, len(claims.Items))
	for _, claim := range claims.Items {
		names = append(names, claim.Name)
	}
	slices.Sort(names)
	return names, nil
}

// ClaimUsers returns the sorted names of the pods in namespace that mount
// claim, directly or as a generic ephemeral volume, and have not terminated.
// A claim is safe to replace when it has none: pods that are still being
// deleted count, as they may still write to the volume.
func ClaimUsers(ctx context.Context, reader client.Reader, namespace, claim string) ([]string, error) {
	var pods corev1.PodList
	if err := reader.List(ctx, &pods, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the pods in %s: %w", namespace, err)
	}
	var users []string
	for i := range pods.Items {
		if pod := &pods.Items[i]; running(pod) && mounts(pod, claim) {
			users = append(users, pod.Name)
		}
	}
	slices.Sort(users)
	return users, nil
}

// running is true until a pod has terminated for good: its containers may run.
func running(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// mounts tells whether pod uses claim as a volume.
func mounts(pod *corev1.Pod, claim string) bool {
	for _, volume := range pod.Spec.Volumes {
		switch {
		case volume.PersistentVolumeClaim != nil && volume.PersistentVolumeClaim.ClaimName == claim:
			return true
		case volume.Ephemeral != nil && pod.Name+"-"+volume.Name == claim:
			// The claim of a generic ephemeral volume is named "<pod>-<volume>".
			return true
		}
	}
	return false
}

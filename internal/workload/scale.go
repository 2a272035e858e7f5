package workload

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Scale sets the replica count of the target's Deployment or StatefulSet in
// namespace through its scale subresource, which touches spec.replicas and
// nothing else. A DaemonSet runs one pod per node and cannot be scaled.
func Scale(ctx context.Context, c client.Client, target v1alpha1.Target, namespace string, replicas int32) error {
	obj, err := scalable(target, namespace)
	if err != nil {
		return err
	}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas))
	scale := &autoscalingv1.Scale{}
	if err := c.SubResource("scale").Patch(ctx, obj, patch, client.WithSubResourceBody(scale), client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("scaling %s %s/%s to %d replicas: %w", target.Kind, namespace, target.Name, replicas, err)
	}
	return nil
}

// Replicas reads the replica count that the target's Deployment or
// StatefulSet in namespace asks for (spec.replicas, not the pods running now).
func Replicas(ctx context.Context, c client.Client, target v1alpha1.Target, namespace string) (int32, error) {
	obj, err := scalable(target, namespace)
	if err != nil {
		return 0, err
	}
	scale := &autoscalingv1.Scale{}
	if err := c.SubResource("scale").Get(ctx, obj, scale); err != nil {
		return 0, fmt.Errorf("reading the scale of %s %s/%s: %w", target.Kind, namespace, target.Name, err)
	}
	return scale.Spec.Replicas, nil
}

// scalable is the object whose scale subresource serves target.
func scalable(target v1alpha1.Target, namespace string) (client.Object, error) {
	if target.Kind == v1alpha1.TargetDaemonSet {
		return nil, fmt.Errorf("DaemonSet %s/%s cannot be scaled: it runs one pod per node", namespace, target.Name)
	}
	return NewObject(target.Kind, target.Name, namespace)
}

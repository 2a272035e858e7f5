package workload

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// FieldManager is the field manager of every change golive makes to a
// workload, so that managedFields show which fields golive owns.
const FieldManager = "golive"

// NewObject returns an empty object of the kind of workload named by kind,
// with name and namespace set, ready for a Get.
func NewObject(kind v1alpha1.TargetKind, name, namespace string) (client.Object, error) {
	meta := metav1.ObjectMeta{Name: name, Namespace: namespace}
	switch kind {
	case v1alpha1.TargetDeployment:
		return &appsv1.Deployment{ObjectMeta: meta}, nil
	case v1alpha1.TargetStatefulSet:
		return &appsv1.StatefulSet{ObjectMeta: meta}, nil
	case v1alpha1.TargetDaemonSet:
		return &appsv1.DaemonSet{ObjectMeta: meta}, nil
	default:
		return nil, fmt.Errorf("unsupported workload kind %q", kind)
	}
}

// Get reads the workload a target names in namespace. A missing workload
// gives an error for which apierrors.IsNotFound is true.
func Get(ctx context.Context, c client.Reader, target v1alpha1.Target, namespace string) (client.Object, error) {
	obj, err := NewObject(target.Kind, target.Name, namespace)
	if err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return nil, fmt.Errorf("getting %s %s/%s: %w", target.Kind, namespace, target.Name, err)
	}
	return obj, nil
}

// PodTemplate returns the pod template of a Deployment, StatefulSet or
// DaemonSet (not a copy: changes to it change obj), and nil for anything else.
func PodTemplate(obj client.Object) *corev1.PodTemplateSpec {
	switch workload := obj.(type) {
	case *appsv1.Deployment:
		return &workload.Spec.Template
	case *appsv1.StatefulSet:
		return &workload.Spec.Template
	case *appsv1.DaemonSet:
		return &workload.Spec.Template
	default:
		return nil
	}
}

// specReplicas points at the replica count of a Deployment or StatefulSet
// (nil for a DaemonSet, which has none).
func specReplicas(obj client.Object) **int32 {
	switch workload := obj.(type) {
	case *appsv1.Deployment:
		return &workload.Spec.Replicas
	case *appsv1.StatefulSet:
		return &workload.Spec.Replicas
	default:
		return nil
	}
}

// DesiredReplicas is the replica count a Deployment or StatefulSet asks for
// (1 when unset, as the API server defaults it); 0 for a DaemonSet.
func DesiredReplicas(obj client.Object) int32 {
	replicas := specReplicas(obj)
	if replicas == nil {
		return 0
	}
	return ptr.Deref(*replicas, 1)
}

// kindOf names the kind of a workload object, which typed objects read from
// the API server do not carry in their TypeMeta.
func kindOf(obj client.Object) v1alpha1.TargetKind {
	switch obj.(type) {
	case *appsv1.Deployment:
		return v1alpha1.TargetDeployment
	case *appsv1.StatefulSet:
		return v1alpha1.TargetStatefulSet
	case *appsv1.DaemonSet:
		return v1alpha1.TargetDaemonSet
	default:
		return v1alpha1.TargetKind(fmt.Sprintf("%T", obj))
	}
}

// describe names a workload in error messages: "Deployment billing/api".
func describe(obj client.Object) string {
	return fmt.Sprintf("%s %s/%s", kindOf(obj), obj.GetNamespace(), obj.GetName())
}

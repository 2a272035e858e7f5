package workload_test

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// podTemplate is the pod template of every test workload: an app container
// "api" with env and resources, a sidecar "proxy" and an init container
// "migrate", so that tests see what an image change leaves alone.
func podTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "billing"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: "registry.example.com/billing-migrate:2.3.0"}},
			Containers: []corev1.Container{
				{
					Name:  "api",
					Image: "registry.example.com/billing-api:2.3.0",
					Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					},
				},
				{Name: "proxy", Image: "registry.example.com/envoy:1.30"},
			},
		},
	}
}

var selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}

func newDeployment(name, namespace string, change ...func(*appsv1.Deployment)) *appsv1.Deployment {
	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Generation: 1, Labels: map[string]string{"team": "billing"}},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: selector, Template: podTemplate()},
	}
	for _, c := range change {
		c(deployment)
	}
	return deployment
}

func newStatefulSet(name, namespace string, change ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Generation: 1, Labels: map[string]string{"team": "billing"}},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3), Selector: selector, ServiceName: name, Template: podTemplate(),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
	for _, c := range change {
		c(statefulSet)
	}
	return statefulSet
}

func newDaemonSet(name, namespace string, change ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	daemonSet := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Generation: 1, Labels: map[string]string{"team": "billing"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: selector, Template: podTemplate(),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
	for _, c := range change {
		c(daemonSet)
	}
	return daemonSet
}

// Status setters that play the workload controllers.

func deploymentStatus(observedGeneration int64, replicas, updated, ready, available int32, conditions ...appsv1.DeploymentCondition) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: observedGeneration, Replicas: replicas, UpdatedReplicas: updated,
			ReadyReplicas: ready, AvailableReplicas: available, Conditions: conditions,
		}
	}
}

func statefulSetStatus(observedGeneration int64, replicas, updated, ready, available int32, currentRevision, updateRevision string) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) {
		s.Status = appsv1.StatefulSetStatus{
			ObservedGeneration: observedGeneration, Replicas: replicas, UpdatedReplicas: updated,
			ReadyReplicas: ready, AvailableReplicas: available, CurrentReplicas: replicas - updated,
			CurrentRevision: currentRevision, UpdateRevision: updateRevision,
		}
	}
}

func daemonSetStatus(observedGeneration int64, desired, updated, available int32) func(*appsv1.DaemonSet) {
	return func(d *appsv1.DaemonSet) {
		d.Status = appsv1.DaemonSetStatus{
			ObservedGeneration: observedGeneration, DesiredNumberScheduled: desired, CurrentNumberScheduled: desired,
			UpdatedNumberScheduled: updated, NumberReady: available, NumberAvailable: available,
			NumberUnavailable: desired - available,
		}
	}
}

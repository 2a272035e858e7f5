package workload_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// The rollout of each kind as its controller reports it through the API
// server: not observed after an image change, rolling, done, and for a
// Deployment stuck past its progress deadline.
func TestRolloutThroughTheAPIServer(t *testing.T) {
	images := map[string]v1alpha1.Image{"api": apiImage240}

	t.Run("Deployment", func(t *testing.T) {
		namespace := newNamespace(t)
		create(t, newDeployment("billing", namespace))
		target := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing", Images: images}
		setDeploymentStatus(t, get(t, target, namespace).(*appsv1.Deployment), appsv1.DeploymentStatus{
			ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Healthy, Message: "3 of 3 replicas updated and available"})

		applyImages(t, target, namespace)
		wantHealth(t, target, namespace, workload.Health{State: workload.Progressing, Message: "Waiting for the Deployment controller to observe generation 2 (observed: 1)"})

		setDeploymentStatus(t, get(t, target, namespace).(*appsv1.Deployment), appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3,
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Progressing, Message: "1 of 3 replicas updated"})

		setDeploymentStatus(t, get(t, target, namespace).(*appsv1.Deployment), appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: `ReplicaSet "billing-5d8f" has timed out progressing.`, LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Failed, Message: `Progress deadline exceeded: ReplicaSet "billing-5d8f" has timed out progressing.`})
	})

	t.Run("StatefulSet", func(t *testing.T) {
		namespace := newNamespace(t)
		create(t, newStatefulSet("billing", namespace))
		target := v1alpha1.Target{Kind: v1alpha1.TargetStatefulSet, Name: "billing", Images: images}
		wantHealth(t, target, namespace, workload.Health{State: workload.Progressing, Message: "Waiting for the StatefulSet controller to observe generation 1 (observed: 0)"})

		applyImages(t, target, namespace)
		setStatefulSetStatus(t, get(t, target, namespace).(*appsv1.StatefulSet), appsv1.StatefulSetStatus{
			ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, CurrentReplicas: 0,
			CurrentRevision: "billing-1", UpdateRevision: "billing-2",
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Progressing, Message: "Revision billing-2 not yet current (current: billing-1)"})

		setStatefulSetStatus(t, get(t, target, namespace).(*appsv1.StatefulSet), appsv1.StatefulSetStatus{
			ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, CurrentReplicas: 3,
			CurrentRevision: "billing-2", UpdateRevision: "billing-2",
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Healthy, Message: "3 of 3 replicas updated and available"})
	})

	t.Run("DaemonSet", func(t *testing.T) {
		namespace := newNamespace(t)
		create(t, newDaemonSet("billing", namespace))
		target := v1alpha1.Target{Kind: v1alpha1.TargetDaemonSet, Name: "billing", Images: images}
		applyImages(t, target, namespace)

		setDaemonSetStatus(t, get(t, target, namespace).(*appsv1.DaemonSet), appsv1.DaemonSetStatus{
			ObservedGeneration: 2, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, UpdatedNumberScheduled: 2,
			NumberReady: 1, NumberAvailable: 1, NumberUnavailable: 1,
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Progressing, Message: "1 of 2 pods available"})

		setDaemonSetStatus(t, get(t, target, namespace).(*appsv1.DaemonSet), appsv1.DaemonSetStatus{
			ObservedGeneration: 2, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, UpdatedNumberScheduled: 2,
			NumberReady: 2, NumberAvailable: 2,
		})
		wantHealth(t, target, namespace, workload.Health{State: workload.Healthy, Message: "2 of 2 pods updated and available"})
	})
}

func applyImages(t *testing.T, target v1alpha1.Target, namespace string) {
	t.Helper()
	if err := workload.ApplyImages(t.Context(), env.Client, target, namespace); err != nil {
		t.Fatalf("ApplyImages() = %v", err)
	}
}

func wantHealth(t *testing.T, target v1alpha1.Target, namespace string, want workload.Health) {
	t.Helper()
	if diff := cmp.Diff(want, workload.Rollout(get(t, target, namespace))); diff != "" {
		t.Errorf("Rollout() of %s %s (-want +got):\n%s", target.Kind, target.Name, diff)
	}
}

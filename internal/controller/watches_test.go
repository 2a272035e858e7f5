package controller

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestObservedWorkloadChanged: a rollout's replica counts wake no request;
// its spec, labels, deletion and a change of its rollout's state do.
func TestObservedWorkloadChanged(t *testing.T) {
	rollingOut := func(updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing", Generation: 2, Labels: map[string]string{"app": "billing"}},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: updated,
				ReadyReplicas: available, AvailableReplicas: available},
		}
	}
	respecified := rollingOut(2, 2)
	respecified.Generation = 3
	relabelled := rollingOut(1, 0)
	relabelled.Labels = map[string]string{"app": "billing", "tier": "gold"}
	deleting := rollingOut(1, 0)
	deleting.DeletionTimestamp = &metav1.Time{}
	unobserved := rollingOut(0, 0)
	unobserved.Status.ObservedGeneration = 1

	tests := []struct {
		name          string
		before, after *appsv1.Deployment
		want          bool
	}{
		{"one more replica updated", rollingOut(0, 0), rollingOut(1, 0), false},
		{"one more replica available", rollingOut(2, 0), rollingOut(2, 1), false},
		{"the status catches up with the spec", unobserved, rollingOut(0, 0), false},
		{"the rollout completes", rollingOut(2, 1), rollingOut(2, 2), true},
		{"the spec changes", rollingOut(2, 2), respecified, true},
		{"the labels change", rollingOut(1, 0), relabelled, true},
		{"the workload is being deleted", rollingOut(1, 0), deleting, true},
	}
	for _, test := range tests {
		got := observedWorkloadChanged.Update(event.UpdateEvent{ObjectOld: test.before, ObjectNew: test.after})
		if got != test.want {
			t.Errorf("%s: observedWorkloadChanged = %t, want %t", test.name, got, test.want)
		}
	}
}

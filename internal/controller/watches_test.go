package controller

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
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

// TestObservedJobChanged: the Job controller's bookkeeping on the way to a
// result wakes no request; a pod starting or failing, the result, the spec,
// the seal, labels and deletion do.
func TestObservedJobChanged(t *testing.T) {
	job := func(mutate func(*batchv1.Job)) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing-2-4-0-staging-smoke", Generation: 1,
			Labels: map[string]string{golivev1alpha1.LabelCheck: "smoke"}, Annotations: map[string]string{"golive.dev/seal": "s"}}}
		if mutate != nil {
			mutate(j)
		}
		return j
	}
	started := func(j *batchv1.Job) { j.Status.StartTime = &metav1.Time{}; j.Status.Active = 1 }
	ready := func(j *batchv1.Job) { started(j); j.Status.Ready = ptr.To[int32](1) }
	ended := func(j *batchv1.Job) {
		ready(j)
		j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"pod"}}
	}
	complete := func(j *batchv1.Job) {
		j.Status.StartTime = &metav1.Time{}
		j.Status.Succeeded = 1
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	}
	tests := []struct {
		name          string
		before, after *batchv1.Job
		want          bool
	}{
		{"its pod becomes ready", job(started), job(ready), false},
		{"its pod's end is being counted", job(ready), job(ended), false},
		{"its pod starts", job(nil), job(started), true},
		{"it completes", job(ended), job(complete), true},
		{"its spec changes", job(nil), job(func(j *batchv1.Job) { j.Generation = 2 }), true},
		{"its seal changes", job(nil), job(func(j *batchv1.Job) { j.Annotations["golive.dev/seal"] = "planted" }), true},
		{"its labels change", job(nil), job(func(j *batchv1.Job) { j.Labels["x"] = "y" }), true},
		{"it is being deleted", job(nil), job(func(j *batchv1.Job) { j.DeletionTimestamp = &metav1.Time{} }), true},
	}
	for _, test := range tests {
		got := observedJobChanged.Update(event.UpdateEvent{ObjectOld: test.before, ObjectNew: test.after})
		if got != test.want {
			t.Errorf("%s: observedJobChanged = %t, want %t", test.name, got, test.want)
		}
	}
}

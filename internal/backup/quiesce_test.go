package backup_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/workload"
)

var (
	apiTarget = v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"app": "registry.example.com/billing:2.4.0"}}
	dbTarget  = v1alpha1.Target{Kind: v1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]v1alpha1.Image{"app": "registry.example.com/billing-db:2.4.0"}}
)

// replicasOf reads what the targets ask for, by QuiesceKey.
func replicasOf(t *testing.T, namespace string, targets ...v1alpha1.Target) map[string]int32 {
	t.Helper()
	replicas := map[string]int32{}
	for _, target := range targets {
		n, err := workload.Replicas(t.Context(), env.Client, target, namespace)
		if err != nil {
			t.Fatal(err)
		}
		replicas[string(target.Kind)+"/"+target.Name] = n
	}
	return replicas
}

func TestStopTargets(t *testing.T) {
	namespace := newNamespace(t)
	apiLabels := map[string]string{"app": "billing", "component": "api"}
	dbLabels := map[string]string{"app": "billing", "component": "db"}
	create(t, newDeployment(apiTarget.Name, namespace, 3, apiLabels))
	create(t, newStatefulSet(dbTarget.Name, namespace, 2, dbLabels))
	apiPod := newPod("billing-api-5d8f-x2x9k", namespace, apiLabels)
	dbPods := []*corev1.Pod{newPod("billing-db-0", namespace, dbLabels, "data-billing-db-0"), newPod("billing-db-1", namespace, dbLabels, "data-billing-db-1")}
	for _, pod := range append([]*corev1.Pod{apiPod}, dbPods...) {
		create(t, pod)
	}
	request := newUpdateRequest(t, namespace, "billing-2-4-0", apiTarget, dbTarget)

	if stopped, message, err := backup.Stopped(t.Context(), env.Client, request); err != nil || stopped ||
		!strings.Contains(message, "Deployment billing-api to scale to zero (it asks for 3 replicas)") {
		t.Errorf("Stopped() before = %t, %q, %v", stopped, message, err)
	}
	if err := backup.StopTargets(t.Context(), env.Client, request); err != nil {
		t.Fatalf("StopTargets() = %v", err)
	}
	zero := map[string]int32{"Deployment/billing-api": 0, "StatefulSet/billing-db": 0}
	if diff := cmp.Diff(zero, replicasOf(t, namespace, apiTarget, dbTarget)); diff != "" {
		t.Errorf("StopTargets() did not scale to zero (-want +got):\n%s", diff)
	}
	stopped, message, err := backup.Stopped(t.Context(), env.Client, request)
	if err != nil || stopped || !strings.Contains(message, "1 pod of Deployment billing-api to stop") || !strings.Contains(message, "2 pods of StatefulSet billing-db to stop") {
		t.Errorf("Stopped() while pods run = %t, %q, %v; want it to wait for the pods of both", stopped, message, err)
	}

	// Repeated after a crash: nothing changes.
	deployment := get(t, newDeployment(apiTarget.Name, namespace, 0, nil))
	if err := backup.StopTargets(t.Context(), env.Client, request); err != nil {
		t.Fatalf("StopTargets() again = %v", err)
	}
	if after := get(t, deployment.DeepCopy()); after.ResourceVersion != deployment.ResourceVersion {
		t.Errorf("StopTargets() again changed Deployment %s", deployment.Name)
	}

	deletePods(t, apiPod, dbPods[0])
	if stopped, _, err := backup.Stopped(t.Context(), env.Client, request); err != nil || stopped {
		t.Errorf("Stopped() with one pod left = %t, %v; want not stopped", stopped, err)
	}
	deletePods(t, dbPods[1])
	if stopped, message, err := backup.Stopped(t.Context(), env.Client, request); err != nil || !stopped {
		t.Errorf("Stopped() with no pod left = %t (%q), %v; want stopped", stopped, message, err)
	}
}

func TestStopTargetsLeavesDaemonSetsRunning(t *testing.T) {
	namespace := newNamespace(t)
	agent := v1alpha1.Target{Kind: v1alpha1.TargetDaemonSet, Name: "billing-agent", Images: map[string]v1alpha1.Image{"app": "registry.example.com/billing-agent:2.4.0"}}
	create(t, newDeployment(apiTarget.Name, namespace, 3, billingLabels))
	create(t, newDaemonSet(agent.Name, namespace, map[string]string{"app": "billing-agent"}))
	create(t, newPod("billing-agent-x7k2p", namespace, map[string]string{"app": "billing-agent"}))
	request := newUpdateRequest(t, namespace, "billing-2-4-0", apiTarget, agent)

	if err := backup.StopTargets(t.Context(), env.Client, request); err != nil {
		t.Fatalf("StopTargets() with a DaemonSet target = %v", err)
	}
	if diff := cmp.Diff(map[string]int32{"Deployment/billing-api": 0}, replicasOf(t, namespace, apiTarget)); diff != "" {
		t.Errorf("StopTargets() (-want +got):\n%s", diff)
	}
	if stopped, message, err := backup.Stopped(t.Context(), env.Client, request); err != nil || !stopped {
		t.Errorf("Stopped() = %t (%q), %v; the DaemonSet's pod does not count", stopped, message, err)
	}
}

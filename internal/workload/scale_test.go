package workload_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

func TestScale(t *testing.T) {
	for _, kind := range workloadKinds[:2] {
		t.Run(string(kind.kind), func(t *testing.T) {
			namespace := newNamespace(t)
			create(t, kind.new("billing", namespace))
			target := v1alpha1.Target{Kind: kind.kind, Name: "billing"}
			before := get(t, target, namespace)

			if err := workload.Scale(t.Context(), env.Client, target, namespace, 0); err != nil {
				t.Fatalf("Scale() = %v", err)
			}

			replicas, err := workload.Replicas(t.Context(), env.Client, target, namespace)
			if err != nil {
				t.Fatalf("Replicas() = %v", err)
			}
			if replicas != 0 {
				t.Errorf("Replicas() = %d after scaling to zero", replicas)
			}
			after := get(t, target, namespace)
			if diff := cmp.Diff(workload.PodTemplate(before), workload.PodTemplate(after)); diff != "" {
				t.Errorf("Scale() changed the pod template (-before +after):\n%s", diff)
			}
		})
	}
}

func TestScaleRefusesADaemonSet(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newDaemonSet("billing-agent", namespace))
	target := v1alpha1.Target{Kind: v1alpha1.TargetDaemonSet, Name: "billing-agent"}

	if err := workload.Scale(t.Context(), env.Client, target, namespace, 0); err == nil || !strings.Contains(err.Error(), "cannot be scaled") {
		t.Errorf("Scale() of a DaemonSet = %v, want an error saying it cannot be scaled", err)
	}
	if _, err := workload.Replicas(t.Context(), env.Client, target, namespace); err == nil {
		t.Errorf("Replicas() of a DaemonSet succeeded, want an error")
	}
}

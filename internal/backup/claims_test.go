package backup_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/golive-dev/golive/internal/backup"
)

func TestClaimUsers(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newPod("billing-db-1", namespace, billingLabels, "data-billing-db-1"))
	create(t, newPod("billing-db-0", namespace, billingLabels, "data-billing-db-0"))
	create(t, newPod("billing-report", namespace, billingLabels, "exports", "data-billing-db-0"))
	create(t, newPod("billing-api", namespace, billingLabels))
	// The claim of a generic ephemeral volume is named <pod>-<volume>.
	scratch := newPod("billing-batch", namespace, billingLabels)
	scratch.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
		VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: newClaim("", "", "1Gi").Spec},
	}}}}
	create(t, scratch)
	// A pod that has terminated holds no volume any more.
	finished := newPod("billing-migrate", namespace, billingLabels, "data-billing-db-0")
	create(t, finished)
	finished.Status.Phase = corev1.PodSucceeded
	if err := env.Client.Status().Update(t.Context(), finished); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		claim string
		want  []string
	}{
		{"data-billing-db-0", []string{"billing-db-0", "billing-report"}},
		{"data-billing-db-1", []string{"billing-db-1"}},
		{"billing-batch-scratch", []string{"billing-batch"}},
		{"exports", []string{"billing-report"}},
		{"data-billing-db-2", nil},
	}
	for _, test := range tests {
		users, err := backup.ClaimUsers(t.Context(), env.Client, namespace, test.claim)
		if err != nil {
			t.Fatalf("ClaimUsers(%s) = %v", test.claim, err)
		}
		if diff := cmp.Diff(test.want, users); diff != "" {
			t.Errorf("ClaimUsers(%s) (-want +got):\n%s", test.claim, diff)
		}
	}
}

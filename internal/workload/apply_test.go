package workload_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

const (
	apiImage240     = "registry.example.com/billing-api:2.4.0"
	migrateImage240 = "registry.example.com/billing-migrate:2.4.0"
)

func TestApplyImagesChangesOnlyTheNamedImages(t *testing.T) {
	for _, kind := range workloadKinds {
		t.Run(string(kind.kind), func(t *testing.T) {
			namespace := newNamespace(t)
			create(t, kind.new("billing", namespace))
			// A GitOps tool owns the app image and the sidecar's env.
			gitOps := corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(
				corev1ac.Container().WithName("api").WithImage("registry.example.com/billing-api:2.3.0"),
				corev1ac.Container().WithName("proxy").WithEnv(corev1ac.EnvVar().WithName("MODE").WithValue("sidecar")),
			))
			if err := applyTemplateAs(t, "argocd", true, kind.kind, "billing", namespace, gitOps); err != nil {
				t.Fatalf("Applying as argocd: %v", err)
			}
			target := v1alpha1.Target{Kind: kind.kind, Name: "billing", Images: map[string]v1alpha1.Image{"api": apiImage240, "migrate": migrateImage240}}
			before := get(t, target, namespace)

			if err := workload.ApplyImages(t.Context(), env.Client, target, namespace); err != nil {
				t.Fatalf("ApplyImages() = %v", err)
			}

			after := get(t, target, namespace)
			want := workload.PodTemplate(before).DeepCopy()
			want.Spec.Containers[0].Image = apiImage240
			want.Spec.InitContainers[0].Image = migrateImage240
			if diff := cmp.Diff(want, workload.PodTemplate(after)); diff != "" {
				t.Errorf("The pod template after ApplyImages differs from the one before in more than the images (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before.GetLabels(), after.GetLabels()); diff != "" {
				t.Errorf("ApplyImages changed the labels (-before +after):\n%s", diff)
			}
			if after.GetGeneration() != before.GetGeneration()+1 {
				t.Errorf("Generation went from %d to %d, want one new generation", before.GetGeneration(), after.GetGeneration())
			}
			wantOwned := []string{
				`.spec.template.spec.containers[{"name":"api"}].image`,
				`.spec.template.spec.containers[{"name":"api"}].name`,
				`.spec.template.spec.initContainers[{"name":"migrate"}].image`,
				`.spec.template.spec.initContainers[{"name":"migrate"}].name`,
			}
			if diff := cmp.Diff(wantOwned, ownedFields(t, after, workload.FieldManager, metav1.ManagedFieldsOperationApply)); diff != "" {
				t.Errorf("Fields applied by golive (-want +got):\n%s", diff)
			}
			wantGitOps := []string{
				`.spec.template.spec.containers[{"name":"api"}].name`,
				`.spec.template.spec.containers[{"name":"proxy"}].env[{"name":"MODE"}].name`,
				`.spec.template.spec.containers[{"name":"proxy"}].env[{"name":"MODE"}].value`,
				`.spec.template.spec.containers[{"name":"proxy"}].name`,
			}
			if diff := cmp.Diff(wantGitOps, ownedFields(t, after, "argocd", metav1.ManagedFieldsOperationApply)); diff != "" {
				t.Errorf("Fields still applied by argocd, which lost only the image (-want +got):\n%s", diff)
			}

			// golive owns the image now: the GitOps tool cannot set it back without forcing.
			err := applyTemplateAs(t, "argocd", false, kind.kind, "billing", namespace, gitOps)
			if !apierrors.IsConflict(err) {
				t.Errorf("An unforced apply of the old image by argocd = %v, want a conflict", err)
			}

			// Applying again changes nothing: no new generation, no write at all.
			if err := workload.ApplyImages(t.Context(), env.Client, target, namespace); err != nil {
				t.Fatalf("ApplyImages() again = %v", err)
			}
			again := get(t, target, namespace)
			if again.GetGeneration() != after.GetGeneration() || again.GetResourceVersion() != after.GetResourceVersion() {
				t.Errorf("Applying the same images again went from generation %d (resourceVersion %s) to %d (%s), want no change",
					after.GetGeneration(), after.GetResourceVersion(), again.GetGeneration(), again.GetResourceVersion())
			}
			if !workload.ImagesApplied(again, target.Images) {
				t.Errorf("ImagesApplied() = false after ApplyImages")
			}
		})
	}
}

func TestApplyImagesRefusesMissingContainers(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newDeployment("billing", namespace))
	target := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing", Images: map[string]v1alpha1.Image{
		"api": apiImage240, "worker": "registry.example.com/billing-worker:2.4.0",
	}}
	before := get(t, target, namespace)

	err := workload.ApplyImages(t.Context(), env.Client, target, namespace)
	if err == nil || !strings.Contains(err.Error(), "no container named worker") {
		t.Errorf("ApplyImages() = %v, want an error naming the missing container worker", err)
	}
	if after := get(t, target, namespace); after.GetResourceVersion() != before.GetResourceVersion() {
		t.Errorf("ApplyImages() changed Deployment %s although a container is missing", target.Name)
	}
}

func TestApplyImagesToAMissingWorkload(t *testing.T) {
	namespace := newNamespace(t)
	target := v1alpha1.Target{Kind: v1alpha1.TargetStatefulSet, Name: "billing", Images: map[string]v1alpha1.Image{"api": apiImage240}}

	err := workload.ApplyImages(t.Context(), env.Client, target, namespace)
	if !apierrors.IsNotFound(err) {
		t.Errorf("ApplyImages() = %v, want a not-found error", err)
	}
	if _, err := workload.Get(t.Context(), env.Client, target, namespace); !apierrors.IsNotFound(err) {
		t.Errorf("Getting StatefulSet %s after ApplyImages to it while missing = %v, want not found: nothing may create it", target.Name, err)
	}
}

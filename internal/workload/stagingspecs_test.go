package workload_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// The staging saved specs live in the request's namespace, keep every spec
// saved first, gain the targets a spec change adds, and restore the staging
// workloads in their own namespace.
func TestSaveStagingSpecsAddsTargetsAndNeverReplacesOne(t *testing.T) {
	namespace := newNamespace(t)
	grey := newNamespace(t)
	create(t, newDeployment("billing-api", grey))
	create(t, newDeployment("billing-web", grey))
	api := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": apiImage240}}
	web := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-web", Images: map[string]v1alpha1.Image{"api": apiImage240}}
	request := newUpdateRequest(t, namespace, api)
	request.Spec.Staging.Namespace = grey
	previous := get(t, api, grey)

	name, err := workload.SaveStagingSpecs(t.Context(), env.Client, env.Client, signingKey, request, []v1alpha1.Target{api}, env.Scheme)
	if err != nil || name != "billing-2-4-0-staging-saved-specs" {
		t.Fatalf("SaveStagingSpecs() = %q, %v", name, err)
	}
	if err := workload.ApplyImages(t.Context(), env.Client, api, grey); err != nil {
		t.Fatal(err)
	}
	// A spec change adds billing-web: it is saved, billing-api's saved spec is kept.
	request.Spec.Targets = append(request.Spec.Targets, web)
	if _, err := workload.SaveStagingSpecs(t.Context(), env.Client, env.Client, signingKey, request, request.Spec.Targets, env.Scheme); err != nil {
		t.Fatalf("SaveStagingSpecs() with a target added = %v", err)
	}
	name, notOurs, complete, err := workload.ObserveStagingSavedSpecs(t.Context(), env.Client, signingKey, request)
	if err != nil || name == "" || notOurs != "" || !complete {
		t.Fatalf("ObserveStagingSavedSpecs() = %q, %q, %v, %v; want complete saved specs", name, notOurs, complete, err)
	}
	if restored, saved, err := workload.StagingRestored(t.Context(), env.Client, env.Client, signingKey, request, api); err != nil || !saved || restored {
		t.Errorf("StagingRestored(billing-api) = %v, %v, %v; want saved, not restored", restored, saved, err)
	}
	if err := workload.RestoreStagingTarget(t.Context(), env.Client, env.Client, signingKey, request, api); err != nil {
		t.Fatalf("RestoreStagingTarget() = %v", err)
	}
	if got := get(t, api, grey); got.GetGeneration() == previous.GetGeneration() ||
		workload.PodTemplate(got).Spec.Containers[0].Image != workload.PodTemplate(previous).Spec.Containers[0].Image {
		t.Errorf("billing-api runs %s after the restore, want %s", workload.PodTemplate(got).Spec.Containers[0].Image, workload.PodTemplate(previous).Spec.Containers[0].Image)
	}
	if restored, _, err := workload.StagingRestored(t.Context(), env.Client, env.Client, signingKey, request, api); err != nil || !restored {
		t.Errorf("StagingRestored(billing-api) after the restore = %v, %v", restored, err)
	}

	// Tampered with, it is never used again.
	var configMap corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, &configMap); err != nil {
		t.Fatal(err)
	}
	base := configMap.DeepCopy()
	configMap.Data["Deployment.billing-api"] = `{"kind":"Deployment","name":"billing-api"}`
	if err := env.Client.Patch(t.Context(), &configMap, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	if _, notOurs, _, _ := workload.ObserveStagingSavedSpecs(t.Context(), env.Client, signingKey, request); notOurs == "" {
		t.Error("ObserveStagingSavedSpecs() of a tampered ConfigMap says it is golive's")
	}
	if _, err := workload.SaveStagingSpecs(t.Context(), env.Client, env.Client, signingKey, request, request.Spec.Targets, env.Scheme); err == nil {
		t.Error("SaveStagingSpecs() adopted a tampered ConfigMap")
	}
}

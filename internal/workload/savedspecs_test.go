package workload_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/workload"
)

func TestSaveApplyRestore(t *testing.T) {
	for _, kind := range workloadKinds {
		t.Run(string(kind.kind), func(t *testing.T) {
			namespace := newNamespace(t)
			create(t, kind.new("billing", namespace))
			target := v1alpha1.Target{Kind: kind.kind, Name: "billing", Images: map[string]v1alpha1.Image{"api": apiImage240, "migrate": migrateImage240}}
			request := newUpdateRequest(t, namespace, target)
			previous := get(t, target, namespace)

			configMapName, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, []v1alpha1.Target{target}, env.Scheme)
			if err != nil {
				t.Fatalf("SaveSpecs() = %v", err)
			}
			// Production changes: golive's images, a scale, and someone's env var.
			if err := workload.ApplyImages(t.Context(), env.Client, target, namespace); err != nil {
				t.Fatalf("ApplyImages() = %v", err)
			}
			if kind.kind != v1alpha1.TargetDaemonSet {
				if err := workload.Scale(t.Context(), env.Client, target, namespace, 5); err != nil {
					t.Fatalf("Scale() = %v", err)
				}
			}
			hotfix := corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(
				corev1ac.Container().WithName("api").WithEnv(corev1ac.EnvVar().WithName("DEBUG").WithValue("1"))))
			if err := applyTemplateAs(t, "oncall", false, kind.kind, "billing", namespace, hotfix); err != nil {
				t.Fatalf("Applying as oncall: %v", err)
			}

			if err := workload.RestoreTarget(t.Context(), env.Client, env.Client, signingKey, request, configMapName, namespace, target); err != nil {
				t.Fatalf("RestoreTarget() = %v", err)
			}

			restored := get(t, target, namespace)
			if diff := cmp.Diff(workload.PodTemplate(previous), workload.PodTemplate(restored)); diff != "" {
				t.Errorf("The restored pod template differs from the saved one (-saved +restored):\n%s", diff)
			}
			if diff := cmp.Diff(replicasOf(previous), replicasOf(restored)); diff != "" {
				t.Errorf("The restored replicas differ from the saved ones (-saved +restored):\n%s", diff)
			}
			saved, err := workload.LoadSavedSpec(t.Context(), env.Client, signingKey, request, configMapName, namespace, target)
			if err != nil {
				t.Fatalf("LoadSavedSpec() = %v", err)
			}
			if !workload.Restored(restored, saved) {
				t.Errorf("Restored() = false after RestoreTarget")
			}

			// Restoring again changes nothing.
			if err := workload.RestoreTarget(t.Context(), env.Client, env.Client, signingKey, request, configMapName, namespace, target); err != nil {
				t.Fatalf("RestoreTarget() again = %v", err)
			}
			if again := get(t, target, namespace); again.GetResourceVersion() != restored.GetResourceVersion() {
				t.Errorf("RestoreTarget() again wrote %s %s (generation %d to %d)", target.Kind, target.Name, restored.GetGeneration(), again.GetGeneration())
			}
		})
	}
}

func TestSaveSpecsConfigMap(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newDeployment("billing-api", namespace))
	create(t, newStatefulSet("billing-db", namespace))
	targets := []v1alpha1.Target{
		{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": apiImage240}},
		{Kind: v1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]v1alpha1.Image{"api": apiImage240}},
	}
	request := newUpdateRequest(t, namespace, targets...)
	deployment := get(t, targets[0], namespace)

	configMapName, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, targets, env.Scheme)
	if err != nil {
		t.Fatalf("SaveSpecs() = %v", err)
	}

	if configMapName != "billing-2-4-0-saved-specs" {
		t.Errorf("SaveSpecs() named the ConfigMap %q, want billing-2-4-0-saved-specs", configMapName)
	}
	configMap := &corev1.ConfigMap{}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: configMapName}, configMap); err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		v1alpha1.LabelRequest: request.Name, v1alpha1.LabelRequestNamespace: request.Namespace,
		v1alpha1.LabelRequestUID: string(request.UID), v1alpha1.LabelSpecHash: ledger.ShortSpecHash(ledger.SpecHash(&request.Spec)),
	}
	if diff := cmp.Diff(wantLabels, configMap.Labels); diff != "" {
		t.Errorf("ConfigMap labels (-want +got):\n%s", diff)
	}
	wantOwners := []metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "UpdateRequest", Name: request.Name, UID: request.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	if diff := cmp.Diff(wantOwners, configMap.OwnerReferences); diff != "" {
		t.Errorf("ConfigMap owners (-want +got):\n%s", diff)
	}
	if !ptr.Deref(configMap.Immutable, false) {
		t.Errorf("The saved specs ConfigMap is not immutable")
	}
	keys := slices.Sorted(maps.Keys(configMap.Data))
	if diff := cmp.Diff([]string{"Deployment.billing-api", "StatefulSet.billing-db"}, keys); diff != "" {
		t.Errorf("ConfigMap keys (-want +got):\n%s", diff)
	}
	saved, err := workload.LoadSavedSpec(t.Context(), env.Client, signingKey, request, configMapName, namespace, targets[0])
	if err != nil {
		t.Fatalf("LoadSavedSpec() = %v", err)
	}
	want := workload.SavedSpec{
		Kind: v1alpha1.TargetDeployment, Name: "billing-api",
		ResourceVersion: deployment.GetResourceVersion(), Generation: deployment.GetGeneration(),
		Replicas: ptr.To[int32](3), PodTemplate: *workload.PodTemplate(deployment),
	}
	if diff := cmp.Diff(want, saved); diff != "" {
		t.Errorf("LoadSavedSpec() (-want +got):\n%s", diff)
	}
}

// A crash after production changed, before the request recorded that it saved
// the specs, makes the controller save again: the specs of before production
// must stay.
func TestSaveSpecsAgainAfterACrashKeepsThePreviousSpecs(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newDeployment("billing-api", namespace))
	create(t, newDaemonSet("billing-agent", namespace))
	targets := []v1alpha1.Target{
		{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": apiImage240}},
		{Kind: v1alpha1.TargetDaemonSet, Name: "billing-agent", Images: map[string]v1alpha1.Image{"migrate": migrateImage240}},
	}
	request := newUpdateRequest(t, namespace, targets...)
	previous := map[v1alpha1.TargetKind]client.Object{}
	for _, target := range targets {
		previous[target.Kind] = get(t, target, namespace)
	}
	configMapName, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, targets, env.Scheme)
	if err != nil {
		t.Fatalf("SaveSpecs() = %v", err)
	}
	savedFirst := &corev1.ConfigMap{}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: configMapName}, savedFirst); err != nil {
		t.Fatal(err)
	}
	for _, target := range targets {
		if err := workload.ApplyImages(t.Context(), env.Client, target, namespace); err != nil {
			t.Fatalf("ApplyImages() = %v", err)
		}
	}

	// The restarted controller saves again.
	again, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, targets, env.Scheme)
	if err != nil {
		t.Fatalf("SaveSpecs() after the images changed = %v", err)
	}

	if again != configMapName {
		t.Errorf("SaveSpecs() again named %q, first %q", again, configMapName)
	}
	savedAgain := &corev1.ConfigMap{}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: configMapName}, savedAgain); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(savedFirst.Data, savedAgain.Data); diff != "" {
		t.Errorf("Saving again changed the saved specs (-first +again):\n%s", diff)
	}
	for _, target := range targets {
		if err := workload.RestoreTarget(t.Context(), env.Client, env.Client, signingKey, request, configMapName, namespace, target); err != nil {
			t.Fatalf("RestoreTarget() = %v", err)
		}
		if diff := cmp.Diff(workload.PodTemplate(previous[target.Kind]), workload.PodTemplate(get(t, target, namespace))); diff != "" {
			t.Errorf("%s %s restored not to the template before production (-before +restored):\n%s", target.Kind, target.Name, diff)
		}
	}
}

func TestSaveSpecsRefusesAConfigMapItCannotUse(t *testing.T) {
	tests := []struct {
		name      string
		configMap func(request *v1alpha1.UpdateRequest, namespace string) *corev1.ConfigMap
		wantError string
	}{
		{
			name: "another request of the same name controls it",
			configMap: func(request *v1alpha1.UpdateRequest, namespace string) *corev1.ConfigMap {
				return &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{
						Name: workload.SavedSpecsName(request.Name), Namespace: namespace,
						OwnerReferences: []metav1.OwnerReference{{
							APIVersion: v1alpha1.GroupVersion.String(), Kind: "UpdateRequest", Name: request.Name,
							UID: types.UID("an-earlier-request"), Controller: ptr.To(true),
						}},
					},
					Data: map[string]string{"Deployment.billing-api": "{}"},
				}
			},
			wantError: "is not golive's (signature does not match)",
		},
		{
			name: "planted in advance with the request as its controller",
			configMap: func(request *v1alpha1.UpdateRequest, namespace string) *corev1.ConfigMap {
				configMap := savedSpecsOf(request, nil, map[string]string{
					"Deployment.billing-api": `{"kind":"Deployment","name":"billing-api","podTemplate":{"spec":{"containers":[{"name":"api","image":"evil/backdoor:1"}]}}}`,
					"StatefulSet.billing-db": `{"kind":"StatefulSet","name":"billing-db","podTemplate":{"spec":{"containers":[{"name":"api","image":"evil/backdoor:1"}]}}}`,
				})
				if err := controllerutil.SetControllerReference(request, configMap, env.Scheme); err != nil {
					t.Fatal(err)
				}
				return configMap
			},
			wantError: "is not golive's (signature does not match); golive will not use it as the saved specs — delete it",
		},
		{
			name: "it lacks a target",
			configMap: func(request *v1alpha1.UpdateRequest, namespace string) *corev1.ConfigMap {
				configMap := savedSpecsOf(request, signingKey, map[string]string{"Deployment.billing-api": "{}"})
				if err := controllerutil.SetControllerReference(request, configMap, env.Scheme); err != nil {
					t.Fatal(err)
				}
				return configMap
			},
			wantError: "has no spec of StatefulSet billing-db",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			namespace := newNamespace(t)
			create(t, newDeployment("billing-api", namespace))
			create(t, newStatefulSet("billing-db", namespace))
			targets := []v1alpha1.Target{
				{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": apiImage240}},
				{Kind: v1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]v1alpha1.Image{"api": apiImage240}},
			}
			request := newUpdateRequest(t, namespace, targets...)
			existing := test.configMap(request, namespace)
			create(t, existing)

			_, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, targets, env.Scheme)

			if err == nil || !strings.Contains(err.Error(), test.wantError) {
				t.Errorf("SaveSpecs() = %v, want an error containing %q", err, test.wantError)
			}
			after := &corev1.ConfigMap{}
			if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(existing), after); err != nil {
				t.Fatal(err)
			}
			if after.ResourceVersion != existing.ResourceVersion {
				t.Errorf("SaveSpecs() changed the ConfigMap it cannot use")
			}
		})
	}
}

func TestRestoreTargetWithoutASavedSpec(t *testing.T) {
	namespace := newNamespace(t)
	create(t, newDeployment("billing-api", namespace))
	create(t, newDeployment("billing-web", namespace))
	saved := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]v1alpha1.Image{"api": apiImage240}}
	unsaved := v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-web", Images: map[string]v1alpha1.Image{"api": apiImage240}}
	request := newUpdateRequest(t, namespace, saved)
	configMapName, err := workload.SaveSpecs(t.Context(), env.Client, env.Client, signingKey, request, namespace, []v1alpha1.Target{saved}, env.Scheme)
	if err != nil {
		t.Fatalf("SaveSpecs() = %v", err)
	}

	err = workload.RestoreTarget(t.Context(), env.Client, env.Client, signingKey, request, configMapName, namespace, unsaved)
	if err == nil || !strings.Contains(err.Error(), "has no spec of Deployment billing-web") {
		t.Errorf("RestoreTarget() of a target never saved = %v, want an error naming it", err)
	}
}

// replicasOf is spec.replicas of a Deployment or StatefulSet, nil for a DaemonSet.
func replicasOf(obj client.Object) *int32 {
	switch workload := obj.(type) {
	case *appsv1.Deployment:
		return workload.Spec.Replicas
	case *appsv1.StatefulSet:
		return workload.Spec.Replicas
	default:
		return nil
	}
}

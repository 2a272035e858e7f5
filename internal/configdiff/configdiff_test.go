package configdiff

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// TestLinesAgainstWhatProductionRuns: the release's ConfigMap against the
// copy production's Deployment references now, with values; a Secret by its
// keys only; an entry no target references says so.
func TestLinesAgainstWhatProductionRuns(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	const runningCopy = "billing-config-0123456789"
	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: runningCopy}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-credentials"}}},
			}}}}}}}
	running := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: runningCopy},
		Data: map[string]string{"LOG_LEVEL": "info", "TIMEOUT": "30s", "OLD_FLAG": "on"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing-credentials"},
		Data: map[string][]byte{"password": []byte("s3cr3t-value"), "user": []byte("billing")}}
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(deployment, running, secret).Build()

	request := &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing-2-4-0"},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Targets: []golivev1alpha1.Target{{Kind: golivev1alpha1.TargetDeployment, Name: "billing"}},
			Config: []golivev1alpha1.ConfigEntry{
				{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Data: map[string]string{"LOG_LEVEL": "debug", "TIMEOUT": "30s", "NEW_FLAG": "on"}},
				{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-4-0"},
				{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-unused", Data: map[string]string{"A": "1"}},
			},
		},
		Status: golivev1alpha1.UpdateRequestStatus{Config: []golivev1alpha1.ConfigCopyStatus{
			{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: "billing-credentials-abcdef0123", Keys: []string{"password", "token"}},
		}},
	}
	got := Lines(request, ReadProduction(t.Context(), api, request))
	want := []string{
		"ConfigMap billing-config, against " + runningCopy + " in production",
		"  ~ LOG_LEVEL: info → debug",
		"  + NEW_FLAG=on",
		"  - OLD_FLAG=on",
		"Secret billing-credentials → billing-credentials-abcdef0123, against billing-credentials in production",
		"  + token",
		"  - user",
		"  keys in both (values are never shown): password",
		"ConfigMap billing-unused: no production target references it now",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%q\nwant:\n%q", got, want)
	}
	for _, line := range got {
		if strings.Contains(line, "s3cr3t-value") {
			t.Errorf("a Secret's value shown: %q", line)
		}
	}
}

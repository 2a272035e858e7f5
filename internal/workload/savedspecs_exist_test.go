package workload_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/workload"
)

// signingKey signs the saved specs of these tests, as the ledger key does golive's.
var signingKey = []byte("a signing key for the tests only")

// savedSpecsOf is a saved specs ConfigMap of request, signed with key unless key is nil.
func savedSpecsOf(request *v1alpha1.UpdateRequest, key []byte, data map[string]string) *corev1.ConfigMap {
	configMap := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: request.Namespace, Name: workload.SavedSpecsName(request.Name), Labels: map[string]string{
			v1alpha1.LabelRequest: request.Name, v1alpha1.LabelRequestUID: string(request.UID), v1alpha1.LabelSpecHash: "0123456789abcdef",
		}},
		Data: data,
	}
	if key != nil {
		digest, _ := ledger.ContentDigest(data)
		configMap.Annotations = map[string]string{v1alpha1.AnnotationSignature: ledger.SignObject(key, ledger.SignedObject{
			RequestUID: string(request.UID), SpecHash: "0123456789abcdef", Kind: "ConfigMap",
			Namespace: configMap.Namespace, Name: configMap.Name, ContentDigest: digest,
		})}
	}
	return configMap
}

func TestObserveSavedSpecsAndDeleteSavedSpecs(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").UID("uid-1").Obj()
	saved := savedSpecsOf(request, signingKey, map[string]string{"Deployment.billing-api": "{}"})
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(saved).Build()

	name, notOurs, err := workload.ObserveSavedSpecs(t.Context(), c, signingKey, request)
	if err != nil || name != saved.Name || notOurs != "" {
		t.Errorf("ObserveSavedSpecs() = %q, %q, %v; want %q", name, notOurs, err, saved.Name)
	}
	if err := workload.DeleteSavedSpecs(t.Context(), c, signingKey, request); err != nil {
		t.Fatalf("DeleteSavedSpecs() = %v", err)
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(saved), &corev1.ConfigMap{}); err == nil {
		t.Error("the saved specs are still there after DeleteSavedSpecs()")
	}
	if name, _, _ := workload.ObserveSavedSpecs(t.Context(), c, signingKey, request); name != "" {
		t.Errorf("ObserveSavedSpecs() = %q after DeleteSavedSpecs(), want none", name)
	}
	if err := workload.DeleteSavedSpecs(t.Context(), c, signingKey, request); err != nil {
		t.Errorf("DeleteSavedSpecs() of specs already gone = %v, want nil", err)
	}
}

// A ConfigMap planted at the saved specs' name is never taken for them, and
// golive does not delete what it did not make.
func TestObserveSavedSpecsRefusesAPlantedConfigMap(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").UID("uid-1").Obj()
	evil := map[string]string{"Deployment.billing-api": `{"podTemplate":{"spec":{"containers":[{"name":"api","image":"evil/backdoor:1"}]}}}`}
	tampered := savedSpecsOf(request, signingKey, map[string]string{"Deployment.billing-api": "{}"})
	tampered.Data = evil
	tests := []struct {
		name      string
		configMap *corev1.ConfigMap
		why       string
	}{
		{name: "unsigned", configMap: savedSpecsOf(request, nil, evil), why: "signature does not match"},
		{name: "signed with another key", configMap: savedSpecsOf(request, []byte("another key"), evil), why: "signature does not match"},
		{name: "golive's, its data changed", configMap: tampered, why: "signature does not match"},
		{
			name:      "golive's, for another request",
			configMap: savedSpecsOf(testfixtures.MakeUpdateRequest(request.Namespace, request.Name).UID("uid-earlier").Obj(), signingKey, evil),
			why:       "saved for another UpdateRequest (uid uid-earlier)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(tt.configMap).Build()
			name, notOurs, err := workload.ObserveSavedSpecs(t.Context(), c, signingKey, request)
			if err != nil || name != "" {
				t.Fatalf("ObserveSavedSpecs() = %q, %v; want no saved specs", name, err)
			}
			want := "ConfigMap billing/billing-2-4-0-saved-specs is not golive's (" + tt.why + ")"
			if !strings.Contains(notOurs, want) {
				t.Errorf("ObserveSavedSpecs() says %q, want %q", notOurs, want)
			}
			if _, err := workload.LoadSavedSpec(t.Context(), c, signingKey, request, tt.configMap.Name, "billing", v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api"}); err == nil {
				t.Errorf("LoadSavedSpec() of the planted ConfigMap succeeded, want an error")
			}
			if err := workload.DeleteSavedSpecs(t.Context(), c, signingKey, request); err != nil {
				t.Fatalf("DeleteSavedSpecs() = %v", err)
			}
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(tt.configMap), &corev1.ConfigMap{}); err != nil {
				t.Errorf("DeleteSavedSpecs() deleted a ConfigMap golive did not make: %v", err)
			}
		})
	}
}

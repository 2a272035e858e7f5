package workload_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/workload"
)

func TestSavedSpecsExistAndDeleteSavedSpecs(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Obj()
	saved := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: workload.SavedSpecsName(request.Name)}}
	c := fake.NewClientBuilder().WithScheme(testenv.NewScheme()).WithObjects(saved).Build()

	exists := func() bool {
		t.Helper()
		found, err := workload.SavedSpecsExist(t.Context(), c, request)
		if err != nil {
			t.Fatalf("SavedSpecsExist() = %v", err)
		}
		return found
	}
	if !exists() {
		t.Error("SavedSpecsExist() = false with the ConfigMap present, want true")
	}
	if err := workload.DeleteSavedSpecs(t.Context(), c, request); err != nil {
		t.Fatalf("DeleteSavedSpecs() = %v", err)
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(saved), &corev1.ConfigMap{}); err == nil {
		t.Error("the saved specs are still there after DeleteSavedSpecs()")
	}
	if exists() {
		t.Error("SavedSpecsExist() = true after DeleteSavedSpecs(), want false")
	}
	if err := workload.DeleteSavedSpecs(t.Context(), c, request); err != nil {
		t.Errorf("DeleteSavedSpecs() of specs already gone = %v, want nil", err)
	}
}

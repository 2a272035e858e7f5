package workload

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/golive-dev/golive/api/v1alpha1"
)

func TestSavedSpecsName(t *testing.T) {
	if got, want := SavedSpecsName("billing-2-4-0"), "billing-2-4-0-saved-specs"; got != want {
		t.Errorf("SavedSpecsName() = %q, want %q", got, want)
	}
	long := strings.Repeat("a", 240) + "." + strings.Repeat("b", 12)
	longer := strings.Repeat("a", 240) + "." + strings.Repeat("c", 12)
	name, other := SavedSpecsName(long), SavedSpecsName(longer)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		t.Errorf("SavedSpecsName() of a long name = %q, not an object name: %v", name, errs)
	}
	if name == other {
		t.Errorf("SavedSpecsName() gives %q to two different long request names", name)
	}
}

func TestSavedSpecKey(t *testing.T) {
	tests := []struct {
		target v1alpha1.Target
		want   string
	}{
		{v1alpha1.Target{Kind: v1alpha1.TargetDeployment, Name: "billing-api"}, "Deployment.billing-api"},
		{v1alpha1.Target{Kind: v1alpha1.TargetStatefulSet, Name: "db.primary"}, "StatefulSet.db.primary"},
	}
	for _, test := range tests {
		if got := savedSpecKey(test.target); got != test.want {
			t.Errorf("savedSpecKey(%v) = %q, want %q", test.target, got, test.want)
		}
	}
	key := savedSpecKey(v1alpha1.Target{Kind: v1alpha1.TargetStatefulSet, Name: strings.Repeat("n", 253)})
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		t.Errorf("savedSpecKey() of a long name = %q, not a ConfigMap key: %v", key, errs)
	}
}

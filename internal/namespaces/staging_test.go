package namespaces

import (
	"strings"
	"testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The webhook's test (internal/admission) checks CheckStaging against an API
// server; this one needs none.
func TestCheckStagingNamespaceOwnNamespace(t *testing.T) {
	// The request's own namespace never counts, whatever its labels say; no read needed.
	request := testfixtures.MakeUpdateRequest("billing", "r").Staging("billing").Obj()
	err := CheckStaging(t.Context(), nil, request)
	if err == nil || !strings.Contains(err.Error(), "the request's own namespace") {
		t.Errorf("error = %v, want a refusal of the own namespace", err)
	}
}

// The rule itself, in api/v1alpha1, is tested here: that package's tests need an API server.
func TestStagingOptedIn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		namespace string
		labels    map[string]string
		want      bool
	}{
		{"opted in for the request's namespace", "billing-grey", map[string]string{golivev1alpha1.LabelStagingFor: "billing"}, true},
		{"no label", "billing-grey", nil, false},
		{"opted in for another namespace", "billing-grey", map[string]string{golivev1alpha1.LabelStagingFor: "shop"}, false},
		{"empty label", "billing-grey", map[string]string{golivev1alpha1.LabelStagingFor: ""}, false},
		{"the request's own namespace, whatever its labels", "billing", map[string]string{golivev1alpha1.LabelStagingFor: "billing"}, false},
	} {
		if got := golivev1alpha1.StagingOptedIn(tc.namespace, tc.labels, "billing"); got != tc.want {
			t.Errorf("%s: StagingOptedIn = %v, want %v", tc.name, got, tc.want)
		}
	}
}

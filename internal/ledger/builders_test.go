package ledger

import (
	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// makeRequest is a request of alice in namespace that asks rnd-lead and
// operations-office to approve and stages into <namespace>-grey. Its phase
// (Phase) does not matter to the ledger; the webhook's rules look at it.
func makeRequest(namespace, name string) *testfixtures.UpdateRequestWrapper {
	return testfixtures.MakeUpdateRequest(namespace, name).
		UID("uid-"+namespace+"-"+name).
		Annotation(golivev1alpha1.AnnotationRequestedBy, "alice@example.com").
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
		Staging(namespace+"-grey").
		Approval("rnd-lead", 1).Approval("operations-office", 1).
		Window("evening")
}

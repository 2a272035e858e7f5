package ledger

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// requestBuilder makes UpdateRequests for tests: makeRequest(...).phase(...).obj().
type requestBuilder struct {
	request golivev1alpha1.UpdateRequest
}

// makeRequest is a request of alice in namespace that asks rnd-lead and
// operations-office to approve and stages into <namespace>-grey.
func makeRequest(namespace, name string) *requestBuilder {
	return &requestBuilder{request: golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name, UID: types.UID("uid-" + namespace + "-" + name),
			Annotations: map[string]string{golivev1alpha1.AnnotationRequestedBy: "alice@example.com"},
		},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: "2.4.0",
			Targets: []golivev1alpha1.Target{{
				Kind: golivev1alpha1.TargetDeployment, Name: "billing-api",
				Images: map[string]golivev1alpha1.Image{"api": "registry.example.com/billing-api:2.4.0"},
			}},
			Staging: golivev1alpha1.Staging{Namespace: namespace + "-grey"},
			Approvals: golivev1alpha1.Approvals{Required: []golivev1alpha1.RoleQuorum{
				{Role: "rnd-lead", Count: 1}, {Role: "operations-office", Count: 1},
			}},
			Window: golivev1alpha1.WindowReference{Name: "evening"},
		},
	}}
}

// phase puts the request in phase; the ledger does not look at it, the
// webhook's rules do.
func (b *requestBuilder) phase(phase golivev1alpha1.Phase) *requestBuilder {
	b.request.Status.Phase = phase
	return b
}

func (b *requestBuilder) release(release string) *requestBuilder {
	b.request.Spec.Release = release
	return b
}

func (b *requestBuilder) obj() *golivev1alpha1.UpdateRequest {
	return b.request.DeepCopy()
}

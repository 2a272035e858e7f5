package admission

import (
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	testTime = time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
)

// approvalBy is an unsigned approval entry for request's current spec.
func approvalBy(request *golivev1alpha1.UpdateRequest, user, role string) golivev1alpha1.LedgerEntry {
	return golivev1alpha1.LedgerEntry{
		User: user, Groups: []string{"system:authenticated"}, Role: role, Action: golivev1alpha1.LedgerApprove,
		Comment: "looks good", Time: metav1.NewTime(testTime), SpecHash: ledger.SpecHash(&request.Spec),
	}
}

// verdict is what a test compares of ledger.Verify's answer.
type verdict struct {
	Valid    []string // user/role of each valid entry
	Rejected []string // index and reason of each rejected entry
}

func verdictOf(valid []golivev1alpha1.LedgerEntry, rejected []ledger.RejectedEntry) verdict {
	var v verdict
	for _, entry := range valid {
		v.Valid = append(v.Valid, entry.User+"/"+entry.Role)
	}
	for _, r := range rejected {
		v.Rejected = append(v.Rejected, strconv.Itoa(r.Index)+" "+r.Reason)
	}
	return v
}

func ptrTo(s string) *string { return &s }

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

// phase puts the request in phase; from Soaking on, staging is verified for
// the current spec, as the controller records it.
func (b *requestBuilder) phase(phase golivev1alpha1.Phase) *requestBuilder {
	b.request.Status.Phase = phase
	switch phase {
	case golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging,
		golivev1alpha1.PhaseFailed, golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted:
		b.request.Status.SpecHash = ledger.SpecHash(&b.request.Spec)
		b.request.Status.Conditions = nil
	default:
		b.verified()
	}
	return b
}

// verified records staging as verified for the current spec.
func (b *requestBuilder) verified() *requestBuilder {
	b.request.Status.SpecHash = ledger.SpecHash(&b.request.Spec)
	b.request.Status.Conditions = []metav1.Condition{{
		Type: golivev1alpha1.ConditionStagingVerified, Status: metav1.ConditionTrue,
		Reason: golivev1alpha1.ReasonSucceeded, LastTransitionTime: metav1.Unix(0, 0),
	}}
	return b
}

func (b *requestBuilder) release(release string) *requestBuilder {
	b.request.Spec.Release = release
	return b
}

func (b *requestBuilder) staging(namespace string) *requestBuilder {
	b.request.Spec.Staging.Namespace = namespace
	return b
}

func (b *requestBuilder) acceptance(role string) *requestBuilder {
	b.request.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: role}
	return b
}

func (b *requestBuilder) emergency() *requestBuilder {
	b.request.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "Payment outage", Incident: "INC-4711"}
	return b
}

func (b *requestBuilder) allowSelfApproval() *requestBuilder {
	b.request.Spec.Approvals.AllowSelfApproval = true
	return b
}

func (b *requestBuilder) requestedBy(user string) *requestBuilder {
	b.request.Annotations[golivev1alpha1.AnnotationRequestedBy] = user
	return b
}

func (b *requestBuilder) noRequester() *requestBuilder {
	delete(b.request.Annotations, golivev1alpha1.AnnotationRequestedBy)
	return b
}

func (b *requestBuilder) annotate(key, value string) *requestBuilder {
	b.request.Annotations[key] = value
	return b
}

func (b *requestBuilder) obj() *golivev1alpha1.UpdateRequest {
	return b.request.DeepCopy()
}

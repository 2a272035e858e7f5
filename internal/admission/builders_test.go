package admission

import (
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// inPhase puts the request in phase; from Soaking on, staging is verified for
// the current spec, as the controller records it. Use it after the spec is
// complete: .Mutate(inPhase(phase)).
func inPhase(phase golivev1alpha1.Phase) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Phase = phase
		r.Status.SpecHash = ledger.SpecHash(&r.Spec)
		switch phase {
		case golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging,
			golivev1alpha1.PhaseFailed, golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted:
			r.Status.Conditions = nil
		default:
			r.Status.Conditions = []metav1.Condition{{
				Type: golivev1alpha1.ConditionStagingVerified, Status: metav1.ConditionTrue,
				Reason: golivev1alpha1.ReasonSucceeded, LastTransitionTime: metav1.Unix(0, 0),
			}}
		}
	}
}

// noRequester drops the requester's annotation, as on a request created
// before golive's webhook was installed.
func noRequester(r *golivev1alpha1.UpdateRequest) {
	delete(r.Annotations, golivev1alpha1.AnnotationRequestedBy)
}

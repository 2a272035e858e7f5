package admission

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A retry is taken only while a verification is stalled as
// VerificationInconclusive, from whoever may abort the request, and is
// recorded as a signed entry like an abort.
func TestRetryOfAnInconclusiveVerification(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("r").Obj())
	f.setPhase("r", golivev1alpha1.PhaseVerifying)

	wantRefused(t, f.command(alice, "r", golivev1alpha1.AnnotationRetry, "Prometheus is back"),
		"golive.dev/retry refused: retry is possible only while the verification is stalled as VerificationInconclusive (Stalled condition); the request in Verifying is not")

	stalled := f.get("r")
	meta.SetStatusCondition(&stalled.Status.Conditions, metav1.Condition{
		Type: golivev1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonVerificationInconclusive,
		Message: "production verification is inconclusive: metric check error-rate is inconclusive (query up): connection refused",
	})
	if err := f.env.Client.Status().Update(t.Context(), stalled); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.command(pat, "r", golivev1alpha1.AnnotationRetry, ""),
		"pat@example.com may not retry this request: that needs the verb update on updaterequests.golive.dev/r")
	if valid, _ := f.ledger("r"); len(valid) != 0 {
		t.Fatalf("a refused retry was recorded: %+v", valid)
	}

	f.mustCommand(alice, "r", golivev1alpha1.AnnotationRetry, "Prometheus is back")
	valid, rejected := f.ledger("r")
	if len(rejected) != 0 {
		t.Errorf("rejected entries: %+v", rejected)
	}
	want := []golivev1alpha1.LedgerEntry{{User: alice, Action: golivev1alpha1.LedgerRetry, Comment: "Prometheus is back"}}
	if diff := cmp.Diff(want, valid, cmpopts.IgnoreFields(golivev1alpha1.LedgerEntry{}, "Groups", "Time", "SpecHash", "Signature")); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if _, ok := f.get("r").Annotations[golivev1alpha1.AnnotationRetry]; ok {
		t.Errorf("%s is still on the request", golivev1alpha1.AnnotationRetry)
	}
}

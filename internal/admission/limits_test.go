package admission

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The mutating webhook refuses a command it could not record within the
// ledger's limits, and says why; up to them it records it.
func TestCommandsWithinTheLedgerLimits(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := golivev1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// The namespace, under no GoLivePolicy.
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}}).Build()
	webhooks := &Webhooks{
		Reader:  reader,
		Access:  &countingReviewer{allow: func(string) bool { return true }},
		Key:     testKey,
		Clock:   clocktesting.NewFakeClock(testTime),
		Decoder: admission.NewDecoder(scheme),
	}
	base := testfixtures.MakeAlicesRequest("billing", "r").Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval)).Obj()
	withEntries := func(n int) *golivev1alpha1.UpdateRequest {
		var entries []golivev1alpha1.LedgerEntry
		for i := range n {
			entries = append(entries, ledger.Sign(testKey, base, approvalBy(base, fmt.Sprintf("user-%d@example.com", i), "rnd-lead")))
		}
		stored := base.DeepCopy()
		if n > 0 {
			value, err := ledger.Format(entries)
			if err != nil {
				t.Fatal(err)
			}
			stored.Annotations[golivev1alpha1.AnnotationLedger] = value
		}
		return stored
	}
	groups := func(n int) []string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("group-%d", i)
		}
		return list
	}

	for _, tc := range []struct {
		name        string
		stored      *golivev1alpha1.UpdateRequest
		groups      []string
		wantRefusal string // empty: recorded
	}{
		{name: "the last entry golive keeps", stored: withEntries(ledger.MaxEntries - 1)},
		{name: "a full ledger", stored: withEntries(ledger.MaxEntries),
			wantRefusal: fmt.Sprintf("golive.dev/approve refused: the ledger already holds %d entries, the most golive keeps for one request", ledger.MaxEntries)},
		{name: "a user in as many groups as an entry records", stored: withEntries(0), groups: groups(ledger.MaxGroups)},
		{name: "a user in more groups", stored: withEntries(0), groups: groups(ledger.MaxGroups + 1),
			wantRefusal: fmt.Sprintf("golive.dev/approve refused: carol@example.com is in %d groups; a ledger entry records at most %d", ledger.MaxGroups+1, ledger.MaxGroups)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			updated := tc.stored.DeepCopy()
			updated.Annotations[golivev1alpha1.AnnotationApprove] = "operations-office"
			response := mutator{webhooks}.Handle(t.Context(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: admissionv1.Update,
				UserInfo:  authenticationv1.UserInfo{Username: "carol@example.com", Groups: tc.groups},
				Object:    runtime.RawExtension{Raw: encode(t, updated)},
				OldObject: runtime.RawExtension{Raw: encode(t, tc.stored)},
			}})
			if tc.wantRefusal == "" {
				if !response.Allowed || len(response.Patches) == 0 {
					t.Fatalf("response %+v, want the command recorded", response.Result)
				}
				return
			}
			if response.Allowed || !strings.Contains(response.Result.Message, tc.wantRefusal) {
				t.Errorf("response %+v, want a refusal containing %q", response.Result, tc.wantRefusal)
			}
		})
	}
}

// encode is request as an admission review carries it.
func encode(t *testing.T, request *golivev1alpha1.UpdateRequest) []byte {
	t.Helper()
	request = request.DeepCopy()
	request.APIVersion, request.Kind = golivev1alpha1.GroupVersion.String(), "UpdateRequest"
	data, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

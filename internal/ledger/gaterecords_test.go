package ledger

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestGateRecordSignatures(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	at := time.Date(2026, 11, 23, 9, 0, 0, 700_000_000, time.UTC)
	signed := func() (*golivev1alpha1.UpdateRequest, golivev1alpha1.GateRecord) {
		request := testfixtures.MakeAlicesRequest("billing", "billing-2-4-0").Obj()
		records := []golivev1alpha1.GateRecord{{Gate: golivev1alpha1.GateProductionStarted, SpecHash: "sha256:aaa", At: metav1.NewTime(at)}}
		SignGateRecords(key, request, records)
		return request, records[0]
	}
	cases := []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequest, *golivev1alpha1.GateRecord)
		valid  bool
	}{
		{name: "as signed", valid: true},
		{name: "another request's UID", change: func(r *golivev1alpha1.UpdateRequest, _ *golivev1alpha1.GateRecord) { r.UID = "another" }},
		{name: "another spec hash", change: func(_ *golivev1alpha1.UpdateRequest, g *golivev1alpha1.GateRecord) { g.SpecHash = "sha256:bbb" }},
		{name: "altered time", change: func(_ *golivev1alpha1.UpdateRequest, g *golivev1alpha1.GateRecord) { g.At.Time = g.At.Add(-time.Hour) }},
		{name: "altered gate", change: func(_ *golivev1alpha1.UpdateRequest, g *golivev1alpha1.GateRecord) {
			g.Gate = golivev1alpha1.GateStagingVerified
		}},
		{name: "no signature", change: func(_ *golivev1alpha1.UpdateRequest, g *golivev1alpha1.GateRecord) { g.Signature = "" }},
		{name: "another key", change: func(r *golivev1alpha1.UpdateRequest, g *golivev1alpha1.GateRecord) {
			records := []golivev1alpha1.GateRecord{{Gate: g.Gate, SpecHash: g.SpecHash, At: g.At}}
			SignGateRecords([]byte("another key"), r, records)
			*g = records[0]
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request, record := signed()
			if !record.At.Time.Equal(at.Truncate(time.Second)) {
				t.Errorf("signed time = %v, want it cut to the second", record.At)
			}
			if tc.change != nil {
				tc.change(request, &record)
			}
			if got := ValidGateSignature(key, request, record); got != tc.valid {
				t.Errorf("ValidGateSignature = %v, want %v", got, tc.valid)
			}
			request.Status.GateRecords = []golivev1alpha1.GateRecord{record}
			if got := len(VerifiedGateRecords(key, request)) == 1; got != tc.valid {
				t.Errorf("VerifiedGateRecords kept the record: %v, want %v", got, tc.valid)
			}
		})
	}
}

package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// SignGateRecords signs, in place, the records of status.gateRecords that
// carry no signature yet: the ones the lifecycle just decided. The time is cut
// to the second, as the status keeps it, so that the signature still verifies
// once the status is read back.
func SignGateRecords(key []byte, request *golivev1alpha1.UpdateRequest, records []golivev1alpha1.GateRecord) {
	for i := range records {
		if records[i].Signature != "" {
			continue
		}
		records[i].At.Time = records[i].At.UTC().Truncate(time.Second)
		records[i].Signature = gateSignature(key, request, records[i])
	}
}

// VerifiedGateRecords returns the records of request's status that carry
// golive's signature for this very request (its UID included, so a record
// copied from another request, or a re-created one, does not count).
func VerifiedGateRecords(key []byte, request *golivev1alpha1.UpdateRequest) []golivev1alpha1.GateRecord {
	var verified []golivev1alpha1.GateRecord
	for _, record := range request.Status.GateRecords {
		if ValidGateSignature(key, request, record) {
			verified = append(verified, record)
		}
	}
	return verified
}

// ValidGateSignature reports whether record carries golive's signature for request.
func ValidGateSignature(key []byte, request *golivev1alpha1.UpdateRequest, record golivev1alpha1.GateRecord) bool {
	given, err := base64.StdEncoding.DecodeString(record.Signature)
	if err != nil || record.Signature == "" {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(gateSignature(key, request, record))
	return hmac.Equal(given, want)
}

func gateSignature(key []byte, request *golivev1alpha1.UpdateRequest, record golivev1alpha1.GateRecord) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(gateSignedContent(request, record))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// gateSignedContent is what a gate record's signature covers. Its own prefix
// keeps a ledger entry's signature from ever passing for a gate record.
func gateSignedContent(request *golivev1alpha1.UpdateRequest, record golivev1alpha1.GateRecord) []byte {
	data, err := json.Marshal([]string{
		"golive.dev/gate-record/v1",
		request.Namespace, request.Name, string(request.UID),
		string(record.Gate), record.SpecHash, record.At.UTC().Format(time.RFC3339),
	})
	if err != nil {
		panic("marshalling strings: " + err.Error())
	}
	return data
}

package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// SpecHash is the hash that approvals are bound to: "sha256:" and the hex
// SHA-256 of the spec's JSON. suspend is left out: it is an operational switch,
// not content, and pausing a request must not cost its approvals.
func SpecHash(spec *golivev1alpha1.UpdateRequestSpec) string {
	content := *spec
	content.Suspend = false
	// encoding/json writes struct fields in declaration order and map keys
	// sorted, so equal specs give equal bytes; a spec always marshals.
	data, err := json.Marshal(&content)
	if err != nil {
		panic("marshalling an UpdateRequestSpec: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

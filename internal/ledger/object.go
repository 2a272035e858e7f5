package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// shortSpecHashLength is how many hex digits of the spec hash objects carry in
// their golive.dev/spec-hash label: 64 bits tell specs apart, and the label
// fits in names and label values.
const shortSpecHashLength = 16

// ShortSpecHash is the value of the golive.dev/spec-hash label for the spec
// with hash specHash (SpecHash): its first 16 hex digits.
func ShortSpecHash(specHash string) string {
	digits := strings.TrimPrefix(specHash, "sha256:")
	if len(digits) > shortSpecHashLength {
		digits = digits[:shortSpecHashLength]
	}
	return digits
}

// SignedObject is what golive's signature on an object it created binds: the
// request it was made for (by UID, so a request re-created under the same name
// does not inherit it), the spec, the object's identity and a digest of the
// content golive relies on, so that neither the signature nor the labels can be
// copied onto another object.
type SignedObject struct {
	RequestUID string
	// SpecHash is the short spec hash (ShortSpecHash) the object was made for.
	SpecHash  string
	Kind      string
	Namespace string
	Name      string
	// ContentDigest is ContentDigest of what golive reads from the object.
	ContentDigest string
}

// ContentDigest is "sha256:" and the hex SHA-256 of content's JSON, which
// encoding/json writes deterministically (struct order, sorted map keys).
func ContentDigest(content any) (string, error) {
	data, err := json.Marshal(content)
	if err != nil {
		return "", fmt.Errorf("encoding the content to sign: %w", err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// SignObject is golive's signature of object for the golive.dev/signature
// annotation: the base64 HMAC-SHA256, with the ledger key, of its fields.
func SignObject(key []byte, object SignedObject) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(objectContent(object))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyObject reports whether signature is golive's signature of object.
func VerifyObject(key []byte, object SignedObject, signature string) bool {
	given, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || signature == "" {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(SignObject(key, object))
	return hmac.Equal(given, want)
}

// objectContent is what an object signature covers, as a JSON array of
// strings (no field can run into the next), with a prefix that keeps it apart
// from ledger entries signed with the same key.
func objectContent(object SignedObject) []byte {
	data, err := json.Marshal([]string{
		"golive.dev/object/v1",
		object.RequestUID, object.SpecHash, object.Kind, object.Namespace, object.Name, object.ContentDigest,
	})
	if err != nil {
		panic("marshalling strings: " + err.Error())
	}
	return data
}

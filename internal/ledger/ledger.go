package ledger

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Why Verify rejected an entry.
const (
	// RejectedMalformed: the annotation is not a JSON list of entries, or the
	// entry lacks a field or names an unknown action.
	RejectedMalformed = "Malformed"
	// RejectedBadSignature: the signature does not match the entry and this
	// request, so golive did not write it (or not for this request).
	RejectedBadSignature = "BadSignature"
	// RejectedDuplicate: the same signed entry appears earlier in the ledger.
	RejectedDuplicate = "Duplicate"
	// RejectedStaleSpec: the entry was signed for an earlier spec.
	RejectedStaleSpec = "StaleSpec"
)

// RejectedEntry is a ledger entry that does not count, and why.
type RejectedEntry struct {
	// Index is the entry's position in the ledger; -1 when the annotation as a
	// whole cannot be read.
	Index int
	// Entry is the entry as read (zero when the annotation cannot be read).
	Entry golivev1alpha1.LedgerEntry
	// Reason is one of the Rejected* constants.
	Reason string
	// Message says what is wrong, for an Event.
	Message string
}

// Parse reads the value of the golive.dev/ledger annotation. An empty
// value is an empty ledger. Unknown fields make it malformed: the signature
// would not cover them.
func Parse(value string) ([]golivev1alpha1.LedgerEntry, error) {
	if value == "" {
		return nil, nil
	}
	decoder := json.NewDecoder(bytes.NewReader([]byte(value)))
	decoder.DisallowUnknownFields()
	var entries []golivev1alpha1.LedgerEntry
	if err := decoder.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s is not a JSON list of ledger entries: %w", golivev1alpha1.AnnotationLedger, err)
	}
	if decoder.More() {
		return nil, fmt.Errorf("%s holds more than one JSON value", golivev1alpha1.AnnotationLedger)
	}
	return entries, nil
}

// Format is the annotation value of entries.
func Format(entries []golivev1alpha1.LedgerEntry) (string, error) {
	data, err := json.Marshal(entries)
	if err != nil {
		return "", fmt.Errorf("marshalling the ledger: %w", err)
	}
	return string(data), nil
}

// Sign returns entry with its signature for request set. The time is cut to
// the second, as the annotation keeps it.
func Sign(key []byte, request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
	entry.Time.Time = entry.Time.UTC().Truncate(time.Second)
	entry.Signature = signature(key, request, entry)
	return entry
}

// signature is the base64 HMAC-SHA256 of the canonical encoding of entry for request.
func signature(key []byte, request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(canonical(request, entry))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// canonical is what a signature covers: every field but the signature, and
// the identity of the request (namespace, name and uid), so that an entry
// copied to another request, or to a request re-created under the same name,
// does not verify. A JSON array of strings is unambiguous: no field can run
// into the next.
func canonical(request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) []byte {
	groups := entry.Groups
	if groups == nil {
		groups = []string{}
	}
	data, err := json.Marshal([]any{
		"golive.dev/ledger/v1",
		request.Namespace, request.Name, string(request.UID),
		entry.User, groups, entry.Role, string(entry.Action), entry.Comment,
		entry.Time.UTC().Format(time.RFC3339), entry.SpecHash,
	})
	if err != nil {
		panic("marshalling strings: " + err.Error())
	}
	return data
}

// ValidSignature reports whether entry carries a signature golive made for request.
func ValidSignature(key []byte, request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) bool {
	given, err := base64.StdEncoding.DecodeString(entry.Signature)
	if err != nil {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(signature(key, request, entry))
	return hmac.Equal(given, want)
}

// CheckEntry says what entry lacks to be well-formed; nil when it lacks nothing.
func CheckEntry(entry golivev1alpha1.LedgerEntry) error {
	var missing []error
	if entry.User == "" {
		missing = append(missing, errors.New("no user"))
	}
	switch entry.Action {
	case golivev1alpha1.LedgerApprove, golivev1alpha1.LedgerReject, golivev1alpha1.LedgerAccept:
		if entry.Role == "" {
			missing = append(missing, fmt.Errorf("no role for %s", entry.Action))
		}
	case golivev1alpha1.LedgerAbort:
	default:
		missing = append(missing, fmt.Errorf("unknown action %q", entry.Action))
	}
	if entry.Time.IsZero() {
		missing = append(missing, errors.New("no time"))
	}
	if entry.SpecHash == "" {
		missing = append(missing, errors.New("no specHash"))
	}
	if entry.Signature == "" {
		missing = append(missing, errors.New("no signature"))
	}
	return errors.Join(missing...)
}

// Verify reads request's golive.dev/ledger and returns the entries that
// count for the spec with hash specHash (status.specHash): well-formed, signed
// with key for this very request, not repeated, and made for that spec. Every
// other entry is returned in rejected with the reason, so the controller can
// report it; none of them may be acted on.
func Verify(key []byte, request *golivev1alpha1.UpdateRequest, specHash string) (valid []golivev1alpha1.LedgerEntry, rejected []RejectedEntry) {
	entries, err := Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return nil, []RejectedEntry{{Index: -1, Reason: RejectedMalformed, Message: err.Error()}}
	}
	seen := make(map[string]int, len(entries))
	for i, entry := range entries {
		reject := func(reason, message string) {
			rejected = append(rejected, RejectedEntry{Index: i, Entry: entry, Reason: reason, Message: message})
		}
		if err := CheckEntry(entry); err != nil {
			reject(RejectedMalformed, fmt.Sprintf("ledger entry %d is malformed: %v", i, err))
			continue
		}
		if !ValidSignature(key, request, entry) {
			reject(RejectedBadSignature, fmt.Sprintf("ledger entry %d (%s by %s) does not carry golive's signature for this request", i, entry.Action, entry.User))
			continue
		}
		if first, ok := seen[entry.Signature]; ok {
			reject(RejectedDuplicate, fmt.Sprintf("ledger entry %d repeats entry %d", i, first))
			continue
		}
		seen[entry.Signature] = i
		if entry.SpecHash != specHash {
			reject(RejectedStaleSpec, fmt.Sprintf("ledger entry %d (%s by %s) was given for an earlier spec", i, entry.Action, entry.User))
			continue
		}
		valid = append(valid, entry)
	}
	return valid, rejected
}

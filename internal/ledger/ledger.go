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
	"unicode/utf8"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Limits of a ledger. The webhook refuses a command that would pass one and
// says which; Verify rejects a ledger with more entries (all of it) and an
// entry past the other limits (that entry). The API server refuses annotations
// over 256 KiB in all; these keep a request's ledger, and each entry, a bounded
// part of that, and bound the work of verifying it on every reconcile.
const (
	// MaxEntries bounds the entries of one ledger. A request collects a few per
	// spec (one per approver, an accept, an abort); hundreds mean something is
	// wrong, and a new request starts a new ledger.
	MaxEntries = 256
	// MaxCommentLength bounds an entry's comment, in characters.
	MaxCommentLength = 512
	// MaxGroups bounds the groups recorded in an entry: the user's groups as the
	// API server reports them, kept whole because the signature covers them.
	MaxGroups = 64
)

// ErrNotCanonical: the annotation is not the encoding Format writes, though
// it may decode. Go's decoder and other readers (jq, people) disagree on
// re-encoded JSON, such as a key given twice or in another case, so only the
// one encoding golive writes is read.
var ErrNotCanonical = errors.New("not in golive's canonical encoding")

// Why Verify rejected an entry.
const (
	// RejectedMalformed: the annotation is not a JSON list of entries or holds
	// more than MaxEntries, or the entry lacks a field, names an unknown action
	// or passes a limit.
	RejectedMalformed = "Malformed"
	// RejectedNotCanonical: the annotation is not in the encoding golive
	// writes (ErrNotCanonical); none of it is read.
	RejectedNotCanonical = "NotCanonical"
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
// would not cover them. A value that is not exactly what Format writes for the
// entries read is refused with ErrNotCanonical: a key given twice (in any
// case), other spacing, key order or escaping.
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
	if len(entries) > MaxEntries {
		return nil, fmt.Errorf("%s holds %d entries; golive writes at most %d", golivev1alpha1.AnnotationLedger, len(entries), MaxEntries)
	}
	if canonical, err := Format(entries); err != nil || canonical != value {
		return nil, fmt.Errorf("%s is %w: golive writes compact JSON, each key once and in its own spelling and order", golivev1alpha1.AnnotationLedger, ErrNotCanonical)
	}
	return entries, nil
}

// Format is the annotation value of entries: their canonical encoding, the
// only one Parse reads (encoding/json writes struct fields in declaration
// order, without spaces).
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

// signature is the base64 HMAC-SHA256 of signedContent.
func signature(key []byte, request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(signedContent(request, entry))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedContent is what a signature covers: every field but the signature, and
// the identity of the request (namespace, name and uid), so that an entry
// copied to another request, or to a request re-created under the same name,
// does not verify. A JSON array of strings is unambiguous: no field can run
// into the next.
func signedContent(request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry) []byte {
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

// CheckEntry says what keeps entry from being well-formed: a missing field, an
// unknown action, a limit passed; nil when nothing does.
func CheckEntry(entry golivev1alpha1.LedgerEntry) error {
	var problems []error
	if entry.User == "" {
		problems = append(problems, errors.New("no user"))
	}
	switch entry.Action {
	case golivev1alpha1.LedgerApprove, golivev1alpha1.LedgerReject, golivev1alpha1.LedgerAccept, golivev1alpha1.LedgerGo:
		if entry.Role == "" {
			problems = append(problems, fmt.Errorf("no role for %s", entry.Action))
		}
	case golivev1alpha1.LedgerAbort, golivev1alpha1.LedgerRetry:
	default:
		problems = append(problems, fmt.Errorf("unknown action %q", entry.Action))
	}
	if entry.Time.IsZero() {
		problems = append(problems, errors.New("no time"))
	}
	if entry.SpecHash == "" {
		problems = append(problems, errors.New("no specHash"))
	}
	if entry.Signature == "" {
		problems = append(problems, errors.New("no signature"))
	}
	if n := utf8.RuneCountInString(entry.Comment); n > MaxCommentLength {
		problems = append(problems, fmt.Errorf("a comment of %d characters, more than %d", n, MaxCommentLength))
	}
	if len(entry.Groups) > MaxGroups {
		problems = append(problems, fmt.Errorf("%d groups, more than %d", len(entry.Groups), MaxGroups))
	}
	return errors.Join(problems...)
}

// Verify reads request's golive.dev/ledger and returns the entries that
// count for the spec with hash specHash (status.specHash): well-formed, signed
// with key for this very request, not repeated, and made for that spec (or,
// for an abort or a reject, for any spec of the request). Every
// other entry is returned in rejected with the reason, so the controller can
// report it; none of them may be acted on.
func Verify(key []byte, request *golivev1alpha1.UpdateRequest, specHash string) (valid []golivev1alpha1.LedgerEntry, rejected []RejectedEntry) {
	entries, err := Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		reason := RejectedMalformed
		if errors.Is(err, ErrNotCanonical) {
			reason = RejectedNotCanonical
		}
		return nil, []RejectedEntry{{Index: -1, Reason: reason, Message: err.Error()}}
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
		// An abort or a reject ends the request whatever spec it was given
		// for: a spec change that lands before golive reads the entry must not
		// swallow it (the spec can change only before production is touched,
		// where both end the request at once).
		if entry.SpecHash != specHash && !endsTheRequest(entry.Action) {
			reject(RejectedStaleSpec, fmt.Sprintf("ledger entry %d (%s by %s) was given for an earlier spec", i, entry.Action, entry.User))
			continue
		}
		valid = append(valid, entry)
	}
	return valid, rejected
}

// endsTheRequest reports whether action ends the request for any spec.
func endsTheRequest(action golivev1alpha1.LedgerAction) bool {
	return action == golivev1alpha1.LedgerAbort || action == golivev1alpha1.LedgerReject
}

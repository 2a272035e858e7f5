package ledger

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
	testTime = time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
)

// approvalBy is an unsigned approval entry for request's current spec.
func approvalBy(request *golivev1alpha1.UpdateRequest, user, role string) golivev1alpha1.LedgerEntry {
	return golivev1alpha1.LedgerEntry{
		User: user, Groups: []string{"system:authenticated"}, Role: role, Action: golivev1alpha1.LedgerApprove,
		Comment: "looks good", Time: metav1.NewTime(testTime), SpecHash: SpecHash(&request.Spec),
	}
}

// withLedger returns request with entries as its ledger annotation.
func withLedger(t *testing.T, request *golivev1alpha1.UpdateRequest, entries ...golivev1alpha1.LedgerEntry) *golivev1alpha1.UpdateRequest {
	t.Helper()
	value, err := Format(entries)
	if err != nil {
		t.Fatal(err)
	}
	request = request.DeepCopy()
	request.Annotations[golivev1alpha1.AnnotationLedger] = value
	return request
}

// verdict is what a test compares of Verify's answer.
type verdict struct {
	Valid    []string // user/role of each valid entry
	Rejected []string // index and reason of each rejected entry
}

func verdictOf(valid []golivev1alpha1.LedgerEntry, rejected []RejectedEntry) verdict {
	var v verdict
	for _, entry := range valid {
		v.Valid = append(v.Valid, entry.User+"/"+entry.Role)
	}
	for _, r := range rejected {
		v.Rejected = append(v.Rejected, strconv.Itoa(r.Index)+" "+r.Reason)
	}
	return v
}

func TestSignedEntriesVerify(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()
	bob := Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))
	carol := Sign(testKey, request, approvalBy(request, "carol@example.com", "operations-office"))
	request = withLedger(t, request, bob, carol)

	valid, rejected := Verify(testKey, request, SpecHash(&request.Spec))
	if diff := cmp.Diff([]golivev1alpha1.LedgerEntry{bob, carol}, valid); diff != "" {
		t.Errorf("valid entries (-want +got):\n%s", diff)
	}
	if len(rejected) != 0 {
		t.Errorf("rejected entries: %+v", rejected)
	}
}

func TestSignCutsTimeToTheSecond(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Obj()
	entry := approvalBy(request, "bob@example.com", "rnd-lead")
	entry.Time = metav1.NewTime(testTime.Add(1500 * time.Millisecond).In(time.FixedZone("CET", 3600)))
	signed := Sign(testKey, request, entry)
	if want := testTime.Add(time.Second); !signed.Time.Equal(&metav1.Time{Time: want}) || signed.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", signed.Time, want)
	}
	// What the annotation keeps verifies.
	valid, rejected := Verify(testKey, withLedger(t, request, signed), signed.SpecHash)
	if len(valid) != 1 || len(rejected) != 0 {
		t.Errorf("valid %v, rejected %v", valid, rejected)
	}
}

// Any change to a signed entry, or the entry in another request, or a key
// other than golive's, fails the signature.
func TestVerifyLedgerRejectsForgedEntries(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()
	specHash := SpecHash(&request.Spec)
	genuine := Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))

	for _, tc := range []struct {
		name   string
		forge  func(golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry
		target *golivev1alpha1.UpdateRequest
	}{
		{name: "user changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.User = "mallory@example.com"
			return e
		}},
		{name: "role changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Role = "operations-office"
			return e
		}},
		{name: "action changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Action = golivev1alpha1.LedgerAccept
			return e
		}},
		{name: "comment changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Comment = "looks bad"
			return e
		}},
		{name: "groups changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Groups = append(e.Groups, "system:masters")
			return e
		}},
		{name: "time changed", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Time = metav1.NewTime(e.Time.Add(time.Hour))
			return e
		}},
		{name: "spec hash moved to the current spec", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.SpecHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
			return e
		}},
		{name: "signature made up", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Signature = "c2lnbmVkIGJ5IG1hbGxvcnk="
			return e
		}},
		{name: "signature not base64", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			e.Signature = "!!"
			return e
		}},
		{name: "signed with another key", forge: func(e golivev1alpha1.LedgerEntry) golivev1alpha1.LedgerEntry {
			return Sign(otherKey, request, e)
		}},
		{name: "copied to another request", target: testfixtures.MakeAlicesRequest("billing", "other").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()},
		{name: "copied to another namespace", target: testfixtures.MakeAlicesRequest("shop", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()},
		{name: "copied to the request re-created under its name", target: func() *golivev1alpha1.UpdateRequest {
			recreated := request.DeepCopy()
			recreated.UID = "uid-of-the-new-object"
			return recreated
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entry := genuine
			if tc.forge != nil {
				entry = tc.forge(genuine)
			}
			target := request
			if tc.target != nil {
				target = tc.target
			}
			valid, rejected := Verify(testKey, withLedger(t, target, entry), specHash)
			want := verdict{Rejected: []string{"0 " + RejectedBadSignature}}
			if diff := cmp.Diff(want, verdictOf(valid, rejected)); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyLedger(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()
	current := SpecHash(&request.Spec)
	earlier := testfixtures.MakeAlicesRequest("billing", "r").Release("2.3.9").Obj()
	bob := Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))
	carol := Sign(testKey, request, approvalBy(request, "carol@example.com", "operations-office"))
	staleEntry := approvalBy(request, "dave@example.com", "rnd-lead")
	staleEntry.SpecHash = SpecHash(&earlier.Spec)
	stale := Sign(testKey, request, staleEntry)
	noUser := bob
	noUser.User = ""
	noUser = Sign(testKey, request, noUser)
	unknownAction := Sign(testKey, request, golivev1alpha1.LedgerEntry{
		User: "bob@example.com", Role: "rnd-lead", Action: "deploy", Time: metav1.NewTime(testTime), SpecHash: current,
	})
	abortWithoutRole := Sign(testKey, request, golivev1alpha1.LedgerEntry{
		User: "alice@example.com", Action: golivev1alpha1.LedgerAbort, Comment: "outage", Time: metav1.NewTime(testTime), SpecHash: current,
	})
	approveWithoutRole := Sign(testKey, request, golivev1alpha1.LedgerEntry{
		User: "bob@example.com", Action: golivev1alpha1.LedgerApprove, Time: metav1.NewTime(testTime), SpecHash: current,
	})
	unsigned := approvalBy(request, "carol@example.com", "operations-office")
	staleReject := Sign(testKey, request, golivev1alpha1.LedgerEntry{
		User: "bob@example.com", Role: "rnd-lead", Action: golivev1alpha1.LedgerReject, Comment: "no", Time: metav1.NewTime(testTime), SpecHash: SpecHash(&earlier.Spec),
	})
	staleAbort := Sign(testKey, request, golivev1alpha1.LedgerEntry{
		User: "alice@example.com", Action: golivev1alpha1.LedgerAbort, Comment: "stop", Time: metav1.NewTime(testTime), SpecHash: SpecHash(&earlier.Spec),
	})

	for _, tc := range []struct {
		name    string
		ledger  *string // raw annotation; nil: entries
		entries []golivev1alpha1.LedgerEntry
		want    verdict
	}{
		{name: "no ledger", want: verdict{}},
		{name: "empty list", ledger: ptrTo("[]"), want: verdict{}},
		{name: "two approvals", entries: []golivev1alpha1.LedgerEntry{bob, carol},
			want: verdict{Valid: []string{"bob@example.com/rnd-lead", "carol@example.com/operations-office"}}},
		{name: "an approval of an earlier spec", entries: []golivev1alpha1.LedgerEntry{stale, bob},
			want: verdict{Valid: []string{"bob@example.com/rnd-lead"}, Rejected: []string{"0 " + RejectedStaleSpec}}},
		// A spec change racing a reject or an abort must not swallow it.
		{name: "a reject and an abort of an earlier spec", entries: []golivev1alpha1.LedgerEntry{staleReject, staleAbort},
			want: verdict{Valid: []string{"bob@example.com/rnd-lead", "alice@example.com/"}}},
		{name: "the same entry twice", entries: []golivev1alpha1.LedgerEntry{bob, carol, bob},
			want: verdict{Valid: []string{"bob@example.com/rnd-lead", "carol@example.com/operations-office"}, Rejected: []string{"2 " + RejectedDuplicate}}},
		{name: "an abort has no role", entries: []golivev1alpha1.LedgerEntry{abortWithoutRole},
			want: verdict{Valid: []string{"alice@example.com/"}}},
		{name: "incomplete entries", entries: []golivev1alpha1.LedgerEntry{noUser, unknownAction, approveWithoutRole, unsigned, carol},
			want: verdict{Valid: []string{"carol@example.com/operations-office"}, Rejected: []string{
				"0 " + RejectedMalformed, "1 " + RejectedMalformed, "2 " + RejectedMalformed, "3 " + RejectedMalformed,
			}}},
		{name: "not JSON", ledger: ptrTo("bob approved"), want: verdict{Rejected: []string{"-1 " + RejectedMalformed}}},
		{name: "not a list", ledger: ptrTo(`{"user":"bob@example.com"}`), want: verdict{Rejected: []string{"-1 " + RejectedMalformed}}},
		{name: "a field the signature does not cover", ledger: ptrTo(`[{"user":"bob@example.com","action":"approve","role":"rnd-lead","time":"2026-11-19T10:00:00Z","specHash":"x","signature":"x","weight":10}]`),
			want: verdict{Rejected: []string{"-1 " + RejectedMalformed}}},
		{name: "two JSON values", ledger: ptrTo(`[] []`), want: verdict{Rejected: []string{"-1 " + RejectedMalformed}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := request.DeepCopy()
			switch {
			case tc.ledger != nil:
				target.Annotations[golivev1alpha1.AnnotationLedger] = *tc.ledger
			case tc.entries != nil:
				target = withLedger(t, target, tc.entries...)
			}
			valid, rejected := Verify(testKey, target, current)
			if diff := cmp.Diff(tc.want, verdictOf(valid, rejected)); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
			for _, r := range rejected {
				if r.Message == "" {
					t.Errorf("rejected entry %d has no message", r.Index)
				}
			}
		})
	}
}

func TestLedgerRoundTrip(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Obj()
	entries := []golivev1alpha1.LedgerEntry{
		Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead")),
		Sign(testKey, request, golivev1alpha1.LedgerEntry{
			User: "alice@example.com", Action: golivev1alpha1.LedgerAbort, Comment: "outage", Time: metav1.NewTime(testTime), SpecHash: "sha256:x",
		}),
	}
	value, err := Format(entries)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(value, `"time":"2026-11-19T10:00:00Z"`) {
		t.Errorf("the ledger does not keep RFC 3339 times: %s", value)
	}
	parsed, err := Parse(value)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries, parsed); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func ptrTo(s string) *string { return &s }

// Go's decoder reads a re-encoded ledger one way (keys matched in any case,
// the last one winning), jq and people another; only golive's own encoding is
// read at all.
func TestParseReadsOnlyTheCanonicalEncoding(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()
	bob := Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))
	carol := Sign(testKey, request, approvalBy(request, "carol@example.com", "operations-office"))
	canonical, err := Format([]golivev1alpha1.LedgerEntry{bob, carol})
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent([]golivev1alpha1.LedgerEntry{bob, carol}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		value string
		want  error // nil: read, with bob and carol
	}{
		{name: "golive's encoding", value: canonical},
		{name: "a key repeated in another case, the signed value last",
			value: strings.Replace(canonical, `[{"user":`, `[{"User":"mallory@example.com","user":`, 1), want: ErrNotCanonical},
		{name: "a key repeated in another case, the signed value first",
			value: strings.Replace(canonical, `"role":"rnd-lead"`, `"role":"rnd-lead","ROLE":"rnd-lead"`, 1), want: ErrNotCanonical},
		{name: "a key repeated",
			value: strings.Replace(canonical, `[{"user":`, `[{"user":"mallory@example.com","user":`, 1), want: ErrNotCanonical},
		{name: "a key in another case only",
			value: strings.Replace(canonical, `"specHash":`, `"SpecHash":`, 1), want: ErrNotCanonical},
		{name: "spaces after the separators", value: strings.ReplaceAll(canonical, `","`, `", "`), want: ErrNotCanonical},
		{name: "indented", value: string(indented), want: ErrNotCanonical},
		{name: "a trailing newline", value: canonical + "\n", want: ErrNotCanonical},
		{name: "keys in another order",
			value: strings.Replace(canonical, `"user":"bob@example.com","groups":["system:authenticated"]`, `"groups":["system:authenticated"],"user":"bob@example.com"`, 1), want: ErrNotCanonical},
		{name: "a character escaped", value: strings.Replace(canonical, `"bob@example.com"`, `"\u0062ob@example.com"`, 1), want: ErrNotCanonical},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := Parse(tc.value)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Parse = %v, %v; want %v", entries, err, tc.want)
				}
				// The controller counts nothing of it, and says why.
				valid, rejected := Verify(testKey, withLedgerValue(request, tc.value), SpecHash(&request.Spec))
				if diff := cmp.Diff(verdict{Rejected: []string{"-1 " + RejectedNotCanonical}}, verdictOf(valid, rejected)); diff != "" {
					t.Errorf("Verify (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]golivev1alpha1.LedgerEntry{bob, carol}, entries); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefusesUnknownFields(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Obj()
	canonical, err := Format([]golivev1alpha1.LedgerEntry{Sign(testKey, request, approvalBy(request, "bob@example.com", "rnd-lead"))})
	if err != nil {
		t.Fatal(err)
	}
	value := strings.Replace(canonical, `}]`, `,"weight":10}]`, 1)
	if _, err := Parse(value); err == nil || errors.Is(err, ErrNotCanonical) || !strings.Contains(err.Error(), `unknown field "weight"`) {
		t.Errorf("Parse = %v, want a refusal of the unknown field", err)
	}
}

func TestLedgerLimits(t *testing.T) {
	request := testfixtures.MakeAlicesRequest("billing", "r").Phase(golivev1alpha1.PhaseAwaitingApproval).Obj()
	current := SpecHash(&request.Spec)
	entries := func(n int) []golivev1alpha1.LedgerEntry {
		var list []golivev1alpha1.LedgerEntry
		for i := range n {
			list = append(list, Sign(testKey, request, approvalBy(request, "user-"+strconv.Itoa(i)+"@example.com", "rnd-lead")))
		}
		return list
	}
	longest := approvalBy(request, "bob@example.com", "rnd-lead")
	longest.Comment = strings.Repeat("ü", MaxCommentLength)
	tooLong := longest
	tooLong.Comment += "!"
	mostGroups := approvalBy(request, "carol@example.com", "operations-office")
	mostGroups.Groups = nil
	for i := range MaxGroups {
		mostGroups.Groups = append(mostGroups.Groups, "group-"+strconv.Itoa(i))
	}
	tooManyGroups := mostGroups
	tooManyGroups.Groups = append(slices.Clone(mostGroups.Groups), "one-more")

	for _, tc := range []struct {
		name    string
		entries []golivev1alpha1.LedgerEntry
		want    int      // valid entries
		wantRej []string // rejected, as verdict has them
	}{
		{name: "as many entries as golive keeps", entries: entries(MaxEntries), want: MaxEntries},
		{name: "one entry more", entries: entries(MaxEntries + 1), wantRej: []string{"-1 " + RejectedMalformed}},
		{name: "the longest comment", entries: []golivev1alpha1.LedgerEntry{Sign(testKey, request, longest)}, want: 1},
		{name: "a longer comment", entries: []golivev1alpha1.LedgerEntry{Sign(testKey, request, tooLong)}, wantRej: []string{"0 " + RejectedMalformed}},
		{name: "the most groups", entries: []golivev1alpha1.LedgerEntry{Sign(testKey, request, mostGroups)}, want: 1},
		{name: "one group more", entries: []golivev1alpha1.LedgerEntry{Sign(testKey, request, tooManyGroups)}, wantRej: []string{"0 " + RejectedMalformed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			valid, rejected := Verify(testKey, withLedger(t, request, tc.entries...), current)
			if got := verdictOf(valid, rejected); len(got.Valid) != tc.want || !slices.Equal(got.Rejected, tc.wantRej) {
				t.Errorf("Verify: %d valid, rejected %v; want %d valid, rejected %v", len(got.Valid), got.Rejected, tc.want, tc.wantRej)
			}
		})
	}
}

// withLedgerValue returns request with value as its ledger annotation, as stored.
func withLedgerValue(request *golivev1alpha1.UpdateRequest, value string) *golivev1alpha1.UpdateRequest {
	request = request.DeepCopy()
	request.Annotations[golivev1alpha1.AnnotationLedger] = value
	return request
}

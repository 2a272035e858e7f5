package records

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

var testNow = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// testKey is a fixed key, so that failures are reproducible.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func makeRequest(namespace, name string, phase golivev1alpha1.Phase) *golivev1alpha1.UpdateRequest {
	request := &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name, UID: types.UID("0f9e8d7c-" + name),
			CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour)),
			Annotations:       map[string]string{golivev1alpha1.AnnotationLedger: `[{"user":"alice","action":"abort","time":"2026-03-14T09:00:00Z","specHash":"h","signature":"s"}]`},
		},
	}
	request.Spec.Release = name
	request.Status.Phase = phase
	request.Status.CompletedAt = &metav1.Time{Time: testNow}
	return request
}

// chain writes n records of namespace, signed with key, as golive does, and
// returns them as the API server would hand them out.
func chain(t *testing.T, key ed25519.PrivateKey, namespace string, n int) []Stored {
	t.Helper()
	var stored []Stored
	previous := ""
	for i := 1; i <= n; i++ {
		request := makeRequest(namespace, fmt.Sprintf("release-%d", i), golivev1alpha1.PhaseSucceeded)
		spec, err := Build(request, []golivev1alpha1.TimelineEntry{{At: metav1.NewTime(testNow), Phase: golivev1alpha1.PhaseSucceeded, Event: "Succeeded"}}, "v1.2.3", testNow)
		if err != nil {
			t.Fatal(err)
		}
		Chain(&spec, int64(i), previous)
		if previous, err = Sign(key, &spec); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, Stored{Name: Name(namespace, request.Name, string(request.UID)), Spec: reencode(t, raw)})
	}
	return stored
}

// reencode decodes and encodes raw as the API server does (sorted keys), so
// that verification must not depend on golive's own encoding.
func reencode(t *testing.T, raw []byte) json.RawMessage {
	t.Helper()
	var value map[string]any
	if err := json.Unmarshal(raw, &value); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// alter changes the record's outcome as a rogue admin would, keeping its signature.
func alter(t *testing.T, record Stored) Stored {
	t.Helper()
	var spec map[string]any
	if err := json.Unmarshal(record.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	spec["outcome"].(map[string]any)["phase"] = "Failed"
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	record.Spec = raw
	return record
}

func keysOf(keys ...ed25519.PrivateKey) map[string]ed25519.PublicKey {
	out := map[string]ed25519.PublicKey{}
	for _, key := range keys {
		public := key.Public().(ed25519.PublicKey)
		out[KeyID(public)] = public
	}
	return out
}

// found is the kind, namespace, place and record of a problem, what a test asserts.
type found struct {
	Kind      string
	Namespace string
	Sequence  int64
	Record    string
}

func foundOf(report Report) []found {
	var out []found
	for _, p := range report.Problems {
		out = append(out, found{p.Kind, p.Namespace, p.Sequence, p.Record})
	}
	return out
}

func TestVerify(t *testing.T) {
	key, otherKey := testKey(1), testKey(2)
	billing := chain(t, key, "billing", 4)
	shop := chain(t, key, "shop", 2)
	name := func(records []Stored, i int) string { return records[i].Name }
	// A record signed by golive's key but placed after the wrong record: what a
	// fork of the chain would look like.
	forked := chain(t, key, "billing", 3)
	{
		var spec golivev1alpha1.ReleaseRecordSpec
		if err := json.Unmarshal(forked[2].Spec, &spec); err != nil {
			t.Fatal(err)
		}
		Chain(&spec, 3, strings.Repeat("0", 64))
		if _, err := Sign(key, &spec); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(spec)
		forked[2].Spec = raw
	}
	tests := []struct {
		name    string
		records []Stored
		keys    map[string]ed25519.PublicKey
		want    []found
	}{
		{
			name:    "two intact chains",
			records: append(append([]Stored{}, billing...), shop...),
			keys:    keysOf(key),
		},
		{
			name:    "chains interleaved keep their own order",
			records: []Stored{billing[0], shop[0], billing[1], shop[1], billing[2], billing[3]},
			keys:    keysOf(key),
		},
		{
			name:    "old keys stay listed after a rotation",
			records: billing,
			keys:    keysOf(otherKey, key),
		},
		{
			name:    "a deleted record in the middle",
			records: []Stored{billing[0], billing[2], billing[3]},
			keys:    keysOf(key),
			want:    []found{{ProblemMissing, "billing", 2, ""}},
		},
		{
			name:    "two deleted records in a row",
			records: []Stored{billing[0], billing[3]},
			keys:    keysOf(key),
			want:    []found{{ProblemMissing, "billing", 2, ""}},
		},
		{
			name:    "the first record deleted",
			records: billing[1:],
			keys:    keysOf(key),
			want:    []found{{ProblemMissing, "billing", 1, ""}},
		},
		{
			name:    "an altered record",
			records: []Stored{billing[0], alter(t, billing[1]), billing[2], billing[3]},
			keys:    keysOf(key),
			want:    []found{{ProblemAltered, "billing", 2, name(billing, 1)}},
		},
		{
			name:    "one record deleted and another altered",
			records: []Stored{alter(t, billing[1]), billing[2], billing[3]},
			keys:    keysOf(key),
			want: []found{
				{ProblemAltered, "billing", 2, name(billing, 1)},
				{ProblemMissing, "billing", 1, ""},
			},
		},
		{
			name:    "two records swapped",
			records: []Stored{billing[0], billing[2], billing[1], billing[3]},
			keys:    keysOf(key),
			want:    []found{{ProblemReordered, "billing", 2, name(billing, 1)}},
		},
		{
			name:    "a record given twice",
			records: []Stored{billing[0], billing[1], billing[1], billing[2]},
			keys:    keysOf(key),
			want:    []found{{ProblemDuplicate, "billing", 2, name(billing, 1)}},
		},
		{
			name:    "a signed record linked to another record",
			records: forked,
			keys:    keysOf(key),
			want:    []found{{ProblemBrokenLink, "billing", 3, forked[2].Name}},
		},
		{
			name:    "signed with a key not given",
			records: billing[:2],
			keys:    keysOf(otherKey),
			want: []found{
				{ProblemUnknownKey, "billing", 1, name(billing, 0)},
				{ProblemUnknownKey, "billing", 2, name(billing, 1)},
			},
		},
		{
			name:    "not a record",
			records: []Stored{{Name: "junk", Spec: json.RawMessage(`[1,2]`)}, billing[0]},
			keys:    keysOf(key),
			want:    []found{{ProblemMalformed, "", 0, "junk"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			report := Verify(tc.records, tc.keys)
			if diff := cmp.Diff(tc.want, foundOf(report)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%s", diff, report.Summary())
			}
			for _, p := range report.Problems {
				if p.Message == "" {
					t.Errorf("problem %+v says nothing", p)
				}
			}
		})
	}
}

func TestVerifyMessagesNameTheRecords(t *testing.T) {
	key := testKey(1)
	billing := chain(t, key, "billing", 3)
	report := Verify([]Stored{alter(t, billing[1]), billing[2]}, keysOf(key))
	var messages []string
	for _, p := range report.Problems {
		messages = append(messages, p.Message)
	}
	text := strings.Join(messages, "\n")
	for _, want := range []string{
		"record " + billing[1].Name + " (#2 of namespace billing) was altered",
		"record #1 is of namespace billing missing before record " + billing[1].Name,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("messages lack %q:\n%s", want, text)
		}
	}
	if got, want := report.Summary(), "Checked 2 records in 1 chain: 2 problems (1 missing, 1 altered)."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestSignedContentIgnoresEncoding(t *testing.T) {
	key := testKey(3)
	spec, err := Build(makeRequest("billing", "r", golivev1alpha1.PhaseFailed), nil, "v1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	Chain(&spec, 1, "")
	digest, err := Sign(key, &spec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(spec)
	again, err := signedContentOf(reencode(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := digestOf(again); got != digest {
		t.Errorf("digest after re-encoding = %s, want %s", got, digest)
	}
	if got, _ := Digest(&spec); got != digest {
		t.Errorf("Digest() = %s, want %s (the signature is not part of the digest)", got, digest)
	}
}

func TestBuild(t *testing.T) {
	deleted := makeRequest("billing", "r", golivev1alpha1.PhaseAwaitingApproval)
	deleted.Status.CompletedAt = nil
	deleted.DeletionTimestamp = &metav1.Time{Time: testNow}
	ended := makeRequest("billing", "r", golivev1alpha1.PhaseRolledBack)
	ended.DeletionTimestamp = &metav1.Time{Time: testNow}
	tests := []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		want    golivev1alpha1.RecordOutcome
	}{
		{
			name:    "ended",
			request: makeRequest("billing", "r", golivev1alpha1.PhaseSucceeded),
			want:    golivev1alpha1.RecordOutcome{Phase: golivev1alpha1.PhaseSucceeded, Ended: true, CompletedAt: &metav1.Time{Time: testNow}},
		},
		{
			name:    "deleted before it ended",
			request: deleted,
			want: golivev1alpha1.RecordOutcome{Phase: golivev1alpha1.PhaseAwaitingApproval, Deleted: true,
				Message: "Deleted before it ended, in phase AwaitingApproval"},
		},
		{
			name:    "deleted after it ended",
			request: ended,
			want:    golivev1alpha1.RecordOutcome{Phase: golivev1alpha1.PhaseRolledBack, Ended: true, Deleted: true, CompletedAt: &metav1.Time{Time: testNow}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Build(tc.request, nil, "v1", testNow.Add(1500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, spec.Outcome); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if got, want := spec.RecordedAt.Time, testNow.Add(time.Second); !got.Equal(want) {
				t.Errorf("recordedAt = %v, want %v (to the second)", got, want)
			}
			if spec.Ledger != tc.request.Annotations[golivev1alpha1.AnnotationLedger] {
				t.Errorf("ledger = %q, want the annotation as written", spec.Ledger)
			}
		})
	}
}

func TestName(t *testing.T) {
	if got, want := Name("billing", "billing-2-4-0", "0F9E8D7C-1234"), "billing.billing-2-4-0.0f9e8d7c"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
}

func TestParsePublicKeys(t *testing.T) {
	first, second := testKey(1).Public().(ed25519.PublicKey), testKey(2).Public().(ed25519.PublicKey)
	pemFirst, _ := PublicKeyPEM(first)
	pemSecond, _ := PublicKeyPEM(second)
	configMap := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: golive-record-key\ndata:\n  %s: |\n%s  %s: |\n%s",
		KeyFile(first), indent(pemFirst), KeyFile(second), indent(pemSecond))
	want := map[string]ed25519.PublicKey{KeyID(first): first, KeyID(second): second}
	for name, data := range map[string][]byte{
		"PEM blocks": append(append([]byte{}, pemFirst...), pemSecond...),
		"ConfigMap":  []byte(configMap),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePublicKeys(data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ParsePublicKeys([]byte("hello")); err == nil {
		t.Error("ParsePublicKeys(junk) succeeded")
	}
}

func indent(text []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(text)) {
		b.WriteString("    " + line)
	}
	return b.String()
}

package records

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// signedPrefix separates what a record signature covers from anything else
// golive's key could sign.
const signedPrefix = "golive.dev/releaserecord/v1\n"

// Name is the name of the record of request: deterministic, so that golive
// restarted after a crash finds the record it may already have written and
// writes it once. The UID's first characters tell a re-created request of
// the same name apart; request names are at most 63 characters, so the name
// stays a DNS subdomain.
func Name(namespace, name, uid string) string {
	short := strings.ReplaceAll(uid, "-", "")
	if len(short) > 8 {
		short = short[:8]
	}
	return namespace + "." + name + "." + strings.ToLower(short)
}

// Build is the content of the record of request, unsigned and outside any
// chain: the request's spec and status as they are, its ledger, the complete
// timeline (the status keeps only its last entries), the outcome, golive's
// version and when it is written.
func Build(request *golivev1alpha1.UpdateRequest, timeline []golivev1alpha1.TimelineEntry, version string, now time.Time) (golivev1alpha1.ReleaseRecordSpec, error) {
	spec, err := json.Marshal(request.Spec)
	if err != nil {
		return golivev1alpha1.ReleaseRecordSpec{}, fmt.Errorf("marshalling the request's spec: %w", err)
	}
	status, err := json.Marshal(request.Status)
	if err != nil {
		return golivev1alpha1.ReleaseRecordSpec{}, fmt.Errorf("marshalling the request's status: %w", err)
	}
	phase := request.Status.Phase
	if phase == "" {
		// Deleted before golive first saw it.
		phase = golivev1alpha1.PhasePending
	}
	outcome := golivev1alpha1.RecordOutcome{
		Phase:       phase,
		Ended:       request.Status.Phase.IsTerminal(),
		Deleted:     !request.DeletionTimestamp.IsZero(),
		CompletedAt: request.Status.CompletedAt,
	}
	if ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
		outcome.Reason, outcome.Message = ready.Reason, ready.Message
	}
	if outcome.Deleted && !outcome.Ended {
		outcome.Message = "Deleted before it ended, in phase " + string(phase)
	}
	return golivev1alpha1.ReleaseRecordSpec{
		Request: golivev1alpha1.RecordedRequest{
			Namespace: request.Namespace,
			Name:      request.Name,
			UID:       string(request.UID),
			CreatedAt: request.CreationTimestamp,
			Release:   request.Spec.Release,
		},
		Outcome:       outcome,
		RequestSpec:   runtime.RawExtension{Raw: spec},
		RequestStatus: runtime.RawExtension{Raw: status},
		RequestedBy:   request.Status.RequestedBy,
		SubmittedBy:   request.Status.SubmittedBy,
		Ledger:        request.Annotations[golivev1alpha1.AnnotationLedger],
		Timeline:      timeline,
		GoliveVersion: version,
		RecordedAt:    metav1.NewTime(now.UTC().Truncate(time.Second)),
	}, nil
}

// Chain places spec after the record with digest previous at sequence.
func Chain(spec *golivev1alpha1.ReleaseRecordSpec, sequence int64, previous string) {
	spec.Chain = golivev1alpha1.RecordChain{Sequence: sequence, Previous: previous}
}

// Sign sets spec's signature with key and returns the record's digest, which
// the next record of the chain holds.
func Sign(key ed25519.PrivateKey, spec *golivev1alpha1.ReleaseRecordSpec) (digest string, err error) {
	content, err := SignedContent(spec)
	if err != nil {
		return "", err
	}
	spec.Signature = golivev1alpha1.RecordSignature{
		KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Value: base64.StdEncoding.EncodeToString(ed25519.Sign(key, content)),
	}
	return digestOf(content), nil
}

// SignedContent is what a record's signature covers: the canonical encoding
// of its spec without the signature.
func SignedContent(spec *golivev1alpha1.ReleaseRecordSpec) ([]byte, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("marshalling the record: %w", err)
	}
	return signedContentOf(raw)
}

// signedContentOf is SignedContent of a spec as JSON, such as the API server
// returns it or an export holds it: it is decoded and encoded again with
// sorted keys and numbers as written, so key order and spacing do not matter
// and nothing depends on the Go types of the golive that reads it.
func signedContentOf(rawSpec []byte) ([]byte, error) {
	decoder := json.NewDecoder(bytes.NewReader(rawSpec))
	decoder.UseNumber()
	var spec map[string]any
	if err := decoder.Decode(&spec); err != nil {
		return nil, fmt.Errorf("the record's spec is not a JSON object: %w", err)
	}
	if decoder.More() {
		return nil, fmt.Errorf("the record's spec holds more than one JSON value")
	}
	delete(spec, "signature")
	canonical, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the record's spec: %w", err)
	}
	return append([]byte(signedPrefix), canonical...), nil
}

// digestOf is the hex SHA-256 of signed content.
func digestOf(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// Digest is the digest of a record's spec: what the next record's
// chain.previous holds.
func Digest(spec *golivev1alpha1.ReleaseRecordSpec) (string, error) {
	content, err := SignedContent(spec)
	if err != nil {
		return "", err
	}
	return digestOf(content), nil
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(key ed25519.PublicKey) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

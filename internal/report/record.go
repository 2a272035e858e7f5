package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// RequestOfRecord is the request as its record keeps it, for the report:
// spec and status as they were, the whole timeline, the ledger.
func RequestOfRecord(record *golivev1alpha1.ReleaseRecord) (*golivev1alpha1.UpdateRequest, error) {
	spec := &record.Spec
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{
		Namespace: spec.Request.Namespace, Name: spec.Request.Name, UID: types.UID(spec.Request.UID),
		CreationTimestamp: spec.Request.CreatedAt,
		Annotations:       map[string]string{golivev1alpha1.AnnotationLedger: spec.Ledger},
	}}
	if len(spec.RequestSpec.Raw) > 0 {
		if err := json.Unmarshal(spec.RequestSpec.Raw, &request.Spec); err != nil {
			return nil, fmt.Errorf("reading the recorded spec: %w", err)
		}
	}
	if len(spec.RequestStatus.Raw) > 0 {
		if err := json.Unmarshal(spec.RequestStatus.Raw, &request.Status); err != nil {
			return nil, fmt.Errorf("reading the recorded status: %w", err)
		}
	}
	request.Status.Timeline = spec.Timeline
	request.Status.RequestedBy, request.Status.SubmittedBy = spec.RequestedBy, spec.SubmittedBy
	return request, nil
}

// WriteRecord writes the report of the request record keeps, then what the
// record itself says: its place in its namespace's chain and its signature.
func WriteRecord(out io.Writer, record *golivev1alpha1.ReleaseRecord, generated time.Time) error {
	request, err := RequestOfRecord(record)
	if err != nil {
		return err
	}
	if err := Write(out, request, generated, nil); err != nil {
		return err
	}
	m := &markdown{out: out}
	spec := &record.Spec
	m.heading("Record")
	if spec.Outcome.Deleted && !spec.Outcome.Ended {
		m.printf("The request was deleted before it ended, in phase %s.\n\n", spec.Outcome.Phase)
	}
	previous := spec.Chain.Previous
	if previous == "" {
		previous = "none: the first record of the namespace"
	}
	for _, item := range [][]string{
		{"ReleaseRecord", record.Namespace + "/" + record.Name},
		{"Place in the chain of " + spec.Request.Namespace, fmt.Sprintf("#%d", spec.Chain.Sequence)},
		{"Digest of the previous record", previous},
		{"Signed with key", spec.Signature.KeyID},
		{"Recorded", timeText(&spec.RecordedAt)},
		{"Written by golive", spec.GoliveVersion},
	} {
		m.printf("- **%s:** %s\n", item[0], cellText(item[1]))
	}
	m.printf("\nCheck the signature and the chain with `kubectl golive verify-records`.\n")
	return m.err
}

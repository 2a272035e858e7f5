package records

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Archived is a ReleaseRecord as the API server returned it (Object, kept
// whole so that its signature verifies over its spec exactly as stored) and
// as golive's types read it (Record, for tables, pages and reports).
type Archived struct {
	Object *unstructured.Unstructured
	Record *golivev1alpha1.ReleaseRecord
}

// ReadArchived reads object, a ReleaseRecord as listed or got unstructured.
func ReadArchived(object *unstructured.Unstructured) (Archived, error) {
	var record golivev1alpha1.ReleaseRecord
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(object.Object, &record); err != nil {
		return Archived{}, fmt.Errorf("reading ReleaseRecord %s: %w", object.GetName(), err)
	}
	return Archived{Object: object, Record: &record}, nil
}

// EndedAt is when the recorded request ended, else when it was recorded (a
// request deleted before it ended).
func (a Archived) EndedAt() time.Time {
	if completed := a.Record.Spec.Outcome.CompletedAt; completed != nil {
		return completed.Time
	}
	return a.Record.Spec.RecordedAt.Time
}

// Stored is the record as Verify takes it: its spec's JSON as stored.
func (a Archived) Stored() (Stored, error) {
	spec, err := json.Marshal(a.Object.Object["spec"])
	if err != nil {
		return Stored{}, fmt.Errorf("reading ReleaseRecord %s: %w", a.Object.GetName(), err)
	}
	return Stored{Name: a.Object.GetName(), Spec: spec}, nil
}

// ChainOrder sorts records by source namespace, then place in the chain.
func ChainOrder(a, b Archived) int {
	return cmp.Or(
		cmp.Compare(a.Record.Spec.Request.Namespace, b.Record.Spec.Request.Namespace),
		cmp.Compare(a.Record.Spec.Chain.Sequence, b.Record.Spec.Chain.Sequence),
		cmp.Compare(a.Object.GetName(), b.Object.GetName()))
}

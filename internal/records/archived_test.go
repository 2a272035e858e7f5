package records

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// archived reads stored as the API server would list it.
func archived(t *testing.T, stored Stored) Archived {
	t.Helper()
	var spec map[string]any
	if err := json.Unmarshal(stored.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	object := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	object.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecord"))
	object.SetName(stored.Name)
	object.SetNamespace("golive-system")
	a, err := ReadArchived(object)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A record read from the archive verifies as stored, ends when its request
// completed (else when it was recorded), and sorts in chain order.
func TestArchivedRecords(t *testing.T) {
	key := testKey(1)
	var listed []Archived
	for _, stored := range append(chain(t, key, "shop", 2), chain(t, key, "billing", 2)...) {
		listed = append(listed, archived(t, stored))
	}
	slices.Reverse(listed)

	slices.SortStableFunc(listed, ChainOrder)
	var order []string
	for _, a := range listed {
		order = append(order, a.Record.Spec.Request.Namespace+"/"+a.Record.Spec.Request.Name)
	}
	if want := []string{"billing/release-1", "billing/release-2", "shop/release-1", "shop/release-2"}; !slices.Equal(order, want) {
		t.Errorf("chain order %v, want %v", order, want)
	}

	var stored []Stored
	for _, a := range listed {
		s, err := a.Stored()
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s)
	}
	if result := Verify(stored, map[string]ed25519.PublicKey{KeyID(key.Public().(ed25519.PublicKey)): key.Public().(ed25519.PublicKey)}); len(result.Problems) > 0 {
		t.Errorf("the records read back do not verify: %+v", result.Problems)
	}

	a := listed[0]
	if got := a.EndedAt(); !got.Equal(testNow) {
		t.Errorf("EndedAt = %s, want the request's completion %s", got, testNow)
	}
	a.Record.Spec.Outcome.CompletedAt = nil
	a.Record.Spec.RecordedAt.Time = testNow.Add(time.Minute)
	if got := a.EndedAt(); !got.Equal(testNow.Add(time.Minute)) {
		t.Errorf("EndedAt of a request deleted before it ended = %s, want when it was recorded", got)
	}
}

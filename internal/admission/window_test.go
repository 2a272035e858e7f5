package admission

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Every change of a window's spec is stamped with who made it and when; the
// stamp itself cannot be written by anyone but golive.
func TestWindowChangesAreStamped(t *testing.T) {
	f := newFixture(t)
	window := &golivev1alpha1.GoLiveWindow{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "evening",
			Annotations: map[string]string{golivev1alpha1.AnnotationLastChangedBy: "someone-else at 2020-01-01T00:00:00Z"}},
		Spec: golivev1alpha1.GoLiveWindowSpec{
			TimeZone: "Europe/Berlin",
			Schedule: []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: metav1.Duration{Duration: 3 * time.Hour}}},
		},
	}
	if err := f.as(t, carol).Create(t.Context(), window); err != nil {
		t.Fatalf("carol creating the window: %v", err)
	}
	stamped := func() string {
		t.Helper()
		var stored golivev1alpha1.GoLiveWindow
		if err := f.env.Client.Get(t.Context(), client.ObjectKeyFromObject(window), &stored); err != nil {
			t.Fatal(err)
		}
		return stored.Annotations[golivev1alpha1.AnnotationLastChangedBy]
	}
	patch := func(user string, change map[string]any) error {
		t.Helper()
		body, err := json.Marshal(change)
		if err != nil {
			t.Fatal(err)
		}
		target := &golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "evening"}}
		return f.as(t, user).Patch(t.Context(), target, client.RawPatch(types.MergePatchType, body))
	}
	if got, want := stamped(), carol+" at 2026-11-19T10:00:00Z"; got != want {
		t.Errorf("after creation %s = %q, want %q", golivev1alpha1.AnnotationLastChangedBy, got, want)
	}

	err := patch(dave, map[string]any{"metadata": map[string]any{"annotations": map[string]any{golivev1alpha1.AnnotationLastChangedBy: "nobody at 2026-11-19T10:00:00Z"}}})
	wantRefused(t, err, golivev1alpha1.AnnotationLastChangedBy+" is stamped by golive with who last changed the window's spec and when")
	if got := stamped(); got != carol+" at 2026-11-19T10:00:00Z" {
		t.Errorf("the refused edit changed the stamp to %q", got)
	}

	if err := patch(dave, map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{golivev1alpha1.AnnotationLastChangedBy: "nobody at 2026-11-19T10:00:00Z"}},
		"spec":     map[string]any{"leadTime": "48h"},
	}); err != nil {
		t.Fatalf("dave changing the lead time: %v", err)
	}
	if got, want := stamped(), dave+" at 2026-11-19T10:00:00Z"; got != want {
		t.Errorf("after dave's change %s = %q, want %q", golivev1alpha1.AnnotationLastChangedBy, got, want)
	}

	if err := patch(dave, map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": "billing"}}}); err != nil {
		t.Fatalf("dave labelling the window: %v", err)
	}
	if got, want := stamped(), dave+" at 2026-11-19T10:00:00Z"; got != want {
		t.Errorf("a metadata change restamped the window: %q, want %q", got, want)
	}
}

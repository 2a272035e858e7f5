package window

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestRecordChange(t *testing.T) {
	now := time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
	glw := &golivev1alpha1.GoLiveWindow{Spec: golivev1alpha1.GoLiveWindowSpec{
		TimeZone: "Europe/Berlin",
		Schedule: []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: metav1.Duration{Duration: 3 * time.Hour}}},
	}}
	glw.Generation = 1
	glw.Annotations = map[string]string{golivev1alpha1.AnnotationLastChangedBy: LastChangedBy("carol@example.com", now)}
	if got := RecordChange(glw, now); got == nil || got.Summary != "created" || got.By != "carol@example.com" {
		t.Fatalf("creation recorded as %+v", got)
	}
	if got := RecordChange(glw, now); got != nil {
		t.Errorf("the same generation was recorded again: %+v", got)
	}

	glw.Generation = 2
	glw.Spec.LeadTime = metav1.Duration{Duration: 0}
	glw.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-20T00:00", End: "2027-01-06T00:00"}}
	glw.Spec.LeadTime = metav1.Duration{Duration: 48 * time.Hour}
	glw.Annotations[golivev1alpha1.AnnotationLastChangedBy] = LastChangedBy("dave@example.com", now.Add(time.Hour))
	want := golivev1alpha1.WindowChange{At: metav1.NewTime(now.Add(time.Hour)), By: "dave@example.com", Generation: 2, Summary: "freezes, leadTime"}
	if diff := cmp.Diff(&want, RecordChange(glw, now)); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}

	delete(glw.Annotations, golivev1alpha1.AnnotationLastChangedBy)
	for generation := int64(3); generation < 3+MaxChanges; generation++ {
		glw.Generation = generation
		glw.Spec.MaxConcurrent = int32(generation)
		change := RecordChange(glw, now)
		if change == nil || change.By != UnknownChanger || change.Summary != "maxConcurrent" || !change.At.Time.Equal(now) {
			t.Fatalf("generation %d recorded as %+v", generation, change)
		}
	}
	if n := len(glw.Status.Changes); n != MaxChanges || glw.Status.Changes[n-1].Generation != 2+MaxChanges {
		t.Errorf("kept %d changes, the last of generation %d", n, glw.Status.Changes[n-1].Generation)
	}
}

func TestRecordChangeBoundsTheUser(t *testing.T) {
	now := time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
	glw := &golivev1alpha1.GoLiveWindow{}
	glw.Generation = 1
	glw.Annotations = map[string]string{golivev1alpha1.AnnotationLastChangedBy: LastChangedBy(strings.Repeat("ü", 600), now)}
	if got := RecordChange(glw, now); len([]rune(got.By)) != maxChangerLength {
		t.Errorf("by has %d characters, want %d", len([]rune(got.By)), maxChangerLength)
	}
}

func TestParseLastChangedBy(t *testing.T) {
	value := LastChangedBy("a user at work", time.Date(2026, 11, 19, 10, 0, 0, 500, time.FixedZone("CET", 3600)))
	user, at, ok := ParseLastChangedBy(value)
	if !ok || user != "a user at work" || !at.Equal(time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseLastChangedBy(%q) = %q, %v, %v", value, user, at, ok)
	}
	if _, _, ok := ParseLastChangedBy("someone"); ok {
		t.Error("ParseLastChangedBy accepted a value without a time")
	}
}

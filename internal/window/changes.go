package window

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// MaxChanges is how many changes status.changes keeps.
const MaxChanges = 20

// maxChangerLength is the bound of status.changes[].by.
const maxChangerLength = 512

// UnknownChanger stands for the author of a change that carries no stamp of
// golive's admission webhook (it was not installed, or was bypassed).
const UnknownChanger = "unknown (no " + golivev1alpha1.AnnotationLastChangedBy + ")"

// LastChangedBy is the value of AnnotationLastChangedBy for a change by user at now.
func LastChangedBy(user string, now time.Time) string {
	return user + " at " + now.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// ParseLastChangedBy reads a value of AnnotationLastChangedBy; ok is false
// when it is not one golive stamps.
func ParseLastChangedBy(value string) (user string, at time.Time, ok bool) {
	i := strings.LastIndex(value, " at ")
	if i < 0 {
		return "", time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339, value[i+len(" at "):])
	if err != nil {
		return "", time.Time{}, false
	}
	return value[:i], at, true
}

// SpecDigests is a digest of each top-level field of spec, by JSON name;
// fields left empty have none.
func SpecDigests(spec golivev1alpha1.GoLiveWindowSpec) map[string]string {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil
	}
	digests := make(map[string]string, len(fields))
	for name, value := range fields {
		sum := sha256.Sum256(value)
		digests[name] = hex.EncodeToString(sum[:8])
	}
	return digests
}

// ChangedFields names the fields whose digests differ between before and
// after, sorted, joined by ", ".
func ChangedFields(before, after map[string]string) string {
	names := map[string]bool{}
	for name := range maps.Keys(before) {
		names[name] = true
	}
	for name := range maps.Keys(after) {
		names[name] = true
	}
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if before[name] != after[name] {
			changed = append(changed, name)
		}
	}
	return strings.Join(changed, ", ")
}

// RecordChange records in glw's status a change of its spec, if its
// generation is not recorded yet, and returns the change; nil when there is
// nothing new. now dates a change that carries no stamp. The first change
// recorded (no digests yet) is the window's creation, or the first time
// golive sees it.
func RecordChange(glw *golivev1alpha1.GoLiveWindow, now time.Time) *golivev1alpha1.WindowChange {
	status := &glw.Status
	if n := len(status.Changes); n > 0 && status.Changes[n-1].Generation == glw.Generation {
		return nil
	}
	digests := SpecDigests(glw.Spec)
	summary := ChangedFields(status.SpecDigests, digests)
	switch {
	case len(status.SpecDigests) == 0 && glw.Generation <= 1:
		summary = "created"
	case len(status.SpecDigests) == 0:
		summary = "first recorded by golive"
	case summary == "":
		summary = "no field changed"
	}
	by, at, ok := ParseLastChangedBy(glw.Annotations[golivev1alpha1.AnnotationLastChangedBy])
	if !ok {
		by, at = UnknownChanger, now
	}
	if runes := []rune(by); len(runes) > maxChangerLength {
		// status.changes[].by is bounded; a longer name would fail every status patch.
		by = string(runes[:maxChangerLength-1]) + "…"
	}
	change := golivev1alpha1.WindowChange{At: metav1.NewTime(at.UTC()), By: by, Generation: glw.Generation, Summary: summary}
	status.Changes = append(status.Changes, change)
	if extra := len(status.Changes) - MaxChanges; extra > 0 {
		status.Changes = slices.Clone(status.Changes[extra:])
	}
	status.SpecDigests = digests
	return &change
}

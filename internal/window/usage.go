package window

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// DefaultEmergencyPeriod is the CRD's default emergency.period, also used to
// count emergency requests under a window without an emergency policy (they
// cannot start there, but a policy removed later should not hide past ones).
const DefaultEmergencyPeriod = 720 * time.Hour

// Usage is what the UpdateRequests naming a window tell about it at one instant.
type Usage struct {
	// ActiveUpdates are the sorted names of the requests running a production update.
	ActiveUpdates []string
	// EmergencyUsed counts emergency requests whose production started within the period.
	EmergencyUsed int32
	// ChangesAt is the next instant EmergencyUsed changes by the passing of
	// time alone; zero when it does not.
	ChangesAt time.Time
}

// EmergencyPeriod is the sliding interval emergency updates are counted over.
func EmergencyPeriod(spec v1alpha1.GoLiveWindowSpec) time.Duration {
	if spec.Emergency == nil || spec.Emergency.Period.Duration <= 0 {
		return DefaultEmergencyPeriod
	}
	return spec.Emergency.Period.Duration
}

// MaxEmergencyStarts bounds a window's status.emergencyStarts (the CRD's
// maxItems); it exceeds the largest emergency.maxPerPeriod, so a full list
// still holds every start of a period.
const MaxEmergencyStarts = 128

// UsageAt counts the running production updates and the emergency updates of
// the period (now-period, now] among requests and the window's durable
// records of emergency starts, each request once by UID. An emergency update
// counts from its production start whatever happened next: a rolled-back or
// deleted emergency still used the budget. runsProduction says which phases
// count as running a production update; lifecycle.RunsProductionUpdate owns that rule.
func UsageAt(requests []v1alpha1.UpdateRequest, starts []v1alpha1.EmergencyStart, runsProduction func(v1alpha1.Phase) bool, period time.Duration, now time.Time) Usage {
	var usage Usage
	counted := make(map[string]bool, len(starts))
	countStart := func(uid string, startedAt time.Time) {
		if uid != "" && counted[uid] {
			return
		}
		counted[uid] = true
		switch expiresAt := startedAt.Add(period); {
		case startedAt.After(now):
			// Only with clock skew between writers; it counts once now reaches it.
			usage.ChangesAt = earliest(usage.ChangesAt, startedAt)
		case expiresAt.After(now):
			usage.EmergencyUsed++
			usage.ChangesAt = earliest(usage.ChangesAt, expiresAt)
		}
	}
	for i := range requests {
		request := &requests[i]
		if runsProduction(request.Status.Phase) {
			usage.ActiveUpdates = append(usage.ActiveUpdates, request.Name)
		}
		if request.Spec.Emergency == nil || request.Status.Production == nil || request.Status.Production.StartedAt == nil {
			continue
		}
		countStart(string(request.UID), request.Status.Production.StartedAt.Time)
	}
	for _, start := range starts {
		countStart(start.UID, start.At.Time)
	}
	slices.Sort(usage.ActiveUpdates)
	return usage
}

// RecordEmergencyStart returns starts with the start of request at added,
// unless its UID is listed already, without the entries that expired by now,
// and at most MaxEmergencyStarts long (the oldest dropped). The second result
// is false when starts needed no change.
func RecordEmergencyStart(starts []v1alpha1.EmergencyStart, request *v1alpha1.UpdateRequest, at time.Time, period time.Duration) ([]v1alpha1.EmergencyStart, bool) {
	if slices.ContainsFunc(starts, func(start v1alpha1.EmergencyStart) bool { return start.UID == string(request.UID) }) {
		return starts, false
	}
	kept := PruneEmergencyStarts(starts, period, at)
	kept = append(kept, v1alpha1.EmergencyStart{Request: request.Name, UID: string(request.UID), At: metav1.NewTime(at)})
	if excess := len(kept) - MaxEmergencyStarts; excess > 0 {
		slices.SortStableFunc(kept, func(a, b v1alpha1.EmergencyStart) int { return a.At.Compare(b.At.Time) })
		kept = kept[excess:]
	}
	return kept, true
}

// PruneEmergencyStarts returns the starts that still count at now: those of
// the period (now-period, now] and any in the future (clock skew). It returns
// starts itself when none expired.
func PruneEmergencyStarts(starts []v1alpha1.EmergencyStart, period time.Duration, now time.Time) []v1alpha1.EmergencyStart {
	expired := func(start v1alpha1.EmergencyStart) bool { return !start.At.Add(period).After(now) }
	if !slices.ContainsFunc(starts, expired) {
		return starts
	}
	return slices.DeleteFunc(slices.Clone(starts), expired)
}

// earliest returns the earlier of two instants, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

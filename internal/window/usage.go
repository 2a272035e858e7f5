package window

import (
	"slices"
	"time"

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

// UsageAt counts the running production updates and the emergency updates of
// the period (now-period, now] among requests. An emergency update counts
// from its production start whatever happened next: a rolled-back emergency
// still used the budget. runsProduction says which phases count as running a
// production update; lifecycle.RunsProductionUpdate owns that rule.
func UsageAt(requests []v1alpha1.UpdateRequest, runsProduction func(v1alpha1.Phase) bool, period time.Duration, now time.Time) Usage {
	var usage Usage
	for i := range requests {
		request := &requests[i]
		if runsProduction(request.Status.Phase) {
			usage.ActiveUpdates = append(usage.ActiveUpdates, request.Name)
		}
		if request.Spec.Emergency == nil || request.Status.Production == nil || request.Status.Production.StartedAt == nil {
			continue
		}
		startedAt := request.Status.Production.StartedAt.Time
		switch expiresAt := startedAt.Add(period); {
		case startedAt.After(now):
			// Only with clock skew between writers; it counts once now reaches it.
			usage.ChangesAt = earliest(usage.ChangesAt, startedAt)
		case expiresAt.After(now):
			usage.EmergencyUsed++
			usage.ChangesAt = earliest(usage.ChangesAt, expiresAt)
		}
	}
	slices.Sort(usage.ActiveUpdates)
	return usage
}

// earliest returns the earlier of two instants, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

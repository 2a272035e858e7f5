package verify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// CheckState is one check as recorded in status; HTTP checks keep their
// successes in a row and last probe time there, so progress survives restarts.
type CheckState = v1alpha1.CheckStatus

// Defaults the API server applies; repeated for values that skipped defaulting.
const (
	defaultPeriod  = 10 * time.Second
	minimumPeriod  = time.Second
	defaultTimeout = 10 * time.Minute
)

var defaultExpectStatus = []int32{200}

// IsFinal reports whether a check's result can no longer change. A function,
// not a method, so that CheckState can become an alias of the API type.
func IsFinal(state CheckState) bool {
	return state.Result == v1alpha1.CheckPassed || state.Result == v1alpha1.CheckFailed
}

// FindCheck returns the check named name, or a Pending one when there is none.
func FindCheck(checks []CheckState, name string) CheckState {
	for _, check := range checks {
		if check.Name == name {
			return check
		}
	}
	return CheckState{Name: name, Result: v1alpha1.CheckPending}
}

// SetCheck replaces the check of the same name, or appends it; it returns the
// new slice and leaves checks as it was.
func SetCheck(checks []CheckState, state CheckState) []CheckState {
	updated := slices.Clone(checks)
	for i := range updated {
		if updated[i].Name == state.Name {
			updated[i] = state
			return updated
		}
	}
	return append(updated, state)
}

// NextHTTPState records one probe of check, made at probedAt, on top of its
// previous state. An expected status counts one more success in a row and
// passes the check at successThreshold; any other answer, or none, resets the
// count and counts one more failure in a row, which fails the check at its
// failureThreshold; without one, only the verification's timeout fails an
// HTTP check. A URL that cannot be requested at all (ProbeResult.Permanent)
// fails at once. A final state stays as it is.
func NextHTTPState(prev CheckState, check v1alpha1.HTTPCheck, probedAt time.Time, result ProbeResult) CheckState {
	if IsFinal(prev) {
		return prev
	}
	threshold := successThresholdOf(check)
	next := CheckState{
		Name:   check.Name,
		Result: v1alpha1.CheckRunning,
		// Truncated as metav1.Time would store it, so the wake-up computed now is
		// the one computed after reading the status back.
		LastProbeAt: &metav1.Time{Time: probedAt.Truncate(time.Second)},
	}
	var answer string
	switch {
	case result.Permanent:
		next.Result = v1alpha1.CheckFailed
		next.Message = result.Error
		return next
	case result.Error != "":
		answer = "no answer: " + result.Error
		next.Failures = prev.Failures + 1
	case !slices.Contains(expectStatusOf(check), int32(result.StatusCode)):
		answer = fmt.Sprintf("answered %d, expected %s", result.StatusCode, describeStatuses(expectStatusOf(check)))
		next.Failures = prev.Failures + 1
	default:
		answer = fmt.Sprintf("answered %d", result.StatusCode)
		next.Successes = prev.Successes + 1
		if next.Successes >= threshold {
			next.Result = v1alpha1.CheckPassed
		}
	}
	next.Message = fmt.Sprintf("%s (%d/%d successes in a row)", answer, next.Successes, threshold)
	if check.FailureThreshold > 0 && next.Failures > 0 {
		next.Message = fmt.Sprintf("%s (%d/%d failures in a row)", answer, next.Failures, check.FailureThreshold)
		if next.Failures >= check.FailureThreshold {
			next.Result = v1alpha1.CheckFailed
		}
	}
	return next
}

// dueAt is when a check last probed or measured in state is due again, every
// apart; a check never probed is due at once. HTTP and metric checks share it.
func dueAt(state CheckState, every time.Duration, now time.Time) time.Time {
	if state.LastProbeAt == nil {
		return now
	}
	return state.LastProbeAt.Add(every)
}

// repeatEvery is a check's period as configured, fallback when unset, and
// never below minimumPeriod.
func repeatEvery(configured, fallback time.Duration) time.Duration {
	if configured == 0 {
		return fallback
	}
	return max(configured, minimumPeriod)
}

func periodOf(check v1alpha1.HTTPCheck) time.Duration {
	return repeatEvery(check.Period.Duration, defaultPeriod)
}

func successThresholdOf(check v1alpha1.HTTPCheck) int32 {
	return max(check.SuccessThreshold, 1)
}

func expectStatusOf(check v1alpha1.HTTPCheck) []int32 {
	if len(check.ExpectStatus) == 0 {
		return defaultExpectStatus
	}
	return check.ExpectStatus
}

func describeStatuses(statuses []int32) string {
	if len(statuses) == 1 {
		return strconv.Itoa(int(statuses[0]))
	}
	texts := make([]string, len(statuses))
	for i, status := range statuses {
		texts[i] = strconv.Itoa(int(status))
	}
	return "one of " + strings.Join(texts, ", ")
}

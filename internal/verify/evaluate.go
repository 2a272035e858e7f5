package verify

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
)

// minimumRequeueAfter keeps RequeueAfter above zero, which controller-runtime
// would read as "do not requeue", when a probe is already due.
const minimumRequeueAfter = time.Millisecond

// Outcome is the state of a whole verification at one instant.
type Outcome struct {
	// Result is Running, Passed, Failed or Inconclusive: a metric check had
	// too many inconclusive measurements, and only a person moves on.
	Result v1alpha1.CheckResult
	// Message says what passed, what failed and why, or what is awaited.
	Message string
	// Checks are every check of the verification to record in status: the
	// rollout, the Jobs and the HTTP checks in spec order; missing ones are
	// Pending, and checks still open at the timeout are Failed.
	Checks []CheckState
	// Deadline is when the verification times out.
	Deadline time.Time
	// WakeAt, while Running, is the next moment the verification can change
	// without an event: the next HTTP probe, the next measurement of a metric
	// or the deadline, whichever comes first. Jobs and rollouts report
	// through watches.
	WakeAt time.Time
	// RequeueAfter, while Running, is WakeAt less now, and never zero.
	RequeueAfter time.Duration
}

// Evaluate tells where the verification described by spec stands at now,
// given when it started and its checks as recorded. It fails when a check
// failed, is Inconclusive when a metric check is (the timeout no longer runs:
// a person decides), passes when every check passed (even when evaluated
// after the deadline: results recorded count), fails when the timeout passed
// with a check still open, and otherwise runs on.
func Evaluate(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState) Outcome {
	timeout := timeoutOf(spec)
	outcome := Outcome{Checks: canonicalChecks(spec, checks), Deadline: startedAt.Add(timeout)}

	var failed, inconclusive, open []CheckState
	for _, check := range outcome.Checks {
		switch check.Result {
		case v1alpha1.CheckFailed:
			failed = append(failed, check)
		case v1alpha1.CheckInconclusive:
			inconclusive = append(inconclusive, check)
		case v1alpha1.CheckPassed:
		default:
			open = append(open, check)
		}
	}

	switch {
	case len(failed) > 0:
		outcome.Result = v1alpha1.CheckFailed
		outcome.Message = describeChecks(failed, "failed")
	case len(inconclusive) > 0:
		outcome.Result = v1alpha1.CheckInconclusive
		outcome.Message = describeInconclusive(spec, inconclusive)
	case len(open) == 0:
		outcome.Result = v1alpha1.CheckPassed
		outcome.Message = "every check passed: " + checkNames(outcome.Checks)
	case !now.Before(outcome.Deadline):
		outcome.Result = v1alpha1.CheckFailed
		outcome.Message = fmt.Sprintf("verification timed out after %s: %s",
			durationfmt.Short(timeout), describeChecks(open, "not passed"))
		for i, check := range outcome.Checks {
			if !IsFinal(check) {
				outcome.Checks[i] = timedOut(check, timeout)
			}
		}
	default:
		outcome.Result = v1alpha1.CheckRunning
		outcome.Message = fmt.Sprintf("waiting for %s; %d of %d checks passed",
			checkNames(open), len(outcome.Checks)-len(open), len(outcome.Checks))
		outcome.WakeAt = outcome.Deadline
		for _, check := range duePending(now, startedAt, spec, outcome.Checks, false) {
			outcome.WakeAt = earliest(outcome.WakeAt, dueAt(FindCheck(outcome.Checks, check.Name), periodOf(check), now))
		}
		for _, check := range dueMetrics(now, startedAt, spec, outcome.Checks, false) {
			outcome.WakeAt = earliest(outcome.WakeAt, dueAt(FindCheck(outcome.Checks, check.Name), intervalOf(check), now))
		}
		outcome.RequeueAfter = max(outcome.WakeAt.Sub(now), minimumRequeueAfter)
	}
	return outcome
}

// JobsDue are the Jobs to ensure and read at now: those without a final
// result, once the rollout passed and before the deadline.
func JobsDue(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState) []v1alpha1.VerificationJob {
	if !checksMayRun(now, startedAt, spec, checks) {
		return nil
	}
	var due []v1alpha1.VerificationJob
	for _, job := range spec.Jobs {
		if !IsFinal(FindCheck(checks, job.Name)) {
			due = append(due, job)
		}
	}
	return due
}

// ProbesDue are the HTTP checks to probe at now: those without a final result
// whose period since the last probe has passed, once the rollout passed and
// before the deadline.
func ProbesDue(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState) []v1alpha1.HTTPCheck {
	return duePending(now, startedAt, spec, checks, true)
}

// MetricsDue are the metric checks to measure at now: those still running
// whose interval since the last measurement has passed, once the rollout
// passed and before the deadline.
func MetricsDue(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState) []v1alpha1.MetricCheck {
	return dueMetrics(now, startedAt, spec, checks, true)
}

// dueMetrics lists the open metric checks once they may run; onlyDue keeps
// those whose next measurement is at or before now. None is due while a
// metric check is Inconclusive: the verification waits for a person.
func dueMetrics(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState, onlyDue bool) []v1alpha1.MetricCheck {
	if !checksMayRun(now, startedAt, spec, checks) {
		return nil
	}
	for _, check := range spec.Metrics {
		if FindCheck(checks, check.Name).Result == v1alpha1.CheckInconclusive {
			return nil
		}
	}
	var due []v1alpha1.MetricCheck
	for _, check := range spec.Metrics {
		state := FindCheck(checks, check.Name)
		if IsFinal(state) || (onlyDue && dueAt(state, intervalOf(check), now).After(now)) {
			continue
		}
		due = append(due, check)
	}
	return due
}

// describeInconclusive names each inconclusive check with its query and
// what its last measurement saw.
func describeInconclusive(spec v1alpha1.Verification, checks []CheckState) string {
	descriptions := make([]string, len(checks))
	for i, check := range checks {
		query := ""
		for _, metric := range spec.Metrics {
			if metric.Name == check.Name {
				query = metric.Query
			}
		}
		descriptions[i] = fmt.Sprintf("metric check %s is inconclusive (query %s): %s", check.Name, query, check.Message)
	}
	return strings.Join(descriptions, "; ")
}

// duePending lists the open HTTP checks once they may run; onlyDue keeps
// those whose next probe is at or before now.
func duePending(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState, onlyDue bool) []v1alpha1.HTTPCheck {
	if !checksMayRun(now, startedAt, spec, checks) {
		return nil
	}
	var due []v1alpha1.HTTPCheck
	for _, check := range spec.HTTP {
		state := FindCheck(checks, check.Name)
		if IsFinal(state) || (onlyDue && dueAt(state, periodOf(check), now).After(now)) {
			continue
		}
		due = append(due, check)
	}
	return due
}

// checksMayRun: Jobs and probes start after the rollout passed and stop at
// the deadline.
func checksMayRun(now, startedAt time.Time, spec v1alpha1.Verification, checks []CheckState) bool {
	return FindCheck(checks, v1alpha1.RolloutCheckName).Result == v1alpha1.CheckPassed &&
		now.Before(startedAt.Add(timeoutOf(spec)))
}

// canonicalChecks puts the recorded checks in the order of spec, adds the
// missing ones as Pending and drops those spec no longer has, so that the
// same state always records the same status.
func canonicalChecks(spec v1alpha1.Verification, checks []CheckState) []CheckState {
	canonical := make([]CheckState, 0, 1+len(spec.Jobs)+len(spec.HTTP)+len(spec.Metrics))
	canonical = append(canonical, FindCheck(checks, v1alpha1.RolloutCheckName))
	for _, job := range spec.Jobs {
		canonical = append(canonical, FindCheck(checks, job.Name))
	}
	for _, check := range spec.HTTP {
		canonical = append(canonical, FindCheck(checks, check.Name))
	}
	for _, check := range spec.Metrics {
		canonical = append(canonical, FindCheck(checks, check.Name))
	}
	return canonical
}

func timedOut(check CheckState, timeout time.Duration) CheckState {
	message := "timed out after " + durationfmt.Short(timeout)
	if check.Result == v1alpha1.CheckPending {
		message = "not started within " + durationfmt.Short(timeout)
	} else if check.Message != "" {
		message += ": " + check.Message
	}
	check.Result = v1alpha1.CheckFailed
	check.Message = message
	return check
}

// describeChecks names each check with what happened to it and its message.
func describeChecks(checks []CheckState, what string) string {
	descriptions := make([]string, len(checks))
	for i, check := range checks {
		descriptions[i] = fmt.Sprintf("check %s %s", check.Name, what)
		switch {
		case check.Result == v1alpha1.CheckPending:
			descriptions[i] = fmt.Sprintf("check %s not started", check.Name)
		case check.Message != "":
			descriptions[i] += ": " + check.Message
		}
	}
	return strings.Join(descriptions, "; ")
}

func checkNames(checks []CheckState) string {
	names := make([]string, len(checks))
	for i, check := range checks {
		names[i] = check.Name
	}
	return strings.Join(names, ", ")
}

func timeoutOf(spec v1alpha1.Verification) time.Duration {
	if spec.Timeout.Duration <= 0 {
		return defaultTimeout
	}
	return spec.Timeout.Duration
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

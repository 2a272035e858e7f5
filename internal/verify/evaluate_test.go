package verify

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// makeVerification is the verification of the tests: a 10m timeout, the Job
// smoke, and the HTTP checks health (every 10s) and ready (every 30s).
func makeVerification() v1alpha1.Verification {
	return v1alpha1.Verification{
		Timeout: metav1.Duration{Duration: 10 * time.Minute},
		Jobs:    []v1alpha1.VerificationJob{{Name: "smoke"}},
		HTTP: []v1alpha1.HTTPCheck{
			makeHTTPCheck(),
			makeHTTPCheck(func(check *v1alpha1.HTTPCheck) { check.Name = "ready" }, withPeriod(30*time.Second)),
		},
	}
}

func pendingCheck(name string) CheckState {
	return CheckState{Name: name, Result: v1alpha1.CheckPending}
}

func passedCheck(name string) CheckState {
	return CheckState{Name: name, Result: v1alpha1.CheckPassed, Message: "ok"}
}

func runningCheck(name, message string) CheckState {
	return CheckState{Name: name, Result: v1alpha1.CheckRunning, Message: message}
}

func probedCheck(name string, successes int32, lastProbe time.Duration) CheckState {
	return CheckState{Name: name, Result: v1alpha1.CheckRunning, Message: "answered 500, expected 200 (0/3 successes in a row)",
		Successes: successes, LastProbeAt: at(lastProbe)}
}

func TestEvaluate(t *testing.T) {
	deadline := t0.Add(10 * time.Minute)
	tests := []struct {
		name   string
		now    time.Time
		spec   v1alpha1.Verification
		checks []CheckState
		want   Outcome
	}{
		{
			name: "nothing recorded yet: every check is pending and only the deadline wakes",
			now:  t0, spec: makeVerification(),
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for rollout, smoke, health, ready; 0 of 4 checks passed",
				Checks: []CheckState{
					pendingCheck(v1alpha1.RolloutCheckName), pendingCheck("smoke"), pendingCheck("health"), pendingCheck("ready"),
				},
				Deadline: deadline, WakeAt: deadline, RequeueAfter: 10 * time.Minute,
			},
		},
		{
			name: "while the rollout runs, HTTP checks are not due",
			now:  t0.Add(time.Minute), spec: makeVerification(),
			checks: []CheckState{runningCheck(v1alpha1.RolloutCheckName, "1 of 3 replicas updated")},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for rollout, smoke, health, ready; 0 of 4 checks passed",
				Checks: []CheckState{
					runningCheck(v1alpha1.RolloutCheckName, "1 of 3 replicas updated"), pendingCheck("smoke"), pendingCheck("health"), pendingCheck("ready"),
				},
				Deadline: deadline, WakeAt: deadline, RequeueAfter: 9 * time.Minute,
			},
		},
		{
			name: "after the rollout, a check never probed is due at once",
			now:  t0.Add(time.Minute), spec: makeVerification(),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), probedCheck("health", 1, 55*time.Second)},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for smoke, health, ready; 1 of 4 checks passed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), pendingCheck("smoke"), probedCheck("health", 1, 55*time.Second), pendingCheck("ready"),
				},
				Deadline: deadline, WakeAt: t0.Add(time.Minute), RequeueAfter: time.Millisecond,
			},
		},
		{
			name: "the earliest next probe wakes, exactly a period after the last",
			now:  t0.Add(65 * time.Second), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
				probedCheck("health", 1, 60*time.Second), probedCheck("ready", 0, 45*time.Second),
			},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for smoke, health, ready; 1 of 4 checks passed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
					probedCheck("health", 1, 60*time.Second), probedCheck("ready", 0, 45*time.Second),
				},
				Deadline: deadline, WakeAt: t0.Add(70 * time.Second), RequeueAfter: 5 * time.Second,
			},
		},
		{
			name: "a slower check due first wakes first",
			now:  t0.Add(65 * time.Second), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"),
				probedCheck("health", 1, 60*time.Second), probedCheck("ready", 0, 36*time.Second),
			},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for health, ready; 2 of 4 checks passed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"),
					probedCheck("health", 1, 60*time.Second), probedCheck("ready", 0, 36*time.Second),
				},
				Deadline: deadline, WakeAt: t0.Add(66 * time.Second), RequeueAfter: time.Second,
			},
		},
		{
			name: "passed checks are not probed again, so they do not wake",
			now:  t0.Add(65 * time.Second), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
				{Name: "health", Result: v1alpha1.CheckPassed, Successes: 3, LastProbeAt: at(60 * time.Second)},
				probedCheck("ready", 0, 45*time.Second),
			},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for smoke, ready; 2 of 4 checks passed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
					{Name: "health", Result: v1alpha1.CheckPassed, Successes: 3, LastProbeAt: at(60 * time.Second)},
					probedCheck("ready", 0, 45*time.Second),
				},
				Deadline: deadline, WakeAt: t0.Add(75 * time.Second), RequeueAfter: 10 * time.Second,
			},
		},
		{
			name: "the deadline wakes when it comes before the next probe",
			now:  t0.Add(9*time.Minute + 55*time.Second), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"),
				probedCheck("ready", 0, 9*time.Minute+50*time.Second),
			},
			want: Outcome{
				Result:  v1alpha1.CheckRunning,
				Message: "waiting for ready; 3 of 4 checks passed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"),
					probedCheck("ready", 0, 9*time.Minute+50*time.Second),
				},
				Deadline: deadline, WakeAt: deadline, RequeueAfter: 5 * time.Second,
			},
		},
		{
			name: "every check passed",
			now:  t0.Add(2 * time.Minute), spec: makeVerification(),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"), passedCheck("ready")},
			want: Outcome{
				Result:   v1alpha1.CheckPassed,
				Message:  "every check passed: rollout, smoke, health, ready",
				Checks:   []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"), passedCheck("ready")},
				Deadline: deadline,
			},
		},
		{
			name: "results recorded count even when evaluated after the deadline",
			now:  t0.Add(time.Hour), spec: makeVerification(),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"), passedCheck("ready")},
			want: Outcome{
				Result:   v1alpha1.CheckPassed,
				Message:  "every check passed: rollout, smoke, health, ready",
				Checks:   []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"), passedCheck("ready")},
				Deadline: deadline,
			},
		},
		{
			name: "a failed Job fails the verification at once",
			now:  t0.Add(2 * time.Minute), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName),
				{Name: "smoke", Result: v1alpha1.CheckFailed, Message: "Job billing-staging-smoke failed: BackoffLimitExceeded"},
				probedCheck("health", 1, time.Minute),
			},
			want: Outcome{
				Result:  v1alpha1.CheckFailed,
				Message: "check smoke failed: Job billing-staging-smoke failed: BackoffLimitExceeded",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName),
					{Name: "smoke", Result: v1alpha1.CheckFailed, Message: "Job billing-staging-smoke failed: BackoffLimitExceeded"},
					probedCheck("health", 1, time.Minute), pendingCheck("ready"),
				},
				Deadline: deadline,
			},
		},
		{
			name: "a failed rollout fails the verification",
			now:  t0.Add(2 * time.Minute), spec: makeVerification(),
			checks: []CheckState{{Name: v1alpha1.RolloutCheckName, Result: v1alpha1.CheckFailed, Message: "progress deadline exceeded"}},
			want: Outcome{
				Result:  v1alpha1.CheckFailed,
				Message: "check rollout failed: progress deadline exceeded",
				Checks: []CheckState{
					{Name: v1alpha1.RolloutCheckName, Result: v1alpha1.CheckFailed, Message: "progress deadline exceeded"},
					pendingCheck("smoke"), pendingCheck("health"), pendingCheck("ready"),
				},
				Deadline: deadline,
			},
		},
		{
			name: "a failure is reported as such after the deadline too",
			now:  t0.Add(time.Hour), spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), {Name: "smoke", Result: v1alpha1.CheckFailed, Message: "Job failed"},
			},
			want: Outcome{
				Result:  v1alpha1.CheckFailed,
				Message: "check smoke failed: Job failed",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName), {Name: "smoke", Result: v1alpha1.CheckFailed, Message: "Job failed"},
					pendingCheck("health"), pendingCheck("ready"),
				},
				Deadline: deadline,
			},
		},
		{
			name: "at the deadline, the checks still open fail and are named",
			now:  deadline, spec: makeVerification(),
			checks: []CheckState{
				passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
				probedCheck("health", 0, 9*time.Minute+55*time.Second), passedCheck("ready"),
			},
			want: Outcome{
				Result: v1alpha1.CheckFailed,
				Message: "verification timed out after 10m: check smoke not passed: 1 active pod; " +
					"check health not passed: answered 500, expected 200 (0/3 successes in a row)",
				Checks: []CheckState{
					passedCheck(v1alpha1.RolloutCheckName),
					{Name: "smoke", Result: v1alpha1.CheckFailed, Message: "timed out after 10m: 1 active pod"},
					{Name: "health", Result: v1alpha1.CheckFailed, LastProbeAt: at(9*time.Minute + 55*time.Second),
						Message: "timed out after 10m: answered 500, expected 200 (0/3 successes in a row)"},
					passedCheck("ready"),
				},
				Deadline: deadline,
			},
		},
		{
			name: "a rollout that never finished leaves the other checks not started",
			now:  t0.Add(11 * time.Minute), spec: makeVerification(),
			checks: []CheckState{runningCheck(v1alpha1.RolloutCheckName, "1 of 3 replicas updated")},
			want: Outcome{
				Result: v1alpha1.CheckFailed,
				Message: "verification timed out after 10m: check rollout not passed: 1 of 3 replicas updated; " +
					"check smoke not started; check health not started; check ready not started",
				Checks: []CheckState{
					{Name: v1alpha1.RolloutCheckName, Result: v1alpha1.CheckFailed, Message: "timed out after 10m: 1 of 3 replicas updated"},
					{Name: "smoke", Result: v1alpha1.CheckFailed, Message: "not started within 10m"},
					{Name: "health", Result: v1alpha1.CheckFailed, Message: "not started within 10m"},
					{Name: "ready", Result: v1alpha1.CheckFailed, Message: "not started within 10m"},
				},
				Deadline: deadline,
			},
		},
		{
			name: "checks are recorded in spec order, and those the spec lacks are dropped",
			now:  t0.Add(time.Minute), spec: makeVerification(),
			checks: []CheckState{
				passedCheck("ready"), passedCheck("removed"), passedCheck("health"), passedCheck("smoke"), passedCheck(v1alpha1.RolloutCheckName),
			},
			want: Outcome{
				Result:   v1alpha1.CheckPassed,
				Message:  "every check passed: rollout, smoke, health, ready",
				Checks:   []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("smoke"), passedCheck("health"), passedCheck("ready")},
				Deadline: deadline,
			},
		},
		{
			name: "the rollout alone, with the default timeout of 10m",
			now:  t0.Add(time.Minute), spec: v1alpha1.Verification{},
			checks: []CheckState{runningCheck(v1alpha1.RolloutCheckName, "0 of 1 replicas updated")},
			want: Outcome{
				Result:   v1alpha1.CheckRunning,
				Message:  "waiting for rollout; 0 of 1 checks passed",
				Checks:   []CheckState{runningCheck(v1alpha1.RolloutCheckName, "0 of 1 replicas updated")},
				Deadline: deadline, WakeAt: deadline, RequeueAfter: 9 * time.Minute,
			},
		},
		{
			name: "the rollout alone, passed",
			now:  t0.Add(time.Minute), spec: v1alpha1.Verification{},
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName)},
			want: Outcome{
				Result:   v1alpha1.CheckPassed,
				Message:  "every check passed: rollout",
				Checks:   []CheckState{passedCheck(v1alpha1.RolloutCheckName)},
				Deadline: deadline,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.now, t0, tt.spec, tt.checks)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A check probed at a fraction of a second and read back from status (to the
// second) is due exactly when the outcome said to wake, not a moment later.
func TestEvaluateWakesWhenTheProbeIsDue(t *testing.T) {
	spec := v1alpha1.Verification{Timeout: metav1.Duration{Duration: 10 * time.Minute}, HTTP: []v1alpha1.HTTPCheck{makeHTTPCheck()}}
	probedAt := t0.Add(61*time.Second + 700*time.Millisecond)
	checks := []CheckState{
		passedCheck(v1alpha1.RolloutCheckName),
		NextHTTPState(pendingCheck("health"), spec.HTTP[0], probedAt, ProbeResult{StatusCode: 200}),
	}
	outcome := Evaluate(probedAt, t0, spec, checks)
	if outcome.RequeueAfter <= 0 {
		t.Fatalf("Evaluate() RequeueAfter = %v, want a wait", outcome.RequeueAfter)
	}
	wake := probedAt.Add(outcome.RequeueAfter)
	due := ProbesDue(wake, t0, spec, outcome.Checks)
	if len(due) != 1 {
		t.Errorf("ProbesDue() at the wake-up %v = %v, want the check health", wake, due)
	}
	if early := ProbesDue(wake.Add(-time.Millisecond), t0, spec, outcome.Checks); len(early) != 0 {
		t.Errorf("ProbesDue() just before the wake-up = %v, want none", early)
	}
}

func TestJobsDue(t *testing.T) {
	spec := makeVerification()
	spec.Jobs = append(spec.Jobs, v1alpha1.VerificationJob{Name: "migrations"})
	tests := []struct {
		name   string
		now    time.Time
		checks []CheckState
		want   []string
	}{
		{name: "none before the rollout passed", now: t0.Add(time.Minute),
			checks: []CheckState{runningCheck(v1alpha1.RolloutCheckName, "")}},
		{name: "every Job once the rollout passed", now: t0.Add(time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName)}, want: []string{"smoke", "migrations"}},
		{name: "running Jobs stay due, finished ones do not", now: t0.Add(time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), runningCheck("smoke", "1 active pod"),
				{Name: "migrations", Result: v1alpha1.CheckFailed}},
			want: []string{"smoke"}},
		{name: "none at the deadline", now: t0.Add(10 * time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, job := range JobsDue(tt.now, t0, spec, tt.checks) {
				got = append(got, job.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JobsDue() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProbesDue(t *testing.T) {
	tests := []struct {
		name   string
		now    time.Time
		checks []CheckState
		want   []string
	}{
		{name: "none before the rollout passed", now: t0.Add(time.Minute),
			checks: []CheckState{runningCheck(v1alpha1.RolloutCheckName, "")}},
		{name: "checks never probed are due", now: t0.Add(time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName)}, want: []string{"health", "ready"}},
		{name: "a check is due a period after its last probe, not before", now: t0.Add(70 * time.Second),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), probedCheck("health", 1, 60*time.Second),
				probedCheck("ready", 1, 41*time.Second)},
			want: []string{"health"}},
		{name: "passed checks are not probed again", now: t0.Add(5 * time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName), passedCheck("health"), probedCheck("ready", 1, time.Minute)},
			want:   []string{"ready"}},
		{name: "none at the deadline", now: t0.Add(10 * time.Minute),
			checks: []CheckState{passedCheck(v1alpha1.RolloutCheckName)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, check := range ProbesDue(tt.now, t0, makeVerification(), tt.checks) {
				got = append(got, check.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ProbesDue() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

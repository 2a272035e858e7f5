package verify

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

var t0 = time.Date(2026, 7, 9, 18, 0, 0, 0, time.UTC)

func at(offset time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(offset)} }

type httpCheckOption func(*v1alpha1.HTTPCheck)

func makeHTTPCheck(options ...httpCheckOption) v1alpha1.HTTPCheck {
	check := v1alpha1.HTTPCheck{
		Name:             "health",
		URL:              "http://billing-api.billing-grey.svc:8080/healthz",
		ExpectStatus:     []int32{200},
		SuccessThreshold: 3,
		Period:           metav1.Duration{Duration: 10 * time.Second},
	}
	for _, option := range options {
		option(&check)
	}
	return check
}

func withThreshold(n int32) httpCheckOption {
	return func(check *v1alpha1.HTTPCheck) { check.SuccessThreshold = n }
}

func withExpectStatus(statuses ...int32) httpCheckOption {
	return func(check *v1alpha1.HTTPCheck) { check.ExpectStatus = statuses }
}

func withPeriod(period time.Duration) httpCheckOption {
	return func(check *v1alpha1.HTTPCheck) { check.Period = metav1.Duration{Duration: period} }
}

func TestNextHTTPState(t *testing.T) {
	pending := CheckState{Name: "health", Result: v1alpha1.CheckPending}
	tests := []struct {
		name     string
		prev     CheckState
		check    v1alpha1.HTTPCheck
		probedAt time.Time
		result   ProbeResult
		want     CheckState
	}{
		{
			name: "a first success counts one of three",
			prev: pending, check: makeHTTPCheck(), probedAt: t0, result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 1, LastProbeAt: at(0),
				Message: "answered 200 (1/3 successes in a row)"},
		},
		{
			name:  "the third success in a row passes",
			prev:  CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 2, LastProbeAt: at(10 * time.Second)},
			check: makeHTTPCheck(), probedAt: t0.Add(20 * time.Second), result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckPassed, Successes: 3, LastProbeAt: at(20 * time.Second),
				Message: "answered 200 (3/3 successes in a row)"},
		},
		{
			name: "a threshold of one passes at the first success",
			prev: pending, check: makeHTTPCheck(withThreshold(1)), probedAt: t0, result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckPassed, Successes: 1, LastProbeAt: at(0),
				Message: "answered 200 (1/1 successes in a row)"},
		},
		{
			name: "an unset threshold means one",
			prev: pending, check: makeHTTPCheck(withThreshold(0)), probedAt: t0, result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckPassed, Successes: 1, LastProbeAt: at(0),
				Message: "answered 200 (1/1 successes in a row)"},
		},
		{
			name:  "an unexpected status resets the count and keeps the check running",
			prev:  CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 2, LastProbeAt: at(0)},
			check: makeHTTPCheck(), probedAt: t0.Add(10 * time.Second), result: ProbeResult{StatusCode: 500},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Failures: 1, Successes: 0, LastProbeAt: at(10 * time.Second),
				Message: "answered 500, expected 200 (0/3 successes in a row)"},
		},
		{
			name: "a status outside a list of several",
			prev: pending, check: makeHTTPCheck(withExpectStatus(200, 204)), probedAt: t0, result: ProbeResult{StatusCode: 302},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Failures: 1, LastProbeAt: at(0),
				Message: "answered 302, expected one of 200, 204 (0/3 successes in a row)"},
		},
		{
			name: "any status of the list counts",
			prev: pending, check: makeHTTPCheck(withExpectStatus(200, 204)), probedAt: t0, result: ProbeResult{StatusCode: 204},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 1, LastProbeAt: at(0),
				Message: "answered 204 (1/3 successes in a row)"},
		},
		{
			name: "an unset list expects 200",
			prev: pending, check: makeHTTPCheck(withExpectStatus()), probedAt: t0, result: ProbeResult{StatusCode: 201},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Failures: 1, LastProbeAt: at(0),
				Message: "answered 201, expected 200 (0/3 successes in a row)"},
		},
		{
			name:  "no answer resets the count and keeps the check running",
			prev:  CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 1, LastProbeAt: at(0)},
			check: makeHTTPCheck(), probedAt: t0.Add(10 * time.Second),
			result: ProbeResult{Error: "unreachable"},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Failures: 1, LastProbeAt: at(10 * time.Second),
				Message: "no answer: unreachable (0/3 successes in a row)"},
		},
		{
			name: "a URL that cannot be requested fails at once",
			prev: pending, check: makeHTTPCheck(), probedAt: t0,
			result: ProbeResult{Error: `invalid URL "http://[::1": missing ']' in host`, Permanent: true},
			want: CheckState{Name: "health", Result: v1alpha1.CheckFailed, LastProbeAt: at(0),
				Message: `invalid URL "http://[::1": missing ']' in host`},
		},
		{
			name: "the probe time is kept to the second, as status stores it",
			prev: pending, check: makeHTTPCheck(), probedAt: t0.Add(1999 * time.Millisecond), result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckRunning, Successes: 1, LastProbeAt: at(time.Second),
				Message: "answered 200 (1/3 successes in a row)"},
		},
		{
			name:  "a passed check stays passed",
			prev:  CheckState{Name: "health", Result: v1alpha1.CheckPassed, Successes: 3, LastProbeAt: at(0), Message: "answered 200 (3/3 successes in a row)"},
			check: makeHTTPCheck(), probedAt: t0.Add(10 * time.Second), result: ProbeResult{StatusCode: 500},
			want: CheckState{Name: "health", Result: v1alpha1.CheckPassed, Successes: 3, LastProbeAt: at(0), Message: "answered 200 (3/3 successes in a row)"},
		},
		{
			name:  "a failed check stays failed",
			prev:  CheckState{Name: "health", Result: v1alpha1.CheckFailed, Message: "timed out after 10m"},
			check: makeHTTPCheck(), probedAt: t0, result: ProbeResult{StatusCode: 200},
			want: CheckState{Name: "health", Result: v1alpha1.CheckFailed, Message: "timed out after 10m"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextHTTPState(tt.prev, tt.check, tt.probedAt, tt.result)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NextHTTPState() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A check that answers with a flapping endpoint passes only after enough
// successes in a row, however many it had before a failure.
func TestNextHTTPStateFailureThreshold(t *testing.T) {
	check := makeHTTPCheck(func(check *v1alpha1.HTTPCheck) { check.FailureThreshold = 3 })
	tests := []struct {
		name        string
		statuses    []int
		wantResult  v1alpha1.CheckResult
		wantMessage string
	}{
		{name: "three failures in a row fail the check at once", statuses: []int{500, 500, 500},
			wantResult: v1alpha1.CheckFailed, wantMessage: "answered 500, expected 200 (3/3 failures in a row)"},
		{name: "no answer counts as a failure", statuses: []int{500, 0, 500},
			wantResult: v1alpha1.CheckFailed, wantMessage: "answered 500, expected 200 (3/3 failures in a row)"},
		{name: "a success between failures starts the count again", statuses: []int{500, 500, 200, 500, 500},
			wantResult: v1alpha1.CheckRunning, wantMessage: "answered 500, expected 200 (2/3 failures in a row)"},
		{name: "successes still pass the check", statuses: []int{500, 200, 200, 200},
			wantResult: v1alpha1.CheckPassed, wantMessage: "answered 200 (3/3 successes in a row)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := FindCheck(nil, check.Name)
			for i, status := range tt.statuses {
				result := ProbeResult{StatusCode: status}
				if status == 0 {
					result = ProbeResult{Error: "unreachable"}
				}
				state = NextHTTPState(state, check, t0.Add(time.Duration(i)*check.Period.Duration), result)
			}
			if state.Result != tt.wantResult || state.Message != tt.wantMessage {
				t.Errorf("after %v: %s %q, want %s %q", tt.statuses, state.Result, state.Message, tt.wantResult, tt.wantMessage)
			}
		})
	}
}

func TestNextHTTPStateSequence(t *testing.T) {
	check := makeHTTPCheck()
	statuses := []int{200, 200, 503, 200, 200, 200}
	wantResults := []v1alpha1.CheckResult{
		v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning,
		v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckPassed,
	}
	state := FindCheck(nil, check.Name)
	var got []v1alpha1.CheckResult
	for i, status := range statuses {
		state = NextHTTPState(state, check, t0.Add(time.Duration(i)*check.Period.Duration), ProbeResult{StatusCode: status})
		got = append(got, state.Result)
	}
	if diff := cmp.Diff(wantResults, got); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
}

func TestFindAndSetCheck(t *testing.T) {
	checks := []CheckState{
		{Name: v1alpha1.RolloutCheckName, Result: v1alpha1.CheckPassed},
		{Name: "smoke", Result: v1alpha1.CheckRunning},
	}
	if diff := cmp.Diff(CheckState{Name: "health", Result: v1alpha1.CheckPending}, FindCheck(checks, "health")); diff != "" {
		t.Errorf("FindCheck() of a missing check mismatch (-want +got):\n%s", diff)
	}

	replaced := SetCheck(checks, CheckState{Name: "smoke", Result: v1alpha1.CheckPassed})
	appended := SetCheck(replaced, CheckState{Name: "health", Result: v1alpha1.CheckRunning})
	want := []CheckState{
		{Name: v1alpha1.RolloutCheckName, Result: v1alpha1.CheckPassed},
		{Name: "smoke", Result: v1alpha1.CheckPassed},
		{Name: "health", Result: v1alpha1.CheckRunning},
	}
	if diff := cmp.Diff(want, appended); diff != "" {
		t.Errorf("SetCheck() mismatch (-want +got):\n%s", diff)
	}
	if checks[1].Result != v1alpha1.CheckRunning {
		t.Errorf("SetCheck() changed the slice it was given")
	}
}

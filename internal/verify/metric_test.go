package verify

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/golive-dev/golive/api/v1alpha1"
)

type metricCheckOption func(*v1alpha1.MetricCheck)

// makeMetricCheck is an error rate below 1%, measured 5 times every 30s,
// one failure tolerated.
func makeMetricCheck(options ...metricCheckOption) v1alpha1.MetricCheck {
	check := v1alpha1.MetricCheck{
		Name:              "error-rate",
		Prometheus:        v1alpha1.PrometheusSource{Address: "http://prometheus.monitoring:9090"},
		Query:             `sum(rate(http_requests_total{namespace="{{.Namespace}}",code=~"5.."}[1m]))`,
		SuccessCondition:  "result < 0.01",
		Interval:          metav1.Duration{Duration: 30 * time.Second},
		Count:             5,
		FailureLimit:      1,
		InconclusiveLimit: ptr.To[int32](2),
	}
	for _, option := range options {
		option(&check)
	}
	return check
}

func scalar(value float64) QueryResult { return QueryResult{Values: []float64{value}} }

func vector(values ...float64) QueryResult { return QueryResult{Values: values, Vector: true} }

func TestMeasure(t *testing.T) {
	withFailure := func(condition string) metricCheckOption {
		return func(check *v1alpha1.MetricCheck) { check.FailureCondition = condition }
	}
	withSuccess := func(condition string) metricCheckOption {
		return func(check *v1alpha1.MetricCheck) { check.SuccessCondition = condition }
	}
	tests := []struct {
		name   string
		check  v1alpha1.MetricCheck
		result QueryResult
		want   v1alpha1.Measurement
	}{
		{name: "a value under the threshold passes", check: makeMetricCheck(), result: scalar(0.002),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementPassed, Value: "0.002"}},
		{name: "a value over it fails", check: makeMetricCheck(), result: vector(0.25),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementFailed, Value: "0.25", Message: "successCondition result < 0.01 is false"}},
		{name: "a vector of one sample is its number", check: makeMetricCheck(), result: vector(0.001),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementPassed, Value: "0.001"}},
		{name: "a vector of several is a list", check: makeMetricCheck(withSuccess("all(result, # < 0.01)")), result: vector(0.001, 0.002),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementPassed, Value: "[0.001, 0.002]"}},
		{name: "one sample of a list over the threshold fails", check: makeMetricCheck(withSuccess("all(result, # < 0.01)")), result: vector(0.001, 0.5),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementFailed, Value: "[0.001, 0.5]", Message: "successCondition all(result, # < 0.01) is false"}},
		{name: "values is a list whatever the size", check: makeMetricCheck(withSuccess("len(values) == 1 && values[0] < 1")), result: vector(0.5),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementPassed, Value: "0.5"}},
		{name: "an empty vector is no data", check: makeMetricCheck(), result: vector(),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementInconclusive, Value: "[]", Message: "no data: the query returned no samples"}},
		{name: "NaN alone is no data", check: makeMetricCheck(), result: vector(math.NaN()),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementInconclusive, Value: "NaN", Message: "no data: the query returned no samples"}},
		{name: "a query error is inconclusive", check: makeMetricCheck(), result: QueryResult{Error: "Prometheus at http://prometheus.monitoring:9090: unreachable"},
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementInconclusive, Message: "Prometheus at http://prometheus.monitoring:9090: unreachable"}},
		{name: "a condition that fails to evaluate is inconclusive", check: makeMetricCheck(withSuccess("result[5] < 1")), result: vector(1, 2),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementInconclusive, Value: "[1, 2]",
				Message: "successCondition: index out of range: 5 (array length is 2) (1:7)\n | result[5] < 1\n | ......^"}},
		{name: "with a failureCondition, it decides the failure", check: makeMetricCheck(withFailure("result > 0.05")), result: scalar(0.1),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementFailed, Value: "0.1", Message: "failureCondition result > 0.05 is true"}},
		{name: "with a failureCondition, a value between the two is inconclusive", check: makeMetricCheck(withFailure("result > 0.05")), result: scalar(0.02),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementInconclusive, Value: "0.02", Message: "neither successCondition nor failureCondition is true"}},
		{name: "with a failureCondition, success still passes", check: makeMetricCheck(withFailure("result > 0.05")), result: scalar(0.001),
			want: v1alpha1.Measurement{Result: v1alpha1.MeasurementPassed, Value: "0.001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.At = metav1.Time{Time: t0}
			got := Measure(tt.check, t0.Add(300*time.Millisecond), tt.result)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Measure() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMeasureBoundsWhatItRecords(t *testing.T) {
	values := make([]float64, 200)
	got := Measure(makeMetricCheck(func(check *v1alpha1.MetricCheck) { check.SuccessCondition = "true" }), t0, vector(values...))
	if len(got.Value) > maxValueLength || !strings.HasSuffix(got.Value, "…") {
		t.Errorf("value of %d characters, ending %q: want at most %d, cut with …", len(got.Value), got.Value[len(got.Value)-5:], maxValueLength)
	}
	got = Measure(makeMetricCheck(), t0, QueryResult{Error: strings.Repeat("é", 1000)})
	if len(got.Message) > maxMeasurementMessage || !strings.HasSuffix(got.Message, "é…") {
		t.Errorf("message of %d bytes: want at most %d, cut on a character boundary", len(got.Message), maxMeasurementMessage)
	}
}

// measurements runs check over results, one every interval from t0, and
// returns the check's state after each.
func measurements(check v1alpha1.MetricCheck, results ...QueryResult) []CheckState {
	state := FindCheck(nil, check.Name)
	var states []CheckState
	for i, result := range results {
		at := t0.Add(time.Duration(i) * check.Interval.Duration)
		state = NextMetricState(state, check, Measure(check, at, result))
		states = append(states, state)
	}
	return states
}

func TestNextMetricState(t *testing.T) {
	unreachable := QueryResult{Error: "Prometheus at http://prometheus.monitoring:9090: unreachable"}
	tests := []struct {
		name        string
		check       v1alpha1.MetricCheck
		results     []QueryResult
		wantResults []v1alpha1.CheckResult
		wantLast    CheckState
	}{
		{
			name: "count healthy measurements pass", check: makeMetricCheck(),
			results:     []QueryResult{scalar(0), scalar(0.001), scalar(0), scalar(0.002), scalar(0)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckPassed},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckPassed, Successes: 5,
				Message: "5 passed, 0 failed (limit 1), 0 inconclusive (limit 2) of 5 measurements"},
		},
		{
			name: "failureLimit failures are tolerated", check: makeMetricCheck(),
			results:     []QueryResult{scalar(0), scalar(0.5), scalar(0), scalar(0), scalar(0)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckPassed},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckPassed, Successes: 4, Failures: 1,
				Message: "4 passed, 1 failed (limit 1), 0 inconclusive (limit 2) of 5 measurements"},
		},
		{
			name: "one failure past failureLimit fails at once, before count", check: makeMetricCheck(),
			results:     []QueryResult{scalar(0.5), scalar(0), scalar(0.3)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckFailed},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckFailed, Successes: 1, Failures: 2,
				Message: "1 passed, 2 failed (limit 1), 0 inconclusive (limit 2) of 5 measurements; more than failureLimit failed; " +
					"last: failed with 0.3: successCondition result < 0.01 is false"},
		},
		{
			name: "inconclusive measurements do not count towards count", check: makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Count = 2 }),
			results:     []QueryResult{scalar(0), vector(), scalar(0)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckPassed},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckPassed, Successes: 2, Inconclusive: 1,
				Message: "2 passed, 0 failed (limit 1), 1 inconclusive (limit 2) of 2 measurements"},
		},
		{
			name: "one inconclusive past inconclusiveLimit makes the check inconclusive", check: makeMetricCheck(),
			results:     []QueryResult{unreachable, scalar(0), unreachable, unreachable, scalar(0)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckInconclusive, v1alpha1.CheckInconclusive},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckInconclusive, Successes: 1, Inconclusive: 3,
				Message: "1 passed, 0 failed (limit 1), 3 inconclusive (limit 2) of 5 measurements; more than inconclusiveLimit were inconclusive; " +
					"last: inconclusive: Prometheus at http://prometheus.monitoring:9090: unreachable"},
		},
		{
			name: "an inconclusiveLimit of 0 stops at the first", check: makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.InconclusiveLimit = ptr.To[int32](0) }),
			results:     []QueryResult{vector()},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckInconclusive},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckInconclusive, Inconclusive: 1,
				Message: "0 passed, 0 failed (limit 1), 1 inconclusive (limit 0) of 5 measurements; more than inconclusiveLimit were inconclusive; " +
					"last: inconclusive with []: no data: the query returned no samples"},
		},
		{
			name: "an unset inconclusiveLimit is 3 and an unset count 1", check: makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.InconclusiveLimit = nil; c.Count = 0 }),
			results:     []QueryResult{unreachable, unreachable, unreachable, scalar(0)},
			wantResults: []v1alpha1.CheckResult{v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckRunning, v1alpha1.CheckPassed},
			wantLast: CheckState{Name: "error-rate", Result: v1alpha1.CheckPassed, Successes: 1, Inconclusive: 3,
				Message: "1 passed, 0 failed (limit 1), 3 inconclusive (limit 3) of 1 measurements"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states := measurements(tt.check, tt.results...)
			var got []v1alpha1.CheckResult
			for _, state := range states {
				got = append(got, state.Result)
			}
			if diff := cmp.Diff(tt.wantResults, got); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
			last := states[len(states)-1]
			last.LastProbeAt, last.Measurements = nil, nil
			if diff := cmp.Diff(tt.wantLast, last); diff != "" {
				t.Errorf("last state mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextMetricStateKeepsTheLatestMeasurements(t *testing.T) {
	check := makeMetricCheck(func(c *v1alpha1.MetricCheck) { c.Count = 20; c.FailureLimit = 19 })
	results := make([]QueryResult, 14)
	for i := range results {
		results[i] = scalar(float64(i))
	}
	last := measurements(check, results...)[len(results)-1]
	if len(last.Measurements) != maxMeasurements {
		t.Fatalf("%d measurements kept, want %d", len(last.Measurements), maxMeasurements)
	}
	if first := last.Measurements[0]; first.Value != "4" || !first.At.Equal(&metav1.Time{Time: t0.Add(4 * 30 * time.Second)}) {
		t.Errorf("oldest kept measurement %+v, want the fifth (value 4)", first)
	}
	if last.Successes+last.Failures != 14 {
		t.Errorf("counts cover %d measurements, want all 14", last.Successes+last.Failures)
	}
	if !last.LastProbeAt.Equal(&metav1.Time{Time: t0.Add(13 * 30 * time.Second)}) {
		t.Errorf("lastProbeAt %v, want the last measurement's time", last.LastProbeAt)
	}
}

func TestNextMetricStateKeepsAnInconclusiveCheck(t *testing.T) {
	check := makeMetricCheck()
	prev := CheckState{Name: check.Name, Result: v1alpha1.CheckInconclusive, Inconclusive: 3, Message: "stopped"}
	if got := NextMetricState(prev, check, Measure(check, t0, scalar(0))); !cmp.Equal(prev, got) {
		t.Errorf("an inconclusive check changed: %+v", got)
	}
}

func TestRenderQuery(t *testing.T) {
	vars := NewQueryVars("billing", "billing-2026-07", EnvironmentProduction, []string{"api", "worker.v2"})
	tests := []struct {
		name, query, want, wantErr string
	}{
		{name: "namespace, release, environment and targets",
			query: `rate(x{namespace="{{.Namespace}}",release="{{.Release}}",env="{{.Environment}}",deployment=~"{{.Targets}}"}[1m])`,
			want:  `rate(x{namespace="billing",release="billing-2026-07",env="production",deployment=~"api|worker\.v2"}[1m])`},
		{name: "no template at all", query: `up`, want: `up`},
		{name: "an unknown field", query: `up{x="{{.Cluster}}"}`, wantErr: "can't evaluate field Cluster"},
		{name: "a broken template", query: `up{x="{{.Namespace"}`, wantErr: "query is not a valid template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderQuery(tt.query, vars)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("RenderQuery() error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("RenderQuery() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCompileCondition(t *testing.T) {
	for _, condition := range []string{"result < 0.01", "all(result, # < 1)", "len(values) > 0 && values[0] >= 0.99", "result == 0 || result > 5"} {
		if _, err := CompileCondition(condition); err != nil {
			t.Errorf("CompileCondition(%q): %v", condition, err)
		}
	}
	for _, condition := range []string{"result <", "1 + 1", "rate > 1", `"yes"`} {
		if _, err := CompileCondition(condition); err == nil {
			t.Errorf("CompileCondition(%q) compiled, want an error", condition)
		}
	}
}

func TestResultOf(t *testing.T) {
	tests := []struct {
		name  string
		value model.Value
		want  QueryResult
	}{
		{name: "a scalar", value: &model.Scalar{Value: 0.5}, want: QueryResult{Values: []float64{0.5}}},
		{name: "a vector", value: model.Vector{{Value: 1}, {Value: 2}}, want: QueryResult{Values: []float64{1, 2}, Vector: true}},
		{name: "an empty vector", value: model.Vector{}, want: QueryResult{Values: []float64{}, Vector: true}},
		{name: "a range vector", value: model.Matrix{}, want: QueryResult{Error: "the query returned a matrix; a scalar or an instant vector is needed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ResultOf(tt.value)); diff != "" {
				t.Errorf("ResultOf() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// metricVerification is a verification with the metric check of makeMetricCheck only.
func metricVerification() v1alpha1.Verification {
	return v1alpha1.Verification{Timeout: metav1.Duration{Duration: 10 * time.Minute}, Metrics: []v1alpha1.MetricCheck{makeMetricCheck()}}
}

func TestEvaluateMetrics(t *testing.T) {
	deadline := t0.Add(10 * time.Minute)
	measured := func(result v1alpha1.CheckResult, last time.Duration) CheckState {
		return CheckState{Name: "error-rate", Result: result, Successes: 1, LastProbeAt: at(last), Message: "m"}
	}
	tests := []struct {
		name       string
		now        time.Time
		checks     []CheckState
		wantResult v1alpha1.CheckResult
		wantWake   time.Time
		wantDue    []string
		wantInMsg  string
	}{
		{name: "not measured before the rollout passed", now: t0.Add(time.Minute),
			checks:     []CheckState{runningCheck(v1alpha1.RolloutCheckName, "rolling")},
			wantResult: v1alpha1.CheckRunning, wantWake: deadline},
		{name: "measured at once after the rollout", now: t0.Add(time.Minute),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName)},
			wantResult: v1alpha1.CheckRunning, wantWake: t0.Add(time.Minute), wantDue: []string{"error-rate"}},
		{name: "the next measurement wakes the request an interval later", now: t0.Add(time.Minute),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckRunning, 50*time.Second)},
			wantResult: v1alpha1.CheckRunning, wantWake: t0.Add(80 * time.Second)},
		{name: "a failed metric fails the verification", now: t0.Add(time.Minute),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckFailed, 50*time.Second)},
			wantResult: v1alpha1.CheckFailed, wantInMsg: "check error-rate failed: m"},
		{name: "an inconclusive metric stops the verification, naming the query", now: t0.Add(time.Minute),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckInconclusive, 50*time.Second)},
			wantResult: v1alpha1.CheckInconclusive, wantInMsg: `metric check error-rate is inconclusive (query sum(rate(http_requests_total{namespace="{{.Namespace}}",code=~"5.."}[1m]))): m`},
		{name: "an inconclusive metric is not timed out", now: deadline.Add(time.Hour),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckInconclusive, 50*time.Second)},
			wantResult: v1alpha1.CheckInconclusive},
		{name: "a running metric at the deadline fails the verification", now: deadline,
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckRunning, 9*time.Minute)},
			wantResult: v1alpha1.CheckFailed, wantInMsg: "verification timed out after 10m"},
		{name: "a passed metric passes the verification", now: t0.Add(time.Minute),
			checks:     []CheckState{passedCheck(v1alpha1.RolloutCheckName), measured(v1alpha1.CheckPassed, 50*time.Second)},
			wantResult: v1alpha1.CheckPassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.now, t0, metricVerification(), tt.checks)
			if got.Result != tt.wantResult || !got.WakeAt.Equal(tt.wantWake) {
				t.Errorf("Evaluate() = %s waking at %v, want %s waking at %v (%s)", got.Result, got.WakeAt, tt.wantResult, tt.wantWake, got.Message)
			}
			if !strings.Contains(got.Message, tt.wantInMsg) {
				t.Errorf("message %q does not contain %q", got.Message, tt.wantInMsg)
			}
			var due []string
			for _, check := range MetricsDue(tt.now, t0, metricVerification(), tt.checks) {
				due = append(due, check.Name)
			}
			if diff := cmp.Diff(tt.wantDue, due); diff != "" {
				t.Errorf("MetricsDue() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

package verify

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// Defaults of a metric check the API server applies; repeated for values
// that skipped defaulting.
const (
	defaultInterval          = 30 * time.Second
	defaultInconclusiveLimit = 3
	// maxMeasurements is how many measurements a check keeps in status; its
	// counts cover every measurement.
	maxMeasurements = 10
	// maxValueLength and maxMeasurementMessage bound what one measurement
	// records, as the CRD does.
	maxValueLength        = 256
	maxMeasurementMessage = 512
)

// QueryVars are what a metric check's query may name: {{.Namespace}},
// {{.Release}}, {{.Environment}} and {{.Targets}}.
type QueryVars struct {
	// Namespace is the environment's namespace.
	Namespace string
	// Release is the request's name.
	Release string
	// Environment is staging or production.
	Environment string
	// Targets matches the names of the targets, as a regular expression a|b.
	Targets string
}

// NewQueryVars builds the variables of env's queries from its namespace, the
// request's name and its targets' names.
func NewQueryVars(namespace, release, env string, targetNames []string) QueryVars {
	quoted := make([]string, len(targetNames))
	for i, name := range targetNames {
		quoted[i] = regexp.QuoteMeta(name)
	}
	return QueryVars{Namespace: namespace, Release: release, Environment: env, Targets: strings.Join(quoted, "|")}
}

// SampleQueryVars stand for real values where none are known yet, as at
// admission: a query is checked once rendered with them.
var SampleQueryVars = QueryVars{Namespace: "sample-namespace", Release: "sample-release",
	Environment: EnvironmentProduction, Targets: "sample-a|sample-b"}

// RenderQuery executes query as a Go template over vars. A field vars does
// not have is an error, not an empty string.
func RenderQuery(query string, vars QueryVars) (string, error) {
	tmpl, err := template.New("query").Option("missingkey=error").Parse(query)
	if err != nil {
		return "", fmt.Errorf("query is not a valid template: %w", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, vars); err != nil {
		return "", fmt.Errorf("query is not a valid template: %w", err)
	}
	return out.String(), nil
}

// conditionEnv is what a condition may use: result, a number or a list, and
// values, always the list.
type conditionEnv struct {
	Result any       `expr:"result"`
	Values []float64 `expr:"values"`
}

// CompileCondition compiles an expr-lang condition over result and values
// into a program that must return a boolean.
func CompileCondition(condition string) (*vm.Program, error) {
	return expr.Compile(condition, expr.Env(conditionEnv{}), expr.AsBool())
}

// QueryResult is what one query answered: Values, or Error when there was
// no usable answer.
type QueryResult struct {
	// Values are the samples of a scalar (one) or a vector (any number).
	Values []float64
	// Vector is true for an instant vector, false for a scalar.
	Vector bool
	// Error says why there are no values; the measurement is inconclusive.
	Error string
}

// ResultOf reads the values of an instant query's answer; anything but a
// scalar or an instant vector is an error.
func ResultOf(value model.Value) QueryResult {
	switch v := value.(type) {
	case *model.Scalar:
		return QueryResult{Values: []float64{float64(v.Value)}}
	case model.Vector:
		values := make([]float64, len(v))
		for i, sample := range v {
			values[i] = float64(sample.Value)
		}
		return QueryResult{Values: values, Vector: true}
	case nil:
		return QueryResult{Error: "the query returned nothing"}
	default:
		return QueryResult{Error: fmt.Sprintf("the query returned a %s; a scalar or an instant vector is needed", v.Type())}
	}
}

// Measure judges one query result against check's conditions: Passed,
// Failed or Inconclusive, with the value as recorded. No data (an empty
// vector, or NaN everywhere) is inconclusive, as is a condition that does
// not evaluate to a boolean.
func Measure(check v1alpha1.MetricCheck, at time.Time, result QueryResult) v1alpha1.Measurement {
	measurement := v1alpha1.Measurement{At: metav1.Time{Time: at.Truncate(time.Second)}}
	inconclusive := func(message string) v1alpha1.Measurement {
		measurement.Result = v1alpha1.MeasurementInconclusive
		measurement.Message = truncate(message, maxMeasurementMessage)
		return measurement
	}
	if result.Error != "" {
		return inconclusive(result.Error)
	}
	measurement.Value = truncate(formatValues(result), maxValueLength)
	if len(result.Values) == 0 || allNaN(result.Values) {
		return inconclusive("no data: the query returned no samples")
	}
	env := conditionEnv{Result: resultValue(result), Values: result.Values}
	succeeded, err := evaluate(check.SuccessCondition, env)
	if err != nil {
		return inconclusive("successCondition: " + err.Error())
	}
	failed := !succeeded
	if check.FailureCondition != "" {
		if failed, err = evaluate(check.FailureCondition, env); err != nil {
			return inconclusive("failureCondition: " + err.Error())
		}
	}
	switch {
	case failed:
		measurement.Result = v1alpha1.MeasurementFailed
		condition := "failureCondition " + check.FailureCondition + " is true"
		if check.FailureCondition == "" {
			condition = "successCondition " + check.SuccessCondition + " is false"
		}
		measurement.Message = truncate(condition, maxMeasurementMessage)
	case succeeded:
		measurement.Result = v1alpha1.MeasurementPassed
	default:
		return inconclusive("neither successCondition nor failureCondition is true")
	}
	return measurement
}

// resultValue is what a condition sees as result: the number of a scalar or
// of a vector of one sample, otherwise the list.
func resultValue(result QueryResult) any {
	if len(result.Values) == 1 {
		return result.Values[0]
	}
	return result.Values
}

func evaluate(condition string, env conditionEnv) (bool, error) {
	program, err := CompileCondition(condition)
	if err != nil {
		return false, err
	}
	out, err := expr.Run(program, env)
	if err != nil {
		return false, err
	}
	value, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("returned %v, not a boolean", out)
	}
	return value, nil
}

// NextMetricState records one measurement of check on top of its previous
// state: it fails once more than failureLimit measurements failed, becomes
// Inconclusive once more than inconclusiveLimit were inconclusive, passes
// once count were conclusive, and otherwise runs on. A final or inconclusive
// state stays as it is.
func NextMetricState(prev CheckState, check v1alpha1.MetricCheck, measurement v1alpha1.Measurement) CheckState {
	if IsFinal(prev) || prev.Result == v1alpha1.CheckInconclusive {
		return prev
	}
	next := CheckState{
		Name:         check.Name,
		Result:       v1alpha1.CheckRunning,
		Successes:    prev.Successes,
		Failures:     prev.Failures,
		Inconclusive: prev.Inconclusive,
		LastProbeAt:  &metav1.Time{Time: measurement.At.Time},
		Measurements: append(append([]v1alpha1.Measurement(nil), prev.Measurements...), measurement),
	}
	if excess := len(next.Measurements) - maxMeasurements; excess > 0 {
		next.Measurements = next.Measurements[excess:]
	}
	switch measurement.Result {
	case v1alpha1.MeasurementPassed:
		next.Successes++
	case v1alpha1.MeasurementFailed:
		next.Failures++
	default:
		next.Inconclusive++
	}
	count, failureLimit, inconclusiveLimit := countOf(check), check.FailureLimit, inconclusiveLimitOf(check)
	summary := fmt.Sprintf("%d passed, %d failed (limit %d), %d inconclusive (limit %d) of %d measurements",
		next.Successes, next.Failures, failureLimit, next.Inconclusive, inconclusiveLimit, count)
	last := describeMeasurement(measurement)
	switch {
	case next.Failures > failureLimit:
		next.Result = v1alpha1.CheckFailed
		next.Message = fmt.Sprintf("%s; more than failureLimit failed; last: %s", summary, last)
	case next.Inconclusive > inconclusiveLimit:
		next.Result = v1alpha1.CheckInconclusive
		next.Message = fmt.Sprintf("%s; more than inconclusiveLimit were inconclusive; last: %s", summary, last)
	case next.Successes+next.Failures >= count:
		next.Result = v1alpha1.CheckPassed
		next.Message = summary
	default:
		next.Message = fmt.Sprintf("%s; last: %s", summary, last)
	}
	return next
}

// describeMeasurement says what a measurement saw and why it counts as it does.
func describeMeasurement(m v1alpha1.Measurement) string {
	text := strings.ToLower(string(m.Result))
	if m.Value != "" {
		text += " with " + m.Value
	}
	if m.Message != "" {
		text += ": " + m.Message
	}
	return text
}

func intervalOf(check v1alpha1.MetricCheck) time.Duration {
	return repeatEvery(check.Interval.Duration, defaultInterval)
}

func countOf(check v1alpha1.MetricCheck) int32 {
	return max(check.Count, 1)
}

func inconclusiveLimitOf(check v1alpha1.MetricCheck) int32 {
	if check.InconclusiveLimit == nil {
		return defaultInconclusiveLimit
	}
	return max(*check.InconclusiveLimit, 0)
}

func formatValues(result QueryResult) string {
	texts := make([]string, len(result.Values))
	for i, value := range result.Values {
		texts[i] = strconv.FormatFloat(value, 'g', 6, 64)
	}
	if len(texts) == 1 {
		return texts[0]
	}
	return "[" + strings.Join(texts, ", ") + "]"
}

func allNaN(values []float64) bool {
	for _, value := range values {
		if !math.IsNaN(value) {
			return false
		}
	}
	return true
}

func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

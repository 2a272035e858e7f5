package admission

import (
	"fmt"

	"github.com/prometheus/prometheus/promql/parser"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/verify"
)

// promqlParser parses with Prometheus's default options: what a server of
// the pinned version accepts without feature flags.
var promqlParser = parser.NewParser(parser.Options{})

// checkMetrics refuses a metric check whose query, rendered with sample
// values, the PromQL parser rejects, or whose successCondition or
// failureCondition does not compile, naming the field. The CRD cannot: it
// knows neither language.
func checkMetrics(request *golivev1alpha1.UpdateRequest) error {
	environments := []struct {
		path   string
		verify golivev1alpha1.Verification
	}{
		{"spec.staging.verify", request.Spec.Staging.Verify},
		{"spec.verify", request.Spec.Verify},
	}
	for _, env := range environments {
		for i, check := range env.verify.Metrics {
			field := fmt.Sprintf("%s.metrics[%d]", env.path, i)
			if err := checkMetric(check); err != nil {
				return refused("%s.%s", field, err)
			}
		}
	}
	return nil
}

// checkMetric says which field of check is invalid and why.
func checkMetric(check golivev1alpha1.MetricCheck) error {
	query, err := verify.RenderQuery(check.Query, verify.SampleQueryVars)
	if err != nil {
		return fmt.Errorf("query: %w (it may use {{.Namespace}}, {{.Release}}, {{.Environment}} and {{.Targets}})", err)
	}
	expression, err := promqlParser.ParseExpr(query)
	if err != nil {
		return fmt.Errorf("query is not valid PromQL: %w", err)
	}
	if kind := expression.Type(); kind != parser.ValueTypeVector && kind != parser.ValueTypeScalar {
		return fmt.Errorf("query returns a %s: golive needs an instant vector or a scalar", parser.DocumentedType(kind))
	}
	if _, err := verify.CompileCondition(check.SuccessCondition); err != nil {
		return fmt.Errorf("successCondition does not compile: %w", err)
	}
	if check.FailureCondition != "" {
		if _, err := verify.CompileCondition(check.FailureCondition); err != nil {
			return fmt.Errorf("failureCondition does not compile: %w", err)
		}
	}
	return nil
}

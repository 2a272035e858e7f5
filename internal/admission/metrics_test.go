package admission

import (
	"testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// errorRate is a metric check as people write it.
func errorRate() golivev1alpha1.MetricCheck {
	return golivev1alpha1.MetricCheck{
		Name:             "error-rate",
		Prometheus:       golivev1alpha1.PrometheusSource{Address: "http://prometheus.monitoring:9090"},
		Query:            `sum(rate(http_requests_total{namespace="{{.Namespace}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{namespace="{{.Namespace}}"}[1m]))`,
		SuccessCondition: "result < 0.01",
	}
}

func TestMetricChecksAreRefusedNamingTheField(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequest)
		want   string
	}{
		{name: "a query the PromQL parser rejects", want: "spec.verify.metrics[0].query is not valid PromQL",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.Query = `sum(rate(http_requests_total{namespace="{{.Namespace}}"}[1m])`
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a query that is not a valid template", want: "spec.staging.verify.metrics[0].query: query is not a valid template",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.Query = `up{namespace="{{.Cluster}}"}`
				r.Spec.Staging.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a range vector query", want: "spec.verify.metrics[1].query returns a range vector",
			change: func(r *golivev1alpha1.UpdateRequest) {
				second := errorRate()
				second.Name, second.Query = "latency", `http_request_duration_seconds{namespace="{{.Namespace}}"}[5m]`
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{errorRate(), second}
			}},
		{name: "a successCondition that does not compile", want: "spec.verify.metrics[0].successCondition does not compile",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.SuccessCondition = "result <"
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a failureCondition that is not a boolean", want: "spec.staging.verify.metrics[0].failureCondition does not compile",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.FailureCondition = "1 + 1"
				r.Spec.Staging.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a secretRef with an http address", want: "a secretRef needs an https address",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.Prometheus.SecretRef = &golivev1alpha1.SecretKeySelector{Name: "prometheus", Key: "token"}
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a failureLimit not below count", want: "failureLimit must be less than count",
			change: func(r *golivev1alpha1.UpdateRequest) {
				check := errorRate()
				check.Count, check.FailureLimit = 3, 3
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
			}},
		{name: "a metric check named as an HTTP check", want: "metric checks must have names distinct from jobs and http checks",
			change: func(r *golivev1alpha1.UpdateRequest) {
				r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "error-rate", URL: "https://billing.example.com/healthz"}}
				r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{errorRate()}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request := f.request("metrics").Obj()
			tt.change(request)
			wantRefused(t, f.as(t, alice).Create(t.Context(), request), tt.want)
		})
	}

	t.Run("valid checks are accepted, and a spec change is checked again", func(t *testing.T) {
		request := f.request("valid-metrics").Obj()
		vector := errorRate()
		vector.Name, vector.Query = "per-pod", `rate(http_requests_total{namespace="{{.Namespace}}",pod=~"({{.Targets}})-.*"}[1m])`
		vector.SuccessCondition, vector.FailureCondition = "all(result, # < 1)", "any(values, # > 5)"
		request.Spec.Staging.Verify.Metrics = []golivev1alpha1.MetricCheck{errorRate()}
		request.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{errorRate(), vector}
		created := f.create(alice, request)

		created.Spec.Verify.Metrics[1].Query = `rate(http_requests_total{release="{{.Release}}"}[1m]`
		wantRefused(t, f.as(t, alice).Update(t.Context(), created), "spec.verify.metrics[1].query is not valid PromQL")
	})
}

package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Verification says how an environment is checked after its targets were
// updated. The rollout health of every target is always checked first; then the
// Jobs run, the HTTP checks probe and the metric checks query Prometheus, all
// within timeout.
// +kubebuilder:validation:XValidation:rule="!has(self.jobs) || !has(self.http) || self.jobs.all(j, !self.http.exists(h, h.name == j.name))",message="jobs and http checks must have distinct names"
// +kubebuilder:validation:XValidation:rule="!has(self.metrics) || ((!has(self.jobs) || self.jobs.all(j, !self.metrics.exists(m, m.name == j.name))) && (!has(self.http) || self.http.all(h, !self.metrics.exists(m, m.name == h.name))))",message="metric checks must have names distinct from jobs and http checks"
// +kubebuilder:validation:XValidation:rule="(!has(self.jobs) || self.jobs.all(j, j.name != 'rollout')) && (!has(self.http) || self.http.all(h, h.name != 'rollout')) && (!has(self.metrics) || self.metrics.all(m, m.name != 'rollout'))",message="the check name rollout is reserved for the rollout health of the targets"
type Verification struct {
	// timeout bounds the whole verification, rollout health included. A
	// verification not passed within it has failed.
	// Defaults to 10m.
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('168h')",message="must be a duration such as 90m or 48h, between 1s and 168h"
	// +optional
	Timeout metav1.Duration `json:"timeout,omitzero"`

	// jobs are created in the environment's namespace, named
	// <request>-<env>-<name>; a Job that completes passes, one that fails fails
	// the verification.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Jobs []VerificationJob `json:"jobs,omitempty"`

	// http checks are probed from the operator.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	HTTP []HTTPCheck `json:"http,omitempty"`

	// metrics are queried from Prometheus by the operator, once every
	// interval, until count measurements were conclusive.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Metrics []MetricCheck `json:"metrics,omitempty"`
}

// VerificationJob is a Job that verifies an environment.
type VerificationJob struct {
	// name of the check, a DNS label; it names the Job and the check in status.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=24
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// template of the Job. Its pods must not restart forever: restartPolicy is
	// Never or OnFailure.
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.spec.template.spec.restartPolicy) && self.spec.template.spec.restartPolicy in ['Never', 'OnFailure']",message="spec.template.spec.restartPolicy must be Never or OnFailure"
	Template batchv1.JobTemplateSpec `json:"template"`
}

// HTTPCheck probes a URL until it answered with an expected status
// successThreshold times in a row.
type HTTPCheck struct {
	// name of the check, a DNS label.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=24
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// url to GET, http or https.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="must be an absolute http or https URL"
	URL string `json:"url"`

	// expectStatus lists the HTTP status codes that count as a success.
	// Defaults to [200].
	// +kubebuilder:default={200}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Minimum=100
	// +kubebuilder:validation:items:Maximum=599
	// +listType=set
	// +optional
	ExpectStatus []int32 `json:"expectStatus,omitempty"`

	// successThreshold is how many successes in a row pass the check.
	// Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	SuccessThreshold int32 `json:"successThreshold,omitempty"`

	// period between two probes.
	// Defaults to 10s.
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('1h')",message="must be a duration such as 90m or 48h, between 1s and 1h"
	// +optional
	Period metav1.Duration `json:"period,omitzero"`

	// failureThreshold is how many failures in a row (a wrong status or no
	// answer) fail the check at once. Unset or 0: failures only reset the
	// count of successes, and the check fails when the verification times out.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// MetricCheck measures a PromQL query once every interval and judges each
// result with successCondition (and failureCondition). It passes after count
// conclusive measurements of which at most failureLimit failed, fails as soon
// as more than failureLimit failed, and stops the request for a person as
// soon as more than inconclusiveLimit measurements were inconclusive (a
// query error, or no data).
// +kubebuilder:validation:XValidation:rule="!has(self.failureLimit) || !has(self.count) || self.failureLimit < self.count",message="failureLimit must be less than count"
type MetricCheck struct {
	// name of the check, a DNS label.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=24
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// prometheus is the server queried.
	// +required
	Prometheus PrometheusSource `json:"prometheus"`

	// query is an instant PromQL query, a Go template: {{.Namespace}} is the
	// environment's namespace, {{.Release}} the request's name,
	// {{.Environment}} staging or production, and {{.Targets}} the targets'
	// names as a regular expression that matches any of them (a|b).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Query string `json:"query"`

	// successCondition is an expr-lang expression (expr-lang.org) over
	// result: a number for a scalar or a vector of one sample, or a list of
	// numbers for a vector of several; values is always the list. A
	// measurement passes when it is true (and failureCondition is not).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	SuccessCondition string `json:"successCondition"`

	// failureCondition, when set, is the expression that fails a
	// measurement; a measurement for which neither condition is true is
	// inconclusive. Unset: a measurement fails when successCondition is false.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`

	// interval between two measurements; the first is taken once the
	// rollout passed.
	// Defaults to 30s.
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('1h')",message="must be a duration such as 30s or 5m, between 1s and 1h"
	// +optional
	Interval metav1.Duration `json:"interval,omitzero"`

	// count is how many conclusive measurements (passed or failed) are taken.
	// Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Count int32 `json:"count,omitempty"`

	// failureLimit is how many failed measurements are tolerated; one more
	// fails the check at once.
	// Defaults to 0.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=99
	// +optional
	FailureLimit int32 `json:"failureLimit,omitempty"`

	// inconclusiveLimit is how many inconclusive measurements are tolerated;
	// one more stops the request for a person (Stalled, reason
	// VerificationInconclusive), who aborts it or retries the verification.
	// Defaults to 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	InconclusiveLimit *int32 `json:"inconclusiveLimit,omitempty"`
}

// PrometheusSource is a Prometheus server (or anything that serves its HTTP
// API), reached from the operator under its egress rules.
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || url(self.address).getScheme() == 'https'",message="a secretRef needs an https address: golive sends the token over https only"
type PrometheusSource struct {
	// address of the server, http or https, such as http://prometheus.monitoring:9090.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="must be an absolute http or https URL"
	Address string `json:"address"`

	// secretRef names a key, in the request's namespace, that holds a bearer
	// token sent with every query. golive must be allowed to get that Secret.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`
}

// SecretKeySelector names a key of a Secret in the request's namespace.
type SecretKeySelector struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// key within the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Verification says how an environment is checked after its targets were
// updated. The rollout health of every target is always checked first; then the
// Jobs run and the HTTP checks probe, all within timeout.
// +kubebuilder:validation:XValidation:rule="!has(self.jobs) || !has(self.http) || self.jobs.all(j, !self.http.exists(h, h.name == j.name))",message="jobs and http checks must have distinct names"
// +kubebuilder:validation:XValidation:rule="(!has(self.jobs) || self.jobs.all(j, j.name != 'rollout')) && (!has(self.http) || self.http.all(h, h.name != 'rollout'))",message="the check name rollout is reserved for the rollout health of the targets"
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

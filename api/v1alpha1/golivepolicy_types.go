package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GoLivePolicySpec is what the organisation requires of every request in
// the namespaces it selects. Where several policies select a namespace, a
// request must meet each of them: the strictest value of every field wins.
// +kubebuilder:validation:XValidation:rule="has(self.approvals) || has(self.staging) || has(self.acceptance) || has(self.backup) || has(self.notice) || has(self.supervision) || has(self.references) || has(self.windows) || has(self.emergency) || has(self.protectWorkloads) || has(self.trustedSubmitters)",message="a policy must require something: set at least one of approvals, staging, acceptance, backup, notice, supervision, references, windows, emergency, protectWorkloads, trustedSubmitters"
type GoLivePolicySpec struct {
	// namespaceSelector selects the namespaces whose requests the policy
	// governs, by their labels. An empty selector selects every namespace.
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// approvals are the approvals every request must ask for.
	// +optional
	Approvals *PolicyApprovals `json:"approvals,omitempty"`

	// staging bounds the grey run.
	// +optional
	Staging *PolicyStaging `json:"staging,omitempty"`

	// acceptance, when required, makes every request ask for acceptance
	// (spec.acceptance) after production is verified.
	// +optional
	Acceptance *PolicyAcceptance `json:"acceptance,omitempty"`

	// backup bounds what a request snapshots before production.
	// +optional
	Backup *PolicyBackup `json:"backup,omitempty"`

	// notice is how long before production starts people must have been told.
	// +optional
	Notice *PolicyNotice `json:"notice,omitempty"`

	// supervision names the role of the person who says go once the window
	// is open: one executes, one supervises.
	// +optional
	Supervision *PolicySupervision `json:"supervision,omitempty"`

	// references are the documents and tickets every request must carry in
	// spec.references.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=type
	// +optional
	References []PolicyReference `json:"references,omitempty"`

	// windows says whether requests must name a window.
	// +optional
	Windows *PolicyWindows `json:"windows,omitempty"`

	// emergency overrides the emergency rules of the windows of governed
	// requests: who may approve one, and how many a period allows.
	// +optional
	Emergency *EmergencyPolicy `json:"emergency,omitempty"`

	// protectWorkloads refuses changes of the pod template or replicas of any
	// workload a request of a governed namespace has targeted, by anyone but
	// golive and the break-glass group.
	// +optional
	ProtectWorkloads bool `json:"protectWorkloads,omitempty"`

	// trustedSubmitters are the identities (GitOps controllers) that may name
	// the person who asked in golive.dev/requested-by.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	TrustedSubmitters []TrustedSubmitter `json:"trustedSubmitters,omitempty"`
}

// PolicyApprovals are the approvals a governed request must ask for.
type PolicyApprovals struct {
	// required lists roles and counts every request must require at least.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=role
	// +optional
	Required []RoleQuorum `json:"required,omitempty"`

	// allowSelfApproval false forbids requests to set
	// spec.approvals.allowSelfApproval true.
	// +optional
	AllowSelfApproval *bool `json:"allowSelfApproval,omitempty"`

	// requireComment refuses approvals and rejections without a comment.
	// +optional
	RequireComment bool `json:"requireComment,omitempty"`

	// expireAfter: an approval older than this when production would start no
	// longer counts.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('8760h')",message="must be a duration such as 72h, between 1m and 8760h"
	// +optional
	ExpireAfter *metav1.Duration `json:"expireAfter,omitempty"`
}

// PolicyStaging bounds the grey run of governed requests.
type PolicyStaging struct {
	// minSoak is the least spec.staging.soak a request may ask for.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) <= duration('8760h')",message="must be a duration such as 48h, at most 8760h"
	// +optional
	MinSoak *metav1.Duration `json:"minSoak,omitempty"`

	// maxAge: production must start within this after staging was verified,
	// else staging is verified again.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('8760h')",message="must be a duration such as 48h, between 1m and 8760h"
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`
}

// PolicyAcceptance says whether governed requests must ask for acceptance.
type PolicyAcceptance struct {
	// required makes spec.acceptance mandatory.
	// +optional
	Required bool `json:"required,omitempty"`
}

// PolicyBackup bounds what governed requests snapshot.
type PolicyBackup struct {
	// requireSnapshots: every PersistentVolumeClaim mounted by a production
	// target must be selected by spec.backup.volumeClaimSelector.
	// +optional
	RequireSnapshots bool `json:"requireSnapshots,omitempty"`
}

// PolicyNotice is how long before production people must be told.
type PolicyNotice struct {
	// minLead: production starts only after a notice was delivered at least
	// this long before.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('2160h')",message="must be a duration such as 12h, between 1m and 2160h"
	MinLead metav1.Duration `json:"minLead"`
}

// PolicySupervision names who says go.
type PolicySupervision struct {
	// role whose holder, not the requester, says go (golive.dev/go) while the
	// window is open.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Role string `json:"role"`
}

// PolicyReference is a kind of document or ticket a request must carry.
type PolicyReference struct {
	// type of the reference, such as change or test-report.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Type string `json:"type"`

	// pattern the reference's id must match (RE2, anchored by the writer),
	// such as ^CHG[0-9]{7}$. Without it any id, or none with a url, will do.
	// A pattern that does not compile makes the policy not Ready, naming it.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Pattern string `json:"pattern,omitempty"`
}

// PolicyWindows says whether governed requests must name a window.
type PolicyWindows struct {
	// required refuses a request without spec.window.name.
	// +optional
	Required bool `json:"required,omitempty"`
}

// TrustedSubmitter is an identity that may state who asked.
type TrustedSubmitter struct {
	// serviceAccount is the submitter's ServiceAccount.
	// +required
	ServiceAccount ServiceAccountRef `json:"serviceAccount"`
}

// ServiceAccountRef names a ServiceAccount.
type ServiceAccountRef struct {
	// namespace of the ServiceAccount.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// name of the ServiceAccount.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// GoLivePolicyStatus is what golive observed of the policy.
type GoLivePolicyStatus struct {
	// namespaces is how many namespaces the policy governs now. (Defaulted,
	// so that 0 shows: a merge patch leaves a zero it did not change out.)
	// +kubebuilder:default=0
	// +optional
	Namespaces int32 `json:"namespaces"`

	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready says whether golive enforces the policy, with how
	// many namespaces it governs.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=glp,categories=golive
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespaces`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// GoLivePolicy is the organisation's rules for the requests of the
// namespaces it selects: the approvals, soak, acceptance, backups, notice,
// supervision and references every request there must meet.
type GoLivePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the policy requires.
	// +required
	Spec GoLivePolicySpec `json:"spec"`

	// status is what golive observed.
	// +optional
	Status GoLivePolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GoLivePolicyList contains a list of GoLivePolicy.
type GoLivePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GoLivePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GoLivePolicy{}, &GoLivePolicyList{})
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Labels and annotations of ReleaseRecords.
const (
	// LabelSourceNamespace is the namespace of the UpdateRequest a
	// ReleaseRecord records; the chain of records is kept per value.
	LabelSourceNamespace = "golive.dev/source-namespace"
)

// RecordOutcome says how the recorded request ended.
type RecordOutcome struct {
	// phase is the request's phase when the record was written: a terminal
	// phase, or the phase it was in when it was deleted before it ended.
	Phase Phase `json:"phase"`
	// ended is true when the request reached a terminal phase.
	Ended bool `json:"ended"`
	// deleted is true when the request was being deleted when the record was
	// written; with ended false, it was deleted before it ended.
	Deleted bool `json:"deleted"`
	// reason is the reason of the request's Ready condition.
	// +optional
	Reason string `json:"reason,omitempty"`
	// message says why it ended as it did.
	// +optional
	Message string `json:"message,omitempty"`
	// completedAt is when the request ended.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// RecordedRequest identifies the UpdateRequest a record is about.
type RecordedRequest struct {
	// namespace of the request.
	Namespace string `json:"namespace"`
	// name of the request.
	Name string `json:"name"`
	// uid of the request; a request re-created under the same name has another.
	UID string `json:"uid"`
	// createdAt is the request's creation time.
	CreatedAt metav1.Time `json:"createdAt"`
	// release is spec.release, for listing.
	// +optional
	Release string `json:"release,omitempty"`
}

// RecordChain places a record in the chain of its source namespace.
type RecordChain struct {
	// sequence is the record's position in the chain of its source
	// namespace, from 1; a gap shows a missing record.
	// +kubebuilder:validation:Minimum=1
	Sequence int64 `json:"sequence"`
	// previous is the digest (hex SHA-256 of the signed content) of the
	// record before it in the chain; empty for the first.
	// +optional
	Previous string `json:"previous,omitempty"`
}

// RecordSignature is golive's Ed25519 signature of a record's content.
type RecordSignature struct {
	// keyID names the public key (ConfigMap golive-record-key) that verifies
	// it: the first 16 hex digits of the SHA-256 of the raw public key.
	KeyID string `json:"keyID"`
	// value is the base64 Ed25519 signature of the record's canonical content
	// (every field of spec but signature).
	Value string `json:"value"`
}

// ReleaseRecordSpec is the content of a record: what the request asked for,
// what happened to it, and golive's signature. It never changes.
type ReleaseRecordSpec struct {
	// request identifies the recorded UpdateRequest.
	Request RecordedRequest `json:"request"`

	// outcome says how the request ended.
	Outcome RecordOutcome `json:"outcome"`

	// requestSpec is the request's spec as it was when the record was
	// written, kept as written (no defaults are applied to a record).
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	RequestSpec runtime.RawExtension `json:"requestSpec"`

	// requestStatus is the request's status when the record was written: the
	// policies and generations that applied, approvals, checks and their
	// results, backups, production, rollback, conditions. Its timeline is the
	// bounded one; timeline below is complete.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	RequestStatus runtime.RawExtension `json:"requestStatus"`

	// requestedBy is the user who created the request, as the admission
	// webhook stamped it (the references are in requestSpec).
	// +optional
	RequestedBy string `json:"requestedBy,omitempty"`
	// submittedBy is the trusted submitter that created it on requestedBy's behalf.
	// +optional
	SubmittedBy string `json:"submittedBy,omitempty"`

	// ledger is the request's signed ledger of commands
	// (the golive.dev/ledger annotation), as written by the webhook.
	// +optional
	Ledger string `json:"ledger,omitempty"`

	// timeline is the request's complete timeline, oldest first.
	// +listType=atomic
	// +optional
	Timeline []TimelineEntry `json:"timeline,omitempty"`

	// goliveVersion is the version of golive that wrote the record.
	GoliveVersion string `json:"goliveVersion"`

	// recordedAt is when golive wrote the record.
	RecordedAt metav1.Time `json:"recordedAt"`

	// chain places the record in the chain of its source namespace.
	Chain RecordChain `json:"chain"`

	// signature is golive's signature of everything above.
	Signature RecordSignature `json:"signature"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=rr,categories=golive
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.request.namespace`
// +kubebuilder:printcolumn:name="Request",type=string,JSONPath=`.spec.request.name`
// +kubebuilder:printcolumn:name="Release",type=string,JSONPath=`.spec.request.release`
// +kubebuilder:printcolumn:name="Outcome",type=string,JSONPath=`.spec.outcome.phase`
// +kubebuilder:printcolumn:name="Seq",type=integer,JSONPath=`.spec.chain.sequence`
// +kubebuilder:printcolumn:name="Recorded",type=date,JSONPath=`.spec.recordedAt`

// ReleaseRecord is golive's signed, chained record of one UpdateRequest,
// written once when the request ends (or is deleted before it ended) into
// the archive namespace, and never changed.
type ReleaseRecord struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the record's content; it never changes.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a ReleaseRecord never changes"
	Spec ReleaseRecordSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// ReleaseRecordList contains a list of ReleaseRecord.
type ReleaseRecordList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ReleaseRecord `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ReleaseRecord{}, &ReleaseRecordList{})
}

// The condition a request's record is reported with, and its reasons.
const (
	// ConditionRecorded is True once the request's ReleaseRecord is written
	// into the archive namespace; False, with the reason, while it cannot be.
	ConditionRecorded = "Recorded"

	// ReasonRecordWritten: the request's ReleaseRecord is written.
	ReasonRecordWritten = "RecordWritten"

	// ReasonArchiveNamespaceMissing: the archive namespace does not exist, so
	// the request's ReleaseRecord cannot be written; golive retries.
	ReasonArchiveNamespaceMissing = "ArchiveNamespaceMissing"

	// ReasonRecordFailed: writing the request's ReleaseRecord failed; golive retries.
	ReasonRecordFailed = "RecordFailed"
)

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LedgerAction is the command a ledger entry records.
type LedgerAction string

// The commands people give with the annotations golive.dev/approve, reject,
// accept, go and abort.
const (
	// LedgerApprove is one approval for a role.
	LedgerApprove LedgerAction = "approve"
	// LedgerReject rejects the request: Rejected before production, RollingBack
	// in AwaitingAcceptance.
	LedgerReject LedgerAction = "reject"
	// LedgerAccept accepts production from AwaitingAcceptance.
	LedgerAccept LedgerAction = "accept"
	// LedgerGo says go in AwaitingGo, for a GoLivePolicy's supervision role.
	LedgerGo LedgerAction = "go"
	// LedgerRetry retries a verification stalled as VerificationInconclusive.
	LedgerRetry LedgerAction = "retry"
	// LedgerAbort aborts the request: Aborted before BackingUp, RollingBack after.
	LedgerAbort LedgerAction = "abort"
)

// LedgerEntry is one command accepted by golive's admission webhook. The
// annotation golive.dev/ledger holds a JSON list of them, oldest first; only
// the webhook appends to it, and only entries whose signature checks out count.
//
// +kubebuilder:object:generate=false
type LedgerEntry struct {
	// User is the user who gave the command, as authenticated by the API server.
	User string `json:"user"`

	// Groups are the user's groups at the time, as the API server reported them.
	Groups []string `json:"groups,omitempty"`

	// Role is the approval role acted for: the role of approve and reject, the
	// acceptance role of accept, the supervision role of go; empty for abort.
	Role string `json:"role,omitempty"`

	// Action is the command.
	Action LedgerAction `json:"action"`

	// Comment is the text given after the role (approve, reject), the whole
	// value (accept, go) or the reason (abort).
	Comment string `json:"comment,omitempty"`

	// Time is when the webhook accepted the command, to the second.
	Time metav1.Time `json:"time"`

	// SpecHash is the hash of the spec the command was given for; an entry
	// counts only while the spec is unchanged.
	SpecHash string `json:"specHash"`

	// Signature is the base64 HMAC-SHA256 of the other fields and the request's
	// identity (namespace, name, uid) with golive's ledger key.
	Signature string `json:"signature"`
}

package v1alpha1

// Labels and annotations that golive reads or writes. The command annotations
// are set by people (usually through `kubectl golive`) and consumed by the
// admission webhook, which turns them into signed entries of AnnotationLedger.
const (
	// LabelStagingFor marks a namespace as the grey environment of the named
	// production namespace; a request may only stage into a namespace that opted in.
	LabelStagingFor = "golive.dev/staging-for"

	// LabelRequest names the UpdateRequest that created an object (Jobs, VolumeSnapshots, ConfigMaps).
	LabelRequest = "golive.dev/request"

	// AnnotationRequestedBy is stamped by the admission webhook at creation with the requesting user.
	AnnotationRequestedBy = "golive.dev/requested-by"

	// AnnotationLedger holds the signed record of every command accepted for a request (a JSON list).
	AnnotationLedger = "golive.dev/ledger"

	// AnnotationApprove is the command "<role>[; comment]": one approval for that role.
	AnnotationApprove = "golive.dev/approve"

	// AnnotationReject is the command "<role>[; reason]": reject the request.
	AnnotationReject = "golive.dev/reject"

	// AnnotationAccept is the command "[comment]": accept production from AwaitingAcceptance.
	AnnotationAccept = "golive.dev/accept"

	// AnnotationAbort is the command "<reason>": abort the request.
	AnnotationAbort = "golive.dev/abort"

	// ApprovalRoleResource is the resource that RBAC grants the verb "approve" on,
	// with the role name as resourceName, to let a user approve for that role.
	ApprovalRoleResource = "approvalroles"

	// ApproveVerb is the RBAC verb checked for approve, reject and accept commands.
	ApproveVerb = "approve"
)

package v1alpha1

// Labels and annotations that golive reads or writes. The command annotations
// are set by people (usually through `kubectl golive`) and consumed by the
// admission webhook, which turns them into signed entries of AnnotationLedger.
const (
	// LabelStagingFor marks a namespace as the grey environment of the named
	// production namespace; a request may only stage into a namespace that opted in.
	LabelStagingFor = "golive.dev/staging-for"

	// LabelManaged, set to "true", marks a namespace where the chart's
	// rbac.scope=namespaces grants golive its rights to change workloads
	// (at the next helm install or upgrade).
	LabelManaged = "golive.dev/managed"

	// LabelRequest names the UpdateRequest that created an object (Jobs, VolumeSnapshots, ConfigMaps).
	LabelRequest = "golive.dev/request"

	// LabelRequestNamespace is the namespace of that UpdateRequest, for objects in the staging namespace.
	LabelRequestNamespace = "golive.dev/request-namespace"

	// LabelRequestUID is the UID of that UpdateRequest, so a re-created request never adopts old objects.
	LabelRequestUID = "golive.dev/request-uid"

	// LabelConfigOf, on an immutable copy golive made of a release's
	// configuration (spec.config), names the ConfigMap or Secret it is a copy
	// of; only objects carrying it are ever deleted as copies.
	LabelConfigOf = "golive.dev/config-of"

	// LabelEnvironment is "staging" or "production" on a verification Job.
	LabelEnvironment = "golive.dev/environment"

	// LabelCheck is the verification check a Job runs.
	LabelCheck = "golive.dev/check"

	// AnnotationTemplateHash is the hash of the template a verification Job was
	// made from, as written in the request's spec; golive's signature covers it.
	AnnotationTemplateHash = "golive.dev/template-hash"

	// LabelSpecHash is the short spec hash (ledger.ShortSpecHash) of the spec
	// an object golive created was made for; golive's signature covers it.
	LabelSpecHash = "golive.dev/spec-hash"

	// AnnotationSignature is golive's HMAC signature (ledger.SignObject) on an
	// object it created and later reads back: Jobs, the saved-specs ConfigMap,
	// VolumeSnapshots. An object without a valid one is not golive's and is never used.
	AnnotationSignature = "golive.dev/signature"

	// RolloutCheckName is the check that stands for the rollout health of the targets.
	RolloutCheckName = "rollout"

	// AnnotationRequestedBy is stamped by the admission webhook at creation with the requesting user.
	AnnotationRequestedBy = "golive.dev/requested-by"

	// AnnotationSubmittedBy is stamped by the admission webhook at creation
	// when a GoLivePolicy's trusted submitter (a GitOps identity) created the
	// request and named the person who asked in AnnotationRequestedBy: it
	// holds the submitter's user name.
	AnnotationSubmittedBy = "golive.dev/submitted-by"

	// FinalizerCleanup lets golive delete a request's verification Jobs in the
	// staging namespace, which owner references cannot reach, before the
	// request goes. The admission webhook sets it at creation; the controller
	// adds it to a request that lacks it.
	FinalizerCleanup = "golive.dev/cleanup"

	// AnnotationLastChangedBy is stamped by the admission webhook on a GoLiveWindow whenever
	// its spec is created or changed: "<user> at <RFC 3339 time>". Nobody else may set it.
	AnnotationLastChangedBy = "golive.dev/last-changed-by"

	// AnnotationLedger holds the signed record of every command accepted for a request (a JSON list).
	AnnotationLedger = "golive.dev/ledger"

	// AnnotationApprove is the command "<role>[; comment]": one approval for that role.
	AnnotationApprove = "golive.dev/approve"

	// AnnotationReject is the command "<role>[; reason]": reject the request.
	AnnotationReject = "golive.dev/reject"

	// AnnotationAccept is the command "[comment]": accept production from AwaitingAcceptance.
	AnnotationAccept = "golive.dev/accept"

	// AnnotationGo is the command "[comment]": a person holding a GoLivePolicy's
	// supervision role says go in AwaitingGo, and production starts.
	AnnotationGo = "golive.dev/go"

	// AnnotationRetry is the command "[comment]": a person who may abort the
	// request retries a verification stalled as VerificationInconclusive.
	AnnotationRetry = "golive.dev/retry"

	// AnnotationAbort is the command "<reason>": abort the request.
	AnnotationAbort = "golive.dev/abort"

	// ApprovalRoleResource is the resource that RBAC grants the verb "approve" on,
	// with the role name as resourceName, to let a user approve for that role.
	ApprovalRoleResource = "approvalroles"

	// ApproveVerb is the RBAC verb checked for approve, reject, accept and go commands.
	ApproveVerb = "approve"
)

// StagingOptedIn reports whether the namespace named namespace, with labels
// namespaceLabels, has opted in as the staging environment of the requests in
// requestNamespace: it carries LabelStagingFor=<requestNamespace>. A request's
// own namespace never counts, whatever its labels say.
func StagingOptedIn(namespace string, namespaceLabels map[string]string, requestNamespace string) bool {
	return namespace != requestNamespace && namespaceLabels[LabelStagingFor] == requestNamespace
}

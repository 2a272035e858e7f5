package v1alpha1

// Event reasons of an UpdateRequest's phase changes and notices, beyond the
// condition reasons (conditions.go) that Events reuse. They are an external
// contract: a notice's CloudEvents type is dev.golive.<reason>, so never
// change a value.
const (
	// ReasonCreated: the request was seen for the first time and entered Pending.
	ReasonCreated = "Created"

	// ReasonSpecChanged: the spec changed before production; the request starts again from Pending.
	ReasonSpecChanged = "SpecChanged"

	// ReasonStagingStarted: the request left Pending and updates the staging namespace.
	ReasonStagingStarted = "StagingStarted"

	// ReasonVerifying: every target of an environment runs the new images; its verification runs.
	ReasonVerifying = "Verifying"

	// ReasonStagingVerified: staging passed its verification; the soak starts.
	ReasonStagingVerified = "StagingVerified"

	// ReasonStagingTooOld: production would start, but staging was last verified longer ago than a GoLivePolicy's staging.maxAge; staging is verified again first.
	ReasonStagingTooOld = "StagingTooOld"

	// ReasonVerificationRetried: a person retried a verification stalled as VerificationInconclusive; its inconclusive checks measure again and verify.timeout counts from the retry.
	ReasonVerificationRetried = "VerificationRetried"

	// ReasonStagingReverified: staging passed its verification again; the request is scheduled again.
	ReasonStagingReverified = "StagingReverified"

	// ReasonSoakCompleted: the soak is over; the request waits for approvals.
	ReasonSoakCompleted = "SoakCompleted"

	// ReasonApproved: every required role approved; production is scheduled.
	ReasonApproved = "Approved"

	// ReasonGoLapsed: the request left AwaitingGo for Scheduled without a go: the
	// window's opening no longer fits production, or another gate stopped it; a go
	// given in an opening that closed does not count in the next one.
	ReasonGoLapsed = "GoLapsed"

	// ReasonProductionStarted: the planned start came, the window let production in (and the supervision role said go, where a policy asks for it); the backup starts.
	ReasonProductionStarted = "ProductionStarted"

	// ReasonBackedUp: the workload specs are saved and the snapshots ready; production is updated.
	ReasonBackedUp = "BackedUp"

	// ReasonVerified: production passed its verification; the acceptance role is asked.
	ReasonVerified = "Verified"

	// ReasonGoLiveNotice: an advance notice of the planned start, sent by the window's notifyBefore or for a GoLivePolicy's notice.minLead.
	ReasonGoLiveNotice = "GoLiveNotice"

	// ReasonNotificationFailed: a notice could not be delivered to one of the request's webhooks.
	ReasonNotificationFailed = "NotificationFailed"

	// ReasonLedgerEntryRejected: a ledger entry failed its verification and was ignored.
	ReasonLedgerEntryRejected = "LedgerEntryRejected"

	// ReasonStagingRestored: a request that ended without its release in
	// production put the staging targets back on their saved specs
	// (spec.staging.onFailure Restore).
	ReasonStagingRestored = "StagingRestored"

	// ReasonStagingNotRestored: a request that ended without its release in
	// production restored the staging targets it could, but left the ones the
	// message names as they are (gone, or without a saved spec golive trusts).
	ReasonStagingNotRestored = "StagingNotRestored"

	// ReasonActionForbidden: the API server refused a step golive took for the
	// request (its ServiceAccount lacks the right, such as patching a target in
	// a namespace the chart's rbac.scope=namespaces does not grant); the
	// message quotes the API server and names the step. golive tries the step
	// again, with backoff, until it is allowed; nothing else changed.
	ReasonActionForbidden = "ActionForbidden"

	// ReasonPlantedObject: an object at a name golive uses (a verification Job,
	// the saved specs) is not golive's (no valid signature, another request or
	// spec, other content); golive ignored it and will not use it.
	ReasonPlantedObject = "PlantedObject"
)

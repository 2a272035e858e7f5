package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus, so that
// Argo CD, Flux and `kubectl wait` read the health of a request correctly; the
// others record which gate of the release process has been passed.
const (
	// ConditionReady is True when the object reached its goal: a request that
	// Succeeded, a window whose schedule is valid and evaluated.
	ConditionReady = "Ready"

	// ConditionReconciling is True while the controller is working towards the goal.
	ConditionReconciling = "Reconciling"

	// ConditionStalled is True when progress needs a person: invalid input or a
	// missing reference, named in the message. A request that stalls records a
	// Warning Event with the condition's reason and message.
	ConditionStalled = "Stalled"

	// ConditionStagingVerified is True once the grey environment runs the new
	// images and passed its verification.
	ConditionStagingVerified = "StagingVerified"

	// ConditionApproved is True once every required role reached its quorum of
	// verified approvals for the current spec.
	ConditionApproved = "Approved"

	// ConditionScheduled is True once a go-live window and a planned start are chosen.
	ConditionScheduled = "Scheduled"

	// ConditionBackedUp is True once volume snapshots are ready and workload specs are saved.
	ConditionBackedUp = "BackedUp"

	// ConditionUpdated is True once every production target runs the new images.
	ConditionUpdated = "Updated"

	// ConditionVerified is True once production passed its verification.
	ConditionVerified = "Verified"

	// ConditionAccepted is True once the business side accepted production (or
	// the acceptance timed out with onTimeout Accept).
	ConditionAccepted = "Accepted"

	// ConditionRolledBack is True once the previous workloads (and data) are restored.
	ConditionRolledBack = "RolledBack"
)

// Condition reasons, PascalCase as Kubernetes expects. They are also used as
// Event reasons.
const (
	// ReasonProgressing: the controller is working on the current phase.
	ReasonProgressing = "Progressing"

	// ReasonWaiting: the request waits for time to pass or for a person.
	ReasonWaiting = "Waiting"

	// ReasonSucceeded: the step or the whole request completed successfully.
	ReasonSucceeded = "Succeeded"

	// ReasonFailed: the step failed; the message says why.
	ReasonFailed = "Failed"

	// ReasonInvalidSpec: the spec cannot be carried out as written; the message names the field.
	ReasonInvalidSpec = "InvalidSpec"

	// ReasonNoNamespaceSelected: a GoLivePolicy's selector matches no namespace (Ready, with a message).
	ReasonNoNamespaceSelected = "NoNamespaceSelected"

	// ReasonApprovalsExpired: approvals older than a policy's approvals.expireAfter no longer count; the request waits for approvals again.
	ReasonApprovalsExpired = "ApprovalsExpired"

	// ReasonPolicyNotMet: the request falls short of a GoLivePolicy; the message names the policy and the field.
	ReasonPolicyNotMet = "PolicyNotMet"

	// ReasonReferenceNotFound: an object named by the spec does not exist.
	ReasonReferenceNotFound = "ReferenceNotFound"

	// ReasonStagingNotOptedIn: the staging namespace lacks the golive.dev/staging-for label.
	ReasonStagingNotOptedIn = "StagingNotOptedIn"

	// ReasonTargetLocked: another request holds one of the targets, or an older pending one queues for it first.
	ReasonTargetLocked = "TargetLocked"

	// ReasonSuspended: spec.suspend stopped the request at a gate.
	ReasonSuspended = "Suspended"

	// ReasonSoaking: staging is verified; the soak time has not yet passed.
	ReasonSoaking = "Soaking"
	// ReasonNoticeLead: production waits for the notice lead a GoLivePolicy
	// sets (notice.minLead) to pass since the notice that announced it.
	ReasonNoticeLead = "NoticeLead"

	// ReasonAwaitingApproval: some required role has not yet reached its quorum.
	ReasonAwaitingApproval = "AwaitingApproval"

	// ReasonAwaitingGo: the window is open and every other gate passed; production
	// waits for a go from a GoLivePolicy's supervision role (phase AwaitingGo).
	ReasonAwaitingGo = "AwaitingGo"

	// ReasonApprovalsInvalidated: the spec changed, so earlier approvals no longer count.
	ReasonApprovalsInvalidated = "ApprovalsInvalidated"

	// ReasonWindowOpened: the go-live window opened (an Event of the window).
	ReasonWindowOpened = "WindowOpened"

	// ReasonWindowChanged: someone changed the window's spec (an Event of the window, and a
	// notice to the webhooks of the requests that name it); status.changes says who and what.
	ReasonWindowChanged = "WindowChanged"

	// ReasonWindowClosed: the go-live window is closed; production waits for its next opening.
	ReasonWindowClosed = "WindowClosed"

	// ReasonFrozen: a freeze period forbids production changes now.
	ReasonFrozen = "Frozen"

	// ReasonConcurrencyLimit: the window's maxConcurrent updates are already running.
	ReasonConcurrencyLimit = "ConcurrencyLimit"

	// ReasonEmergencyBudgetExhausted: the window's emergency budget for the period is used up.
	ReasonEmergencyBudgetExhausted = "EmergencyBudgetExhausted"

	// ReasonVerificationFailed: a rollout, Job or HTTP check failed or timed out.
	ReasonVerificationFailed = "VerificationFailed"

	// ReasonMigrationFailed: a Job of spec.migrations failed or did not complete in time.
	ReasonMigrationFailed = "MigrationFailed"

	// ReasonBackupJobFailed: a Job of spec.backup.jobs failed or did not complete in time.
	ReasonBackupJobFailed = "BackupJobFailed"

	// ReasonRestoreJobFailed: a Job of spec.rollback.jobs failed; the rollback waits for a person.
	ReasonRestoreJobFailed = "RestoreJobFailed"

	// ReasonVerificationInconclusive: a metric check's measurements were
	// inconclusive (a query error, or no data) more often than its
	// inconclusiveLimit; the request waits for a person to abort it or retry
	// the verification.
	ReasonVerificationInconclusive = "VerificationInconclusive"

	// ReasonSnapshotFailed: a volume snapshot failed or was not ready in time.
	ReasonSnapshotFailed = "SnapshotFailed"

	// ReasonRejected: an approver rejected the request.
	ReasonRejected = "Rejected"

	// ReasonAborted: a person aborted the request.
	ReasonAborted = "Aborted"

	// ReasonAcceptanceTimedOut: the acceptance role did not answer within acceptance.timeout.
	ReasonAcceptanceTimedOut = "AcceptanceTimedOut"

	// ReasonUnknownTimeZone: the window's time zone is not in the time-zone database.
	ReasonUnknownTimeZone = "UnknownTimeZone"

	// ReasonNeverOpens: the window's schedule and freezes leave no opening.
	ReasonNeverOpens = "NeverOpens"

	// ReasonEvaluated: the window's schedule was evaluated and its status is current.
	ReasonEvaluated = "Evaluated"

	// ReasonGateNotPassed: at the moment production would start, golive re-derived
	// the gates from what it can verify and some were not met; the message names each.
	ReasonGateNotPassed = "GateNotPassed"

	// ReasonStatusNotTrusted: the status claims a production phase, but golive has
	// no signed record that production started for this spec; nothing was changed.
	ReasonStatusNotTrusted = "StatusNotTrusted"

	// ReasonPolicyBreach: someone other than golive (the break-glass group) changed the pod
	// template or replicas of a workload a GoLivePolicy with protectWorkloads protects.
	ReasonPolicyBreach = "PolicyBreach"
)

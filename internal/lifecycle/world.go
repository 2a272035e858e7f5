package lifecycle

import (
	"fmt"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// World is what the controller observed for one request. Slices of targets are
// index-aligned with spec.targets.
type World struct {
	// SpecHash is the hash of the current spec that approvals are bound to.
	SpecHash string

	// StagingNamespace is the grey environment's namespace.
	StagingNamespace NamespaceObservation

	// Window is the GoLiveWindow named by spec.window.name.
	Window WindowObservation

	// Problems are further reasons, each naming a field, why the request cannot
	// start as written; they stall it in Pending.
	Problems []string

	// Lock is another request that keeps a pending request from starting, if any (LockHolder).
	Lock Lock

	// Config is the copies of spec.config the release uses, and what keeps
	// golive from making them.
	Config ConfigObservation

	// Staging and Production are the targets and verification in each environment.
	Staging    EnvironmentObservation
	Production EnvironmentObservation

	// Commands are the verified ledger entries for the current spec, and the
	// aborts and rejects of any spec of the request (ledger.Verify), oldest first.
	Commands []Command

	// RequestedBy is the requesting user stamped at admission.
	RequestedBy string
	// SubmittedBy is the trusted submitter stamped at admission, if any.
	SubmittedBy string

	// StagingSavedSpecs is what exists of the staging targets' saved specs.
	StagingSavedSpecs StagingSavedSpecsObservation

	// Backup is what exists of the backup.
	Backup BackupObservation

	// DataRestore is where the restore of the snapshotted claims stands, observed during a rollback.
	DataRestore DataRestoreObservation

	// RollbackJobs are the results of the Jobs of spec.rollback.jobs, observed during a rollback.
	RollbackJobs []golivev1alpha1.CheckStatus

	// BackupsDeleted is true once the snapshots and saved specs of an ended request are gone.
	BackupsDeleted bool

	// Deleting is true once the request has been deleted (its finalizer holds
	// it): a production update under way is aborted and rolled back first.
	Deleting bool

	// Attested are the facts of status.gateRecords whose signature the
	// controller verified, for the current spec (AttestedFrom).
	Attested Attested

	// Policies are the GoLivePolicies that select the request's namespace now,
	// and PolicyViolations how the spec falls short of them, each naming the
	// field and the policy (internal/policy).
	Policies         []golivev1alpha1.AppliedPolicy
	PolicyViolations []string
	// ApprovalExpiry is the policies' approvals.expireAfter; zero: approvals do not expire.
	ApprovalExpiry ApprovalExpiry
	// NoticeMinLead is the policies' notice.minLead; zero: no notice is required.
	NoticeMinLead NoticeLead
	// StagingMaxAge is the policies' staging.maxAge; zero: staging does not age.
	StagingMaxAge StagingMaxAge
	// SupervisionRoles are the policies' supervision roles, sorted: each says
	// go before production starts (AwaitingGo). Empty: nobody supervises.
	SupervisionRoles []string
}

// DataRestoreState is where the restore of the snapshotted claims stands.
type DataRestoreState string

// The data restore states.
const (
	DataRestoreInProgress DataRestoreState = "InProgress"
	DataRestored          DataRestoreState = "Restored"
	// DataRestoreFailed: a claim cannot be restored; only a person can help.
	DataRestoreFailed DataRestoreState = "Failed"
)

// DataRestoreObservation is where the data restore stands, and why.
type DataRestoreObservation struct {
	State   DataRestoreState
	Message string
}

// NamespaceObservation is what is known of a namespace.
type NamespaceObservation struct {
	Found bool
	// OptedIn is true when it carries golive.dev/staging-for=<request namespace>.
	OptedIn bool
}

// WindowObservation is what is known of the request's go-live window.
type WindowObservation struct {
	Found bool
	Spec  golivev1alpha1.GoLiveWindowSpec
	// ActiveUpdates are the requests running a production update under the window.
	ActiveUpdates []string
	// EmergencyUsed counts emergency updates started within the window's period.
	EmergencyUsed int32
	// EmergencyPolicy names the GoLivePolicy whose emergency rules replaced
	// the window's in Spec.Emergency; empty: they are the window's own.
	EmergencyPolicy string
}

// emergencyRulesOf names where the emergency rules of a request with window
// name come from, for messages.
func (w WindowObservation) emergencyRulesOf(name string) string {
	if w.EmergencyPolicy != "" {
		return fmt.Sprintf("GoLivePolicy %q (its emergency rules replace GoLiveWindow %q's)", w.EmergencyPolicy, name)
	}
	return fmt.Sprintf("GoLiveWindow %q", name)
}

// Health is the rollout state of a workload.
type Health string

// Rollout states.
const (
	Progressing Health = "Progressing"
	Healthy     Health = "Healthy"
	Failed      Health = "Failed"
)

// TargetObservation is one workload in one environment.
type TargetObservation struct {
	Found bool
	// MissingContainers are names in the target's images that the workload lacks.
	MissingContainers []string
	// ImagesApplied is true when the pod template runs the requested images.
	ImagesApplied bool
	// Restored is true when the pod template equals the saved previous one.
	Restored bool
	// Saved is true when the saved specs hold the target's previous spec
	// (observed with Restored, for the staging targets' restore).
	Saved bool
	// Replicas is the replica count the target asks for (Deployments and StatefulSets).
	Replicas int32
	Health   Health
	// Message explains Health, such as "1 of 2 replicas updated".
	Message string
}

// VerificationState is the outcome of an environment's checks so far.
type VerificationState string

// Verification outcomes.
const (
	VerificationRunning VerificationState = "Running"
	VerificationPassed  VerificationState = "Passed"
	VerificationFailed  VerificationState = "Failed"
	// VerificationInconclusive: a metric check was inconclusive too often;
	// the verification waits for a person, and its timeout no longer runs.
	VerificationInconclusive VerificationState = "Inconclusive"
)

// VerificationObservation is the state of an environment's verification Jobs,
// HTTP checks and metric checks.
type VerificationObservation struct {
	State VerificationState
	// Message names the failing check and why.
	Message string
	Checks  []golivev1alpha1.CheckStatus
	// NextProbeAt is when an HTTP check or a metric check is due again; zero
	// when none is.
	NextProbeAt time.Time
	// Planted says, for each object at a name golive uses that is not
	// golive's (a planted verification Job), what it is and why it is ignored.
	Planted []string
}

// EnvironmentObservation is one environment's targets and verification.
type EnvironmentObservation struct {
	Targets      []TargetObservation
	Verification VerificationObservation
	// ConfigCopied is true when every copy of World.Config exists in the
	// environment's namespace with its content (observed while the
	// environment's targets are to change).
	ConfigCopied bool
	// ConfigNotOurs says why an object at a copy's name cannot be used (it
	// holds other content); golive never overwrites it, and the request stalls.
	ConfigNotOurs string
	// Migrations are the results of the Jobs of spec.migrations in the
	// environment, by name; one not created yet is missing or Pending.
	Migrations []golivev1alpha1.CheckStatus
}

// ConfigObservation is what is known of the copies of spec.config.
type ConfigObservation struct {
	// Copies are the copies of spec.config in spec order: those of
	// status.config once recorded, else as golive would name them now.
	Copies []golivev1alpha1.ConfigCopyStatus
	// Problems name, each with its field, the entries golive cannot copy:
	// a Secret source that does not exist, or that golive may not read.
	Problems []string
}

// StagingSavedSpecsObservation is what exists of the ConfigMap that holds
// the staging targets' specs from before the request first changed them.
type StagingSavedSpecsObservation struct {
	// Name names the ConfigMap once it exists and is golive's for the request.
	Name string
	// Complete is true when it holds a spec of every target of the spec.
	Complete bool
	// NotOurs says why a ConfigMap at its name is not golive's (a planted
	// one): it is never adopted, and staging stalls before it changes anything.
	NotOurs string
}

// BackupObservation is what exists of the backup taken before production.
type BackupObservation struct {
	// SnapshotClassFound is true when spec.backup.volumeSnapshotClassName exists.
	SnapshotClassFound bool
	// Claims are the claims spec.backup.volumeClaimSelector selects.
	Claims []string
	// SavedSpecs names the ConfigMap with the previous workload specs, once it exists.
	SavedSpecs string
	// SavedSpecsNotOurs says why a ConfigMap at the saved specs' name is not
	// golive's (a planted one): it is never adopted, and the backup stalls.
	SavedSpecsNotOurs string
	// Snapshots are the snapshots of the request, by claim.
	Snapshots []golivev1alpha1.SnapshotStatus
	// SnapshotError is set when a snapshot failed.
	SnapshotError string
	// Stopped is true when every target asks for zero replicas and none of
	// its pods is left; StoppedMessage says what is still running.
	Stopped        bool
	StoppedMessage string
	// ExpiryMarked is true when every snapshot carries its expiry.
	ExpiryMarked bool
	// Jobs are the results of the Jobs of spec.backup.jobs.
	Jobs []golivev1alpha1.CheckStatus
}

// CommandAction is what a person asked for through the ledger.
type CommandAction string

// Command actions, as recorded in the ledger.
const (
	ActionApprove CommandAction = "approve"
	ActionReject  CommandAction = "reject"
	ActionAccept  CommandAction = "accept"
	ActionGo      CommandAction = "go"
	ActionRetry   CommandAction = "retry"
	ActionAbort   CommandAction = "abort"
)

// Command is one verified ledger entry.
type Command struct {
	Action  CommandAction
	User    string
	Role    string
	Comment string
	At      time.Time
}

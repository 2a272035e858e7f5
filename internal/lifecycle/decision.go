package lifecycle

import (
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// ActionKind is a change the controller makes to the cluster.
type ActionKind string

// The actions. Each is idempotent; Target is an index into spec.targets
// (into spec.migrations for the migrations).
const (
	// NoAction: only record the status (and wait).
	NoAction ActionKind = ""
	// SaveStagingSpecs saves the staging targets' pod templates and replicas,
	// before the first staging target changes (and adds targets a spec change named).
	SaveStagingSpecs ActionKind = "SaveStagingSpecs"
	// ApplyStaging applies the new images to spec.targets[Target] in the staging namespace.
	ApplyStaging ActionKind = "ApplyStaging"
	// EnsureConfig creates the copies of spec.config recorded in
	// status.config, in the staging and the production namespace, where they
	// do not exist yet.
	EnsureConfig ActionKind = "EnsureConfig"
	// RunStagingMigration ensures the Job of spec.migrations[Target] in the staging namespace.
	RunStagingMigration ActionKind = "RunStagingMigration"
	// RunProductionMigration ensures the Job of spec.migrations[Target] in production.
	RunProductionMigration ActionKind = "RunProductionMigration"
	// RunBackupJob ensures the Job of spec.backup.jobs[Target] in production.
	RunBackupJob ActionKind = "RunBackupJob"
	// RunRollbackJob ensures the Job of spec.rollback.jobs[Target] in production.
	RunRollbackJob ActionKind = "RunRollbackJob"
	// VerifyStaging ensures the staging verification Jobs exist.
	VerifyStaging ActionKind = "VerifyStaging"
	// SaveSpecs saves the production targets' pod templates and replicas.
	SaveSpecs ActionKind = "SaveSpecs"
	// StopTargets scales the production targets to zero, for a quiesced
	// backup and before a data restore; the replica counts are recorded first.
	StopTargets ActionKind = "StopTargets"
	// TakeSnapshots ensures a VolumeSnapshot of every selected claim.
	TakeSnapshots ActionKind = "TakeSnapshots"
	// ApplyProduction applies the new images to spec.targets[Target] in production.
	ApplyProduction ActionKind = "ApplyProduction"
	// ResumeTarget scales spec.targets[Target] back to its count recorded before the quiesce.
	ResumeTarget ActionKind = "ResumeTarget"
	// VerifyProduction ensures the production verification Jobs exist.
	VerifyProduction ActionKind = "VerifyProduction"
	// RestoreTarget re-applies the saved spec of spec.targets[Target] in production.
	RestoreTarget ActionKind = "RestoreTarget"
	// RestoreData restores the snapshotted claims from their snapshots.
	RestoreData ActionKind = "RestoreData"
	// RestoreStagingTarget re-applies the saved spec of spec.targets[Target]
	// in the staging namespace, after the request ended without its release in production.
	RestoreStagingTarget ActionKind = "RestoreStagingTarget"
	// MarkExpiry stamps the expiry on the snapshots of an ended request, and on
	// the volumes its data restore retained, so that they go at retention even
	// if the request is deleted first.
	MarkExpiry ActionKind = "MarkExpiry"
	// DeleteBackups deletes the snapshots and saved specs after retention, and
	// gives the retained volumes their previous reclaim policy back (spec.rollback.retainedVolumes).
	DeleteBackups ActionKind = "DeleteBackups"
)

// Action is the one change to make after the status is recorded.
type Action struct {
	Kind   ActionKind
	Target int
}

// Event is something to tell people, as a Kubernetes Event and, when Notify
// is set, as a notice to the request's webhooks.
type Event struct {
	// Warning is true for Events of type Warning.
	Warning bool
	Reason  string
	Message string
	// Phase is the phase the request is in after the Event: the phase entered, for a phase change.
	Phase golivev1alpha1.Phase
	// PreviousPhase is the phase a phase change left; empty otherwise and for the first phase.
	PreviousPhase golivev1alpha1.Phase
	// Notify is true for what the request's webhooks are told: phase changes
	// (the outcome included) and the window's advance notices.
	Notify bool
}

// Decision is what to do for a request now.
type Decision struct {
	// Status is the complete status to record before the action.
	Status golivev1alpha1.UpdateRequestStatus
	Action Action
	// RequeueAfter is the exact time until a wait ends; zero when a watch wakes the controller.
	RequeueAfter time.Duration
	// ObserveAgain is true when the decision entered a phase that reads what
	// the controller did not observe for it (ObservationsNeeded of the
	// recorded phase), or took an action whose result nothing it watches
	// reports (EnsureConfig): the controller records the status, acts, and
	// decides again at once.
	ObserveAgain bool
	Events       []Event
}

// TimelineLimit bounds status.timeline, the request's audit trail.
const TimelineLimit = 64

// Actor names golive itself in the timeline.
const Actor = "golive"

package lifecycle

import (
	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Needs says which parts of the World the next decision for a request reads,
// so that the controller reads nothing else. References, the ledger and the
// saved specs are always read.
type Needs struct {
	// LockHolder: other requests, for LockHolder (the request has not left Pending).
	LockHolder bool
	// StagingTargets and ProductionTargets: the targets in each environment
	// (the request has not ended; its saved specs may be gone).
	StagingTargets, ProductionTargets bool
	// SavedSpecRestored: whether each production target runs its saved spec again (a rollback).
	SavedSpecRestored bool
	// StagingVerification and ProductionVerification: the environment's
	// checks, from its updating phase on (a decision may move on to verifying at once).
	StagingVerification, ProductionVerification bool
	// Config: the copies of spec.config (World.Config), while the request has not ended.
	Config bool
	// StagingContent and ProductionContent: whether the environment holds
	// the copies of spec.config, and its migrations' Jobs, while its targets
	// are to change (Staging; Updating after the backup).
	StagingContent, ProductionContent bool
	// BackupJobs: the Jobs of spec.backup.jobs, while the request backs up.
	BackupJobs bool
	// RollbackJobs: the Jobs of spec.rollback.jobs, in a rollback.
	RollbackJobs bool
	// Stopped: whether the targets stopped, for a quiesced backup.
	Stopped bool
	// BackupClaims: the snapshot class and the claims spec.backup.volumeClaimSelector selects.
	BackupClaims bool
	// Snapshots: the request's snapshots of those claims, while it backs up.
	Snapshots bool
	// DataRestore: where the restore of the snapshotted claims stands, in a rollback.
	DataRestore bool
	// StagingRestore: whether each staging target runs its saved spec again,
	// and has one, for an ended request that puts them back (StagingRestorePending).
	StagingRestore bool
	// SnapshotExpiry: whether an ended request's snapshots carry their expiry, or are gone.
	SnapshotExpiry bool
}

// ObservationsNeeded says what the controller must observe for request's next
// decision, from its phase and the records in its status, and specHash, the
// hash of its spec as it is now: a request whose spec changed before
// production is decided from Pending again, so it needs what Pending reads.
func ObservationsNeeded(request *golivev1alpha1.UpdateRequest, specHash string) Needs {
	status, spec := &request.Status, &request.Spec
	phase := status.Phase
	if restartsFromPending(status, specHash) {
		phase = golivev1alpha1.PhasePending
	}
	pending := phase == "" || phase == golivev1alpha1.PhasePending
	selectsVolumes := spec.Backup.VolumeClaimSelector != nil
	backup := status.Backup
	restoresStaging := phase.IsTerminal() && stagingRestorePending(spec, status)
	return Needs{
		LockHolder:        pending,
		StagingTargets:    !phase.IsTerminal() || restoresStaging,
		StagingRestore:    restoresStaging,
		ProductionTargets: !phase.IsTerminal(),
		SavedSpecRestored: phase == golivev1alpha1.PhaseRollingBack && backup != nil && backup.SavedSpecs != "",
		StagingVerification: (phase == golivev1alpha1.PhaseStaging || phase == golivev1alpha1.PhaseVerifyingStaging) &&
			status.Staging != nil,
		ProductionVerification: (phase == golivev1alpha1.PhaseUpdating || phase == golivev1alpha1.PhaseVerifying) &&
			status.Production != nil && backup != nil && backup.CompletedAt != nil,
		Config:         carriesContent(spec) && !phase.IsTerminal(),
		StagingContent: carriesContent(spec) && phase == golivev1alpha1.PhaseStaging && status.Staging != nil,
		ProductionContent: carriesContent(spec) && phase == golivev1alpha1.PhaseUpdating &&
			status.Production != nil && backup != nil && backup.CompletedAt != nil,
		BackupJobs:   len(spec.Backup.Jobs) > 0 && phase == golivev1alpha1.PhaseBackingUp,
		RollbackJobs: len(spec.Rollback.Jobs) > 0 && phase == golivev1alpha1.PhaseRollingBack && status.Rollback != nil,
		Stopped:      phase == golivev1alpha1.PhaseBackingUp && spec.Backup.Quiesce == golivev1alpha1.QuiesceScaleToZero,
		BackupClaims: selectsVolumes && (pending || phase == golivev1alpha1.PhaseBackingUp),
		Snapshots:    selectsVolumes && phase == golivev1alpha1.PhaseBackingUp,
		DataRestore: phase == golivev1alpha1.PhaseRollingBack && status.Rollback != nil && !status.Rollback.DataRestored &&
			backup != nil && len(backup.Snapshots) > 0,
		SnapshotExpiry: phase.IsTerminal(),
	}
}

// restartsFromPending reports whether the spec, now of hash specHash, changed
// since status recorded it, in a phase where the change sends the request back
// to Pending (specChanged): before production, and before the request ended.
func restartsFromPending(status *golivev1alpha1.UpdateRequestStatus, specHash string) bool {
	return status.SpecHash != "" && status.SpecHash != specHash &&
		!status.Phase.TouchesProduction() && !status.Phase.IsTerminal()
}

// carriesContent reports whether a release carries configuration or migrations.
func carriesContent(spec *golivev1alpha1.UpdateRequestSpec) bool {
	return len(spec.Config) > 0 || len(spec.Migrations) > 0
}

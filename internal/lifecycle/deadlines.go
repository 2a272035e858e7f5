package lifecycle

import (
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Environment is where targets are updated and verified.
type Environment string

// The environments; the values match the verification's environment names.
const (
	Staging    Environment = "staging"
	Production Environment = "production"
)

// Deadline is an instant a request waits for in its current phase.
type Deadline struct {
	At time.Time
	// What happens then, such as "soak ends".
	What string
	// Then is the phase the request moves to when nothing happens before At;
	// empty when the deadline only ends a wait within the phase.
	Then golivev1alpha1.Phase
}

// Deadlines lists what request waits for in its current phase, by time, read
// from the timestamps recorded in its status with the rules Decide waits by.
// Waits on people or watched objects have no deadline of their own.
func Deadlines(request *golivev1alpha1.UpdateRequest) []Deadline {
	status, spec := &request.Status, &request.Spec
	var out []Deadline
	switch status.Phase {
	case golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging:
		if status.Staging != nil && status.Staging.StartedAt != nil {
			out = append(out, Deadline{At: verificationDeadline(spec, status, Staging),
				What: "staging verification times out: Failed, production untouched", Then: golivev1alpha1.PhaseFailed})
		}
	case golivev1alpha1.PhaseSoaking:
		if status.Staging != nil && status.Staging.VerifiedAt != nil {
			out = append(out, Deadline{At: soakEnd(spec, status), What: "soak ends", Then: golivev1alpha1.PhaseAwaitingApproval})
		}
	case golivev1alpha1.PhaseScheduled:
		if schedule := status.Schedule; schedule != nil {
			if schedule.NotBefore != nil && (schedule.PlannedStart == nil || !schedule.NotBefore.Equal(schedule.PlannedStart)) {
				out = append(out, Deadline{At: schedule.NotBefore.Time, What: "earliest start after soak and lead time"})
			}
			if schedule.PlannedStart != nil {
				out = append(out, Deadline{At: schedule.PlannedStart.Time, What: "planned start of production in window " + schedule.Window,
					Then: golivev1alpha1.PhaseBackingUp})
			}
		}
	case golivev1alpha1.PhaseAwaitingGo:
		if supervision := status.Supervision; supervision != nil && supervision.Until != nil {
			out = append(out, Deadline{At: supervision.Until.Time,
				What: "last go that production still fits in this opening; then Scheduled, for the next opening", Then: golivev1alpha1.PhaseScheduled})
		}
	case golivev1alpha1.PhaseBackingUp:
		if status.Production != nil && status.Production.StartedAt != nil {
			out = append(out, Deadline{At: backupDeadline(status), What: "backup times out: RollingBack", Then: golivev1alpha1.PhaseRollingBack})
		}
	case golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying:
		if status.Backup != nil && status.Backup.CompletedAt != nil {
			out = append(out, Deadline{At: verificationDeadline(spec, status, Production),
				What: "production verification times out: RollingBack", Then: golivev1alpha1.PhaseRollingBack})
		}
	case golivev1alpha1.PhaseAwaitingAcceptance:
		if spec.Acceptance != nil && status.Production != nil && status.Production.VerifiedAt != nil {
			then := golivev1alpha1.PhaseSucceeded
			if spec.Acceptance.OnTimeout == golivev1alpha1.RollBackOnTimeout {
				then = golivev1alpha1.PhaseRollingBack
			}
			out = append(out, Deadline{At: acceptanceDeadline(spec, status),
				What: "acceptance by " + spec.Acceptance.Role + " times out: " + string(then) + " (spec.acceptance.onTimeout)", Then: then})
		}
	}
	if status.Phase.IsTerminal() && status.Backup != nil && status.Backup.ExpiresAt != nil {
		out = append(out, Deadline{At: status.Backup.ExpiresAt.Time, What: "snapshots and saved specs are deleted (spec.backup.retention)"})
	}
	return out
}

// VerificationStart is when env's verify.timeout starts counting: staging
// from its first change, production from the end of the backup, either from
// a person's retry (golive.dev/retry) when that came later. The
// verification's HTTP checks count their intervals from it too.
func VerificationStart(request *golivev1alpha1.UpdateRequest, env Environment) time.Time {
	return verificationStart(&request.Status, env)
}

func verificationStart(status *golivev1alpha1.UpdateRequestStatus, env Environment) time.Time {
	if env == Production {
		return retriedSince(status.Production, status.Backup.CompletedAt.Time)
	}
	if reverifying(status) {
		return retriedSince(status.Staging, status.Staging.ReverificationStartedAt.Time)
	}
	return retriedSince(status.Staging, status.Staging.StartedAt.Time)
}

// retriedSince is started, or the environment's last retry
// (golive.dev/retry) when that came later: a retried verification runs
// from the retry.
func retriedSince(record *golivev1alpha1.EnvironmentStatus, started time.Time) time.Time {
	if record == nil || record.RetriedAt == nil {
		return started
	}
	return latest(started, record.RetriedAt.Time)
}

// verificationDeadline is when env's verify.timeout, rollouts included, runs out.
func verificationDeadline(spec *golivev1alpha1.UpdateRequestSpec, status *golivev1alpha1.UpdateRequestStatus, env Environment) time.Time {
	timeout := spec.Staging.Verify.Timeout.Duration
	if env == Production {
		timeout = spec.Verify.Timeout.Duration
	}
	return verificationStart(status, env).Add(timeout)
}

// SoakEnd is when request's soak ends: staging's verification plus
// spec.staging.soak (at once for an emergency). false until staging is
// verified for the current spec.
func SoakEnd(request *golivev1alpha1.UpdateRequest) (time.Time, bool) {
	if request.Status.Staging == nil || request.Status.Staging.VerifiedAt == nil {
		return time.Time{}, false
	}
	return soakEnd(&request.Spec, &request.Status), true
}

// Soak is how long production waits after staging verified:
// spec.staging.soak; an emergency does not soak.
func Soak(spec *golivev1alpha1.UpdateRequestSpec) time.Duration {
	if spec.Emergency != nil {
		return 0
	}
	return spec.Staging.Soak.Duration
}

// soakEnd is when production may start at the earliest after staging verified.
func soakEnd(spec *golivev1alpha1.UpdateRequestSpec, status *golivev1alpha1.UpdateRequestStatus) time.Time {
	return status.Staging.VerifiedAt.Add(Soak(spec))
}

// backupDeadline is when BackingUp fails unless the backup completed.
func backupDeadline(status *golivev1alpha1.UpdateRequestStatus) time.Time {
	return status.Production.StartedAt.Add(BackupTimeout)
}

// acceptanceDeadline is when spec.acceptance.onTimeout decides for the acceptance role.
func acceptanceDeadline(spec *golivev1alpha1.UpdateRequestSpec, status *golivev1alpha1.UpdateRequestStatus) time.Time {
	return status.Production.VerifiedAt.Add(spec.Acceptance.Timeout.Duration)
}

// retentionExpiry is when an ended request's backups go: spec.backup.retention
// after it ended.
func retentionExpiry(spec *golivev1alpha1.UpdateRequestSpec, status *golivev1alpha1.UpdateRequestStatus) time.Time {
	return status.CompletedAt.Add(spec.Backup.Retention.Duration)
}

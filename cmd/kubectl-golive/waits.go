package main

import (
	"slices"
	"strings"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// deadline is an instant a request waits for, read from the timestamps golive
// recorded in its status with the same rules golive waits by.
type deadline struct {
	At time.Time
	// What happens then, such as "soak ends".
	What string
}

// deadlines lists what the request waits for in its current phase, by time.
// Waits on people or watched objects have no deadline of their own; the
// Ready condition describes them.
func deadlines(request *golivev1alpha1.UpdateRequest) []deadline {
	status, spec := &request.Status, &request.Spec
	var out []deadline
	add := func(at time.Time, what string) { out = append(out, deadline{At: at, What: what}) }
	switch status.Phase {
	case golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging:
		if status.Staging != nil && status.Staging.StartedAt != nil {
			add(status.Staging.StartedAt.Add(spec.Staging.Verify.Timeout.Duration),
				"staging verification times out: Failed, production untouched")
		}
	case golivev1alpha1.PhaseSoaking:
		if status.Staging != nil && status.Staging.VerifiedAt != nil {
			end := status.Staging.VerifiedAt.Time
			if spec.Emergency == nil {
				end = end.Add(spec.Staging.Soak.Duration)
			}
			add(end, "soak ends")
		}
	case golivev1alpha1.PhaseScheduled:
		if schedule := status.Schedule; schedule != nil {
			if schedule.NotBefore != nil && (schedule.PlannedStart == nil || !schedule.NotBefore.Equal(schedule.PlannedStart)) {
				add(schedule.NotBefore.Time, "earliest start after soak and lead time")
			}
			if schedule.PlannedStart != nil {
				add(schedule.PlannedStart.Time, "planned start of production in window "+schedule.Window)
			}
		}
	case golivev1alpha1.PhaseBackingUp:
		if status.Production != nil && status.Production.StartedAt != nil {
			add(status.Production.StartedAt.Add(lifecycle.BackupTimeout), "backup times out: RollingBack")
		}
	case golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying:
		if status.Backup != nil && status.Backup.CompletedAt != nil {
			add(status.Backup.CompletedAt.Add(spec.Verify.Timeout.Duration), "production verification times out: RollingBack")
		}
	case golivev1alpha1.PhaseAwaitingAcceptance:
		if spec.Acceptance != nil && status.Production != nil && status.Production.VerifiedAt != nil {
			then := "Succeeded"
			if spec.Acceptance.OnTimeout == golivev1alpha1.RollBackOnTimeout {
				then = "RollingBack"
			}
			add(status.Production.VerifiedAt.Add(spec.Acceptance.Timeout.Duration),
				"acceptance by "+spec.Acceptance.Role+" times out: "+then+" (spec.acceptance.onTimeout)")
		}
	}
	if status.Phase.IsTerminal() && status.Backup != nil && status.Backup.ExpiresAt != nil {
		add(status.Backup.ExpiresAt.Time, "snapshots and saved specs are deleted (spec.backup.retention)")
	}
	return out
}

// quorum is one share of the approvals a request needs: a required role, or
// for an emergency one approval from any of the window's emergency roles.
type quorum struct {
	Roles     []string
	Emergency bool
	Required  int32
	Approvals []golivev1alpha1.ApprovalRecord
}

// Missing is how many approvals the quorum still needs.
func (q quorum) Missing() int32 { return max(q.Required-int32(len(q.Approvals)), 0) }

// Name is the role, or the emergency roles joined by "or".
func (q quorum) Name() string {
	if len(q.Roles) == 0 {
		return "an emergency role of the window"
	}
	return strings.Join(q.Roles, " or ")
}

// quorums shares status.approvals (the approvals golive verified and counted)
// out to the quorums of the spec as golive counts them: each towards the
// first quorum of its role that still needs one. window may be nil; an
// emergency quorum then names no roles.
func quorums(request *golivev1alpha1.UpdateRequest, window *golivev1alpha1.GoLiveWindow) []quorum {
	var out []quorum
	for _, required := range request.Spec.Approvals.Required {
		out = append(out, quorum{Roles: []string{required.Role}, Required: max(required.Count, 1)})
	}
	if request.Spec.Emergency != nil {
		emergency := quorum{Emergency: true, Required: 1}
		if window != nil && window.Spec.Emergency != nil {
			emergency.Roles = window.Spec.Emergency.Roles
		}
		out = append(out, emergency)
	}
	for _, approval := range request.Status.Approvals {
		for i := range out {
			q := &out[i]
			if q.Missing() > 0 && (slices.Contains(q.Roles, approval.Role) || (q.Emergency && len(q.Roles) == 0)) {
				q.Approvals = append(q.Approvals, approval)
				break
			}
		}
	}
	return out
}

// approvalsOpen reports whether approvals can still be given in phase: from
// the start until production starts, as golive's webhook allows them.
func approvalsOpen(phase golivev1alpha1.Phase) bool {
	return !phase.IsTerminal() && !phase.TouchesProduction()
}

package lifecycle

import (
	"fmt"
	"strings"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
)

// ApprovalExpiry is a GoLivePolicy's approvals.expireAfter, the shortest of
// the policies selecting the request's namespace: an approval older than
// After when production would start no longer counts.
type ApprovalExpiry struct {
	After  time.Duration
	Policy string
}

// CurrentApprovals returns the commands without the approvals that expired
// by now, and those expired, oldest first. Without an expiry every command
// stays.
func CurrentApprovals(commands []Command, expiry ApprovalExpiry, now time.Time) (current, expired []Command) {
	if expiry.After <= 0 {
		return commands, nil
	}
	for _, command := range commands {
		if command.Action == ActionApprove && !now.Before(command.At.Add(expiry.After)) {
			expired = append(expired, command)
			continue
		}
		current = append(current, command)
	}
	return current, expired
}

// nextApprovalExpiry is when the first of the counted approvals expires;
// zero without an expiry.
func nextApprovalExpiry(tally Tally, expiry ApprovalExpiry) time.Time {
	if expiry.After <= 0 {
		return time.Time{}
	}
	var first time.Time
	for _, approval := range tally.Counted {
		if at := approval.At.Add(expiry.After); first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first
}

// approvalsExpired sends a scheduled request whose approvals no longer meet
// the quorum, because some expired, back to AwaitingApproval: the phase
// change is announced like any other, so the approvers hear of it.
func (d *decider) approvalsExpired() bool {
	if d.approvals.Satisfied() || len(d.expiredApprovals) == 0 {
		return false
	}
	var who []string
	for _, approval := range d.expiredApprovals {
		who = append(who, fmt.Sprintf("%s (%s) at %s", approval.User, approval.Role, approval.At.UTC().Format(time.RFC3339)))
	}
	message := fmt.Sprintf("Approvals older than %s no longer count (policy %s approvals.expireAfter): %s; %s",
		durationfmt.Readable(d.world.ApprovalExpiry.After), d.world.ApprovalExpiry.Policy, strings.Join(who, ", "), d.approvals.Waiting())
	d.gate(golivev1alpha1.ConditionApproved, false, golivev1alpha1.ReasonApprovalsExpired, message)
	d.enter(golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.ReasonApprovalsExpired, message)
	return true
}

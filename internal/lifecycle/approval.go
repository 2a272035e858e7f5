package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Quorum is one share of the approvals a request needs: a required role, or
// for an emergency one approval from any of the window's emergency roles.
type Quorum struct {
	// Roles may approve towards the quorum; empty for an emergency quorum
	// whose window is not known.
	Roles     []string
	Emergency bool
	// Required is spec.approvals.required[].count (at least 1, as the API
	// validates), or 1 for the emergency quorum.
	Required  int32
	Approvals []golivev1alpha1.ApprovalRecord
}

// Missing is how many approvals the quorum still needs.
func (q Quorum) Missing() int32 { return max(q.Required-int32(len(q.Approvals)), 0) }

// Name is the role, or the emergency roles joined by "or".
func (q Quorum) Name() string {
	if len(q.Roles) == 0 {
		return "an emergency role of the window"
	}
	return strings.Join(q.Roles, " or ")
}

// takes reports whether q still needs an approval by role.
func (q *Quorum) takes(role string) bool {
	return q.Missing() > 0 && (slices.Contains(q.Roles, role) || (q.Emergency && len(q.Roles) == 0))
}

// Tally is the verified approvals counted against the quorums.
type Tally struct {
	Quorums []Quorum
	// Counted are the approvals that count, in the order given.
	Counted []golivev1alpha1.ApprovalRecord
	// LastAt is when the last counted approval came.
	LastAt time.Time
}

// Satisfied reports whether every quorum is reached.
func (t Tally) Satisfied() bool {
	return !slices.ContainsFunc(t.Quorums, func(q Quorum) bool { return q.Missing() > 0 })
}

// Summary is status.approvalSummary: approvals counted over approvals required, "3/3".
func (t Tally) Summary() string {
	var got, required int32
	for _, q := range t.Quorums {
		got += int32(len(q.Approvals))
		required += q.Required
	}
	return fmt.Sprintf("%d/%d", got, required)
}

// Waiting says which roles still need approvals, "" when none does.
func (t Tally) Waiting() string {
	var missing []string
	for _, q := range t.Quorums {
		if q.Missing() > 0 {
			missing = append(missing, fmt.Sprintf("%s %d/%d", strings.Join(q.Roles, " or "), len(q.Approvals), q.Required))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "Waiting for approvals: " + strings.Join(missing, ", ")
}

// quorumsOf lists the quorums of spec, without approvals; the emergency quorum
// is included when withEmergency is.
func quorumsOf(spec *golivev1alpha1.UpdateRequestSpec, emergencyRoles []string, withEmergency bool) []Quorum {
	var quorums []Quorum
	for _, required := range spec.Approvals.Required {
		quorums = append(quorums, Quorum{Roles: []string{required.Role}, Required: required.Count})
	}
	if withEmergency {
		quorums = append(quorums, Quorum{Roles: emergencyRoles, Emergency: true, Required: 1})
	}
	return quorums
}

// share counts record towards the first quorum that still needs its role; it
// reports whether one did.
func share(quorums []Quorum, record golivev1alpha1.ApprovalRecord) bool {
	for i := range quorums {
		if quorums[i].takes(record.Role) {
			quorums[i].Approvals = append(quorums[i].Approvals, record)
			return true
		}
	}
	return false
}

// TallyApprovals counts the approve commands against spec's quorums: each
// person (SamePerson) once, towards the first quorum of a role they approved for that
// still needs them, never requestedBy unless self-approval is allowed.
// emergencyRoles are the window's emergency.roles; an emergency request
// under a window that allows no emergencies (none) gets no emergency quorum,
// as it stalls for that reason instead.
func TallyApprovals(spec *golivev1alpha1.UpdateRequestSpec, requestedBy string, commands []Command, emergencyRoles []string) Tally {
	tally := Tally{Quorums: quorumsOf(spec, emergencyRoles, spec.Emergency != nil && len(emergencyRoles) > 0)}
	var counted []string
	for _, command := range commands {
		if command.Action != ActionApprove || countedPerson(counted, command.User) {
			continue
		}
		if SamePerson(command.User, requestedBy) && !spec.Approvals.AllowSelfApproval {
			continue
		}
		record := golivev1alpha1.ApprovalRecord{Role: command.Role, User: command.User, At: metav1.NewTime(command.At), Comment: command.Comment}
		if share(tally.Quorums, record) {
			counted = append(counted, command.User)
			tally.Counted = append(tally.Counted, record)
			tally.LastAt = latest(tally.LastAt, command.At)
		}
	}
	return tally
}

// ShareApprovals shares status.approvals, the approvals golive verified and
// counted, out to the request's quorums by the rule TallyApprovals counts
// them with. window may be nil: an emergency quorum then names no roles and
// takes any counted approval the others do not.
func ShareApprovals(request *golivev1alpha1.UpdateRequest, window *golivev1alpha1.GoLiveWindow) []Quorum {
	var emergencyRoles []string
	switch {
	case request.Status.EmergencyApproval != nil:
		// What golive counted by, a GoLivePolicy's rules included.
		emergencyRoles = request.Status.EmergencyApproval.Roles
	case window != nil && window.Spec.Emergency != nil:
		emergencyRoles = window.Spec.Emergency.Roles
	}
	quorums := quorumsOf(&request.Spec, emergencyRoles, request.Spec.Emergency != nil)
	for _, record := range request.Status.Approvals {
		share(quorums, record)
	}
	return quorums
}

// tallyApprovals counts the verified approvals and mirrors them into the status.
func (d *decider) tallyApprovals() Tally {
	var emergencyRoles []string
	if policy := d.world.Window.Spec.Emergency; policy != nil {
		emergencyRoles = policy.Roles
	}
	commands, expired := CurrentApprovals(d.world.Commands, d.world.ApprovalExpiry, d.now)
	d.expiredApprovals = expired
	tally := TallyApprovals(d.spec, d.status.RequestedBy, commands, emergencyRoles)
	d.status.Approvals = tally.Counted
	d.status.ApprovalSummary = tally.Summary()
	d.status.EmergencyApproval = nil
	if d.spec.Emergency != nil && d.world.Window.Found {
		d.status.EmergencyApproval = &golivev1alpha1.EmergencyApprovalStatus{
			Roles: slices.Clone(emergencyRoles), Policy: d.world.Window.EmergencyPolicy,
		}
	}
	return tally
}

func (d *decider) awaitingApproval() {
	if !d.approvals.Satisfied() {
		waiting := d.approvals.Waiting()
		d.gate(golivev1alpha1.ConditionApproved, false, golivev1alpha1.ReasonAwaitingApproval, waiting)
		d.progress(golivev1alpha1.ReasonAwaitingApproval, waiting)
		return
	}
	d.gate(golivev1alpha1.ConditionApproved, true, golivev1alpha1.ReasonSucceeded, "Every required role approved")
	d.enter(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonApproved, "Every required role approved")
}

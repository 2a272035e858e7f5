package console

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// ask is one thing a request waits for the person to do.
type ask struct {
	Namespace, Name, Release string
	Phase                    golivev1alpha1.Phase
	// What is a message key (approveAs, acceptAs, goAs); Roles the roles it names.
	What  string
	Roles []string
}

// asksOf lists what request asks of me, by the rules kubectl golive waiting
// applies: which phase takes which command is lifecycle.CommandAllowed's
// answer, how many approvals are missing lifecycle.ShareApprovals', and
// whether me holds a role the API server's (SelfSubjectAccessReview).
func asksOf(ctx context.Context, access *accessReviews, request *golivev1alpha1.UpdateRequest,
	window *golivev1alpha1.GoLiveWindow, me string) ([]ask, error) {
	base := ask{Namespace: request.Namespace, Name: request.Name, Release: request.Spec.Release, Phase: request.Status.Phase}
	hash := ledger.SpecHash(&request.Spec)
	var asks []ask
	if request.Spec.Acceptance != nil && lifecycle.CommandAllowed(request, lifecycle.ActionAccept, "", hash) == nil {
		role := request.Spec.Acceptance.Role
		holds, err := access.holdsRole(ctx, request.Namespace, role)
		if err != nil {
			return nil, err
		}
		if holds {
			a := base
			a.What, a.Roles = "acceptAs", []string{role}
			asks = append(asks, a)
		}
	}
	if roles, err := goRolesHeld(ctx, access, request, hash, me); err != nil {
		return nil, err
	} else if len(roles) > 0 {
		a := base
		a.What, a.Roles = "goAs", roles
		asks = append(asks, a)
	}
	roles, err := approvalRolesHeld(ctx, access, request, window, hash, me)
	if err != nil {
		return nil, err
	}
	if len(roles) > 0 {
		a := base
		a.What, a.Roles = "approveAs", roles
		asks = append(asks, a)
	}
	return asks, nil
}

// approvalRolesHeld are the roles me holds whose quorums still miss
// approvals, while golive takes approvals and unless me requested the
// request (without self-approval) or approved it already.
func approvalRolesHeld(ctx context.Context, access *accessReviews, request *golivev1alpha1.UpdateRequest,
	window *golivev1alpha1.GoLiveWindow, hash, me string) ([]string, error) {
	if lifecycle.CommandAllowed(request, lifecycle.ActionApprove, "", hash) != nil || approvedAlready(request, hash, me) ||
		(lifecycle.SamePerson(requester(request), me) && !request.Spec.Approvals.AllowSelfApproval) {
		return nil, nil
	}
	var roles []string
	for _, q := range lifecycle.ShareApprovals(request, window) {
		if q.Missing() == 0 {
			continue
		}
		for _, role := range q.Roles {
			holds, err := access.holdsRole(ctx, request.Namespace, role)
			if err != nil {
				return nil, err
			}
			if holds && !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
	}
	return roles, nil
}

// goRolesHeld are the supervision roles me holds that still owe a go, in AwaitingGo.
func goRolesHeld(ctx context.Context, access *accessReviews, request *golivev1alpha1.UpdateRequest, hash, me string) ([]string, error) {
	supervision := request.Status.Supervision
	if supervision == nil || lifecycle.CommandAllowed(request, lifecycle.ActionGo, "", hash) != nil || lifecycle.SamePerson(requester(request), me) ||
		slices.ContainsFunc(supervision.Given, func(given golivev1alpha1.ApprovalRecord) bool { return lifecycle.SamePerson(given.User, me) }) {
		return nil, nil
	}
	var roles []string
	for _, role := range supervision.Roles {
		if slices.ContainsFunc(supervision.Given, func(given golivev1alpha1.ApprovalRecord) bool { return given.Role == role }) {
			continue
		}
		holds, err := access.holdsRole(ctx, request.Namespace, role)
		if err != nil {
			return nil, err
		}
		if holds {
			roles = append(roles, role)
		}
	}
	return roles, nil
}

// approvedAlready reports whether me approved the current spec: golive
// counted it, or the ledger says so (the webhook refuses a second approval
// whatever this says).
func approvedAlready(request *golivev1alpha1.UpdateRequest, hash, me string) bool {
	if slices.ContainsFunc(request.Status.Approvals, func(a golivev1alpha1.ApprovalRecord) bool { return lifecycle.SamePerson(a.User, me) }) {
		return true
	}
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(entry golivev1alpha1.LedgerEntry) bool {
		return entry.Action == golivev1alpha1.LedgerApprove && entry.SpecHash == hash && lifecycle.SamePerson(entry.User, me)
	})
}

// requester is who asked for the request, as golive's webhook stamped it.
func requester(request *golivev1alpha1.UpdateRequest) string {
	if request.Status.RequestedBy != "" {
		return request.Status.RequestedBy
	}
	return request.Annotations[golivev1alpha1.AnnotationRequestedBy]
}

// command is a button on a request's page: an action, the roles it may be
// given for (none for go's and abort's single button), whether it needs a
// comment.
type command struct {
	Action        lifecycle.CommandAction
	Roles         []string
	NeedsComment  bool
	NeedsRole     bool
	annotationKey string
}

// commandAnnotations maps each action to its annotation.
var commandAnnotations = map[lifecycle.CommandAction]string{
	lifecycle.ActionApprove: golivev1alpha1.AnnotationApprove,
	lifecycle.ActionReject:  golivev1alpha1.AnnotationReject,
	lifecycle.ActionAccept:  golivev1alpha1.AnnotationAccept,
	lifecycle.ActionGo:      golivev1alpha1.AnnotationGo,
	lifecycle.ActionAbort:   golivev1alpha1.AnnotationAbort,
	lifecycle.ActionRetry:   golivev1alpha1.AnnotationRetry,
}

// commandsFor are the commands me may give on request now: each shown only
// when lifecycle.CommandAllowed allows it for a role me holds (or, for an
// abort or a retry, when me may update the request). The webhook decides in the end.
func commandsFor(ctx context.Context, access *accessReviews, request *golivev1alpha1.UpdateRequest,
	window *golivev1alpha1.GoLiveWindow, me string) ([]command, error) {
	hash := ledger.SpecHash(&request.Spec)
	var commands []command
	approveRoles, err := approvalRolesHeld(ctx, access, request, window, hash, me)
	if err != nil {
		return nil, err
	}
	if len(approveRoles) > 0 {
		commands = append(commands, command{Action: lifecycle.ActionApprove, Roles: approveRoles, NeedsRole: true})
	}
	var rejectRoles []string
	candidates := make([]string, 0, len(request.Spec.Approvals.Required)+1)
	for _, q := range request.Spec.Approvals.Required {
		candidates = append(candidates, q.Role)
	}
	if request.Spec.Acceptance != nil {
		candidates = append(candidates, request.Spec.Acceptance.Role)
	}
	for _, role := range candidates {
		if slices.Contains(rejectRoles, role) || lifecycle.CommandAllowed(request, lifecycle.ActionReject, role, hash) != nil {
			continue
		}
		holds, err := access.holdsRole(ctx, request.Namespace, role)
		if err != nil {
			return nil, err
		}
		if holds {
			rejectRoles = append(rejectRoles, role)
		}
	}
	if len(rejectRoles) > 0 {
		commands = append(commands, command{Action: lifecycle.ActionReject, Roles: rejectRoles, NeedsRole: true})
	}
	if request.Spec.Acceptance != nil && lifecycle.CommandAllowed(request, lifecycle.ActionAccept, "", hash) == nil {
		holds, err := access.holdsRole(ctx, request.Namespace, request.Spec.Acceptance.Role)
		if err != nil {
			return nil, err
		}
		if holds {
			commands = append(commands, command{Action: lifecycle.ActionAccept})
		}
	}
	goRoles, err := goRolesHeld(ctx, access, request, hash, me)
	if err != nil {
		return nil, err
	}
	if len(goRoles) > 0 {
		commands = append(commands, command{Action: lifecycle.ActionGo})
	}
	if lifecycle.CommandAllowed(request, lifecycle.ActionRetry, "", hash) == nil {
		// A retry needs the right of an abort.
		may, err := access.mayAbort(ctx, request.Namespace, request.Name)
		if err != nil {
			return nil, err
		}
		if may {
			commands = append(commands, command{Action: lifecycle.ActionRetry})
		}
	}
	if lifecycle.CommandAllowed(request, lifecycle.ActionAbort, "", hash) == nil {
		may, err := access.mayAbort(ctx, request.Namespace, request.Name)
		if err != nil {
			return nil, err
		}
		if may {
			commands = append(commands, command{Action: lifecycle.ActionAbort, NeedsComment: true})
		}
	}
	return commands, nil
}

// commandValue is the annotation value of a command: "<role>[; text]" for
// approve and reject, the text for the others.
func commandValue(action lifecycle.CommandAction, role, text string) (string, error) {
	text = strings.Join(strings.Fields(text), " ")
	switch action {
	case lifecycle.ActionApprove, lifecycle.ActionReject:
		role = strings.TrimSpace(role)
		if role == "" || strings.Contains(role, ";") {
			return "", fmt.Errorf("choose a role")
		}
		if text != "" {
			return role + "; " + text, nil
		}
		return role, nil
	case lifecycle.ActionAbort:
		if text == "" {
			return "", fmt.Errorf("an abort needs a reason")
		}
		return text, nil
	case lifecycle.ActionAccept, lifecycle.ActionGo, lifecycle.ActionRetry:
		return text, nil
	}
	return "", fmt.Errorf("unknown command %q", action)
}

// requestView is what a request's page shows.
type requestView struct {
	Request    *golivev1alpha1.UpdateRequest
	Requester  string
	Submitter  string
	Images     []imageRow
	Quorums    []quorumRow
	Given      approvalsGiven
	Timeline   []golivev1alpha1.TimelineEntry
	Commands   []command
	Recorded   *golivev1alpha1.LedgerEntry
	Refusal    string
	Comment    string
	WindowName string
	// Soak is spec.staging.soak, SoakEnds when it ends (once staging is verified).
	Soak     string
	SoakEnds *time.Time
	// Config compares spec.config with what production runs now, while
	// production may still change; Migrations are their results per environment.
	Config     []string
	Migrations []string
}

// approvalsGiven are the approvals golive counted and the go commands of a
// supervised opening, as a request's status (or its record's) holds them.
type approvalsGiven struct {
	Approvals, Goes []golivev1alpha1.ApprovalRecord
}

func approvalsGivenIn(status *golivev1alpha1.UpdateRequestStatus) approvalsGiven {
	given := approvalsGiven{Approvals: status.Approvals}
	if status.Supervision != nil {
		given.Goes = status.Supervision.Given
	}
	return given
}

type imageRow struct{ Target, Container, Image string }

type quorumRow struct {
	Name               string
	Approved, Required int32
}

func newRequestView(request *golivev1alpha1.UpdateRequest, window *golivev1alpha1.GoLiveWindow) *requestView {
	view := &requestView{Request: request, Requester: requester(request), WindowName: request.Spec.Window.Name,
		Submitter: request.Status.SubmittedBy, Given: approvalsGivenIn(&request.Status)}
	if soak := lifecycle.Soak(&request.Spec); soak > 0 {
		view.Soak = durationfmt.Short(soak)
		if end, ok := lifecycle.SoakEnd(request); ok {
			view.SoakEnds = &end
		}
	}
	for _, target := range request.Spec.Targets {
		containers := make([]string, 0, len(target.Images))
		for container := range target.Images {
			containers = append(containers, container)
		}
		sort.Strings(containers)
		for _, container := range containers {
			view.Images = append(view.Images, imageRow{Target: string(target.Kind) + "/" + target.Name, Container: container, Image: string(target.Images[container])})
		}
	}
	for _, q := range lifecycle.ShareApprovals(request, window) {
		view.Quorums = append(view.Quorums, quorumRow{Name: q.Name(), Approved: int32(len(q.Approvals)), Required: q.Required})
	}
	// Newest first: what happened last is what a person looks for.
	view.Timeline = slices.Clone(request.Status.Timeline)
	slices.Reverse(view.Timeline)
	return view
}

// lastEntryBy is the newest ledger entry of user, nil when there is none.
func lastEntryBy(request *golivev1alpha1.UpdateRequest, user string) *golivev1alpha1.LedgerEntry {
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if lifecycle.SamePerson(entries[i].User, user) {
			return &entries[i]
		}
	}
	return nil
}

// timeOf turns an optional API time into a time for the templates.
func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// migrationResults is each migration of the request with its result in each
// environment that ran it.
func migrationResults(request *golivev1alpha1.UpdateRequest) []string {
	var rows []string
	for _, migration := range request.Spec.Migrations {
		row := migration.Name
		for _, env := range []struct {
			name   string
			status *golivev1alpha1.EnvironmentStatus
		}{{"staging", request.Status.Staging}, {"production", request.Status.Production}} {
			if env.status == nil {
				continue
			}
			for _, result := range env.status.Migrations {
				if result.Name == migration.Name {
					row += fmt.Sprintf(" · %s: %s", env.name, result.Result)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

package admission

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// commandInput is what the rules decide a command on: the request as stored
// before the command, and what was read for it.
type commandInput struct {
	// Request is the stored request; its status and annotations count, not
	// what the update that carries the command says about them.
	Request *golivev1alpha1.UpdateRequest
	// SpecHash is SpecHash of the request's spec.
	SpecHash string
	Command  Command
	// User is the username of the person giving the command.
	User string
	// EmergencyRoles are the window's emergency.roles, for an emergency request.
	EmergencyRoles []string
	// EmergencyRolesUnknown says why EmergencyRoles could not be read (the
	// window does not exist or allows no emergencies), for the message.
	EmergencyRolesUnknown string
	// ApprovalExpiry is the policies' approvals.expireAfter (zero: none), and
	// Now the time of the command: an expired approval may be given again.
	ApprovalExpiry time.Duration
	Now            time.Time
	// Ledger are the entries of the ledger that count for the current spec.
	Ledger []golivev1alpha1.LedgerEntry
	// SupervisionRoles are the supervision roles of the namespace's policies, sorted, for a go.
	SupervisionRoles []string
}

// checkCommand applies the rules of DESIGN.md ("Approvals and commands") that
// need no API call, and returns the role the command acts for (empty for
// abort). An error is a refusal; its message says why.
func checkCommand(in commandInput) (string, error) {
	request, command := in.Request, in.Command
	if command.Action != golivev1alpha1.LedgerAbort && command.Action != golivev1alpha1.LedgerRetry && isServiceAccount(in.User) {
		return "", fmt.Errorf("%s is a ServiceAccount: approvals, rejections, acceptances and go come from people, never from a ServiceAccount "+
			"(a GitOps identity may create requests on behalf of a person once GoLivePolicy spec.trustedSubmitters names it)", in.User)
	}
	// The phase rules are the lifecycle's, which acts on the commands by them.
	phaseAllows := func() error {
		return lifecycle.CommandAllowed(request, lifecycle.CommandAction(command.Action), command.Role, in.SpecHash)
	}
	switch command.Action {
	case golivev1alpha1.LedgerApprove:
		if err := in.checkRoleAsked(command.Role, false); err != nil {
			return "", err
		}
		if err := phaseAllows(); err != nil {
			return "", err
		}
		if !request.Spec.Approvals.AllowSelfApproval {
			requester, known := request.Annotations[golivev1alpha1.AnnotationRequestedBy]
			switch {
			case !known:
				return "", fmt.Errorf("the request has no %s (it was created before golive's webhook was installed), so self-approval cannot be ruled out: re-create the request",
					golivev1alpha1.AnnotationRequestedBy)
			case lifecycle.SamePerson(requester, in.User):
				return "", fmt.Errorf("%s requested this update and may not approve it (spec.approvals.allowSelfApproval is false)", in.User)
			}
		}
		for _, entry := range in.Ledger {
			expired := in.ApprovalExpiry > 0 && !in.Now.Before(entry.Time.Add(in.ApprovalExpiry))
			if entry.Action == golivev1alpha1.LedgerApprove && lifecycle.SamePerson(entry.User, in.User) && entry.SpecHash == in.SpecHash && !expired {
				return "", fmt.Errorf("%s already approved this spec (as %s at %s): one person counts once",
					in.User, entry.Role, entry.Time.UTC().Format(time.RFC3339))
			}
		}
		return command.Role, nil

	case golivev1alpha1.LedgerReject:
		if err := in.checkRoleAsked(command.Role, true); err != nil {
			return "", err
		}
		if err := phaseAllows(); err != nil {
			return "", err
		}
		return command.Role, nil

	case golivev1alpha1.LedgerAccept:
		if err := phaseAllows(); err != nil {
			return "", err
		}
		return acceptanceRole(request), nil

	case golivev1alpha1.LedgerGo:
		if len(in.SupervisionRoles) == 0 {
			return "", errors.New("no GoLivePolicy of the request's namespace asks for supervision (spec.supervision), so there is no go to give")
		}
		if err := phaseAllows(); err != nil {
			return "", err
		}
		requester, known := request.Annotations[golivev1alpha1.AnnotationRequestedBy]
		switch {
		case !known:
			return "", fmt.Errorf("the request has no %s (it was created before golive's webhook was installed), so the requester cannot be ruled out: re-create the request",
				golivev1alpha1.AnnotationRequestedBy)
		case lifecycle.SamePerson(requester, in.User):
			return "", fmt.Errorf("%s requested this update and may not say go for it: one executes, one supervises", in.User)
		}
		if supervision := request.Status.Supervision; supervision != nil {
			for _, given := range supervision.Given {
				if lifecycle.SamePerson(given.User, in.User) {
					return "", fmt.Errorf("%s already said go in this opening (as %s at %s): one person counts once",
						in.User, given.Role, given.At.UTC().Format(time.RFC3339))
				}
			}
		}
		// The role is the first supervision role user holds that still waits (supervisionRole).
		return "", nil

	case golivev1alpha1.LedgerAbort, golivev1alpha1.LedgerRetry:
		// Whoever may abort a stalled verification may retry it instead.
		if err := phaseAllows(); err != nil {
			return "", err
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown command %q", command.Action)
}

// serviceAccountPrefix starts the username of every ServiceAccount.
const serviceAccountPrefix = "system:serviceaccount:"

// isServiceAccount reports whether user is a ServiceAccount. Refusing their
// approvals also closes identity laundering: an editor who may impersonate a
// namespace's ServiceAccounts cannot approve as one of them.
func isServiceAccount(user string) bool {
	return strings.HasPrefix(strings.TrimSpace(user), serviceAccountPrefix)
}

// checkRoleAsked refuses a role the request does not ask for: approvals come
// from spec.approvals.required and, for an emergency request, the window's
// emergency roles; rejections also from the acceptance role.
func (in commandInput) checkRoleAsked(role string, rejecting bool) error {
	asked := rolesAsked(in.Request, in.EmergencyRoles, rejecting)
	if slices.Contains(asked, role) {
		return nil
	}
	message := fmt.Sprintf("role %q is not one this request asks for: it asks for %s", role, strings.Join(asked, ", "))
	if in.Request.Spec.Emergency != nil && in.EmergencyRolesUnknown != "" {
		message += " (" + in.EmergencyRolesUnknown + ")"
	}
	return errors.New(message)
}

// rolesAsked lists the roles that may approve (or, rejecting, reject) request.
func rolesAsked(request *golivev1alpha1.UpdateRequest, emergencyRoles []string, rejecting bool) []string {
	var roles []string
	for _, quorum := range request.Spec.Approvals.Required {
		roles = append(roles, quorum.Role)
	}
	if request.Spec.Emergency != nil {
		roles = append(roles, emergencyRoles...)
	}
	if acceptance := acceptanceRole(request); rejecting && acceptance != "" {
		roles = append(roles, acceptance)
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// phaseOf is the request's phase; a request the controller has not seen yet is Pending.
func phaseOf(request *golivev1alpha1.UpdateRequest) golivev1alpha1.Phase {
	if request.Status.Phase == "" {
		return golivev1alpha1.PhasePending
	}
	return request.Status.Phase
}

// acceptanceRole is the request's acceptance role, empty without acceptance.
func acceptanceRole(request *golivev1alpha1.UpdateRequest) string {
	if request.Spec.Acceptance == nil {
		return ""
	}
	return request.Spec.Acceptance.Role
}

// accessFor is the right a command needs, for a SubjectAccessReview: verb
// approve on approvalroles.golive.dev/<role> for approve, reject and accept;
// verb update on the request for abort and retry.
func accessFor(request *golivev1alpha1.UpdateRequest, action golivev1alpha1.LedgerAction, role string) authorizationv1.ResourceAttributes {
	if action == golivev1alpha1.LedgerAbort || action == golivev1alpha1.LedgerRetry {
		return authorizationv1.ResourceAttributes{
			Namespace: request.Namespace, Verb: "update",
			Group: golivev1alpha1.GroupVersion.Group, Resource: "updaterequests", Name: request.Name,
		}
	}
	return authorizationv1.ResourceAttributes{
		Namespace: request.Namespace, Verb: golivev1alpha1.ApproveVerb,
		Group: golivev1alpha1.GroupVersion.Group, Resource: golivev1alpha1.ApprovalRoleResource, Name: role,
	}
}

// describeMissingRight says which right user lacks, in a refusal.
func describeMissingRight(user string, action golivev1alpha1.LedgerAction, attributes authorizationv1.ResourceAttributes) string {
	if action == golivev1alpha1.LedgerAbort || action == golivev1alpha1.LedgerRetry {
		return fmt.Sprintf("%s may not %s this request: that needs the verb update on updaterequests.%s/%s in namespace %s",
			user, action, attributes.Group, attributes.Name, attributes.Namespace)
	}
	verb := string(action)
	if action == golivev1alpha1.LedgerGo {
		verb = "say go"
	}
	return fmt.Sprintf("%s may not %s for role %s in namespace %s: no RBAC rule grants them the verb %s on %s.%s/%s",
		user, verb, attributes.Name, attributes.Namespace, attributes.Verb, attributes.Resource, attributes.Group, attributes.Name)
}

// checkFresh refuses an entry whose time is not now, give or take skew: the
// validating webhook sees the entry the mutating webhook signed moments before.
func checkFresh(entry golivev1alpha1.LedgerEntry, now time.Time, skew time.Duration) error {
	at := entry.Time.Time
	if at.Before(now.Add(-skew)) || at.After(now.Add(skew)) {
		return fmt.Errorf("the new ledger entry is dated %s, not now (%s)", at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// ledgerTime is now as a ledger time: UTC, to the second.
func ledgerTime(now time.Time) metav1.Time {
	return metav1.NewTime(now.UTC().Truncate(time.Second))
}

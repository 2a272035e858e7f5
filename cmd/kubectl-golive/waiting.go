package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/report"
)

func newWaitingCommand(o *rootOptions) *cobra.Command {
	scope := &namespaceScope{rootOptions: o}
	cmd := &cobra.Command{
		Use:   "waiting",
		Short: "List what waits for you: approvals for roles you hold, acceptances, goes, your requests that need you",
		Long: `List the update requests of the namespace (or of all namespaces with -A)
that wait for you, as the API server knows you (or --as):

- requests golive takes approvals for now, where a role you hold (the verb
  approve on approvalroles.golive.dev/<role>, asked with a
  SelfSubjectAccessReview) still misses approvals, that you did not request
  (unless self-approval is allowed) and did not approve yet;
- requests awaiting acceptance by a role you hold;
- requests awaiting a go (AwaitingGo) from a supervision role you hold, that
  you did not request;
- your own requests that need a person: stalled, or stopped by spec.suspend.

Each line gives the command to run next.`,
		Example: `  kubectl golive waiting -n billing
  kubectl golive waiting -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			me, err := whoAmI(cmd.Context(), c)
			if err != nil {
				return err
			}
			requests, _, err := scope.listRequests(cmd.Context(), c)
			if err != nil {
				return err
			}
			access := newAccessReviews(c)
			var asks []ask
			for _, r := range requests {
				found, err := asksOf(cmd.Context(), r, me, access.holdsRole)
				if err != nil {
					return err
				}
				asks = append(asks, found...)
			}
			if len(asks) == 0 {
				_, err := fmt.Fprintf(o.streams.ErrOut, "Nothing waits for %s.\n", oneLine(me))
				return err
			}
			return writeWaiting(o.streams.Out, asks, o.clock.Now(), scope.all)
		},
	}
	scope.addFlags(cmd, "Look at the requests of all namespaces.")
	return cmd
}

// ask is one thing a request waits for the person to do.
type ask struct {
	listedRequest
	// What the person is asked, such as "approve as operations-office (0/2)".
	What string
	// Next is the command that does it.
	Next string
}

// holdsRoleFunc reports whether the person holds an approval role in a namespace.
type holdsRoleFunc func(ctx context.Context, namespace, role string) (bool, error)

// asksOf lists what r asks of me: their own request's stall, the acceptance
// for a role they hold, an approval for a role they hold that still misses
// approvals. Which phase takes which command is the lifecycle's answer
// (CommandAllowed, through listedRequest); whether me holds a role, the API
// server's.
func asksOf(ctx context.Context, r listedRequest, me string, holdsRole holdsRoleFunc) ([]ask, error) {
	request := r.Request
	target := request.Name + " -n " + request.Namespace
	var asks []ask
	if person := needsPerson(request); person != "" && lifecycle.SamePerson(report.Requester(request), me) {
		asks = append(asks, ask{r, "your request needs you: " + person, "kubectl golive status " + target})
	}
	if r.acceptanceOpen() {
		role := request.Spec.Acceptance.Role
		holds, err := holdsRole(ctx, request.Namespace, role)
		if err != nil {
			return nil, err
		}
		if holds {
			asks = append(asks, ask{r, "accept or reject as " + role, "kubectl golive accept " + target})
		}
	}
	if r.goOpen() && r.Request.Status.Supervision != nil && !lifecycle.SamePerson(report.Requester(request), me) &&
		!slices.ContainsFunc(r.Request.Status.Supervision.Given, func(given golivev1alpha1.ApprovalRecord) bool { return lifecycle.SamePerson(given.User, me) }) {
		var roles []string
		for _, role := range missingGoRoles(r.Request.Status.Supervision) {
			holds, err := holdsRole(ctx, request.Namespace, role)
			if err != nil {
				return nil, err
			}
			if holds {
				roles = append(roles, role)
			}
		}
		if len(roles) > 0 {
			asks = append(asks, ask{r, "say go as " + strings.Join(roles, " or "), "kubectl golive go " + target})
		}
	}
	missing := r.missingQuorums()
	if len(missing) == 0 || approvedAlready(r, me) || (lifecycle.SamePerson(report.Requester(request), me) && !request.Spec.Approvals.AllowSelfApproval) {
		return asks, nil
	}
	var roles, counts []string
	for _, q := range missing {
		for _, role := range q.Roles {
			holds, err := holdsRole(ctx, request.Namespace, role)
			if err != nil {
				return nil, err
			}
			if holds && !slices.Contains(roles, role) {
				roles = append(roles, role)
				counts = append(counts, fmt.Sprintf("%s (%d/%d)", role, len(q.Approvals), q.Required))
			}
		}
	}
	if len(roles) > 0 {
		asks = append(asks, ask{r, "approve as " + strings.Join(counts, " or "),
			"kubectl golive approve " + target + " --role " + roles[0]})
	}
	return asks, nil
}

// approvedAlready reports whether me approved the current spec: golive
// counted it, or the ledger claims it. The plugin cannot verify the ledger's
// signatures (only golive holds the key), so the parsed entries are claims,
// used here only to leave a request out of the person's own list; golive's
// webhook refuses a second approval by the same person whatever this says.
func approvedAlready(r listedRequest, me string) bool {
	for _, approval := range r.Request.Status.Approvals {
		if lifecycle.SamePerson(approval.User, me) {
			return true
		}
	}
	claimed, err := ledger.Parse(r.Request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return false
	}
	return slices.ContainsFunc(claimed, func(entry golivev1alpha1.LedgerEntry) bool {
		return entry.Action == golivev1alpha1.LedgerApprove && entry.SpecHash == r.SpecHash && lifecycle.SamePerson(entry.User, me)
	})
}

// writeWaiting writes the table of waiting.
func writeWaiting(out io.Writer, asks []ask, now time.Time, withNamespace bool) error {
	tw := printers.GetNewTabWriter(out)
	if withNamespace {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "NAME\tRELEASE\tPHASE\tWAITS FOR YOU TO\tNEXT\tAGE")
	for _, a := range asks {
		request := a.Request
		if withNamespace {
			fmt.Fprintf(tw, "%s\t", request.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", request.Name, oneLine(request.Spec.Release), orDash(string(request.Status.Phase)),
			a.What, a.Next, age(request.CreationTimestamp.Time, now))
	}
	return tw.Flush()
}

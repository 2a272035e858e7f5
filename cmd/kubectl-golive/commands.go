package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// The commands set one command annotation, as docs/approvals.md describes;
// golive's admission webhook checks who gives it, records it as a signed
// ledger entry and removes the annotation, or refuses the change with a
// message that says why.

// commandOptions are the flags every command has.
type commandOptions struct {
	*rootOptions
	dryRun string
}

func (o *commandOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.dryRun, "dry-run", "none",
		`"server" asks golive's webhook to check the command without recording it; "none" gives it.`)
}

// annotationCommand is one command and how its annotation value is made from the flags.
type annotationCommand struct {
	annotation string
	// done is the past participle shown after success, such as "approved".
	done string
	// value makes the annotation's value from the flags, or says what is wrong with them.
	value func() (string, error)
	// detail is shown after done, such as "for role rnd-lead"; empty for none.
	detail func() string
}

// newCommand builds the cobra command that gives an annotation command.
func newCommand(o *rootOptions, cmd *cobra.Command, command annotationCommand) *cobra.Command {
	options := &commandOptions{rootOptions: o}
	flags := printFlags(o.scheme)
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		dryRun, err := options.serverDryRun()
		if err != nil {
			return err
		}
		value, err := command.value()
		if err != nil {
			return err
		}
		printer, err := objectPrinter(flags)
		if err != nil {
			return err
		}
		c, err := o.client()
		if err != nil {
			return err
		}
		namespace, err := o.namespace()
		if err != nil {
			return err
		}
		key := client.ObjectKey{Namespace: namespace, Name: args[0]}
		request, err := giveCommand(cmd.Context(), c, key, command.annotation, value, dryRun)
		if err != nil {
			return explainPatchRefusal(cmd.Context(), c, key, err)
		}
		if printer != nil {
			return printer.PrintObj(request, o.streams.Out)
		}
		what := command.done
		if detail := command.detail(); detail != "" {
			what += " " + detail
		}
		return writeCommandResult(o.streams.Out, request, what, dryRun)
	}
	options.addFlags(cmd)
	flags.AddFlags(cmd)
	return cmd
}

func (o *commandOptions) serverDryRun() (bool, error) {
	switch o.dryRun {
	case "", "none":
		return false, nil
	case "server":
		return true, nil
	case "client":
		return false, errors.New(`--dry-run=client cannot check a command: only golive's webhook can; use --dry-run=server`)
	}
	return false, fmt.Errorf(`--dry-run must be "none" or "server", not %q`, o.dryRun)
}

// giveCommand sets the command annotation with a JSON merge patch, as
// `kubectl annotate` does, and returns the request as the API server stored
// it: the webhook has turned the command into the last ledger entry.
func giveCommand(ctx context.Context, c client.Client, key client.ObjectKey, annotation, value string, dryRun bool) (*golivev1alpha1.UpdateRequest, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{annotation: value}}})
	if err != nil {
		return nil, err
	}
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	options := []client.PatchOption{client.FieldOwner(fieldManager)}
	if dryRun {
		options = append(options, client.DryRunAll)
	}
	if err := c.Patch(ctx, request, client.RawPatch(types.MergePatchType, patch), options...); err != nil {
		return nil, err
	}
	return request, nil
}

// writeCommandResult confirms a command and shows the ledger entry golive recorded for it.
func writeCommandResult(out io.Writer, request *golivev1alpha1.UpdateRequest, what string, dryRun bool) error {
	name := "updaterequest.golive.dev/" + request.Name
	if dryRun {
		_, err := fmt.Fprintf(out, "%s %s (server dry run: golive checked the command and recorded nothing)\n", name, what)
		return err
	}
	if _, err := fmt.Fprintf(out, "%s %s\n", name, what); err != nil {
		return err
	}
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil || len(entries) == 0 {
		// The API server accepted the change; without golive's webhook nothing was recorded.
		_, err := fmt.Fprintln(out, "Warning: golive recorded no ledger entry; is its admission webhook installed?")
		return err
	}
	entry := entries[len(entries)-1]
	_, err = fmt.Fprintf(out, "Recorded in %s as entry %d: %s by %s at %s for spec %s\n",
		golivev1alpha1.AnnotationLedger, len(entries), ledgerActionText(entry), entry.User,
		entry.Time.UTC().Format(time.RFC3339), shortHash(entry.SpecHash))
	return err
}

// ledgerActionText is "approve (rnd-lead)" or "abort".
func ledgerActionText(entry golivev1alpha1.LedgerEntry) string {
	if entry.Role == "" {
		return string(entry.Action)
	}
	return string(entry.Action) + " (" + entry.Role + ")"
}

// shortHash abbreviates a spec hash for people; the report shows it whole.
func shortHash(hash string) string {
	const keep = len("sha256:") + 12
	if len(hash) <= keep {
		return hash
	}
	return hash[:keep] + "…"
}

// roleAndText is the value "<role>[; text]" of approve and reject.
func roleAndText(role, text string) (string, error) {
	role = strings.TrimSpace(role)
	if role == "" {
		return "", errors.New("--role is required")
	}
	if strings.Contains(role, ";") {
		return "", fmt.Errorf("--role %q: a role name has no ';'", role)
	}
	if text = strings.TrimSpace(text); text != "" {
		return role + "; " + text, nil
	}
	return role, nil
}

func newApproveCommand(o *rootOptions) *cobra.Command {
	var role, comment string
	cmd := newCommand(o, &cobra.Command{
		Use:   "approve NAME --role ROLE [--comment TEXT]",
		Short: "Approve an update request for a role",
		Long: `Approve an update request for a role you hold (RBAC verb "approve" on
approvalroles.golive.dev/<role> in the request's namespace). golive's webhook
refuses, with the reason, an approval before staging is verified, after
production started, a second one by the same person, self-approval and an
unknown role.`,
		Example: `  kubectl golive approve billing-2-4-0 -n billing --role rnd-lead --comment "looks good"
  kubectl golive approve billing-2-4-0 -n billing --role rnd-lead --dry-run=server`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationApprove,
		done:       "approved",
		value:      func() (string, error) { return roleAndText(role, comment) },
		detail:     func() string { return "for role " + strings.TrimSpace(role) },
	})
	cmd.Flags().StringVar(&role, "role", "", "The approval role you approve for (required).")
	cmd.Flags().StringVar(&comment, "comment", "", "A comment for the record.")
	return cmd
}

func newRejectCommand(o *rootOptions) *cobra.Command {
	var role, reason string
	cmd := newCommand(o, &cobra.Command{
		Use:   "reject NAME --role ROLE --reason TEXT",
		Short: "Reject an update request for a role",
		Long: `Reject an update request for a role it asks for. Before production starts
the request ends Rejected; while production awaits acceptance only the
acceptance role may reject, which rolls production back.`,
		Example: `  kubectl golive reject billing-2-4-0 -n billing --role operations-office --reason "backup untested"`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationReject,
		done:       "rejected",
		value: func() (string, error) {
			// golive records a rejection without a reason too; the plugin asks
			// for one, as for abort: the requester reads it in status and the record.
			value, err := roleAndText(role, reason)
			if err == nil && strings.TrimSpace(reason) == "" {
				err = errors.New("--reason is required: say why you reject the request; the requester reads it in status and the record")
			}
			return value, err
		},
		detail: func() string { return "for role " + strings.TrimSpace(role) },
	})
	cmd.Flags().StringVar(&role, "role", "", "The approval role you reject for (required).")
	cmd.Flags().StringVar(&reason, "reason", "", "Why you reject the request (required).")
	return cmd
}

func newAcceptCommand(o *rootOptions) *cobra.Command {
	var comment string
	cmd := newCommand(o, &cobra.Command{
		Use:   "accept NAME [--comment TEXT]",
		Short: "Accept production for the request's acceptance role",
		Long: `Accept production after its verification, for spec.acceptance.role, while the
request is AwaitingAcceptance. The request then ends Succeeded.`,
		Example: `  kubectl golive accept billing-2-4-0 -n billing --comment "functional tests passed"`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationAccept,
		done:       "accepted",
		value:      func() (string, error) { return strings.TrimSpace(comment), nil },
		detail:     func() string { return "for the acceptance role" },
	})
	cmd.Flags().StringVar(&comment, "comment", "", "A comment for the record.")
	return cmd
}

func newGoCommand(o *rootOptions) *cobra.Command {
	var comment string
	cmd := newCommand(o, &cobra.Command{
		Use:   "go NAME [--comment TEXT]",
		Short: "Say go for production, for a supervision role you hold",
		Long: `Say go for production while the request is AwaitingGo: a GoLivePolicy of its
namespace names a supervision role (spec.supervision), the window is open and
every other gate passed. You must hold the role (the verb approve on
approvalroles.golive.dev/<role>) and must not have requested the update: one
executes, one supervises. golive records the go for the first supervision role
you hold that still waits, and starts production. A go counts only in the
window's opening it was given in.`,
		Example: `  kubectl golive go billing-2-4-0 -n billing --comment "on the bridge, monitoring open"`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationGo,
		done:       "given go",
		value:      func() (string, error) { return strings.TrimSpace(comment), nil },
		detail:     func() string { return "for a supervision role" },
	})
	cmd.Flags().StringVar(&comment, "comment", "", "A comment for the record.")
	return cmd
}

func newRetryCommand(o *rootOptions) *cobra.Command {
	var comment string
	cmd := newCommand(o, &cobra.Command{
		Use:   "retry NAME [--comment TEXT]",
		Short: "Retry a verification that stopped as inconclusive",
		Long: `Retry a verification that stopped for a person because a metric check was
inconclusive past its inconclusiveLimit (Stalled, reason
VerificationInconclusive), in staging or production. Whoever may abort the
request may retry it (RBAC verb "update" on the request). The inconclusive
checks measure again from scratch, and verify.timeout counts from the retry.`,
		Example: `  kubectl golive retry billing-2-4-0 -n billing --comment "Prometheus is back"`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationRetry,
		done:       "retried",
		value:      func() (string, error) { return strings.TrimSpace(comment), nil },
		detail:     func() string { return "" },
	})
	cmd.Flags().StringVar(&comment, "comment", "", "A comment for the record.")
	return cmd
}

func newAbortCommand(o *rootOptions) *cobra.Command {
	var reason string
	cmd := newCommand(o, &cobra.Command{
		Use:   "abort NAME --reason TEXT",
		Short: "Abort an update request",
		Long: `Abort an update request (RBAC verb "update" on the request). Before the backup
starts it ends Aborted; once production may have changed it rolls back.`,
		Example: `  kubectl golive abort billing-2-4-0 -n billing --reason "the vendor withdrew 2.4.0"`,
	}, annotationCommand{
		annotation: golivev1alpha1.AnnotationAbort,
		done:       "aborted",
		value: func() (string, error) {
			if strings.TrimSpace(reason) == "" {
				return "", errors.New("--reason is required: say why the request is aborted")
			}
			return strings.TrimSpace(reason), nil
		},
		detail: func() string { return "" },
	})
	cmd.Flags().StringVar(&reason, "reason", "", "Why the request is aborted (required).")
	return cmd
}

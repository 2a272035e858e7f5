package main

import (
	"github.com/spf13/cobra"

	"github.com/golive-dev/golive/internal/configdiff"
	"github.com/golive-dev/golive/internal/report"
)

func newReportCommand(o *rootOptions) *cobra.Command {
	var fromRecord bool
	archive := defaultArchiveNamespace
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write the whole record of an update request as Markdown",
		Long: `Write the whole record of an update request as Markdown, for the change
archive: the release, its targets and images, the timeline, the approvals and
every command of the ledger with the identities the API server authenticated,
the checks of both environments, the backup, the rollback and the outcome.
With --record, NAME is a ReleaseRecord (kubectl golive records lists them),
and the report is made from what golive recorded when the request ended,
also after the request was deleted.`,
		Example: `  kubectl golive report billing-2-4-0 -n billing > billing-2-4-0.md
  kubectl golive report --record billing.billing-2-4-0.6f1c2a9e > billing-2-4-0.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if fromRecord {
				return reportOfRecord(cmd.Context(), c, archive, args[0], o.streams.Out, o.clock.Now())
			}
			request, err := o.getRequest(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			// While production may still change, the report shows what the
			// configuration changes against what production runs now.
			var current []configdiff.Production
			if len(request.Spec.Config) > 0 && !request.Status.Phase.IsTerminal() {
				current = configdiff.ReadProduction(cmd.Context(), c, request)
			}
			return report.Write(o.streams.Out, request, o.clock.Now(), current)
		},
	}
	cmd.Flags().BoolVar(&fromRecord, "record", false, "NAME is a ReleaseRecord in the archive namespace, not an UpdateRequest.")
	cmd.Flags().StringVar(&archive, "archive-namespace", archive, "The namespace golive keeps its ReleaseRecords in (with --record).")
	return cmd
}

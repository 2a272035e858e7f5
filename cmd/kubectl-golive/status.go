package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	kubeduration "k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/freetext"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/report"
	"github.com/golive-dev/golive/internal/window"
)

// defaultTimelineEntries is how many of the last timeline entries status shows.
const defaultTimelineEntries = 5

func newStatusCommand(o *rootOptions) *cobra.Command {
	flags := printFlags(o.scheme)
	entries := defaultTimelineEntries
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show what an update request waits for, until when, and who still has to approve",
		Example: `  kubectl golive status billing-2-4-0 -n billing
  kubectl golive status billing-2-4-0 -n billing -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			printer, err := objectPrinter(flags)
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			request, err := o.getRequest(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if printer != nil {
				return printer.PrintObj(request, o.streams.Out)
			}
			glw, windowErr := getWindow(cmd.Context(), c, request)
			return writeStatus(o.streams.Out, statusInput{
				Request: request, Window: glw, WindowErr: windowErr,
				Config: readProductionConfig(cmd.Context(), c, request),
				Now:    o.clock.Now(), TimelineEntries: entries,
			})
		},
	}
	flags.AddFlags(cmd)
	cmd.Flags().IntVar(&entries, "timeline", entries, "How many of the last timeline entries to show.")
	return cmd
}

// statusInput is everything status shows, read from the cluster.
type statusInput struct {
	Request *golivev1alpha1.UpdateRequest
	// Window is the request's GoLiveWindow; nil when it could not be read (WindowErr).
	Window    *golivev1alpha1.GoLiveWindow
	WindowErr error
	// Config is what production runs now of each entry of spec.config.
	Config          []productionConfig
	Now             time.Time
	TimelineEntries int
}

// writeStatus writes the human-readable status of a request.
func writeStatus(out io.Writer, in statusInput) error {
	request, status := in.Request, &in.Request.Status
	w := &labelled{out: out}
	w.printf("UpdateRequest %s/%s, release %s\n", request.Namespace, request.Name, request.Spec.Release)

	phase := string(status.Phase)
	if phase == "" {
		phase = "(none yet)"
	}
	if since, ok := phaseSince(status); ok {
		phase += ", since " + instant(since, in.Now)
	}
	w.line("Phase", phase)
	if request.Spec.Emergency != nil {
		w.line("Emergency", report.EmergencyText(request.Spec.Emergency))
		if approval := request.Status.EmergencyApproval; approval != nil {
			w.line("Emergency by", report.EmergencyApprovalText(approval, request.Spec.Window.Name))
		}
	}
	w.line("Requested by", orDash(report.Requester(request)))
	if submitter := report.SubmitterOf(request); submitter != "" {
		w.line("Submitted by", submitter+", a trusted submitter, on the requester's behalf")
	}
	for _, reference := range request.Spec.References {
		w.line("Reference", report.ReferenceText(reference))
	}
	if len(status.Policies) > 0 {
		w.line("Policies", report.PoliciesText(status.Policies))
	}
	if request.Spec.Suspend {
		w.line("Suspended", "spec.suspend is true: the request stops at the next gate")
	}
	if status.ObservedGeneration != 0 && status.ObservedGeneration != request.Generation {
		w.line("Note", fmt.Sprintf("golive has not yet seen the latest spec (generation %d; the status describes generation %d)",
			request.Generation, status.ObservedGeneration))
	}

	label, text := currentActivity(status)
	w.line(label, text)
	if next := personCommands(request); next != "" {
		w.line("Next", next)
	}
	for _, d := range deadlines(request) {
		w.line("Until", instant(d.At, in.Now)+": "+d.What)
	}
	if checks, env := currentChecks(request); len(checks) > 0 {
		w.line("Checks", env)
		for _, check := range checks {
			w.item(checkText(check))
			for _, m := range check.Measurements {
				w.item("  " + measurementText(m))
			}
		}
	}

	if lines := configLines(request, in.Config); len(lines) > 0 {
		w.line("Config", "what the release changes against production now")
		for _, line := range lines {
			w.item(line)
		}
	}
	if len(request.Spec.Migrations) > 0 {
		names := make([]string, len(request.Spec.Migrations))
		for i, migration := range request.Spec.Migrations {
			names[i] = migration.Name
		}
		w.line("Migrations", strings.Join(names, ", ")+", run before each environment's targets change")
		for _, line := range migrationLines(request) {
			w.item(line)
		}
	}
	writeApprovals(w, request, in.Window)
	writeSupervision(w, newListedRequest(request, nil), in.Now)
	writeWindowLine(w, request, in)
	writeTimeline(w, status.Timeline, in.TimelineEntries)
	return w.err
}

// labelled writes "Label:  value" lines with aligned values, and indented items.
type labelled struct {
	out io.Writer
	err error
}

const labelWidth = len("Needs a person: ")

func (w *labelled) line(label, value string) {
	w.printf("%-*s%s\n", labelWidth, label+":", value)
}

func (w *labelled) item(text string) {
	w.printf("  %s\n", text)
}

// printf writes a line; string arguments may come from users (comments,
// descriptions, names) and have their control characters removed.
func (w *labelled) printf(format string, args ...any) {
	for i, arg := range args {
		if text, ok := arg.(string); ok {
			args[i] = freetext.OneLine(text)
		}
	}
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.out, format, args...)
	}
}

// currentActivity says what the request is doing or waiting for, from its
// Ready condition, under a label that tells apart work and waits ("Now"), a
// request only a person can move on, and the end.
func currentActivity(status *golivev1alpha1.UpdateRequestStatus) (label, text string) {
	ready := meta.FindStatusCondition(status.Conditions, golivev1alpha1.ConditionReady)
	if ready == nil {
		return "Now", "golive has not taken up the request yet"
	}
	text = ready.Reason
	if ready.Message != "" {
		text = ready.Message + " (" + ready.Reason + ")"
	}
	switch {
	case status.Phase.IsTerminal():
		return "Outcome", text
	case meta.IsStatusConditionTrue(status.Conditions, golivev1alpha1.ConditionStalled):
		return "Needs a person", text
	}
	return "Now", text
}

// personCommands says which commands move on a request that stopped for a
// person, when one of them is a retry; "" otherwise.
func personCommands(request *golivev1alpha1.UpdateRequest) string {
	if lifecycle.CommandAllowed(request, lifecycle.ActionRetry, "", request.Status.SpecHash) != nil {
		return ""
	}
	target := request.Name + " -n " + request.Namespace
	return "kubectl golive retry " + target + " to measure the inconclusive checks again, or kubectl golive abort " + target + " --reason TEXT"
}

// currentChecks are the checks of the environment being verified now.
func currentChecks(request *golivev1alpha1.UpdateRequest) ([]golivev1alpha1.CheckStatus, string) {
	status := &request.Status
	switch status.Phase {
	case golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging:
		if status.Staging != nil {
			return status.Staging.Checks, "staging, namespace " + request.Spec.Staging.Namespace
		}
	case golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying:
		if status.Production != nil {
			return status.Production.Checks, "production, namespace " + request.Namespace
		}
	}
	return nil, ""
}

func checkText(check golivev1alpha1.CheckStatus) string {
	text := fmt.Sprintf("%-12s %s", check.Name, check.Result)
	if len(check.Measurements) > 0 {
		// A metric check: its message counts the measurements.
		text += ": " + check.Message
		return text
	}
	if check.Successes > 0 {
		text += fmt.Sprintf(" (%d in a row)", check.Successes)
	}
	if check.Message != "" {
		text += ": " + check.Message
	}
	return text
}

// measurementText is one measurement of a metric check: when, the result,
// the value and why.
func measurementText(m golivev1alpha1.Measurement) string {
	text := m.At.UTC().Format(time.RFC3339) + " " + string(m.Result)
	if m.Value != "" {
		text += " " + m.Value
	}
	if m.Message != "" {
		text += ": " + m.Message
	}
	return text
}

// writeApprovals shows each quorum with the approvals counted towards it, and
// while approvals are open, how many are still missing and who may not give them.
func writeApprovals(w *labelled, request *golivev1alpha1.UpdateRequest, glw *golivev1alpha1.GoLiveWindow) {
	status := &request.Status
	summary := status.ApprovalSummary
	if summary == "" {
		summary = "none counted yet"
	}
	w.line("Approvals", summary)
	open := approvalsOpen(request)
	quorums := quorums(request, glw)
	width := 0
	for _, q := range quorums {
		width = max(width, len(quorumName(q)))
	}
	for _, q := range quorums {
		var given []string
		for _, approval := range q.Approvals {
			given = append(given, approval.User+" at "+approval.At.UTC().Format(time.RFC3339))
		}
		text := fmt.Sprintf("%-*s  %d/%d", width, quorumName(q), len(q.Approvals), q.Required)
		if len(given) > 0 {
			text += "  " + strings.Join(given, ", ")
		}
		if missing := q.Missing(); missing > 0 && open {
			text += fmt.Sprintf("  needs %d more", missing)
		}
		w.item(text)
	}
	if !open || !hasMissing(quorums) {
		return
	}
	rule := "Each person counts once."
	if requestedBy := report.Requester(request); requestedBy != "" && !request.Spec.Approvals.AllowSelfApproval {
		rule = requestedBy + " requested this update and may not approve it; each person counts once."
	}
	w.item(rule)
	if !stagingVerified(status) {
		w.item("Approvals open once staging is verified for the current spec.")
	}
}

// writeSupervision shows, where a policy asks for supervision, whose go
// production waits for and until when, and the goes counted.
func writeSupervision(w *labelled, r listedRequest, now time.Time) {
	supervision := r.Request.Status.Supervision
	if supervision == nil || len(supervision.Roles) == 0 {
		return
	}
	switch waiting := r.goWaiting(now); {
	case waiting != "":
		w.line("Go", "waiting for "+waiting)
	case len(missingGoRoles(supervision)) == 0:
		w.line("Go", "given")
	default:
		w.line("Go", "needed from role "+strings.Join(supervision.Roles, " and ")+" once the window is open and every other gate passed")
	}
	for _, given := range supervision.Given {
		text := given.Role + "  " + given.User + " at " + given.At.UTC().Format(time.RFC3339)
		if given.Comment != "" {
			text += ": " + oneLine(given.Comment)
		}
		w.item(text)
	}
}

func quorumName(q quorum) string {
	if q.Emergency {
		return q.Name() + " (emergency)"
	}
	return q.Name()
}

func hasMissing(quorums []quorum) bool {
	for _, q := range quorums {
		if q.Missing() > 0 {
			return true
		}
	}
	return false
}

// stagingVerified reports whether golive recorded staging as verified for the current spec.
func stagingVerified(status *golivev1alpha1.UpdateRequestStatus) bool {
	return meta.IsStatusConditionTrue(status.Conditions, golivev1alpha1.ConditionStagingVerified)
}

// writeWindowLine shows whether the request's window is open, evaluated now
// from its spec in its own time zone.
func writeWindowLine(w *labelled, request *golivev1alpha1.UpdateRequest, in statusInput) {
	name := request.Spec.Window.Name
	if in.Window == nil {
		if in.WindowErr != nil {
			w.line("Window", name+": cannot be read: "+in.WindowErr.Error())
		}
		return
	}
	calendar, err := window.Compile(in.Window.Spec)
	if err != nil {
		w.line("Window", name+": invalid: "+err.Error())
		return
	}
	zone := calendar.Location()
	state := calendar.State(in.Now)
	label := name + " (" + zone.String() + ")"
	switch {
	case state.Open && state.Current.End.IsZero():
		w.line("Window", label+": open")
	case state.Open:
		w.line("Window", label+": open until "+both(state.Current.End, zone, in.Now))
	case state.NeverOpens:
		w.line("Window", label+": closed; does not open within "+window.Horizon.String())
	default:
		w.line("Window", label+": closed; opens "+both(state.Next.Start, zone, in.Now))
	}
}

// writeTimeline shows the last entries of the audit trail.
func writeTimeline(w *labelled, timeline []golivev1alpha1.TimelineEntry, entries int) {
	if len(timeline) == 0 || entries <= 0 {
		return
	}
	shown := timeline[max(len(timeline)-entries, 0):]
	w.line("Timeline", fmt.Sprintf("last %d of %d", len(shown), len(timeline)))
	var table bytes.Buffer
	tw := printers.GetNewTabWriter(&table)
	for _, entry := range shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", entry.At.UTC().Format(time.RFC3339), entry.Phase, oneLine(orDash(entry.Actor)), entry.Event, oneLine(entry.Message))
	}
	if err := tw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	for _, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		w.item(line)
	}
}

// phaseSince is when the request entered its phase: the newest timeline entry of that phase.
func phaseSince(status *golivev1alpha1.UpdateRequestStatus) (time.Time, bool) {
	for i := len(status.Timeline) - 1; i >= 0; i-- {
		if status.Timeline[i].Phase == status.Phase {
			return status.Timeline[i].At.Time, true
		}
	}
	return time.Time{}, false
}

// instant is an instant in UTC with how long ago or ahead it is.
func instant(t, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// both is an instant in a window's zone and in UTC, with how far ahead it is.
func both(t time.Time, zone *time.Location, now time.Time) string {
	return localTime(t, zone) + " = " + instant(t, now)
}

// localTime is how people of the window's zone read an instant: "Thu 2026-11-26 20:00 CET".
func localTime(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Mon 2006-01-02 15:04 MST")
}

// relative says "in 2d3h" or "3d ago", as kubectl shows ages.
func relative(t, now time.Time) string {
	switch d := t.Sub(now); {
	case d > 0:
		return "in " + kubeduration.HumanDuration(d)
	case d < 0:
		return kubeduration.HumanDuration(-d) + " ago"
	}
	return "now"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a message on its line in tables, without control characters.
func oneLine(s string) string {
	return strings.Join(strings.Fields(freetext.OneLine(s)), " ")
}

// Package report writes the record of an update request as Markdown, for
// the change archive: the plugin's `kubectl golive report` and the console's
// download write the same report. It takes values and returns text; reading
// the request, production's configuration or a record is the caller's.
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/configdiff"
	"github.com/golive-dev/golive/internal/durationfmt"
	"github.com/golive-dev/golive/internal/ledger"
)

// markdown collects a report and remembers the first write error.
type markdown struct {
	out io.Writer
	err error
}

func (m *markdown) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.out, format, args...)
	}
}

func (m *markdown) heading(text string) { m.printf("\n## %s\n\n", text) }

func (m *markdown) subheading(text string) { m.printf("\n### %s\n\n", text) }

// table writes a Markdown table; cells are escaped.
func (m *markdown) table(header []string, rows [][]string) {
	m.printf("| %s |\n", strings.Join(header, " | "))
	m.printf("|%s\n", strings.Repeat("---|", len(header)))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, cell := range row {
			cells[i] = cellText(cell)
		}
		m.printf("| %s |\n", strings.Join(cells, " | "))
	}
}

// cellText keeps a value on one table cell, Markdown escaped, lines joined,
// empty shown as "-".
func cellText(s string) string {
	s = markdownText(s)
	if s == "" {
		return "-"
	}
	return s
}

// Write writes the record of a request as Markdown. generated is when the
// report was made: a request that has not ended may still change. current is
// what production runs now, for each entry of spec.config, to show what the
// release changes against it; nil leaves the comparison out (an ended
// request, a record).
func Write(out io.Writer, request *golivev1alpha1.UpdateRequest, generated time.Time, current []configdiff.Production) error {
	m := &markdown{out: out}
	spec, status := &request.Spec, &request.Status
	m.printf("# UpdateRequest %s/%s: release %s\n\n", request.Namespace, request.Name, markdownText(spec.Release))
	if spec.Description != "" {
		m.printf("%s\n\n", markdownParagraph(spec.Description))
	}
	state := "Now"
	if status.Phase.IsTerminal() {
		state = "Outcome"
	}
	summary := [][]string{
		{"Phase", string(status.Phase)},
		{state, outcome(request)},
		{"Requested by", Requester(request)},
		{"Created", timeText(&request.CreationTimestamp)},
		{"Completed", timeText(status.CompletedAt)},
		{"Production namespace", request.Namespace},
		{"Staging namespace", spec.Staging.Namespace},
		{"Go-live window", spec.Window.Name},
		{"Spec hash", status.SpecHash},
		{"Request UID", string(request.UID)},
	}
	if schedule := status.Schedule; schedule != nil && schedule.PlannedStart != nil {
		summary = append(summary, []string{"Planned start", timeText(schedule.PlannedStart) + " in window " + schedule.Window})
	}
	if submitter := SubmitterOf(request); submitter != "" {
		summary = append(summary, []string{"Submitted by", submitter + " (a trusted submitter, on the requester's behalf)"})
	}
	if spec.Emergency != nil {
		summary = append(summary, []string{"Emergency", EmergencyText(spec.Emergency)})
		if approval := status.EmergencyApproval; approval != nil {
			summary = append(summary, []string{"Emergency approval", EmergencyApprovalText(approval, spec.Window.Name)})
		}
	}
	for _, reference := range spec.References {
		summary = append(summary, []string{"Reference", ReferenceText(reference)})
	}
	if len(status.Policies) > 0 {
		summary = append(summary, []string{"Policies production started under", PoliciesText(status.Policies)})
	}
	summary = append(summary, []string{"Report generated", generated.UTC().Format(time.RFC3339)})
	for _, item := range summary {
		m.printf("- **%s:** %s\n", item[0], cellText(item[1]))
	}
	if !status.Phase.IsTerminal() {
		m.printf("\nThe request has not ended: this record may still grow.\n")
	}

	writeTargets(m, request)
	writeContent(m, request, current)
	writeTimelineSection(m, status.Timeline)
	writeApprovalsSection(m, request)
	writeEnvironment(m, "Staging", spec.Staging.Namespace, status.Staging)
	writeEnvironment(m, "Production", request.Namespace, status.Production)
	writeBackup(m, status.Backup)
	writeRollback(m, status.Rollback)
	writeConditions(m, status.Conditions)
	return m.err
}

// outcome is the Ready condition's reason and message: what the request
// does or waits for, or how it ended.
func outcome(request *golivev1alpha1.UpdateRequest) string {
	ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
	if ready == nil {
		return "golive has not taken up the request yet"
	}
	if ready.Message == "" {
		return ready.Reason
	}
	return ready.Reason + ": " + ready.Message
}

func writeTargets(m *markdown, request *golivev1alpha1.UpdateRequest) {
	m.heading("Targets and images")
	m.printf("Updated in this order in namespace %s after %s; rolled back in reverse.\n\n", request.Namespace, request.Spec.Staging.Namespace)
	var rows [][]string
	for i, target := range request.Spec.Targets {
		for _, container := range slices.Sorted(maps.Keys(target.Images)) {
			rows = append(rows, []string{strconv.Itoa(i + 1), string(target.Kind), target.Name, container, string(target.Images[container])})
		}
	}
	m.table([]string{"#", "Kind", "Name", "Container", "Image"}, rows)
}

func writeTimelineSection(m *markdown, timeline []golivev1alpha1.TimelineEntry) {
	m.heading("Timeline")
	if len(timeline) == 0 {
		m.printf("No entries yet.\n")
		return
	}
	var rows [][]string
	for _, entry := range timeline {
		rows = append(rows, []string{entry.At.UTC().Format(time.RFC3339), string(entry.Phase), entry.Actor, entry.Event, entry.Message})
	}
	m.table([]string{"Time (UTC)", "Phase", "Actor", "Event", "Message"}, rows)
}

func writeApprovalsSection(m *markdown, request *golivev1alpha1.UpdateRequest) {
	m.heading("Approvals")
	spec, status := &request.Spec, &request.Status
	var policy []string
	for _, q := range spec.Approvals.Required {
		policy = append(policy, fmt.Sprintf("%s × %d", q.Role, max(q.Count, 1)))
	}
	self := "the requester may not approve"
	if spec.Approvals.AllowSelfApproval {
		self = "the requester may approve"
	}
	m.printf("Required: %s; %s; each person counts once.", strings.Join(policy, ", "), self)
	if spec.Emergency != nil {
		if approval := request.Status.EmergencyApproval; approval != nil {
			m.printf(" As an emergency update it also needs %s.", EmergencyApprovalText(approval, spec.Window.Name))
		} else {
			m.printf(" As an emergency update it also needs one approval from an emergency role of window %s.", spec.Window.Name)
		}
	}
	if spec.Acceptance != nil {
		m.printf(" Acceptance by %s within %s (on timeout: %s).", spec.Acceptance.Role, durationfmt.Short(spec.Acceptance.Timeout.Duration), spec.Acceptance.OnTimeout)
	}
	m.printf("\n")

	m.subheading("Counted by golive (status.approvals, " + orDash(status.ApprovalSummary) + ")")
	if len(status.Approvals) == 0 {
		m.printf("None.\n")
	} else {
		var rows [][]string
		for _, approval := range status.Approvals {
			rows = append(rows, []string{approval.Role, approval.User, approval.At.UTC().Format(time.RFC3339), approval.Comment})
		}
		m.table([]string{"Role", "User", "Time (UTC)", "Comment"}, rows)
	}

	if supervision := status.Supervision; supervision != nil && len(supervision.Roles) > 0 {
		m.subheading("Go of the supervision roles (status.supervision)")
		m.printf("A GoLivePolicy asks for a go from %s, each by a person who is not the requester, while the window is open.\n\n",
			strings.Join(supervision.Roles, " and "))
		if len(supervision.Given) == 0 {
			m.printf("None counted.\n")
		} else {
			var rows [][]string
			for _, given := range supervision.Given {
				rows = append(rows, []string{given.Role, given.User, given.At.UTC().Format(time.RFC3339), given.Comment})
			}
			m.table([]string{"Role", "User", "Time (UTC)", "Comment"}, rows)
		}
	}

	m.subheading("Ledger (" + golivev1alpha1.AnnotationLedger + ")")
	// Read as golive reads it: what this shows is what golive counts from.
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	switch {
	case err != nil:
		m.printf("The ledger cannot be read: %s\n", err)
		return
	case len(entries) == 0:
		m.printf("No commands were given.\n")
		return
	}
	m.printf("Every command given, as golive's admission webhook recorded and signed it, with the user and groups the API server authenticated. An entry counts only for the spec it was given for; golive verifies the signatures.\n\n")
	var rows [][]string
	for _, entry := range entries {
		forSpec := shortHash(entry.SpecHash)
		if entry.SpecHash == status.SpecHash {
			forSpec = "current"
		}
		rows = append(rows, []string{
			entry.Time.UTC().Format(time.RFC3339), string(entry.Action), entry.Role, entry.User,
			strings.Join(entry.Groups, ", "), entry.Comment, forSpec,
		})
	}
	m.table([]string{"Time (UTC)", "Action", "Role", "User", "Groups", "Comment", "Spec"}, rows)
}

func writeEnvironment(m *markdown, title, namespace string, env *golivev1alpha1.EnvironmentStatus) {
	m.heading(title + " (namespace " + namespace + ")")
	if env == nil {
		m.printf("Not started.\n")
		return
	}
	m.table([]string{"Started", "Updated", "Verified", "Targets applied"}, [][]string{{
		timeText(env.StartedAt), timeText(env.UpdatedAt), timeText(env.VerifiedAt), strconv.Itoa(int(env.TargetsApplied)),
	}})
	m.printf("\n")
	if env.Reverifications > 0 {
		outcome := "has not passed (yet)"
		if env.ReverifiedAt != nil && env.ReverificationStartedAt != nil && !env.ReverifiedAt.Before(env.ReverificationStartedAt) {
			outcome = "passed " + timeText(env.ReverifiedAt)
		}
		m.printf("Verified again %d time(s), as a GoLivePolicy's staging.maxAge asked: the latest began %s and %s. The checks below are the latest verification's.\n\n",
			env.Reverifications, timeText(env.ReverificationStartedAt), outcome)
	}
	if len(env.Migrations) > 0 {
		var rows [][]string
		for _, migration := range env.Migrations {
			rows = append(rows, []string{migration.Name, string(migration.Result), migration.Message})
		}
		m.table([]string{"Migration", "Result", "Message"}, rows)
		m.printf("\n")
	}
	if len(env.Checks) == 0 {
		m.printf("No checks recorded.\n")
		return
	}
	var rows [][]string
	for _, check := range env.Checks {
		rows = append(rows, []string{check.Name, string(check.Result), check.Message})
	}
	m.table([]string{"Check", "Result", "Message"}, rows)
	for _, check := range env.Checks {
		if len(check.Measurements) == 0 {
			continue
		}
		m.printf("\nMeasurements of %s (the latest %d):\n\n", check.Name, len(check.Measurements))
		var measurements [][]string
		for _, measurement := range check.Measurements {
			measurements = append(measurements, []string{timeText(&measurement.At), string(measurement.Result), measurement.Value, measurement.Message})
		}
		m.table([]string{"At", "Result", "Value", "Message"}, measurements)
	}
}

func writeBackup(m *markdown, backup *golivev1alpha1.BackupStatus) {
	m.heading("Backup")
	if backup == nil {
		m.printf("None taken: production was not touched.\n")
		return
	}
	m.table([]string{"Completed", "Expires", "Saved specs (ConfigMap)"}, [][]string{{
		timeText(backup.CompletedAt), timeText(backup.ExpiresAt), backup.SavedSpecs,
	}})
	m.printf("\n")
	if len(backup.QuiescedReplicas) > 0 {
		var stopped []string
		for _, target := range slices.Sorted(maps.Keys(backup.QuiescedReplicas)) {
			stopped = append(stopped, fmt.Sprintf("%s (%s)", target, plural(int(backup.QuiescedReplicas[target]), "replica")))
		}
		m.printf("Stopped for the snapshots and scaled back: %s.\n\n", strings.Join(stopped, ", "))
	}
	if len(backup.Snapshots) == 0 {
		m.printf("No volume snapshots.\n")
		return
	}
	var rows [][]string
	for _, snapshot := range backup.Snapshots {
		rows = append(rows, []string{snapshot.Claim, snapshot.VolumeSnapshot, strconv.FormatBool(snapshot.ReadyToUse), snapshot.RestoreSize})
	}
	m.table([]string{"Claim", "VolumeSnapshot", "Ready", "Restore size"}, rows)
}

func writeRollback(m *markdown, rollback *golivev1alpha1.RollbackStatus) {
	m.heading("Rollback")
	if rollback == nil {
		m.printf("None.\n")
		return
	}
	m.table([]string{"Reason", "Started", "Completed", "Targets restored", "Data restored"}, [][]string{{
		rollback.Reason, timeText(rollback.StartedAt), timeText(rollback.CompletedAt),
		strconv.Itoa(int(rollback.TargetsRestored)), strconv.FormatBool(rollback.DataRestored),
	}})
}

func writeConditions(m *markdown, conditions []metav1.Condition) {
	m.heading("Conditions")
	if len(conditions) == 0 {
		m.printf("None yet.\n")
		return
	}
	var rows [][]string
	for _, c := range conditions {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, c.Message, conditionTime(c.LastTransitionTime)})
	}
	m.table([]string{"Type", "Status", "Reason", "Message", "Since (UTC)"}, rows)
}

// plural is "1 replica" or "3 replicas".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// conditionTime is a condition's last transition in UTC, or "-".
func conditionTime(t metav1.Time) string {
	return timeText(&t)
}

// timeText is an optional instant in UTC, or "-".
func timeText(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// writeContent lists the configuration the release carried, with the copies
// golive made (a Secret by its keys only), and its migrations.
func writeContent(m *markdown, request *golivev1alpha1.UpdateRequest, current []configdiff.Production) {
	if len(request.Spec.Config) == 0 && len(request.Spec.Migrations) == 0 {
		return
	}
	m.heading("Configuration and migrations")
	if len(request.Spec.Config) > 0 {
		var rows [][]string
		for _, entry := range request.Spec.Config {
			source := "data in the request"
			if entry.Kind == golivev1alpha1.ConfigKindSecret {
				source = "Secret " + entry.FromSecret
			}
			rows = append(rows, []string{string(entry.Kind), entry.Name, source, orDash(configdiff.CopyOf(request, entry)), strings.Join(configdiff.KeysOf(request, entry), ", ")})
		}
		m.table([]string{"Kind", "Name", "From", "Copy", "Keys"}, rows)
		m.printf("\n")
		if current != nil {
			m.printf("What the release changes against what production runs now (a Secret by its keys only):\n\n")
			for _, line := range configdiff.Lines(request, current) {
				indent := ""
				if strings.HasPrefix(line, "  ") {
					indent = "  "
				}
				m.printf("%s- %s\n", indent, escapeBlockStart(markdownText(strings.TrimSpace(line))))
			}
			m.printf("\n")
		}
	}
	if len(request.Spec.Migrations) > 0 {
		names := make([]string, len(request.Spec.Migrations))
		for i, migration := range request.Spec.Migrations {
			names[i] = migration.Name
		}
		m.printf("Migrations, run in each environment before its targets changed: %s.\n", markdownText(strings.Join(names, ", ")))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortHash abbreviates a spec hash of an older spec in the ledger.
func shortHash(hash string) string {
	const keep = len("sha256:") + 12
	if len(hash) <= keep {
		return hash
	}
	return hash[:keep] + "…"
}

package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// statusCases are requests as golive records them in several phases.
func statusCases() map[string]statusInput {
	soaking := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSoaking, golivev1alpha1.ReasonSoaking, "Soaking until 2026-11-25T09:10:00Z")).
		Mutate(verifiedStaging("2026-11-23T09:10:00Z")).
		Timeline(entry("2026-11-23T09:10:00Z", "Soaking", "golive", "StagingVerified", "Staging passed its verification")).Obj()
	verifying := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseVerifying, golivev1alpha1.ReasonProgressing, `Verifying namespace "billing"`)).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Approved("rnd-lead", "bob@example.com", utc("2026-11-20T10:00:00Z"), "looks good").
		Approved("operations-office", "carol@example.com", utc("2026-11-20T10:30:00Z"), "").
		Approved("operations-office", "dave@example.com", utc("2026-11-20T11:00:00Z"), "").ApprovalSummary("3/3").
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-11-23T09:50:00Z"), UpdatedAt: at("2026-11-23T09:55:00Z"), TargetsApplied: 2,
				Checks: []golivev1alpha1.CheckStatus{
					{Name: "rollout", Result: golivev1alpha1.CheckPassed},
					{Name: "health", Result: golivev1alpha1.CheckRunning, Successes: 2, Message: "HTTP 200 from http://billing-api.billing.svc:8080/healthz"},
					{Name: "error-rate", Result: golivev1alpha1.CheckRunning, Successes: 1, Failures: 1, LastProbeAt: at("2026-11-23T09:56:30Z"),
						Message: "1 passed, 1 failed (limit 1), 0 inconclusive (limit 3) of 5 measurements; last: failed with 0.02: successCondition result < 0.01 is false",
						Measurements: []golivev1alpha1.Measurement{
							{At: *at("2026-11-23T09:56:00Z"), Result: golivev1alpha1.MeasurementPassed, Value: "0.002"},
							{At: *at("2026-11-23T09:56:30Z"), Result: golivev1alpha1.MeasurementFailed, Value: "0.02", Message: "successCondition result < 0.01 is false"},
						}},
				}}
			r.Status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: at("2026-11-23T09:51:00Z"), SavedSpecs: "billing-2-4-0-saved-specs"}
		}).
		Timeline(entry("2026-11-23T09:55:00Z", "Verifying", "golive", "Verifying", `Every target in namespace "billing" runs the new images; verifying`)).Obj()
	stalled := makeRequest().Mutate(inPhase(golivev1alpha1.PhasePending, golivev1alpha1.ReasonReferenceNotFound, `spec.window.name: GoLiveWindow "thursday-evening" not found in namespace "billing"`)).
		Mutate(toStalled).
		Timeline(entry("2026-11-18T09:00:00Z", "Pending", "golive", "Created", "Update request for release 2.4.0 created")).Obj()
	succeeded := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production")).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Approved("rnd-lead", "bob@example.com", utc("2026-11-20T10:00:00Z"), "looks good").
		Approved("operations-office", "carol@example.com", utc("2026-11-20T10:30:00Z"), "").ApprovalSummary("2/3").
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.CompletedAt = at("2026-11-20T21:00:00Z")
			r.Status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: at("2026-11-20T19:05:00Z"), ExpiresAt: at("2026-11-27T21:00:00Z"), SavedSpecs: "billing-2-4-0-saved-specs"}
		}).
		Timeline(entry("2026-11-20T21:00:00Z", "Succeeded", "erin@example.com", "Succeeded", "Accepted by erin@example.com: functional tests passed")).Obj()
	emergency := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.ReasonAwaitingApproval, "Waiting for approvals: operations-office 0/2, cto or ciso 0/1")).
		Mutate(verifiedStaging("2026-11-23T09:10:00Z")).Approved("rnd-lead", "bob@example.com", utc("2026-11-23T09:30:00Z"), "").ApprovalSummary("1/4").
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "Payment outage", Incident: "INC-4711"}
			r.Spec.Approvals.AllowSelfApproval = true
		}).Obj()
	policyEmergency := emergency.DeepCopy()
	policyEmergency.Status.EmergencyApproval = &golivev1alpha1.EmergencyApprovalStatus{Roles: []string{"incident-commander"}, Policy: "production-apps"}
	created := makeRequest().Obj()
	changed := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonWindowClosed, "Waiting for the go-live window; planned start 2026-12-03T19:00:00Z")).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Generation = 2
			r.Spec.Suspend = true
			r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NotBefore: at("2026-12-03T10:00:00Z"), PlannedStart: at("2026-12-03T19:00:00Z")}
		}).Obj()
	return map[string]statusInput{
		"soaking":          {Request: soaking, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"verifying":        {Request: verifying, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"stalled":          {Request: stalled, WindowErr: errors.New(`golivewindows.golive.dev "thursday-evening" not found`), Now: monday, TimelineEntries: 5},
		"succeeded":        {Request: succeeded, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"emergency":        {Request: emergency, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"policy emergency": {Request: policyEmergency, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"created":          {Request: created, Window: thursdayEvening(), Now: monday, TimelineEntries: 5},
		"changed":          {Request: changed, Window: thursdayEvening(), Now: monday.Add(3*24*time.Hour + 9*time.Hour + 30*time.Minute), TimelineEntries: 5},
	}
}

func TestWriteStatus(t *testing.T) {
	want := map[string]string{
		"created": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          (none yet)
Requested by:   alice@example.com
Now:            golive has not taken up the request yet
Approvals:      none counted yet
  rnd-lead           0/1  needs 1 more
  operations-office  0/2  needs 2 more
  alice@example.com requested this update and may not approve it; each person counts once.
  Approvals open once staging is verified for the current spec.
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
`,
		"soaking": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          Soaking, since 2026-11-23T09:10:00Z (50m ago)
Requested by:   alice@example.com
Now:            Soaking until 2026-11-25T09:10:00Z (Soaking)
Until:          2026-11-25T09:10:00Z (in 47h): soak ends
Approvals:      none counted yet
  rnd-lead           0/1  needs 1 more
  operations-office  0/2  needs 2 more
  alice@example.com requested this update and may not approve it; each person counts once.
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
Timeline:       last 1 of 1
  2026-11-23T09:10:00Z   Soaking   golive   StagingVerified   Staging passed its verification
`,
		"emergency": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          AwaitingApproval
Emergency:      Payment outage (incident INC-4711)
Requested by:   alice@example.com
Now:            Waiting for approvals: operations-office 0/2, cto or ciso 0/1 (AwaitingApproval)
Approvals:      1/4
  rnd-lead                 1/1  bob@example.com at 2026-11-23T09:30:00Z
  operations-office        0/2  needs 2 more
  cto or ciso (emergency)  0/1  needs 1 more
  Each person counts once.
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
`,
		"policy emergency": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          AwaitingApproval
Emergency:      Payment outage (incident INC-4711)
Emergency by:   one approval of incident-commander, by GoLivePolicy production-apps (its emergency rules replace window thursday-evening's)
Requested by:   alice@example.com
Now:            Waiting for approvals: operations-office 0/2, cto or ciso 0/1 (AwaitingApproval)
Approvals:      1/4
  rnd-lead                        1/1  bob@example.com at 2026-11-23T09:30:00Z
  operations-office               0/2  needs 2 more
  incident-commander (emergency)  0/1  needs 1 more
  Each person counts once.
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
`,
		"changed": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          Scheduled
Requested by:   alice@example.com
Suspended:      spec.suspend is true: the request stops at the next gate
Note:           golive has not yet seen the latest spec (generation 2; the status describes generation 1)
Now:            Waiting for the go-live window; planned start 2026-12-03T19:00:00Z (WindowClosed)
Until:          2026-12-03T10:00:00Z (in 6d14h): earliest start after soak and lead time
Until:          2026-12-03T19:00:00Z (in 6d23h): planned start of production in window thursday-evening
Approvals:      none counted yet
  rnd-lead           0/1  needs 1 more
  operations-office  0/2  needs 2 more
  alice@example.com requested this update and may not approve it; each person counts once.
Window:         thursday-evening (Europe/Berlin): open until Thu 2026-11-26 23:00 CET = 2026-11-26T22:00:00Z (in 150m)
`,
		"verifying": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          Verifying, since 2026-11-23T09:55:00Z (5m ago)
Requested by:   alice@example.com
Now:            Verifying namespace "billing" (Progressing)
Until:          2026-11-23T10:06:00Z (in 6m): production verification times out: RollingBack
Checks:         production, namespace billing
  rollout      Passed
  health       Running (2 in a row): HTTP 200 from http://billing-api.billing.svc:8080/healthz
  error-rate   Running: 1 passed, 1 failed (limit 1), 0 inconclusive (limit 3) of 5 measurements; last: failed with 0.02: successCondition result < 0.01 is false
    2026-11-23T09:56:00Z Passed 0.002
    2026-11-23T09:56:30Z Failed 0.02: successCondition result < 0.01 is false
Approvals:      3/3
  rnd-lead           1/1  bob@example.com at 2026-11-20T10:00:00Z
  operations-office  2/2  carol@example.com at 2026-11-20T10:30:00Z, dave@example.com at 2026-11-20T11:00:00Z
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
Timeline:       last 1 of 1
  2026-11-23T09:55:00Z   Verifying   golive   Verifying   Every target in namespace "billing" runs the new images; verifying
`,
		"stalled": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          Pending, since 2026-11-18T09:00:00Z (5d1h ago)
Requested by:   alice@example.com
Needs a person: spec.window.name: GoLiveWindow "thursday-evening" not found in namespace "billing" (ReferenceNotFound)
Approvals:      none counted yet
  rnd-lead           0/1  needs 1 more
  operations-office  0/2  needs 2 more
  alice@example.com requested this update and may not approve it; each person counts once.
  Approvals open once staging is verified for the current spec.
Window:         thursday-evening: cannot be read: golivewindows.golive.dev "thursday-evening" not found
Timeline:       last 1 of 1
  2026-11-18T09:00:00Z   Pending   golive   Created   Update request for release 2.4.0 created
`,
		"succeeded": `UpdateRequest billing/billing-2-4-0, release 2.4.0
Phase:          Succeeded, since 2026-11-20T21:00:00Z (2d13h ago)
Requested by:   alice@example.com
Outcome:        Release 2.4.0 is in production (Succeeded)
Until:          2026-11-27T21:00:00Z (in 4d11h): snapshots and saved specs are deleted (spec.backup.retention)
Approvals:      2/3
  rnd-lead           1/1  bob@example.com at 2026-11-20T10:00:00Z
  operations-office  1/2  carol@example.com at 2026-11-20T10:30:00Z
Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)
Timeline:       last 1 of 1
  2026-11-20T21:00:00Z   Succeeded   erin@example.com   Succeeded   Accepted by erin@example.com: functional tests passed
`,
	}
	for name, in := range statusCases() {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeStatus(&out, in); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[name], out.String()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

// Text people wrote reaches the terminal without its escapes: a comment
// cannot clear the screen, recolour or fake lines of the status.
func TestWriteStatusStripsControlCharacters(t *testing.T) {
	request := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production")).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.RequestedBy = "mallory\x1b]0;owned\x07@example.com"
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage\x1b[2J\x1b[H\nApprovals:      3/3 \u202eevil", Incident: "INC-1"}
		}).
		Timeline(entry("2026-11-20T21:00:00Z", "Succeeded", "erin\x1b[31m@example.com", "Succeeded", "Accepted: \u009b31mok\r\nPhase: Succeeded")).Obj()
	var out bytes.Buffer
	if err := writeStatus(&out, statusInput{Request: request, Window: thursdayEvening(), Now: monday, TimelineEntries: 5}); err != nil {
		t.Fatal(err)
	}
	for _, r := range out.String() {
		if r != '\n' && (r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e)) {
			t.Fatalf("the status carries the control character %U:\n%q", r, out.String())
		}
	}
	for _, want := range []string{
		"Requested by:   mallory@example.com\n",
		"Emergency:      outage Approvals:      3/3 evil (incident INC-1)\n",
		"erin@example.com",
		"Accepted: ok Phase: Succeeded",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the status lacks %q:\n%s", want, out.String())
		}
	}
}

// A verification stalled as inconclusive names the commands that move it on;
// another stall does not offer a retry.
func TestStatusOffersARetryForAnInconclusiveVerification(t *testing.T) {
	inconclusive := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseVerifying, golivev1alpha1.ReasonVerificationInconclusive,
		"production verification is inconclusive: metric check error-rate is inconclusive (query up): connection refused")).
		Mutate(toStalled).Obj()
	next := "Next:           kubectl golive retry billing-2-4-0 -n billing to measure the inconclusive checks again, or kubectl golive abort billing-2-4-0 -n billing --reason TEXT\n"
	for name, tc := range map[string]struct {
		request *golivev1alpha1.UpdateRequest
		want    bool
	}{
		"inconclusive":  {inconclusive, true},
		"another stall": {statusCases()["stalled"].Request, false},
	} {
		var out bytes.Buffer
		if err := writeStatus(&out, statusInput{Request: tc.request, Window: thursdayEvening(), Now: monday, TimelineEntries: 5}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out.String(), next); got != tc.want {
			t.Errorf("%s: status offers a retry: %v, want %v:\n%s", name, got, tc.want, out.String())
		}
	}
}

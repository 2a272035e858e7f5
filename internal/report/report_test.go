package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

const oldSpecHash = "sha256:0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b"

// rolledBack is a request whose production update failed its verification
// and was rolled back, workloads and data, with its whole record.
func rolledBack(t *testing.T) *golivev1alpha1.UpdateRequest {
	t.Helper()
	request := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseRolledBack, golivev1alpha1.ReasonFailed,
		"Rolled back: production verification failed: HTTP check \"health\" got 503 | 3 times")).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Approved("rnd-lead", "bob@example.com", utc("2026-11-20T10:00:00Z"), "looks good").
		Approved("operations-office", "carol@example.com", utc("2026-11-20T10:30:00Z"), "").
		Approved("operations-office", "dave@example.com", utc("2026-11-20T11:00:00Z"), "second pair\nof eyes").ApprovalSummary("3/3").
		Mutate(withCondition(golivev1alpha1.ConditionRolledBack, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "The previous workloads run again")).
		Timeline(
			entry("2026-11-18T09:00:00Z", "Pending", "golive", "Created", "Update request for release 2.4.0 created"),
			entry("2026-11-18T09:01:00Z", "Staging", "golive", "StagingStarted", "Updating the staging namespace billing-grey"),
			entry("2026-11-18T09:10:00Z", "Soaking", "golive", "StagingVerified", "Staging passed its verification"),
			entry("2026-11-20T09:10:00Z", "AwaitingApproval", "golive", "SoakCompleted", "Soak completed; waiting for approvals"),
			entry("2026-11-20T11:00:00Z", "Scheduled", "golive", "Approved", "Every required role approved"),
			entry("2026-12-03T19:00:00Z", "BackingUp", "golive", "ProductionStarted", "Backing up before updating production"),
			entry("2026-12-03T19:02:00Z", "Updating", "golive", "BackedUp", "Backup completed; updating production"),
			entry("2026-12-03T19:20:00Z", "RollingBack", "golive", "VerificationFailed", "Rolling back: production verification failed"),
			entry("2026-12-03T19:31:00Z", "RolledBack", "golive", "Failed", "Rolled back: production verification failed"),
		).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.CompletedAt = at("2026-12-03T19:31:00Z")
			r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NotBefore: at("2026-12-04T11:00:00Z"), PlannedStart: at("2026-12-03T19:00:00Z")}
			r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-12-03T19:00:00Z"), UpdatedAt: at("2026-12-03T19:06:00Z"), TargetsApplied: 2,
				Checks: []golivev1alpha1.CheckStatus{
					{Name: "rollout", Result: golivev1alpha1.CheckPassed},
					{Name: "health", Result: golivev1alpha1.CheckFailed, Message: "got 503 | 3 times"},
				}}
			r.Status.Backup = &golivev1alpha1.BackupStatus{
				CompletedAt: at("2026-12-03T19:02:00Z"), ExpiresAt: at("2026-12-10T19:31:00Z"), SavedSpecs: "billing-2-4-0-saved-specs",
				QuiescedReplicas: map[string]int32{"StatefulSet/billing-db": 1, "Deployment/billing-api": 3},
				Snapshots:        []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "billing-2-4-0-data-billing-db-0", ReadyToUse: true, RestoreSize: "10Gi"}},
			}
			r.Status.Rollback = &golivev1alpha1.RollbackStatus{Reason: "production verification failed", StartedAt: at("2026-12-03T19:20:00Z"),
				CompletedAt: at("2026-12-03T19:31:00Z"), TargetsRestored: 2, DataRestored: true}
		}).Obj()
	ledger := []golivev1alpha1.LedgerEntry{
		{User: "bob@example.com", Groups: []string{"billing-rnd-leads", "system:authenticated"}, Role: "rnd-lead", Action: golivev1alpha1.LedgerApprove,
			Time: *at("2026-11-19T10:00:00Z"), SpecHash: oldSpecHash, Signature: "c2lnbmF0dXJlLTE="},
		{User: "bob@example.com", Groups: []string{"billing-rnd-leads", "system:authenticated"}, Role: "rnd-lead", Action: golivev1alpha1.LedgerApprove,
			Comment: "looks good", Time: *at("2026-11-20T10:00:00Z"), SpecHash: request.Status.SpecHash, Signature: "c2lnbmF0dXJlLTI="},
		{User: "carol@example.com", Groups: []string{"system:authenticated"}, Role: "operations-office", Action: golivev1alpha1.LedgerApprove,
			Time: *at("2026-11-20T10:30:00Z"), SpecHash: request.Status.SpecHash, Signature: "c2lnbmF0dXJlLTM="},
		{User: "dave@example.com", Groups: []string{"system:authenticated"}, Role: "operations-office", Action: golivev1alpha1.LedgerApprove,
			Comment: "second pair\nof eyes", Time: *at("2026-11-20T11:00:00Z"), SpecHash: request.Status.SpecHash, Signature: "c2lnbmF0dXJlLTQ="},
	}
	value, err := json.Marshal(ledger)
	if err != nil {
		t.Fatal(err)
	}
	request.Annotations[golivev1alpha1.AnnotationLedger] = string(value)
	return request
}

func TestWriteReport(t *testing.T) {
	var out bytes.Buffer
	if err := Write(&out, rolledBack(t), utc("2026-12-04T08:00:00Z"), nil); err != nil {
		t.Fatal(err)
	}
	want := `# UpdateRequest billing/billing-2-4-0: release 2.4.0

Quarterly release

- **Phase:** RolledBack
- **Outcome:** Failed: Rolled back: production verification failed: HTTP check "health" got 503 \| 3 times
- **Requested by:** alice@example.com
- **Created:** 2026-11-18T09:00:00Z
- **Completed:** 2026-12-03T19:31:00Z
- **Production namespace:** billing
- **Staging namespace:** billing-grey
- **Go-live window:** thursday-evening
- **Spec hash:** sha256:5d1c0f3b9a7e2d4c6b8a0f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1c
- **Request UID:** 6f1c2a9e-uid
- **Planned start:** 2026-12-03T19:00:00Z in window thursday-evening
- **Report generated:** 2026-12-04T08:00:00Z

## Targets and images

Updated in this order in namespace billing after billing-grey; rolled back in reverse.

| # | Kind | Name | Container | Image |
|---|---|---|---|---|
| 1 | Deployment | billing-api | api | registry.example.com/billing-api:2.4.0 |
| 1 | Deployment | billing-api | migrate | registry.example.com/billing-migrate:2.4.0 |
| 2 | StatefulSet | billing-db | postgres | registry.example.com/postgres:16.4 |

## Timeline

| Time (UTC) | Phase | Actor | Event | Message |
|---|---|---|---|---|
| 2026-11-18T09:00:00Z | Pending | golive | Created | Update request for release 2.4.0 created |
| 2026-11-18T09:01:00Z | Staging | golive | StagingStarted | Updating the staging namespace billing-grey |
| 2026-11-18T09:10:00Z | Soaking | golive | StagingVerified | Staging passed its verification |
| 2026-11-20T09:10:00Z | AwaitingApproval | golive | SoakCompleted | Soak completed; waiting for approvals |
| 2026-11-20T11:00:00Z | Scheduled | golive | Approved | Every required role approved |
| 2026-12-03T19:00:00Z | BackingUp | golive | ProductionStarted | Backing up before updating production |
| 2026-12-03T19:02:00Z | Updating | golive | BackedUp | Backup completed; updating production |
| 2026-12-03T19:20:00Z | RollingBack | golive | VerificationFailed | Rolling back: production verification failed |
| 2026-12-03T19:31:00Z | RolledBack | golive | Failed | Rolled back: production verification failed |

## Approvals

Required: rnd-lead × 1, operations-office × 2; the requester may not approve; each person counts once. Acceptance by business-owner within 24h (on timeout: Accept).

### Counted by golive (status.approvals, 3/3)

| Role | User | Time (UTC) | Comment |
|---|---|---|---|
| rnd-lead | bob@example.com | 2026-11-20T10:00:00Z | looks good |
| operations-office | carol@example.com | 2026-11-20T10:30:00Z | - |
| operations-office | dave@example.com | 2026-11-20T11:00:00Z | second pair of eyes |

### Ledger (golive.dev/ledger)

Every command given, as golive's admission webhook recorded and signed it, with the user and groups the API server authenticated. An entry counts only for the spec it was given for; golive verifies the signatures.

| Time (UTC) | Action | Role | User | Groups | Comment | Spec |
|---|---|---|---|---|---|---|
| 2026-11-19T10:00:00Z | approve | rnd-lead | bob@example.com | billing-rnd-leads, system:authenticated | - | sha256:0a9b8c7d6e5f… |
| 2026-11-20T10:00:00Z | approve | rnd-lead | bob@example.com | billing-rnd-leads, system:authenticated | looks good | current |
| 2026-11-20T10:30:00Z | approve | operations-office | carol@example.com | system:authenticated | - | current |
| 2026-11-20T11:00:00Z | approve | operations-office | dave@example.com | system:authenticated | second pair of eyes | current |

## Staging (namespace billing-grey)

| Started | Updated | Verified | Targets applied |
|---|---|---|---|
| 2026-11-18T09:01:00Z | 2026-11-18T09:04:00Z | 2026-11-18T09:10:00Z | 2 |

| Check | Result | Message |
|---|---|---|
| rollout | Passed | every target rolled out |
| smoke | Passed | Job billing-2-4-0-staging-smoke completed |
| health | Passed | - |

## Production (namespace billing)

| Started | Updated | Verified | Targets applied |
|---|---|---|---|
| 2026-12-03T19:00:00Z | 2026-12-03T19:06:00Z | - | 2 |

| Check | Result | Message |
|---|---|---|
| rollout | Passed | - |
| health | Failed | got 503 \| 3 times |

## Backup

| Completed | Expires | Saved specs (ConfigMap) |
|---|---|---|
| 2026-12-03T19:02:00Z | 2026-12-10T19:31:00Z | billing-2-4-0-saved-specs |

Stopped for the snapshots and scaled back: Deployment/billing-api (3 replicas), StatefulSet/billing-db (1 replica).

| Claim | VolumeSnapshot | Ready | Restore size |
|---|---|---|---|
| data-billing-db-0 | billing-2-4-0-data-billing-db-0 | true | 10Gi |

## Rollback

| Reason | Started | Completed | Targets restored | Data restored |
|---|---|---|---|---|
| production verification failed | 2026-12-03T19:20:00Z | 2026-12-03T19:31:00Z | 2 | true |

## Conditions

| Type | Status | Reason | Message | Since (UTC) |
|---|---|---|---|---|
| Ready | False | Failed | Rolled back: production verification failed: HTTP check "health" got 503 \| 3 times | 2026-11-20T10:00:00Z |
| Stalled | True | Failed | Rolled back: production verification failed: HTTP check "health" got 503 \| 3 times | 2026-11-20T10:00:00Z |
| StagingVerified | True | Succeeded | Staging passed its verification | 2026-11-20T10:00:00Z |
| RolledBack | True | Succeeded | The previous workloads run again | 2026-11-20T10:00:00Z |
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// A request golive has not taken up yet has a report all the same, saying so.
func TestWriteReportOfANewRequest(t *testing.T) {
	var out bytes.Buffer
	if err := Write(&out, makeRequest().Obj(), monday, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- **Now:** golive has not taken up the request yet\n",
		"The request has not ended: this record may still grow.\n",
		"## Timeline\n\nNo entries yet.\n",
		"### Counted by golive (status.approvals, -)\n\nNone.\n",
		"### Ledger (golive.dev/ledger)\n\nNo commands were given.\n",
		"## Staging (namespace billing-grey)\n\nNot started.\n",
		"## Backup\n\nNone taken: production was not touched.\n",
		"## Conditions\n\nNone yet.\n",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

// A supervised request's report records whose go production started on.
func TestWriteReportShowsTheGo(t *testing.T) {
	request := makeRequest().Mutate(func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"},
			Given: []golivev1alpha1.ApprovalRecord{{Role: "operations-supervisor", User: "sam@example.com", At: metav1.NewTime(utc("2026-11-26T19:02:00Z")), Comment: "on the bridge"}}}
	}).Obj()
	var out bytes.Buffer
	if err := Write(&out, request, monday, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### Go of the supervision roles (status.supervision)\n\nA GoLivePolicy asks for a go from operations-supervisor",
		"| operations-supervisor | sam@example.com | 2026-11-26T19:02:00Z | on the bridge |",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

func TestReportSaysStagingWasVerifiedAgain(t *testing.T) {
	request := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production")).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Staging.Reverifications = 1
			r.Status.Staging.ReverificationStartedAt = at("2026-11-26T19:00:00Z")
			r.Status.Staging.ReverifiedAt = at("2026-11-26T19:04:00Z")
		}).Obj()
	var out bytes.Buffer
	if err := Write(&out, request, monday, nil); err != nil {
		t.Fatal(err)
	}
	want := "Verified again 1 time(s), as a GoLivePolicy's staging.maxAge asked: the latest began 2026-11-26T19:00:00Z and passed 2026-11-26T19:04:00Z."
	if !strings.Contains(out.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, out.String())
	}
}

package lifecycle

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Monday 2026-11-23 10:00 UTC (11:00 in Berlin); the Thursday window opens on
// 2026-11-26 at 20:00 Berlin = 19:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const hash = "sha256:current"

func at(t time.Time) *metav1.Time { return &metav1.Time{Time: t} }

func duration(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

func newRequest() *golivev1alpha1.UpdateRequest {
	return &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "billing-2-4-0", Namespace: "billing", Generation: 1},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: "2.4.0",
			Targets: []golivev1alpha1.Target{
				{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]golivev1alpha1.Image{"api": "api:2.4.0"}},
				{Kind: golivev1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]golivev1alpha1.Image{"postgres": "postgres:16.4"}},
			},
			Staging: golivev1alpha1.Staging{Namespace: "billing-grey", Soak: duration(48 * time.Hour),
				Verify: golivev1alpha1.Verification{Timeout: duration(10 * time.Minute)}},
			Approvals: golivev1alpha1.Approvals{Required: []golivev1alpha1.RoleQuorum{
				{Role: "rnd-lead", Count: 1}, {Role: "operations-office", Count: 1},
			}},
			Window:   golivev1alpha1.WindowReference{Name: "thursday-evening", ExpectedDuration: ptr.To(duration(time.Hour))},
			Backup:   golivev1alpha1.Backup{Quiesce: golivev1alpha1.QuiesceNone, Retention: duration(168 * time.Hour)},
			Verify:   golivev1alpha1.Verification{Timeout: duration(10 * time.Minute)},
			Rollback: golivev1alpha1.Rollback{RestoreData: golivev1alpha1.RestoreDataAuto},
		},
		Status: golivev1alpha1.UpdateRequestStatus{SpecHash: hash, RequestedBy: "alice"},
	}
}

func thursdayEvening() golivev1alpha1.GoLiveWindowSpec {
	return golivev1alpha1.GoLiveWindowSpec{
		TimeZone:      "Europe/Berlin",
		Schedule:      []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{golivev1alpha1.Thursday}, Start: "20:00", Duration: duration(3 * time.Hour)}},
		MaxConcurrent: 1,
		Emergency:     &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 2, Period: duration(720 * time.Hour)},
	}
}

func alwaysOpen() golivev1alpha1.GoLiveWindowSpec {
	spec := thursdayEvening()
	spec.Schedule = []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, Start: "00:00", Duration: duration(24 * time.Hour)}}
	return spec
}

// newWorld is a cluster where every reference resolves and nothing was applied yet.
func newWorld() World {
	targets := func() []TargetObservation {
		return []TargetObservation{{Found: true, Health: Healthy}, {Found: true, Health: Healthy}}
	}
	return World{
		SpecHash:         hash,
		RequestedBy:      "alice",
		StagingNamespace: NamespaceObservation{Found: true, OptedIn: true},
		Window:           WindowObservation{Found: true, Spec: thursdayEvening()},
		Staging:          EnvironmentObservation{Targets: targets()},
		Production:       EnvironmentObservation{Targets: targets()},
		Backup:           BackupObservation{SnapshotClassFound: true},
	}
}

func applied(targets []TargetObservation, health ...Health) {
	for i := range targets {
		targets[i].ImagesApplied = true
		if i < len(health) {
			targets[i].Health = health[i]
		}
	}
}

func restored(targets []TargetObservation) {
	for i := range targets {
		targets[i].Restored = true
	}
}

func approve(user, role string, when time.Time) Command {
	return Command{Action: ActionApprove, User: user, Role: role, At: when}
}

// States of a request, as the record of an earlier decision leaves them.
func inStaging(r *golivev1alpha1.UpdateRequest, started time.Time) {
	r.Status.Phase = golivev1alpha1.PhaseStaging
	r.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: at(started)}
}

func stagingVerified(r *golivev1alpha1.UpdateRequest, phase golivev1alpha1.Phase, verified time.Time) {
	r.Status.Phase = phase
	r.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: at(verified.Add(-5 * time.Minute)), UpdatedAt: at(verified.Add(-3 * time.Minute)), VerifiedAt: at(verified), TargetsApplied: 2}
}

func inProduction(r *golivev1alpha1.UpdateRequest, phase golivev1alpha1.Phase, started time.Time) {
	stagingVerified(r, phase, started.Add(-72*time.Hour))
	r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at(started)}
	if phase != golivev1alpha1.PhaseBackingUp {
		r.Status.Backup = &golivev1alpha1.BackupStatus{SavedSpecs: "billing-2-4-0-saved-specs", CompletedAt: at(started.Add(time.Minute))}
	}
}

type want struct {
	phase   golivev1alpha1.Phase
	action  Action
	requeue time.Duration
	// ready, reconciling, stalled: the reason of that condition when True; "" when absent or False.
	stalled string
	// message must appear in the Ready condition's message.
	message string
	check   func(t *testing.T, d Decision)
}

func TestDecide(t *testing.T) {
	plannedThursday := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		request func(*golivev1alpha1.UpdateRequest)
		world   func(*World)
		now     time.Time
		want    want
	}{
		// Pending.
		{
			name:    "a new request with every reference resolved starts staging with the first target",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status = golivev1alpha1.UpdateRequestStatus{} },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}, check: func(t *testing.T, d Decision) {
				if d.Status.Staging.StartedAt == nil || !d.Status.Staging.StartedAt.Equal(at(monday)) {
					t.Errorf("staging.startedAt = %v, want %v", d.Status.Staging.StartedAt, monday)
				}
				if d.Status.SpecHash != hash || d.Status.RequestedBy != "alice" {
					t.Errorf("specHash, requestedBy = %q, %q", d.Status.SpecHash, d.Status.RequestedBy)
				}
				timelineEvents(t, d, "Created", "StagingStarted")
			}},
		},
		{
			name:    "a missing staging namespace stalls, naming the field",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.StagingNamespace = NamespaceObservation{} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.staging.namespace: namespace "billing-grey" not found`},
		},
		{
			name:    "a staging namespace that did not opt in stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.StagingNamespace.OptedIn = false },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonStagingNotOptedIn, message: "lacks the label golive.dev/staging-for=billing"},
		},
		{
			name:    "a missing window stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Window = WindowObservation{} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.window.name: GoLiveWindow "thursday-evening" not found`},
		},
		{
			name:    "a missing production target stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Production.Targets[1].Found = false },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.targets[1]: StatefulSet "billing-db" not found in namespace "billing"`},
		},
		{
			name:    "a container missing in staging stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Staging.Targets[0].MissingContainers = []string{"api"} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.targets[0].images: Deployment "billing-api" in namespace "billing-grey" has no container "api"`},
		},
		{
			name: "a missing snapshot class and no selected claim stall",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
				r.Spec.Backup.VolumeSnapshotClassName = "csi-snapclass"
			},
			world: func(w *World) { w.Backup.SnapshotClassFound = false },
			want: want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound,
				message: `spec.backup.volumeSnapshotClassName: VolumeSnapshotClass "csi-snapclass" not found; spec.backup.volumeClaimSelector: selects no PersistentVolumeClaim`},
		},
		{
			name: "an emergency under a window without an emergency policy stalls",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) { w.Window.Spec.Emergency = nil },
			want:  want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.emergency: GoLiveWindow "thursday-evening" allows no emergency updates`},
		},
		{
			name:    "a problem the controller found stalls as an invalid spec",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Problems = []string{"spec.backup.volumeClaimSelector: not supported"} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonInvalidSpec, message: "spec.backup.volumeClaimSelector: not supported"},
		},
		{
			name:    "a target held by another request waits, without stalling",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.LockedBy = "billing-2-3-9" },
			want:    want{phase: golivev1alpha1.PhasePending, message: `UpdateRequest "billing-2-3-9" holds one of the targets`},
		},
		{
			name: "a suspended request does not start staging",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Suspend = true
			},
			want: want{phase: golivev1alpha1.PhasePending, message: "Suspended before staging"},
		},

		// Staging.
		{
			name:    "staging applies the next target once the previous one rolled out",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world:   func(w *World) { w.Staging.Targets[0].ImagesApplied = true },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 1}, check: func(t *testing.T, d Decision) {
				if got := d.Status.Staging.TargetsApplied; got != 1 {
					t.Errorf("staging.targetsApplied = %d, want 1", got)
				}
			}},
		},
		{
			name:    "staging waits for a rollout until exactly the verify timeout",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-4*time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets, Progressing)
				w.Staging.Targets[0].Message = "1 of 2 replicas updated"
			},
			want: want{phase: golivev1alpha1.PhaseStaging, requeue: 6 * time.Minute, message: `Rolling out Deployment "billing-api" in namespace "billing-grey"`},
		},
		{
			name:    "a failed staging rollout fails the request; production is untouched",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets, Healthy, Failed)
				w.Staging.Targets[1].Message = "progress deadline exceeded"
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "production was not touched", check: func(t *testing.T, d Decision) {
				if d.Status.Production != nil || d.Status.CompletedAt == nil {
					t.Errorf("production = %v, completedAt = %v; want nil and set", d.Status.Production, d.Status.CompletedAt)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonVerificationFailed)
			}},
		},
		{
			name:    "a staging rollout past the verify timeout fails",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-10*time.Minute)) },
			world:   func(w *World) { applied(w.Staging.Targets, Healthy, Progressing) },
			want:    want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "did not roll out within 10m0s"},
		},
		{
			name:    "staging rolled out starts the verification and waits for the next probe",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)) },
			world: func(w *World) {
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationRunning, NextProbeAt: monday.Add(10 * time.Second)}
			},
			want: want{phase: golivev1alpha1.PhaseVerifyingStaging, action: Action{Kind: VerifyStaging}, requeue: 10 * time.Second},
		},

		// VerifyingStaging and Soaking.
		{
			name: "staging verified starts the soak, waiting exactly for its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationPassed, Checks: []golivev1alpha1.CheckStatus{{Name: "smoke", Result: golivev1alpha1.CheckPassed}}}
			},
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: 48 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue)
				if diff := cmp.Diff([]golivev1alpha1.CheckStatus{{Name: "smoke", Result: golivev1alpha1.CheckPassed}}, d.Status.Staging.Checks); diff != "" {
					t.Errorf("staging.checks (-want +got):\n%s", diff)
				}
			}},
		},
		{
			name: "a failed staging verification fails the request",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				w.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: `Job "smoke" failed: BackoffLimitExceeded`}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: `staging verification failed: Job "smoke" failed`},
		},
		{
			name: "a staging verification past its timeout fails",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-11*time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			},
			world: func(w *World) {
				w.Staging.Verification = VerificationObservation{State: VerificationRunning, Message: `http check "health": 2/3 successes`}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "did not pass within 10m0s"},
		},
		{
			name: "soaking waits exactly until the soak ends",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-47*time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: time.Hour},
		},
		{
			name: "approvals given while soaking are counted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-47*time.Hour))
			},
			world: func(w *World) { w.Commands = []Command{approve("bob", "rnd-lead", monday)} },
			want: want{phase: golivev1alpha1.PhaseSoaking, requeue: time.Hour, check: func(t *testing.T, d Decision) {
				if d.Status.ApprovalSummary != "1/2" {
					t.Errorf("approvalSummary = %q, want 1/2", d.Status.ApprovalSummary)
				}
			}},
		},
		{
			name: "the soak over, the request waits for approvals",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseSoaking, monday.Add(-48*time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "Waiting for approvals: rnd-lead 0/1, operations-office 0/1", check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionApproved, metav1.ConditionFalse)
			}},
		},

		// AwaitingApproval.
		{
			name: "one of two roles approved keeps waiting and shows 1/2",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) { w.Commands = []Command{approve("bob", "rnd-lead", monday)} },
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "operations-office 0/1", check: func(t *testing.T, d Decision) {
				want := []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob", At: metav1.NewTime(monday)}}
				if diff := cmp.Diff(want, d.Status.Approvals); diff != "" || d.Status.ApprovalSummary != "1/2" {
					t.Errorf("approvals (-want +got):\n%s summary %q", diff, d.Status.ApprovalSummary)
				}
			}},
		},
		{
			name: "the requester's own approval does not count",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("alice", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "rnd-lead 0/1"},
		},
		{
			name: "one person approving for two roles counts once",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("bob", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "operations-office 0/1"},
		},
		{
			name: "the quorum reached, production is scheduled for the next opening of the window",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-time.Hour)), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Sub(monday), message: "planned start 2026-11-26T19:00:00Z", check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionApproved, metav1.ConditionTrue)
				wantCondition(t, d, golivev1alpha1.ConditionScheduled, metav1.ConditionTrue)
				if d.Status.Schedule.PlannedStart == nil || !d.Status.Schedule.PlannedStart.Time.Equal(plannedThursday) {
					t.Errorf("plannedStart = %v, want %v", d.Status.Schedule.PlannedStart, plannedThursday)
				}
			}},
		},
		{
			name: "a request allowed to self-approve counts the requester",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
				r.Spec.Approvals.AllowSelfApproval = true
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("alice", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},

		// Scheduled.
		{
			name: "an open window with time left starts production with the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}, check: func(t *testing.T, d Decision) {
				if d.Status.Production == nil || !d.Status.Production.StartedAt.Equal(at(monday)) {
					t.Errorf("production.startedAt = %v, want %v", d.Status.Production, monday)
				}
			}},
		},
		{
			name: "lead time pushes the start to an opening far enough after the last approval",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec.LeadTime = duration(96 * time.Hour)
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Add(7 * 24 * time.Hour).Sub(monday)},
		},
		{
			name: "an open window without the expected duration left waits for the next opening",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, plannedThursday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			now:  plannedThursday.Add(2*time.Hour + 30*time.Minute),
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: 7*24*time.Hour - 2*time.Hour - 30*time.Minute},
		},
		{
			name: "a freeze moves the planned start past its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "black-friday", Start: "2026-11-26T00:00", End: "2026-11-30T00:00"}}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Add(7 * 24 * time.Hour).Sub(monday)},
		},
		{
			name: "during a freeze the request says so and waits for its end",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "month-end", Start: "2026-11-23T00:00", End: "2026-11-24T06:00"}}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			// The window's zone is Europe/Berlin, an hour ahead of UTC in November.
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC).Sub(monday),
				message: "forbids production changes until 2026-11-24T05:00:00Z; planned start 2026-11-24T05:00:00Z"},
		},
		{
			name: "the window's concurrency cap makes production wait, woken by the window's status",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Window.ActiveUpdates = []string{"billing-2-4-0", "payments-1-2"}
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "allows 1 production updates at once; running: payments-1-2"},
		},
		{
			name: "a suspended request does not start production",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
				r.Spec.Suspend = true
			},
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "Suspended before production"},
		},

		// Emergency.
		{
			name: "an emergency skips the soak",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) { w.Staging.Verification.State = VerificationPassed },
			want:  want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "cto 0/1"},
		},
		{
			name: "an emergency needs one approval from an emergency role and ignores the closed window",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-time.Hour))
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				w.Window.EmergencyUsed = 1
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday), approve("dave", "cto", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name: "an emergency beyond the window's budget waits",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-time.Hour))
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				w.Window.EmergencyUsed = 2
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday), approve("dave", "cto", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "allows 2 emergency updates per 720h0m0s and 2 were used"},
		},

		// BackingUp.
		{
			name:    "specs saved and no volumes to snapshot, production updates its first target",
			request: func(r *golivev1alpha1.UpdateRequest) { inProduction(r, golivev1alpha1.PhaseBackingUp, monday) },
			world:   func(w *World) { w.Backup.SavedSpecs = "billing-2-4-0-saved-specs" },
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 0}, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionBackedUp, metav1.ConditionTrue)
				if d.Status.Backup.SavedSpecs != "billing-2-4-0-saved-specs" || d.Status.Backup.CompletedAt == nil {
					t.Errorf("backup = %+v", d.Status.Backup)
				}
			}},
		},
		{
			name: "snapshots not ready yet are ensured and waited for until the backup timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "billing-2-4-0-data-billing-db-0"}}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: TakeSnapshots}, requeue: 20 * time.Minute},
		},
		{
			name: "a failed snapshot rolls back before any target changed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.SnapshotError = "snapshot of data-billing-db-0 failed: no space"
				restored(w.Production.Targets)
			},
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, message: "Backup failed: snapshot of data-billing-db-0 failed"},
		},
		{
			name: "a quiesce records the replica counts, then stops the targets",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
			},
			world: func(w *World) {
				w.Backup.SavedSpecs = "saved"
				w.Production.Targets[0].Replicas, w.Production.Targets[1].Replicas = 3, 2
				w.Backup.StoppedMessage = "Waiting for Deployment billing-api to scale to zero"
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "Stopping the targets before the snapshots: Waiting for Deployment billing-api", check: func(t *testing.T, d Decision) {
					want := map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}
					if !maps.Equal(d.Status.Backup.QuiescedReplicas, want) {
						t.Errorf("quiescedReplicas = %v, want %v", d.Status.Backup.QuiescedReplicas, want)
					}
				}},
		},
		{
			name: "recorded replica counts are never overwritten by the zero of a stopped target",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
				r.Status.Backup = &golivev1alpha1.BackupStatus{QuiescedReplicas: map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}}
			},
			world: func(w *World) { w.Backup.SavedSpecs = "saved" },
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: StopTargets}, requeue: PollInterval, check: func(t *testing.T, d Decision) {
				if got := d.Status.Backup.QuiescedReplicas["Deployment/billing-api"]; got != 3 {
					t.Errorf("quiescedReplicas = %v", d.Status.Backup.QuiescedReplicas)
				}
			}},
		},
		{
			name: "stopped targets are snapshotted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
				r.Status.Backup = &golivev1alpha1.BackupStatus{QuiescedReplicas: map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims, w.Backup.Stopped = "saved", []string{"data-billing-db-0"}, true
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: TakeSnapshots}, requeue: 20 * time.Minute},
		},
		{
			name: "targets that do not stop within the backup timeout fail the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-BackupTimeout))
				r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.StoppedMessage = "saved", "Waiting for 1 pod of StatefulSet billing-db to stop"
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1},
				message: "the targets did not stop within 30m0s: Waiting for 1 pod of StatefulSet billing-db to stop"},
		},
		{
			name: "a quiesced target is scaled back once it runs the new images",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
				r.Status.Backup.QuiescedReplicas = map[string]int32{"Deployment/billing-api": 3, "StatefulSet/billing-db": 2}
			},
			world: func(w *World) { applied(w.Production.Targets, Healthy, Healthy) },
			want:  want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ResumeTarget, Target: 0}, message: `Scaling Deployment "billing-api" back to 3 replicas`},
		},
		{
			name: "ready snapshots complete the backup",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseBackingUp, monday.Add(-10*time.Minute))
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			},
			world: func(w *World) {
				w.Backup.SavedSpecs, w.Backup.Claims = "saved", []string{"data-billing-db-0"}
				w.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data-billing-db-0", VolumeSnapshot: "s", ReadyToUse: true, RestoreSize: "1Gi"}}
			},
			want: want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction}, check: func(t *testing.T, d Decision) {
				if len(d.Status.Backup.Snapshots) != 1 || d.Status.Backup.Snapshots[0].RestoreSize != "1Gi" {
					t.Errorf("backup.snapshots = %+v", d.Status.Backup.Snapshots)
				}
			}},
		},

		// Updating and Verifying.
		{
			name: "production updates the next target once the previous one rolled out",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) { w.Production.Targets[0].ImagesApplied = true },
			want:  want{phase: golivev1alpha1.PhaseUpdating, action: Action{Kind: ApplyProduction, Target: 1}},
		},
		{
			name: "a failed production rollout rolls back, the last target first",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) { applied(w.Production.Targets, Failed, Progressing) },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, check: func(t *testing.T, d Decision) {
				if d.Status.Rollback == nil || !strings.Contains(d.Status.Rollback.Reason, "failed to roll out") {
					t.Errorf("rollback = %+v", d.Status.Rollback)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonVerificationFailed)
			}},
		},
		{
			name: "production rolled out starts its verification",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets)
				w.Production.Verification.State = VerificationRunning
			},
			want: want{phase: golivev1alpha1.PhaseVerifying, action: Action{Kind: VerifyProduction}, requeue: 9 * time.Minute, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionUpdated, metav1.ConditionTrue)
			}},
		},
		{
			name: "production verified without acceptance succeeds and keeps the backups for the retention",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) { w.Production.Verification.State = VerificationPassed },
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionReady, metav1.ConditionTrue)
				if meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionReconciling) != nil {
					t.Error("a succeeded request must not be Reconciling")
				}
				if got := d.Status.Backup.ExpiresAt; got == nil || !got.Time.Equal(monday.Add(168*time.Hour)) {
					t.Errorf("backup.expiresAt = %v", got)
				}
			}},
		},
		{
			name: "production verified with acceptance waits exactly the acceptance timeout",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
				r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business-owner", Timeout: duration(24 * time.Hour), OnTimeout: golivev1alpha1.AcceptOnTimeout}
			},
			world: func(w *World) { w.Production.Verification.State = VerificationPassed },
			want:  want{phase: golivev1alpha1.PhaseAwaitingAcceptance, requeue: 24 * time.Hour, message: "Waiting for acceptance by business-owner"},
		},
		{
			name: "a failed production verification rolls back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseVerifying, monday.Add(-5*time.Minute))
			},
			world: func(w *World) {
				w.Production.Verification = VerificationObservation{State: VerificationFailed, Message: `http check "health": status 500`}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "production verification failed"},
		},

		// AwaitingAcceptance.
		{
			name:    "acceptance by the acceptance role succeeds",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionAccept, User: "erin", Role: "business-owner", Comment: "all good", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				wantCondition(t, d, golivev1alpha1.ConditionAccepted, metav1.ConditionTrue)
				if last := d.Status.Timeline[len(d.Status.Timeline)-1]; last.Actor != "erin" {
					t.Errorf("the timeline names %q, want erin", last.Actor)
				}
			}},
		},
		{
			name:    "a rejection by the acceptance role rolls back",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionReject, User: "erin", Role: "business-owner", Comment: "invoices wrong", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "Rejected by erin (business-owner): invoices wrong"},
		},
		{
			name:    "an acceptance timeout with onTimeout Accept succeeds",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			now:     monday.Add(25 * time.Hour),
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				if c := meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionAccepted); c == nil || c.Reason != golivev1alpha1.ReasonAcceptanceTimedOut {
					t.Errorf("Accepted = %+v, want reason AcceptanceTimedOut", c)
				}
			}},
		},
		{
			name:    "an acceptance timeout with onTimeout RollBack rolls back",
			request: awaitingAcceptance(golivev1alpha1.RollBackOnTimeout),
			now:     monday.Add(25 * time.Hour),
			want:    want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},

		// RollingBack.
		{
			name:    "rollback restores the targets in reverse order, each healthy before the next",
			request: rollingBack,
			world: func(w *World) {
				w.Production.Targets[1].Restored = true
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 0}, check: func(t *testing.T, d Decision) {
				if got := d.Status.Rollback.TargetsRestored; got != 1 {
					t.Errorf("rollback.targetsRestored = %d, want 1", got)
				}
			}},
		},
		{
			name:    "rollback waits for a restored target to roll out",
			request: rollingBack,
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Production.Targets[1].Health = Progressing
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, message: `Rolling back (production verification failed): waiting for the restored StatefulSet "billing-db" to roll out`},
		},
		{
			name:    "a restored target that fails to roll out stalls the rollback for a person",
			request: rollingBack,
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Production.Targets[1].Health = Failed
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, stalled: golivev1alpha1.ReasonFailed},
		},
		{
			name: "with snapshots and restoreData Auto, the targets are stopped before their volumes are restored",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.Production.Targets[0].Replicas, w.Production.Targets[1].Replicas = 3, 2
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval,
				message: "stopping the targets to restore their volumes"},
		},
		{
			name: "the targets stopped, the volumes are restored, looked at again shortly",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.DataRestore = DataRestoreObservation{State: DataRestoreInProgress, Message: "Waiting for pods billing-db-0 to stop using claim data"}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreData}, requeue: PollInterval,
				message: "restoring the volumes from their snapshots: Waiting for pods billing-db-0"},
		},
		{
			name: "a volume that cannot be restored stalls the rollback for a person",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				w.DataRestore = DataRestoreObservation{State: DataRestoreFailed, Message: "VolumeSnapshot s of claim data does not exist"}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, stalled: golivev1alpha1.ReasonFailed, message: "the volumes cannot be restored: VolumeSnapshot s"},
		},
		{
			name: "with restoreData Never, the workloads alone are rolled back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataNever
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) { restored(w.Production.Targets) },
			// Ended with snapshots: they are stamped with their expiry at once.
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, action: Action{Kind: MarkExpiry}},
		},
		{
			name: "snapshots already stamped with their expiry are left alone until retention",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataNever
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) {
				restored(w.Production.Targets)
				w.Backup.ExpiryMarked = true
			},
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour},
		},
		{
			name: "a backup that failed restores no data: production was not touched",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.CompletedAt = nil
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s"}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
		{
			name: "data restored, the saved specs are re-applied, replica counts included",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
			},
			world: func(w *World) { w.DataRestore.State = DataRestored },
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, check: func(t *testing.T, d Decision) {
				if !d.Status.Rollback.DataRestored {
					t.Errorf("rollback.dataRestored is not recorded: %+v", d.Status.Rollback)
				}
			}},
		},
		{
			name: "data restored and the targets healthy again, the rollback completes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
				r.Status.Rollback.DataRestored = true
			},
			world: func(w *World) { restored(w.Production.Targets) },
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: golivev1alpha1.ReasonFailed, requeue: 168 * time.Hour, action: Action{Kind: MarkExpiry}, message: "Rolled back: production verification failed", check: func(t *testing.T, d Decision) {
				if !d.Status.Rollback.DataRestored || d.Status.Rollback.CompletedAt == nil || d.Status.Rollback.TargetsRestored != 2 {
					t.Errorf("rollback = %+v", d.Status.Rollback)
				}
				wantCondition(t, d, golivev1alpha1.ConditionRolledBack, metav1.ConditionTrue)
			}},
		},

		// Abort, reject, spec change.
		{
			name: "an abort before production ends the request Aborted",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionAbort, User: "alice", Comment: "wrong build", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseAborted, stalled: golivev1alpha1.ReasonAborted, message: "Aborted by alice: wrong build"},
		},
		{
			name: "an abort during production rolls back",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
			},
			world: func(w *World) {
				applied(w.Production.Targets, Healthy, Progressing)
				w.Commands = []Command{{Action: ActionAbort, User: "alice", Comment: "customer call", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}, message: "Aborted by alice: customer call"},
		},
		{
			name: "a rejection before production ends the request Rejected",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionReject, User: "carol", Role: "operations-office", Comment: "no", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRejected, stalled: golivev1alpha1.ReasonRejected, message: "Rejected by carol (operations-office): no"},
		},
		{
			name: "a spec change before production invalidates the approvals and starts again",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
				r.Status.Approvals = []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob"}}
				r.Status.SpecHash = "sha256:previous"
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging}, check: func(t *testing.T, d Decision) {
				if len(d.Status.Approvals) != 0 || d.Status.SpecHash != hash || d.Status.ApprovalSummary != "0/2" {
					t.Errorf("approvals %v, specHash %q, summary %q", d.Status.Approvals, d.Status.SpecHash, d.Status.ApprovalSummary)
				}
				wantEvent(t, d, true, golivev1alpha1.ReasonApprovalsInvalidated)
				timelineEvents(t, d, "SpecChanged", "StagingStarted")
			}},
		},
		{
			name: "a spec change after production started stalls and changes nothing",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseUpdating, monday.Add(-2*time.Minute))
				r.Status.SpecHash = "sha256:previous"
			},
			world: func(w *World) { applied(w.Production.Targets, Healthy, Progressing) },
			want:  want{phase: golivev1alpha1.PhaseUpdating, stalled: golivev1alpha1.ReasonInvalidSpec, message: "immutable from BackingUp on"},
		},

		// Ended.
		{
			name: "an ended request's backups are deleted once the retention passed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseSucceeded, monday.Add(-200*time.Hour))
				r.Status.CompletedAt = at(monday.Add(-169 * time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseSucceeded, action: Action{Kind: DeleteBackups}},
		},
		{
			name: "deleted backups leave nothing to do",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseRolledBack, monday.Add(-200*time.Hour))
				r.Status.CompletedAt = at(monday.Add(-169 * time.Hour))
			},
			world: func(w *World) { w.BackupsDeleted = true },
			want:  want{phase: golivev1alpha1.PhaseRolledBack, stalled: string(golivev1alpha1.PhaseRolledBack)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request, world, now := newRequest(), newWorld(), monday
			if tc.request != nil {
				tc.request(request)
			}
			if tc.world != nil {
				tc.world(&world)
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			before := request.DeepCopy()
			d := Decide(request, world, now)
			if diff := cmp.Diff(before, request); diff != "" {
				t.Fatalf("Decide changed its input (-before +after):\n%s", diff)
			}
			if d.Status.Phase != tc.want.phase {
				t.Errorf("phase = %s, want %s (Ready: %+v)", d.Status.Phase, tc.want.phase, meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionReady))
			}
			if d.Action != tc.want.action {
				t.Errorf("action = %+v, want %+v", d.Action, tc.want.action)
			}
			if d.RequeueAfter != tc.want.requeue {
				t.Errorf("requeueAfter = %v, want %v", d.RequeueAfter, tc.want.requeue)
			}
			stalled := meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionStalled)
			switch {
			case tc.want.stalled == "" && stalled != nil:
				t.Errorf("Stalled = %+v, want none", stalled)
			case tc.want.stalled != "" && (stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != tc.want.stalled):
				t.Errorf("Stalled = %+v, want True with reason %s", stalled, tc.want.stalled)
			}
			if tc.want.stalled == "" && !d.Status.Phase.IsTerminal() {
				wantCondition(t, d, golivev1alpha1.ConditionReconciling, metav1.ConditionTrue)
			}
			ready := meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionReady)
			if ready == nil || !strings.Contains(ready.Message, tc.want.message) {
				t.Errorf("Ready = %+v, want a message containing %q", ready, tc.want.message)
			}
			if tc.want.check != nil {
				tc.want.check(t, d)
			}
		})
	}
}

func awaitingAcceptance(onTimeout golivev1alpha1.AcceptanceTimeoutAction) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		inProduction(r, golivev1alpha1.PhaseAwaitingAcceptance, monday.Add(-10*time.Minute))
		r.Status.Production.VerifiedAt = at(monday)
		r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business-owner", Timeout: duration(24 * time.Hour), OnTimeout: onTimeout}
	}
}

func rollingBack(r *golivev1alpha1.UpdateRequest) {
	inProduction(r, golivev1alpha1.PhaseRollingBack, monday.Add(-10*time.Minute))
	r.Status.Rollback = &golivev1alpha1.RollbackStatus{Reason: "production verification failed", StartedAt: at(monday.Add(-time.Minute))}
}

func wantCondition(t *testing.T, d Decision, conditionType string, status metav1.ConditionStatus) {
	t.Helper()
	c := meta.FindStatusCondition(d.Status.Conditions, conditionType)
	if c == nil || c.Status != status {
		t.Errorf("condition %s = %+v, want %s", conditionType, c, status)
	}
}

func wantEvent(t *testing.T, d Decision, warning bool, reason string) {
	t.Helper()
	for _, e := range d.Events {
		if e.Reason == reason && e.Warning == warning {
			return
		}
	}
	t.Errorf("no Event with reason %s (warning %v) in %+v", reason, warning, d.Events)
}

func timelineEvents(t *testing.T, d Decision, want ...string) {
	t.Helper()
	var got []string
	for _, entry := range d.Status.Timeline {
		got = append(got, entry.Event)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timeline events (-want +got):\n%s", diff)
	}
}

// The timeline keeps the last TimelineLimit entries, so the record stays bounded.
func TestTimelineIsBounded(t *testing.T) {
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-72*time.Hour))
	for i := range TimelineLimit {
		request.Status.Timeline = append(request.Status.Timeline, golivev1alpha1.TimelineEntry{Event: fmt.Sprintf("E%d", i)})
	}
	world := newWorld()
	world.Commands = []Command{{Action: ActionAbort, User: "alice", At: monday}}
	d := Decide(request, world, monday)
	if n := len(d.Status.Timeline); n != TimelineLimit {
		t.Fatalf("timeline has %d entries, want %d", n, TimelineLimit)
	}
	if first, last := d.Status.Timeline[0].Event, d.Status.Timeline[TimelineLimit-1].Event; first != "E1" || last != string(golivev1alpha1.ReasonAborted) {
		t.Errorf("timeline runs from %s to %s, want E1 to Aborted", first, last)
	}
}

// Deciding again on the recorded status with the same world changes nothing
// and repeats the same idempotent action: what a restarted controller does.
func TestDecideIsStableAcrossRestarts(t *testing.T) {
	request := newRequest()
	request.Status = golivev1alpha1.UpdateRequestStatus{}
	world := newWorld()
	first := Decide(request, world, monday)
	request.Status = first.Status
	second := Decide(request, world, monday.Add(time.Second))
	if diff := cmp.Diff(first.Status, second.Status); diff != "" {
		t.Errorf("the status changed on a repeated decision (-first +second):\n%s", diff)
	}
	if first.Action != second.Action || len(second.Events) != 0 {
		t.Errorf("second decision: action %+v (first %+v), events %+v", second.Action, first.Action, second.Events)
	}
}

// Why a request ended is decided when it ends; the decisions after it (a
// resync, a restart, retention) keep the Ready and Stalled reasons.
func TestEndedRequestKeepsWhyItEnded(t *testing.T) {
	request := newRequest()
	inStaging(request, monday.Add(-time.Minute))
	request.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
	world := newWorld()
	world.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: `Job "smoke" failed: BackoffLimitExceeded`}
	ending := Decide(request, world, monday)
	if ending.Status.Phase != golivev1alpha1.PhaseFailed {
		t.Fatalf("phase %s, want Failed", ending.Status.Phase)
	}
	request.Status = ending.Status
	later := Decide(request, world, monday.Add(time.Hour))
	for _, conditionType := range []string{golivev1alpha1.ConditionReady, golivev1alpha1.ConditionStalled} {
		first := meta.FindStatusCondition(ending.Status.Conditions, conditionType)
		again := meta.FindStatusCondition(later.Status.Conditions, conditionType)
		if first == nil || again == nil || first.Reason != golivev1alpha1.ReasonVerificationFailed || again.Reason != first.Reason || again.Message != first.Message {
			t.Errorf("%s when the request ended: %+v; an hour later: %+v; want reason VerificationFailed, kept", conditionType, first, again)
		}
	}
}

// A rollout's progress is not recorded tick by tick: the status, and so the
// writes, change only when the rollout ends.
func TestRolloutProgressLeavesTheStatusAsItIs(t *testing.T) {
	request := newRequest()
	inStaging(request, monday.Add(-time.Minute))
	decide := func(progress string) golivev1alpha1.UpdateRequestStatus {
		world := newWorld()
		applied(world.Staging.Targets, Progressing)
		world.Staging.Targets[0].Message = progress
		return Decide(request, world, monday).Status
	}
	first, later := decide("0 of 2 replicas updated"), decide("1 of 2 replicas available")
	if diff := cmp.Diff(first, later); diff != "" {
		t.Errorf("the status changed with the rollout's counts (-first +later):\n%s", diff)
	}
	// Nor does the status change from the update of the target to its rollout.
	world := newWorld()
	updating := Decide(request, world, monday)
	if updating.Action.Kind != ApplyStaging {
		t.Fatalf("action %s, want %s", updating.Action.Kind, ApplyStaging)
	}
	if diff := cmp.Diff(updating.Status, first); diff != "" {
		t.Errorf("the status changed once the target was updated (-updating +rolling out):\n%s", diff)
	}
}

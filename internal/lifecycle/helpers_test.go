package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// Monday 2026-11-23 10:00 UTC (11:00 in Berlin); the Thursday window opens on
// 2026-11-26 at 20:00 Berlin = 19:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const hash = "sha256:current"

func at(t time.Time) *metav1.Time { return &metav1.Time{Time: t} }

func duration(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

// plannedThursday is the first opening of the Thursday window after monday.
var plannedThursday = time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)

// newRequest is the billing release 2.4.0 of two targets, two approvals and
// the Thursday window, as recorded by a first decision.
func newRequest() *golivev1alpha1.UpdateRequest {
	return testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "api:2.4.0"}).
		Target(golivev1alpha1.TargetStatefulSet, "billing-db", map[string]string{"postgres": "postgres:16.4"}).
		Staging("billing-grey").Soak(48*time.Hour).
		Approval("rnd-lead", 1).Approval("operations-office", 1).
		Window("thursday-evening").ExpectedDuration(time.Hour).
		SpecHash(hash).
		Mutate(func(r *golivev1alpha1.UpdateRequest) { r.Status.RequestedBy = "alice" }).
		Obj()
}

func thursdayEvening() golivev1alpha1.GoLiveWindowSpec {
	return testfixtures.MakeGoLiveWindow("billing", "thursday-evening").TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		MaxConcurrent(1).Emergency([]string{"cto"}, 2, 720*time.Hour).
		Obj().Spec
}

func alwaysOpen() golivev1alpha1.GoLiveWindowSpec {
	return testfixtures.MakeGoLiveWindow("billing", "thursday-evening").TimeZone("Europe/Berlin").AlwaysOpen().
		MaxConcurrent(1).Emergency([]string{"cto"}, 2, 720*time.Hour).
		Obj().Spec
}

// stagingSavedSpecs is the name of the request's staging saved specs ConfigMap.
const stagingSavedSpecs = "billing-2-4-0-staging-saved-specs"

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
		// The staging targets' specs are saved; stagingrestore_test.go says what happens when they are not.
		StagingSavedSpecs: StagingSavedSpecsObservation{Name: stagingSavedSpecs, Complete: true},
		Backup:            BackupObservation{SnapshotClassFound: true},
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

// signedRecord is a gate record as the controller leaves it: signed (the
// signature is the controller's business; testDecide takes every record with
// one as verified).
func signedRecord(gate golivev1alpha1.Gate, when time.Time) golivev1alpha1.GateRecord {
	return golivev1alpha1.GateRecord{Gate: gate, SpecHash: hash, At: metav1.NewTime(when), Signature: "signed"}
}

// verifiedRecords are the records of r that carry a signature, as the controller's check would pass them.
func verifiedRecords(r *golivev1alpha1.UpdateRequest) []golivev1alpha1.GateRecord {
	var verified []golivev1alpha1.GateRecord
	for _, record := range r.Status.GateRecords {
		if record.Signature != "" {
			verified = append(verified, record)
		}
	}
	return verified
}

// States of a request, as the record of an earlier decision leaves them.
func inStaging(r *golivev1alpha1.UpdateRequest, started time.Time) {
	r.Status.Phase = golivev1alpha1.PhaseStaging
	r.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: at(started)}
}

func stagingVerified(r *golivev1alpha1.UpdateRequest, phase golivev1alpha1.Phase, verified time.Time) {
	r.Status.Phase = phase
	r.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: at(verified.Add(-5 * time.Minute)), UpdatedAt: at(verified.Add(-3 * time.Minute)), VerifiedAt: at(verified), TargetsApplied: 2}
	r.Status.GateRecords = append(r.Status.GateRecords, signedRecord(golivev1alpha1.GateStagingVerified, verified))
}

func inProduction(r *golivev1alpha1.UpdateRequest, phase golivev1alpha1.Phase, started time.Time) {
	stagingVerified(r, phase, started.Add(-72*time.Hour))
	r.Status.GateRecords = append(r.Status.GateRecords, signedRecord(golivev1alpha1.GateProductionStarted, started))
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

// decideCase is one decision: the request and world as an earlier decision
// and the cluster leave them, and what Decide must return.
type decideCase struct {
	name    string
	request func(*golivev1alpha1.UpdateRequest)
	world   func(*World)
	now     time.Time
	want    want
}

// testDecide runs cases against newRequest and newWorld at monday.
func testDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request, world, now := newRequest(), newWorld(), monday
			if tc.request != nil {
				tc.request(request)
			}
			world.Attested = AttestedFrom(verifiedRecords(request), world.SpecHash)
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

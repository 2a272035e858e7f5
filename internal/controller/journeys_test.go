package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// The journeys below play people and Kubernetes around one request: the test
// rolls Deployments out, finishes Jobs, signs approvals and commands, and moves
// the fake clock; golive runs in a real manager against a real API server.

const (
	previousImage = "billing-api:2.3.1"
	newImage      = "billing-api:2.4.0"
)

// waitForReady waits until the request's Ready condition has reason and a
// message containing text, and returns the request.
func (j *journey) waitForReady(reason, text string) golivev1alpha1.UpdateRequest {
	j.t.Helper()
	var request golivev1alpha1.UpdateRequest
	eventually(j.t, func(context.Context) string {
		request = j.current()
		ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
		if ready == nil || ready.Reason != reason || !strings.Contains(ready.Message, text) {
			return fmt.Sprintf("Ready = %+v, want reason %s and %q", ready, reason, text)
		}
		return ""
	})
	return request
}

// passStaging rolls staging out and passes its smoke Job.
func (j *journey) passStaging() {
	j.t.Helper()
	j.waitForImageAndRollOut(j.staging, newImage)
	j.finishJob(true)
}

// setSuspend sets spec.suspend.
func (j *journey) setSuspend(suspend bool) {
	j.t.Helper()
	request := j.current()
	base := request.DeepCopy()
	request.Spec.Suspend = suspend
	if err := env.Client.Patch(j.t.Context(), &request, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
}

// stepClockTo moves the fake clock forward to at, once the operator is
// quiet: a reconcile that read the clock before the step would otherwise
// ask to be woken after a delay counted from the new time, too late.
func (j *journey) stepClockTo(at time.Time) {
	j.t.Helper()
	if !at.After(j.clock.Now()) {
		j.t.Fatalf("the clock is at %s, not before %s", j.clock.Now(), at)
	}
	eventually(j.t, func(context.Context) string { return j.operator.quiet() })
	j.clock.SetTime(at)
}

// productionUntouched fails the test unless production still runs the previous image.
func (j *journey) productionUntouched() {
	j.t.Helper()
	if got := j.image(j.production); got != previousImage {
		j.t.Errorf("production runs %s, want the untouched %s", got, previousImage)
	}
}

// waitForEvents waits until the request's Events include every reason in want.
func (j *journey) waitForEvents(want ...string) {
	j.t.Helper()
	eventually(j.t, func(context.Context) string {
		got := j.eventReasons()
		for _, reason := range want {
			if !slices.Contains(got, reason) {
				return fmt.Sprintf("Events %v lack %s", got, reason)
			}
		}
		return ""
	})
}

func productionSmoke(r *golivev1alpha1.UpdateRequest) {
	r.Spec.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("billing-smoke:2.4.0")}
}

func TestRejectedRequestEndsWithProductionUntouched(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	j.command("carol", "rnd-lead", golivev1alpha1.LedgerReject, "not before the audit")
	request := j.waitForPhase(golivev1alpha1.PhaseRejected)
	j.productionUntouched()
	// The Rejected entry; the staging restore may have followed it already.
	entry := request.Status.Timeline[slices.IndexFunc(request.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool { return e.Event == golivev1alpha1.ReasonRejected })]
	if entry.Actor != "carol" || !strings.Contains(entry.Message, "Rejected by carol (rnd-lead): not before the audit") {
		t.Errorf("the Rejected timeline entry = %+v", entry)
	}
	if request.Status.CompletedAt == nil || request.Status.Production != nil {
		t.Errorf("completedAt %v, production %+v", request.Status.CompletedAt, request.Status.Production)
	}
	j.waitForEvents(golivev1alpha1.ReasonRejected)
}

func TestAbortBeforeProductionEndsAborted(t *testing.T) {
	j := newJourney(t)
	j.waitForImageAndRollOut(j.staging, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)

	j.command("alice", "", golivev1alpha1.LedgerAbort, "wrong build")
	request := j.waitForPhase(golivev1alpha1.PhaseAborted)
	j.productionUntouched()
	if ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady); ready == nil || !strings.Contains(ready.Message, "Aborted by alice: wrong build") {
		t.Errorf("Ready = %+v", ready)
	}
	j.waitForEvents(golivev1alpha1.ReasonAborted)
}

func TestAbortDuringProductionRollsBack(t *testing.T) {
	j := newJourney(t, withRequest(productionSmoke))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifying)

	j.command("dave", "", golivev1alpha1.LedgerAbort, "customers report errors")
	j.waitForPhase(golivev1alpha1.PhaseRollingBack)
	j.waitForImageAndRollOut(j.production, previousImage)
	request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	if request.Status.Rollback == nil || !strings.Contains(request.Status.Rollback.Reason, "Aborted by dave: customers report errors") ||
		request.Status.Rollback.TargetsRestored != 1 {
		t.Errorf("rollback = %+v", request.Status.Rollback)
	}
	j.waitForEvents("ProductionStarted", golivev1alpha1.ReasonAborted, golivev1alpha1.ReasonFailed)
}

func TestSuspendHoldsTheRequestAtEachGate(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Suspend = true }))
	j.waitForReady(golivev1alpha1.ReasonSuspended, "Suspended before staging")
	if got := j.image(j.staging); got != previousImage {
		t.Fatalf("staging runs %s while the request is suspended", got)
	}

	j.setSuspend(false)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.setSuspend(true)
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonSuspended, "Suspended before production")
	j.productionUntouched()

	j.setSuspend(false)
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)
}

// weekdayEvenings is open Monday to Friday, 20:00 to 22:00 UTC.
func weekdayEvenings(spec *golivev1alpha1.GoLiveWindowSpec) {
	spec.Schedule = []golivev1alpha1.ScheduleEntry{{
		Days: []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "20:00", Duration: metav1.Duration{Duration: 2 * time.Hour},
	}}
}

// TestClosedWindowStartsProductionWhenTheClockReachesTheOpening checks the
// requeue through the manager: nothing polls, and production starts at the
// instant the fake clock reaches the opening.
func TestClosedWindowStartsProductionWhenTheClockReachesTheOpening(t *testing.T) {
	j := newJourney(t, withWindow(weekdayEvenings))
	opening := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	request := j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")
	if request.Status.Phase != golivev1alpha1.PhaseScheduled || !request.Status.Schedule.PlannedStart.Time.Equal(opening) {
		t.Fatalf("phase %s, schedule %+v", request.Status.Phase, request.Status.Schedule)
	}

	j.stepClockTo(opening.Add(-time.Second))
	j.productionUntouched()
	j.stepClockTo(opening)
	j.waitForImageAndRollOut(j.production, newImage)
	request = j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	if !request.Status.Production.StartedAt.Time.Equal(opening) {
		t.Errorf("production started at %s, want exactly the opening %s", request.Status.Production.StartedAt, opening)
	}
}

func TestFreezeHoldsProductionUntilItEnds(t *testing.T) {
	thaw := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	j := newJourney(t, withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		spec.Freezes = []golivev1alpha1.Freeze{{Name: "month-end", Start: "2026-11-23T00:00", End: "2026-11-23T18:00", Reason: "closing the books"}}
	}))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonFrozen, "forbids production changes until 2026-11-23T18:00:00Z")
	j.productionUntouched()

	j.stepClockTo(thaw)
	j.waitForImageAndRollOut(j.production, newImage)
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	if !request.Status.Production.StartedAt.Time.Equal(thaw) {
		t.Errorf("production started at %s, want the end of the freeze %s", request.Status.Production.StartedAt, thaw)
	}
}

func TestEmergencyUpdatesWithinAndBeyondTheBudget(t *testing.T) {
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "card payments fail", Incident: "INC-4711"}
		r.Spec.Staging.Soak = metav1.Duration{Duration: 24 * time.Hour}
	}
	j := newJourney(t, withRequest(emergency), withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		// Closed all week but Saturday morning: emergencies do not wait for it.
		spec.Schedule = []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{"Sat"}, Start: "08:00", Duration: metav1.Duration{Duration: 2 * time.Hour}}}
		spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 1, Period: metav1.Duration{Duration: 720 * time.Hour}}
	}))

	// Within the budget: no soak, no window; the emergency role approves too.
	j.passStaging()
	request := j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if request.Status.ApprovalSummary != "0/2" {
		t.Errorf("approvals %q, want 0/2 (rnd-lead and the emergency role)", request.Status.ApprovalSummary)
	}
	j.approve("bob", "rnd-lead")
	j.approve("erin", "cto")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	// Beyond it: the second emergency waits for the budget, production untouched.
	second := j.secondEmergencyOverBudget(emergency, "cto", "allows 1 emergency updates per 720h0m0s and 1 were used")
	if got := j.image(j.production); got != newImage {
		t.Fatalf("production runs %s, want %s until the budget allows the second emergency", got, newImage)
	}

	// The first emergency leaves the period: the window tells, the second goes.
	j.stepClockTo(journeyStart.Add(720 * time.Hour))
	second.waitForImageAndRollOut(j.production, "billing-api:2.4.1")
	second.waitForPhase(golivev1alpha1.PhaseSucceeded)
}

func TestTwoRequestsOnOneWorkloadTakeTurns(t *testing.T) {
	first := newJourney(t)
	first.waitForPhase(golivev1alpha1.PhaseStaging)
	// The second request uses a window of its own, so that only the end of
	// the first request, not a change of a shared window's status, wakes it.
	var shared golivev1alpha1.GoLiveWindow
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: first.production, Name: "always"}, &shared); err != nil {
		t.Fatal(err)
	}
	first.create(&golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Name: "always-too", Namespace: first.production}, Spec: shared.Spec})
	second := first.another("billing-2-5-0", func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Window.Name = "always-too"
		r.Spec.Release = "2.5.0"
		r.Spec.Targets[0].Images["api"] = "billing-api:2.5.0"
	})
	second.waitForReady(golivev1alpha1.ReasonTargetLocked, `UpdateRequest "billing-2-4-0" holds one of the targets`)

	first.passStaging()
	first.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if got := second.current().Status.Phase; got != golivev1alpha1.PhasePending {
		t.Fatalf("the second request is %s while the first holds the workload", got)
	}
	first.approve("bob", "rnd-lead")
	first.waitForImageAndRollOut(first.production, newImage)
	first.waitForPhase(golivev1alpha1.PhaseSucceeded)

	// The first ended, so the second takes the workload without anyone touching it.
	second.waitForImageAndRollOut(second.staging, "billing-api:2.5.0")
	second.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
}

// createdOnce records the UIDs of what golive created and fails if one is
// later replaced or a second one appears.
type createdOnce struct {
	j    *journey
	uids map[string]types.UID
	// maxJobs and maxConfigMaps bound what golive creates for the request
	// (2 of each unless set: the smoke Jobs, and the saved specs of
	// production and of staging).
	maxJobs, maxConfigMaps int
}

func (c *createdOnce) check() {
	c.j.t.Helper()
	ctx := c.j.t.Context()
	var jobs batchv1.JobList
	var configMaps corev1.ConfigMapList
	for _, namespace := range []string{c.j.staging, c.j.production} {
		var list batchv1.JobList
		if err := env.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{golivev1alpha1.LabelRequest: c.j.request.Name}); err != nil {
			c.j.t.Fatal(err)
		}
		jobs.Items = append(jobs.Items, list.Items...)
	}
	for _, namespace := range []string{c.j.staging, c.j.production} {
		var list corev1.ConfigMapList
		if err := env.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{golivev1alpha1.LabelRequest: c.j.request.Name}); err != nil {
			c.j.t.Fatal(err)
		}
		configMaps.Items = append(configMaps.Items, list.Items...)
	}
	objects := map[string]types.UID{}
	for _, job := range jobs.Items {
		objects["Job "+job.Namespace+"/"+job.Name] = job.UID
	}
	for _, configMap := range configMaps.Items {
		objects["ConfigMap "+configMap.Namespace+"/"+configMap.Name] = configMap.UID
	}
	if c.uids == nil {
		c.uids = map[string]types.UID{}
	}
	for name, uid := range objects {
		if known, ok := c.uids[name]; ok && known != uid {
			c.j.t.Errorf("%s was created twice (UID %s, then %s)", name, known, uid)
		}
		c.uids[name] = uid
	}
	maxJobs, maxConfigMaps := max(c.maxJobs, 2), max(c.maxConfigMaps, 2)
	if len(jobs.Items) > maxJobs || len(configMaps.Items) > maxConfigMaps {
		c.j.t.Errorf("golive created %d Jobs and %d ConfigMaps for one request, want at most %d and %d", len(jobs.Items), len(configMaps.Items), maxJobs, maxConfigMaps)
	}
}

// noRepeatedTimeline fails if the timeline records one transition twice.
func noRepeatedTimeline(t *testing.T, request golivev1alpha1.UpdateRequest) {
	t.Helper()
	for i := 1; i < len(request.Status.Timeline); i++ {
		if request.Status.Timeline[i].Phase == request.Status.Timeline[i-1].Phase && request.Status.Timeline[i].Event == request.Status.Timeline[i-1].Event {
			t.Errorf("the timeline records %s twice: %v", request.Status.Timeline[i].Event, timelineEvents(request))
		}
	}
}

// TestRestartInEveryPhase stops golive in each phase that waits for something
// and starts a new manager: it picks up where the old one was, creates nothing
// twice and wakes at the times the old one would have.
func TestRestartInEveryPhase(t *testing.T) {
	t.Run("to Succeeded", func(t *testing.T) {
		j := newJourney(t, withWindow(weekdayEvenings), withRequest(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Suspend = true
			r.Spec.Staging.Soak = metav1.Duration{Duration: time.Hour}
			productionSmoke(r)
			r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business", Timeout: metav1.Duration{Duration: 2 * time.Hour}, OnTimeout: golivev1alpha1.AcceptOnTimeout}
		}))
		created := &createdOnce{j: j}
		restartIn := func(phase golivev1alpha1.Phase) {
			t.Helper()
			j.waitForPhase(phase)
			created.check()
			j.operator.restart()
		}

		j.waitForReady(golivev1alpha1.ReasonSuspended, "Suspended before staging")
		restartIn(golivev1alpha1.PhasePending)
		j.setSuspend(false)
		j.waitForImage(j.staging, newImage)
		restartIn(golivev1alpha1.PhaseStaging)
		j.rollOut(j.staging)
		restartIn(golivev1alpha1.PhaseVerifyingStaging)
		j.finishJob(true)
		restartIn(golivev1alpha1.PhaseSoaking)
		j.stepClockTo(journeyStart.Add(time.Hour))
		restartIn(golivev1alpha1.PhaseAwaitingApproval)
		j.approve("bob", "rnd-lead")
		restartIn(golivev1alpha1.PhaseScheduled)
		j.stepClockTo(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC))
		j.waitForImage(j.production, newImage)
		restartIn(golivev1alpha1.PhaseUpdating)
		j.rollOut(j.production)
		restartIn(golivev1alpha1.PhaseVerifying)
		j.finishJobIn(verify.EnvironmentProduction, true)
		restartIn(golivev1alpha1.PhaseAwaitingAcceptance)
		// Nobody accepts: the acceptance timeout fires on the new manager's clock.
		j.stepClockTo(time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC))
		restartIn(golivev1alpha1.PhaseSucceeded)

		request := j.current()
		created.check()
		noRepeatedTimeline(t, request)
		want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", "ProductionStarted", "BackedUp", "Verifying", "Verified", golivev1alpha1.ReasonSucceeded}
		if got := timelineEvents(request); !slices.Equal(got, want) {
			t.Errorf("timeline = %v, want %v", got, want)
		}
		if accepted := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionAccepted); accepted == nil || accepted.Reason != golivev1alpha1.ReasonAcceptanceTimedOut {
			t.Errorf("Accepted = %+v, want accepted by timeout", accepted)
		}
		if j.operator.restartCount() != 10 {
			t.Errorf("restarted %d times", j.operator.restartCount())
		}
	})

	t.Run("to RolledBack", func(t *testing.T) {
		j := newJourney(t)
		j.passStaging()
		j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
		j.approve("bob", "rnd-lead")
		j.waitForImage(j.production, newImage)
		j.failRollout(j.production)
		j.waitForImage(j.production, previousImage)
		j.waitForPhase(golivev1alpha1.PhaseRollingBack)
		j.operator.restart()
		j.rollOut(j.production)
		request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
		noRepeatedTimeline(t, request)
		if request.Status.Rollback.TargetsRestored != 1 || request.Status.Rollback.CompletedAt == nil {
			t.Errorf("rollback = %+v", request.Status.Rollback)
		}
	})
}

// releaseScript plays a whole release with a production smoke Job and an
// acceptance, ending Succeeded, and checks the record.
func releaseScript(t *testing.T, j *journey) {
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.finishJobIn(verify.EnvironmentProduction, true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingAcceptance)
	j.command("frank", "business", golivev1alpha1.LedgerAccept, "invoices look right")
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", "ProductionStarted", "BackedUp", "Verifying", "Verified", golivev1alpha1.ReasonSucceeded}
	if got := timelineEvents(request); !slices.Equal(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	saved, err := workload.LoadSavedSpec(t.Context(), env.Client, ledgerKey, &request, request.Status.Backup.SavedSpecs, j.production, request.Spec.Targets[0])
	if err != nil || saved.PodTemplate.Spec.Containers[0].Image != previousImage {
		t.Errorf("saved spec = %+v, %v; want the previous image", saved, err)
	}
}

// rollbackScript plays a release whose production rollout fails, ending RolledBack.
func rollbackScript(t *testing.T, j *journey) {
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImage(j.production, newImage)
	j.failRollout(j.production)
	j.waitForImageAndRollOut(j.production, previousImage)
	j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	// The release was rolled back, so staging goes back to the previous version too.
	j.waitForImage(j.staging, previousImage)
	request := j.waitForStagingRestored()
	want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", "ProductionStarted", "BackedUp",
		golivev1alpha1.ReasonVerificationFailed, golivev1alpha1.ReasonFailed, golivev1alpha1.ReasonStagingRestored}
	if got := timelineEvents(request); !slices.Equal(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
}

// abortScript plays a release aborted while it waits for approval, ending
// Aborted with staging restored.
func abortScript(t *testing.T, j *journey) {
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.command("alice", "", golivev1alpha1.LedgerAbort, "wrong build")
	j.waitForPhase(golivev1alpha1.PhaseAborted)
	j.waitForImage(j.staging, previousImage)
	request := j.waitForStagingRestored()
	want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", golivev1alpha1.ReasonAborted, golivev1alpha1.ReasonStagingRestored}
	if got := timelineEvents(request); !slices.Equal(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	j.productionUntouched()
}

// supervisedScript plays releaseScript under a policy that asks for
// supervision: production starts on sam's go, given in AwaitingGo.
func supervisedScript(t *testing.T, j *journey) {
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForPhase(golivev1alpha1.PhaseAwaitingGo)
	j.productionUntouched()
	j.command("sam", "operations-supervisor", golivev1alpha1.LedgerGo, "on the bridge")
	j.waitForImageAndRollOut(j.production, newImage)
	j.finishJobIn(verify.EnvironmentProduction, true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingAcceptance)
	j.command("frank", "business", golivev1alpha1.LedgerAccept, "invoices look right")
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	want := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", golivev1alpha1.ReasonAwaitingGo,
		"ProductionStarted", "BackedUp", "Verifying", "Verified", golivev1alpha1.ReasonSucceeded}
	if got := timelineEvents(request); !slices.Equal(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
}

// TestKilledAfterAnyWriteReachesTheSameEnd kills golive right after each of
// its writes in turn (the moment a crash costs the most: the API server has
// the change, golive has not acted on it) and checks that the new manager
// finishes the release exactly as an uninterrupted one, creating nothing twice.
func TestKilledAfterAnyWriteReachesTheSameEnd(t *testing.T) {
	scripts := map[string]func(*testing.T, *journey){"release": releaseScript, "rollback": rollbackScript, "abort": abortScript, "supervised": supervisedScript,
		"content": contentRollbackScript}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			acceptance := withRequest(func(r *golivev1alpha1.UpdateRequest) {
				productionSmoke(r)
				r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business", Timeout: metav1.Duration{Duration: 2 * time.Hour}}
			})
			options := []journeyOption{acceptance}
			if name == "supervised" {
				options = append(options, withBeforeRequest(func(j *journey) { j.supervisedBy("supervised-"+j.production, "operations-supervisor") }))
			}
			// The release carries configuration and a migration: two more Jobs, and a copy of the ConfigMap in each namespace.
			maxJobs, maxConfigMaps := 2, 2
			if name == "content" {
				options = append(options, withBeforeRequest(configuredDeployment), withRequest(func(r *golivev1alpha1.UpdateRequest) {
					withContent(r)
					productionSmoke(r)
				}))
				maxJobs, maxConfigMaps = 4, 4
			}
			// An uninterrupted run counts the writes.
			var writes int32
			t.Run("uninterrupted", func(t *testing.T) {
				j := newJourney(t, options...)
				script(t, j)
				writes = j.operator.writes.Load()
			})
			if writes == 0 {
				t.Fatal("the uninterrupted run made no writes")
			}
			for n := int32(1); n <= writes; n++ {
				t.Run(fmt.Sprintf("after write %d of %d", n, writes), func(t *testing.T) {
					t.Parallel()
					// A run may take fewer writes than the one that counted them:
					// changes that arrive together are decided in one patch, and a
					// patch refused by the optimistic lock is retried, not counted.
					// Such a run never reaches write n; the release is played
					// again, a few times at most, until one does.
					const attempts = 3
					for attempt := 1; ; attempt++ {
						j := newJourney(t, append(slices.Clone(options), killingAfterWrite(n))...)
						created := &createdOnce{j: j, maxJobs: maxJobs, maxConfigMaps: maxConfigMaps}
						script(t, j)
						// The planned kill must happen, and the operator restart
						// once: a run that never reached write n tested nothing.
						// Only the kill after the last write may be missed.
						var short bool
						eventually(t, func(context.Context) string {
							kills, restarts, made := j.operator.kills.Load(), j.operator.restartCount(), j.operator.writes.Load()
							switch {
							case kills == 1 && restarts == 1:
								return ""
							case kills == 0 && made < n && (n == writes || attempt < attempts):
								t.Logf("run %d made %d writes, fewer than %d: the kill after write %d did not happen", attempt, made, n, n)
								short = true
								return ""
							case kills == 0:
								return fmt.Sprintf("the planned kill after write %d never happened (%d writes made)", n, made)
							}
							return fmt.Sprintf("the operator was killed %d times and restarted %d times, want once each", kills, restarts)
						})
						created.check()
						noRepeatedTimeline(t, j.current())
						if !short || n == writes {
							return
						}
					}
				})
			}
		})
	}
}

// TestWindowOpeningStartsNoMoreThanMaxConcurrent opens a window on six
// approved requests at once, with several workers: exactly maxConcurrent of
// them start production, the others wait for room. The window's status lags
// behind the starts it counts, so this holds only because starts are admitted
// one at a time from the requests themselves.
func TestWindowOpeningStartsNoMoreThanMaxConcurrent(t *testing.T) {
	const maxConcurrent = 2
	j := newJourney(t, withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		weekdayEvenings(spec)
		spec.MaxConcurrent = maxConcurrent
	}))
	opening := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	journeys := []*journey{j}
	for i := range 5 {
		name := fmt.Sprintf("svc-%d", i)
		j.addDeployment(name, name)
		journeys = append(journeys, j.another(name+"-2-4-0", func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Targets[0].Name = name
			r.Spec.Staging.Verify.Jobs = nil
		}))
	}
	j.passStaging()
	for _, other := range journeys[1:] {
		target := other.request.Spec.Targets[0].Name
		other.waitForImageOf(j.staging, target, newImage)
		j.rollOutDeployment(j.staging, target)
	}
	for _, each := range journeys {
		each.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
		each.approve("bob", "rnd-lead")
	}
	for _, each := range journeys {
		each.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")
	}

	// Every request wakes at the opening at once. Whenever a production
	// update ends, the window's status wakes those waiting for room.
	j.stepClockTo(opening)
	target := func(request golivev1alpha1.UpdateRequest) string { return request.Spec.Targets[0].Name }
	for succeeded := 0; succeeded < len(journeys); {
		var started []golivev1alpha1.UpdateRequest
		eventually(t, func(context.Context) string {
			started = nil
			for _, each := range journeys {
				request := each.current()
				ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
				switch {
				case request.Status.Phase == golivev1alpha1.PhaseSucceeded:
				case request.Status.Phase.TouchesProduction():
					started = append(started, request)
				case ready == nil || ready.Reason != golivev1alpha1.ReasonConcurrencyLimit:
					return fmt.Sprintf("%s is %s, neither started nor waiting for room", request.Name, each.describe())
				}
			}
			if want := min(maxConcurrent, len(journeys)-succeeded); len(started) < want {
				return fmt.Sprintf("%d production updates running, want %d", len(started), want)
			}
			return ""
		})
		// Nothing rolls production out but the test, so whatever started is still running.
		if len(started) > maxConcurrent {
			t.Fatalf("%d production updates run at once; the window allows %d", len(started), maxConcurrent)
		}
		for _, request := range started {
			j.waitForImageOf(j.production, target(request), newImage)
			j.rollOutDeployment(j.production, target(request))
		}
		for _, each := range journeys {
			for _, request := range started {
				if each.request.Name == request.Name {
					each.waitForPhase(golivev1alpha1.PhaseSucceeded)
					succeeded++
				}
			}
		}
	}
}

// secondEmergencyOverBudget requests release 2.4.1 as a second emergency under
// a window that allows one per period, takes it through staging and both
// approvals (rnd-lead and emergencyRole), and waits until it stops on the
// exhausted budget, its Ready message saying budget; emergency makes it an
// emergency request.
func (j *journey) secondEmergencyOverBudget(emergency func(*golivev1alpha1.UpdateRequest), emergencyRole, budget string) *journey {
	second := j.another("billing-2-4-1", func(r *golivev1alpha1.UpdateRequest) {
		emergency(r)
		r.Spec.Release = "2.4.1"
		r.Spec.Targets[0].Images["api"] = "billing-api:2.4.1"
	})
	second.waitForImageAndRollOut(j.staging, "billing-api:2.4.1")
	second.finishJob(true)
	second.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	second.approve("bob", "rnd-lead")
	second.approve("erin", emergencyRole)
	second.waitForReady(golivev1alpha1.ReasonEmergencyBudgetExhausted, budget)
	return second
}

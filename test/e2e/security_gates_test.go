package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/test/cluster"
)

// trent administers the cluster's workloads: a ClusterRole lets him write
// updaterequests/status, but he is not in the break-glass group.
var trent = person{user: "trent@example.com"}

// productionUntouched fails unless production's billing API asks for image at
// generation, as before the attack.
func (a *app) productionUntouched(image string, generation int64) {
	a.t.Helper()
	if got, gotGeneration := a.productionImage(); got != image || gotGeneration != generation {
		a.t.Errorf("production's %s is %s at generation %d, want untouched: %s at generation %d", api, got, gotGeneration, image, generation)
	}
}

// forgeStatus has p write the request's status with forge applied, then
// pokes the request (golive does not wake for status writes) as p.
func forgeStatus(t *testing.T, cl *cluster.Cluster, p person, r *release, forge func(*golivev1alpha1.UpdateRequestStatus)) error {
	t.Helper()
	request := r.current()
	base := request.DeepCopy()
	forge(&request.Status)
	if err := as(t, cl, p).Status().Patch(t.Context(), &request, client.MergeFrom(base)); err != nil {
		return err
	}
	poke := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"e2e.golive.dev/poke":%q}}}`, time.Now().Format(time.RFC3339Nano)))
	if err := as(t, cl, p).Patch(t.Context(), &request, client.RawPatch(types.MergePatchType, poke)); err != nil {
		t.Fatalf("%s poking the request: %v", p.user, err)
	}
	return nil
}

// readyMessage is the message of the request's Ready condition.
func readyMessage(request golivev1alpha1.UpdateRequest) string {
	if ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
		return ready.Message
	}
	return ""
}

// forgedStatus: attack 1. trent, whom RBAC lets write request status, moves a
// fresh request to Scheduled: the status policy refuses him. sre, in the
// break-glass group, does write it, with approvals and a verified staging
// besides: golive re-derives the gates at the production start and refuses
// to start; a status claiming Updating is not believed either. Production
// is untouched throughout.
func forgedStatus(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "forged-status", alwaysOpen(), appOptions{})
	imageBefore, generationBefore := a.productionImage()
	create(t, a.c, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-updaterequest-status-writer"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{golivev1alpha1.GroupVersion.Group},
			Resources: []string{"updaterequests", "updaterequests/status"}, Verbs: []string{"get", "list", "patch", "update"}}},
	})
	create(t, a.c, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "trent-status-writer", Namespace: a.production},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "e2e-updaterequest-status-writer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: trent.user}},
	})
	waitForAccess(t, cl, trent, authorizationv1.ResourceAttributes{Namespace: a.production, Verb: "patch",
		Group: golivev1alpha1.GroupVersion.Group, Resource: "updaterequests", Subresource: "status"})

	request := a.request("billing-2-5-0", "2.5.0")
	request.Spec.Suspend = true
	r := a.create(request)
	r.waitForReason(golivev1alpha1.ReasonSuspended)

	scheduled := func(status *golivev1alpha1.UpdateRequestStatus) {
		now := metav1.Now()
		status.Phase = golivev1alpha1.PhaseScheduled
		status.ApprovalSummary = "2/2"
		status.Approvals = []golivev1alpha1.ApprovalRecord{{Role: roleRnDLead, User: bob.user, At: now}, {Role: roleOperationsOffice, User: carol.user, At: now}}
		status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: &now, VerifiedAt: &now}
	}
	err := forgeStatus(t, cl, trent, r, scheduled)
	wantRefusal(t, err, "updaterequests/status is written by golive alone (system:serviceaccount:"+cluster.GoliveNamespace+":"+cluster.GoliveServiceAccount+
		"): golive does not trust a status it did not write; "+trent.user+" is not in the break-glass group golive:break-glass")
	t.Logf("trent was refused: %v", err)
	if phase := r.current().Status.Phase; phase.TouchesProduction() || phase == golivev1alpha1.PhaseScheduled {
		t.Fatalf("after the refusal the request is %s", phase)
	}

	if err := forgeStatus(t, cl, sre, r, scheduled); err != nil {
		t.Fatalf("break-glass forging Scheduled: %v", err)
	}
	a.setSuspend(r, false)
	stalled := r.waitForReason(golivev1alpha1.ReasonGateNotPassed)
	for _, gate := range []string{"Production was not started; gates not met",
		"staging: golive has no signed record that staging passed its verification for this spec",
		"approvals: the signed ledger does not meet the quorum"} {
		if !strings.Contains(readyMessage(stalled), gate) {
			t.Errorf("Ready says %q, want it to name %q", readyMessage(stalled), gate)
		}
	}
	if stalled.Status.Phase != golivev1alpha1.PhaseScheduled || stalled.Status.Production != nil {
		t.Errorf("phase %s, production %+v; want Scheduled and production not started", stalled.Status.Phase, stalled.Status.Production)
	}
	a.productionUntouched(imageBefore, generationBefore)

	// A status that claims production started, with a record golive did not sign.
	if err := forgeStatus(t, cl, sre, r, func(status *golivev1alpha1.UpdateRequestStatus) {
		now := metav1.Now()
		status.Phase = golivev1alpha1.PhaseUpdating
		status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: &now}
		status.Backup = &golivev1alpha1.BackupStatus{SavedSpecs: "billing-2-5-0-saved-specs", CompletedAt: &now}
		status.GateRecords = append(status.GateRecords, golivev1alpha1.GateRecord{Gate: golivev1alpha1.GateProductionStarted,
			SpecHash: status.SpecHash, At: now, Signature: "bm90IGdvbGl2ZSdz"})
	}); err != nil {
		t.Fatalf("break-glass forging Updating: %v", err)
	}
	untrusted := r.waitForReason(golivev1alpha1.ReasonStatusNotTrusted)
	if want := "The status says phase Updating, but golive has no signed record that production started for this spec; nothing was changed"; readyMessage(untrusted) != want {
		t.Errorf("Ready says %q, want %q", readyMessage(untrusted), want)
	}
	a.productionUntouched(imageBefore, generationBefore)
}

// staleJob: attack 3. Staging passed with the smoke Job of the first spec;
// alice changes the spec, and the new spec's smoke test fails. golive runs a
// new Job, named and labelled for the new spec hash, deletes the old one and
// counts only the new result: the request fails, production untouched.
func staleJob(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "stale-job", alwaysOpen(), appOptions{})
	imageBefore, generationBefore := a.productionImage()
	r := a.create(a.request("billing-2-5-1", "2.5.1"))
	first := r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if check := findCheck(first.Status.Staging, "smoke"); check == nil || check.Result != golivev1alpha1.CheckPassed {
		t.Fatalf("staging check smoke = %+v, want Passed for the first spec", check)
	}
	oldHash := ledger.SpecHash(&first.Spec)
	oldJob := client.ObjectKey{Namespace: a.staging, Name: verify.JobName(first.Name, verify.EnvironmentStaging, "smoke", oldHash)}
	var job batchv1.Job
	if err := a.c.Get(t.Context(), oldJob, &job); err != nil {
		t.Fatalf("the first spec's smoke Job: %v", err)
	}

	changed := first.DeepCopy()
	changed.Spec.Release = "2.5.2"
	changed.Spec.Targets[0].Images = map[string]golivev1alpha1.Image{apiContainer: golivev1alpha1.Image(apiImage("2.5.2"))}
	changed.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob(true)}
	if err := as(t, cl, alice).Patch(t.Context(), changed, client.MergeFrom(&first)); err != nil {
		t.Fatalf("alice changing the spec: %v", err)
	}
	failed := r.waitForPhase(golivev1alpha1.PhaseFailed)
	t.Logf("the request's timeline:\n%s", timeline(failed))
	if check := findCheck(failed.Status.Staging, "smoke"); check == nil || check.Result != golivev1alpha1.CheckFailed {
		t.Errorf("staging check smoke = %+v, want Failed: the first spec's passed Job must not count", check)
	}
	if !slices.ContainsFunc(failed.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool { return e.Event == golivev1alpha1.ReasonSpecChanged }) {
		t.Errorf("the timeline records no spec change")
	}

	newHash := ledger.SpecHash(&failed.Spec)
	newJob := client.ObjectKey{Namespace: a.staging, Name: verify.JobName(failed.Name, verify.EnvironmentStaging, "smoke", newHash)}
	if newJob == oldJob {
		t.Fatalf("the Job of the new spec has the old one's name %s", oldJob.Name)
	}
	if err := a.c.Get(t.Context(), newJob, &job); err != nil {
		t.Fatalf("the new spec's smoke Job %s: %v", newJob.Name, err)
	}
	if got, want := job.Labels[golivev1alpha1.LabelSpecHash], ledger.ShortSpecHash(newHash); got != want {
		t.Errorf("Job %s has %s=%q, want the new spec's %q", job.Name, golivev1alpha1.LabelSpecHash, got, want)
	}
	cluster.Eventually(t, timeout, "golive to delete the first spec's Job "+oldJob.Name, func(ctx context.Context) (bool, string, error) {
		err := a.c.Get(ctx, oldJob, &batchv1.Job{})
		return apierrors.IsNotFound(err), fmt.Sprintf("Get: %v", err), nil
	})
	a.productionUntouched(imageBefore, generationBefore)
}

// emergencyWindow is closed for days and allows one emergency a period.
func emergencyWindow() golivev1alpha1.GoLiveWindowSpec {
	opensOn := golivev1alpha1.Weekday(time.Now().UTC().AddDate(0, 0, 3).Format("Mon"))
	return golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC",
		Schedule:  []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{opensOn}, Start: "20:00", Duration: metav1.Duration{Duration: time.Hour}}},
		Emergency: &golivev1alpha1.EmergencyPolicy{Roles: []string{roleCTO}, MaxPerPeriod: 1, Period: metav1.Duration{Duration: 720 * time.Hour}},
	}
}

// approveEmergency gives the approvals an emergency needs.
func approveEmergency(t *testing.T, cl *cluster.Cluster, r *release) {
	t.Helper()
	approve(t, cl, bob, r.key, roleRnDLead, "one-line fix")
	approve(t, cl, carol, r.key, roleOperationsOffice, "informed")
	approve(t, cl, dana, r.key, roleCTO, "go")
}

// waitUntilGone waits until the request no longer exists.
func (r *release) waitUntilGone() {
	r.t.Helper()
	cluster.Eventually(r.t, timeout, "UpdateRequest "+r.key.String()+" to go", func(ctx context.Context) (bool, string, error) {
		err := r.c.Get(ctx, r.key, &golivev1alpha1.UpdateRequest{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		return false, r.describe(), err
	})
}

// deletedEmergency: attack 7. The window allows one emergency a period; the
// first goes live and alice deletes it. The window keeps its start, so the
// next emergency waits, saying the budget is used.
func deletedEmergency(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "budget", emergencyWindow(), appOptions{})
	fix := a.request("billing-2-5-3", "2.5.3")
	fix.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "invoices are charged twice", Incident: "INC-4811"}
	r := a.create(fix)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approveEmergency(t, cl, r)
	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	waitForRollout(t, a.c, a.production, api, apiImage("2.5.3"), r.describe)

	if err := as(t, cl, alice).Delete(t.Context(), &done); err != nil {
		t.Fatalf("alice deleting her emergency request: %v", err)
	}
	r.waitUntilGone()
	var glw golivev1alpha1.GoLiveWindow
	if err := a.c.Get(t.Context(), client.ObjectKey{Namespace: a.production, Name: apiWindow}, &glw); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(glw.Status.EmergencyStarts, func(start golivev1alpha1.EmergencyStart) bool { return start.UID == string(done.UID) }) {
		t.Errorf("window status.emergencyStarts = %+v, want the deleted request's start", glw.Status.EmergencyStarts)
	}

	second := a.request("billing-2-5-4", "2.5.4")
	second.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "another one", Incident: "INC-4812"}
	r2 := a.create(second)
	r2.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approveEmergency(t, cl, r2)
	waiting := r2.waitForReason(golivev1alpha1.ReasonEmergencyBudgetExhausted)
	if want := fmt.Sprintf("GoLiveWindow %q allows 1 emergency updates per 720h0m0s and 1 were used", apiWindow); readyMessage(waiting) != want {
		t.Errorf("Ready says %q, want %q", readyMessage(waiting), want)
	}
	if waiting.Status.Phase != golivev1alpha1.PhaseScheduled {
		t.Errorf("the second emergency is %s, want Scheduled", waiting.Status.Phase)
	}
	if image, _ := a.productionImage(); image != apiImage("2.5.3") {
		t.Errorf("production runs %s, want the deleted fix %s", image, apiImage("2.5.3"))
	}
}

// deletedWhileVerifying: attack 8. alice deletes her request while
// production is verified and failing: golive keeps it (and its saved specs)
// until it rolled production back, and only then lets it go.
func deletedWhileVerifying(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "deleted-verifying", alwaysOpen(), appOptions{})
	health := newHealthServer(t, http.StatusServiceUnavailable)
	request := a.request("billing-2-5-5", "2.5.5")
	request.Spec.Verify.Timeout = metav1.Duration{Duration: 30 * time.Minute}
	request.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(health.URL + "/healthz")}
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
	verifying := r.waitForPhase(golivev1alpha1.PhaseVerifying)
	waitForRollout(t, a.c, a.production, api, apiImage("2.5.5"), r.describe)
	savedSpecs := client.ObjectKey{Namespace: a.production, Name: verifying.Status.Backup.SavedSpecs}

	if err := as(t, cl, alice).Delete(t.Context(), &verifying); err != nil {
		t.Fatalf("alice deleting her request in Verifying: %v", err)
	}
	deleted := r.current()
	if deleted.DeletionTimestamp.IsZero() {
		t.Fatalf("the request has no deletionTimestamp after its deletion")
	}
	if err := a.c.Get(t.Context(), savedSpecs, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the saved specs the rollback needs, right after the deletion: %v", err)
	}
	r.waitUntilGone()
	// Gone only after the rollback ended: production already runs the previous version.
	if image, _ := a.productionImage(); image != apiPrevious {
		t.Errorf("production runs %s once the deleted request went, want %s", image, apiPrevious)
	}
	waitForRollout(t, a.c, a.production, api, apiPrevious, func() string { return "" })
	for _, note := range []string{"Rolling back: " + "the request was deleted", "Rolled back: the request was deleted"} {
		waitForEvent(t, a.c, r.key, note)
	}
}

// waitForEvent waits for an Event regarding the request whose note contains note.
func waitForEvent(t *testing.T, c client.Client, key client.ObjectKey, note string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	cluster.Eventually(t, timeout, fmt.Sprintf("an Event saying %q", note), func(ctx context.Context) (bool, string, error) {
		var events eventsv1.EventList
		if err := c.List(ctx, &events, client.InNamespace(key.Namespace)); err != nil {
			return false, "", err
		}
		var notes []string
		for _, event := range events.Items {
			if event.Regarding.Name != key.Name {
				continue
			}
			if strings.Contains(event.Note, note) {
				found = event
				return true, "", nil
			}
			notes = append(notes, event.Reason+": "+event.Note)
		}
		return false, "Events: " + strings.Join(notes, "\n  "), nil
	})
	return found
}

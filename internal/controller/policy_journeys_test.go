package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/verify"
)

// governedBy labels the journey's production namespace so that a policy of
// its own selects it (tests share the cluster-scoped policies).
func (j *journey) governedBy(name string, required ...golivev1alpha1.RoleQuorum) *golivev1alpha1.GoLivePolicy {
	j.t.Helper()
	ctx := j.t.Context()
	var namespace corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: j.production}, &namespace); err != nil {
		j.t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "golive-test/policy", name)
	if err := env.Client.Patch(ctx, &namespace, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			Approvals:         &golivev1alpha1.PolicyApprovals{Required: required},
		},
	}
	if err := env.Client.Create(ctx, p); err != nil {
		j.t.Fatal(err)
	}
	j.t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	return p
}

// A policy that starts asking for more stalls the requests that have not
// reached production, naming the policy and the field; relaxed, they go on,
// and production records the policy and generation it started under.
func TestPolicyChangeStallsRequestsBeforeProduction(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	name := "stricter-" + j.production
	p := j.governedBy(name, golivev1alpha1.RoleQuorum{Role: "cfo", Count: 1})
	want := "spec.approvals.required: policy " + name + " requires role cfo (count 1)"
	eventually(t, func(ctx context.Context) string {
		request := j.current()
		stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != golivev1alpha1.ReasonPolicyNotMet || !strings.Contains(stalled.Message, want) {
			return fmt.Sprintf("Stalled = %+v, want PolicyNotMet saying %q", stalled, want)
		}
		return ""
	})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if got.Status.Namespaces != 1 || ready == nil || ready.Status != metav1.ConditionTrue || ready.Message != "Governs the requests of 1 namespace" {
			return fmt.Sprintf("policy status %+v", got.Status)
		}
		return ""
	})
	// Approving is no way around it: production does not start.
	j.approve("bob", "rnd-lead")
	j.productionUntouched()

	var current golivev1alpha1.GoLivePolicy
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(p), &current); err != nil {
		t.Fatal(err)
	}
	base := current.DeepCopy()
	current.Spec.Approvals.Required = []golivev1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}}
	if err := env.Client.Patch(t.Context(), &current, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	j.waitForImageAndRollOut(j.production, newImage)
	request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	wantApplied := golivev1alpha1.AppliedPolicy{Name: name, Generation: current.Generation}
	if !slices.Contains(request.Status.Policies, wantApplied) {
		t.Errorf("status.policies = %+v, want %+v", request.Status.Policies, wantApplied)
	}
}

func TestPolicyStatusSaysWhatItGovernsAndWhatIsWrong(t *testing.T) {
	name := "nobody-" + newNamespace(t)
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			References:        []golivev1alpha1.PolicyReference{{Type: "change", Pattern: "^CHG[0-9"}},
		},
	}
	if err := env.Client.Create(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	sound := p.DeepCopy()
	sound.Name, sound.ResourceVersion = name+"-sound", ""
	sound.Spec.References[0].Pattern = "^CHG[0-9]{7}$"
	if err := env.Client.Create(t.Context(), sound); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), sound) })
	startOperator(&operator{t: t, namespaces: []string{newNamespace(t)}, clock: clocktesting.NewFakeClock(journeyStart)})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sound), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != golivev1alpha1.ReasonNoNamespaceSelected || got.Status.Namespaces != 0 {
			return fmt.Sprintf("Ready = %+v, namespaces %d; want True, NoNamespaceSelected", ready, got.Status.Namespaces)
		}
		return ""
	})
	eventually(t, func(ctx context.Context) string {
		var got golivev1alpha1.GoLivePolicy
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, golivev1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionFalse || !strings.Contains(ready.Message, "spec.references[0].pattern: not a regular expression") {
			return fmt.Sprintf("Ready = %+v, want False naming the pattern", ready)
		}
		return ""
	})
}

// supervisedBy makes a policy of the journey's own ask for a go from role.
func (j *journey) supervisedBy(name, role string) *golivev1alpha1.GoLivePolicy {
	j.t.Helper()
	p := j.governedBy(name)
	base := p.DeepCopy()
	p.Spec.Approvals, p.Spec.Supervision = nil, &golivev1alpha1.PolicySupervision{Role: role}
	if err := env.Client.Patch(j.t.Context(), p, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
	return p
}

// One executes, one supervises: once the window is open and every other gate
// passed, production waits for a go from the policy's supervision role. The
// requester's go does not count; without a go before the opening no longer
// fits production, the request waits for the next opening, where a go given
// then starts production.
func TestSupervisedRequestStartsProductionAfterGo(t *testing.T) {
	j := newJourney(t, withWindow(weekdayEvenings))
	name := "supervised-" + j.production
	p := j.supervisedBy(name, "operations-supervisor")
	monday := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")

	j.stepClockTo(monday)
	request := j.waitForReady(golivev1alpha1.ReasonAwaitingGo, "from a person holding role operations-supervisor who is not the requester until")
	supervision := request.Status.Supervision
	if request.Status.Phase != golivev1alpha1.PhaseAwaitingGo || supervision == nil || supervision.Until == nil ||
		!slices.Equal(supervision.Roles, []string{"operations-supervisor"}) || !supervision.Until.Time.Before(monday.Add(2*time.Hour)) {
		t.Fatalf("phase %s, supervision %+v; want AwaitingGo for operations-supervisor until the opening no longer fits", request.Status.Phase, supervision)
	}
	until := supervision.Until.Time
	j.command("alice", "operations-supervisor", golivev1alpha1.LedgerGo, "my own go")
	j.waitForEvents(golivev1alpha1.ReasonAwaitingGo)
	j.productionUntouched()

	// Nobody else said go: the opening no longer fits production and the request waits for Tuesday's.
	j.stepClockTo(until.Add(time.Second))
	request = j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-24T20:00:00Z")
	if request.Status.Phase != golivev1alpha1.PhaseScheduled {
		t.Fatalf("phase %s, want Scheduled once the opening no longer fits", request.Status.Phase)
	}
	j.waitForEvents(golivev1alpha1.ReasonGoLapsed)
	j.productionUntouched()

	tuesday := monday.Add(24 * time.Hour)
	j.stepClockTo(tuesday)
	j.waitForReady(golivev1alpha1.ReasonAwaitingGo, "operations-supervisor")
	j.command("sam", "operations-supervisor", golivev1alpha1.LedgerGo, "on the bridge")
	j.waitForImageAndRollOut(j.production, newImage)
	request = j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	if !request.Status.Production.StartedAt.Time.Equal(tuesday) {
		t.Errorf("production started at %s, want at sam's go %s", request.Status.Production.StartedAt, tuesday)
	}
	started := request.Status.Timeline[slices.IndexFunc(request.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool {
		return e.Event == golivev1alpha1.ReasonProductionStarted
	})]
	if started.Actor != "sam" || !strings.Contains(started.Message, "Go given by sam (operations-supervisor): on the bridge") {
		t.Errorf("the ProductionStarted entry = %+v, want sam's go", started)
	}
	var events []string
	for _, entry := range request.Status.Timeline {
		events = append(events, entry.Event)
	}
	want := []string{"Approved", golivev1alpha1.ReasonAwaitingGo, golivev1alpha1.ReasonGoLapsed, golivev1alpha1.ReasonAwaitingGo, golivev1alpha1.ReasonProductionStarted}
	if at := slices.Index(events, "Approved"); at < 0 || len(events) < at+len(want) || !slices.Equal(events[at:at+len(want)], want) {
		t.Errorf("timeline events %v, want %v in a row", events, want)
	}
	noRepeatedTimeline(t, request)
	given := request.Status.Supervision
	if given == nil || len(given.Given) != 1 || given.Given[0].User != "sam" {
		t.Errorf("status.supervision = %+v, want sam's go recorded", given)
	}
	if wantApplied := (golivev1alpha1.AppliedPolicy{Name: name, Generation: p.Generation}); !slices.Contains(request.Status.Policies, wantApplied) {
		t.Errorf("status.policies = %+v, want %+v", request.Status.Policies, wantApplied)
	}
}

// A policy's staging.maxAge: staging verified in the morning is too old for
// the evening's opening, so golive verifies it again, with a new Job, before
// production starts; the soak and the approvals stand.
func TestStagingOlderThanMaxAgeIsVerifiedAgainBeforeProduction(t *testing.T) {
	j := newJourney(t, withWindow(weekdayEvenings))
	opening := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	name := "fresh-staging-" + j.production
	p := j.governedBy(name)
	base := p.DeepCopy()
	p.Spec.Staging = &golivev1alpha1.PolicyStaging{MaxAge: &metav1.Duration{Duration: 2 * time.Hour}}
	if err := env.Client.Patch(t.Context(), p, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}

	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	verified := j.current()
	firstJob := verify.JobName(verified.Name, verify.EnvironmentStaging, "smoke", ledger.SpecHash(&verified.Spec))
	j.approve("bob", "rnd-lead")
	j.waitForReady(golivev1alpha1.ReasonWindowClosed, "planned start 2026-11-23T20:00:00Z")

	j.stepClockTo(opening)
	request := j.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	j.productionUntouched()
	if got := request.Status.Staging; got.Reverifications != 1 || got.ReverificationStartedAt == nil || !got.ReverificationStartedAt.Time.Equal(opening) {
		t.Fatalf("status.staging = %+v, want reverification 1 started at %s", got, opening)
	}
	// The first verification's Job, passed in the morning, is gone and never counted.
	eventually(t, func(ctx context.Context) string {
		var job batchv1.Job
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.staging, Name: firstJob}, &job)
		if err == nil && job.DeletionTimestamp == nil {
			return "the first verification's Job " + firstJob + " is still there"
		}
		return ""
	})
	j.finishJob(true)
	j.waitForImageAndRollOut(j.production, newImage)
	request = j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	staging := request.Status.Staging
	if staging.ReverifiedAt == nil || !staging.ReverifiedAt.Time.Equal(opening) || !staging.VerifiedAt.Time.Equal(journeyStart) {
		t.Errorf("status.staging = %+v, want verifiedAt %s kept and reverifiedAt %s", staging, journeyStart, opening)
	}
	if !request.Status.Production.StartedAt.Time.Equal(opening) {
		t.Errorf("production started at %s, want %s, right after staging passed again", request.Status.Production.StartedAt, opening)
	}
}

// A policy's emergency rules replace the window's: its roles are the ones an
// emergency needs, and its budget holds where the window's would allow more.
func TestPolicyEmergencyRulesReplaceTheWindows(t *testing.T) {
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "card payments fail", Incident: "INC-4711"}
	}
	j := newJourney(t, withRequest(emergency), withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 5, Period: metav1.Duration{Duration: 720 * time.Hour}}
	}))
	name := "emergencies-" + j.production
	p := j.governedBy(name)
	base := p.DeepCopy()
	p.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"ciso"}, MaxPerPeriod: 1, Period: metav1.Duration{Duration: 720 * time.Hour}}
	if err := env.Client.Patch(t.Context(), p, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}

	// The window's emergency role does not count; the policy's does.
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.approve("frank", "cto")
	j.waitForReady(golivev1alpha1.ReasonAwaitingApproval, "ciso")
	j.productionUntouched()
	j.approve("erin", "ciso")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	// The window would allow five emergencies a period; the policy allows one.
	j.secondEmergencyOverBudget(emergency, "ciso",
		`GoLivePolicy "`+name+`" (its emergency rules replace GoLiveWindow "always"'s) allows 1 emergency updates per 720h0m0s and 1 were used`)
	if got := j.image(j.production); got != newImage {
		t.Errorf("production runs %s, want %s: the second emergency is over the policy's budget", got, newImage)
	}
}

// backup.requireSnapshots: a claim production mounts that the request's
// selector leaves out stalls the request before anything changes, naming the
// claim; labelled so the selector takes it, the request goes on.
func TestPolicyRequiresSnapshotsOfEveryMountedClaim(t *testing.T) {
	ensureSnapshotClass(t)
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
		r.Spec.Backup.VolumeSnapshotClassName = testSnapshotClass
	}), withBeforeRequest(func(j *journey) {
		p := j.governedBy("snapshots-" + j.production)
		base := p.DeepCopy()
		p.Spec.Backup = &golivev1alpha1.PolicyBackup{RequireSnapshots: true}
		if err := env.Client.Patch(j.t.Context(), p, client.MergeFrom(base)); err != nil {
			j.t.Fatal(err)
		}
		j.boundClaim("billing-data")
		j.create(&corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "billing-logs", Namespace: j.production},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		})
		var deployment appsv1.Deployment
		if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: j.production, Name: "billing-api"}, &deployment); err != nil {
			j.t.Fatal(err)
		}
		base2 := deployment.DeepCopy()
		for _, claim := range []string{"billing-data", "billing-logs"} {
			deployment.Spec.Template.Spec.Volumes = append(deployment.Spec.Template.Spec.Volumes, corev1.Volume{Name: claim,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		}
		if err := env.Client.Patch(j.t.Context(), &deployment, client.MergeFrom(base2)); err != nil {
			j.t.Fatal(err)
		}
		j.rollOutDeployment(j.production, "billing-api")
	}))

	want := `spec.backup.volumeClaimSelector: policy snapshots-` + j.production + ` requires snapshots of every claim production mounts; it does not select claim "billing-logs", mounted by Deployment "billing-api"`
	eventually(t, func(ctx context.Context) string {
		stalled := meta.FindStatusCondition(j.current().Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || stalled.Reason != golivev1alpha1.ReasonPolicyNotMet || !strings.Contains(stalled.Message, want) {
			return fmt.Sprintf("Stalled = %+v, want PolicyNotMet saying %q", stalled, want)
		}
		return ""
	})
	if got := j.image(j.staging); got != previousImage {
		t.Errorf("staging runs %s, want it untouched while the request stalls", got)
	}

	// Labelled, the claim is selected: the claim's change wakes the request.
	var logs corev1.PersistentVolumeClaim
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: j.production, Name: "billing-logs"}, &logs); err != nil {
		t.Fatal(err)
	}
	base := logs.DeepCopy()
	logs.Labels = map[string]string{"app": "billing"}
	if err := env.Client.Patch(t.Context(), &logs, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	j.waitForImageAndRollOut(j.staging, newImage)
}

// A namespace labelled so that a policy selects it: its requests that have
// not reached production re-check at once, without a change of their own.
func TestNamespaceNewlyGovernedStallsItsRequests(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	name := "relabel-" + j.production
	p := &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"golive-test/policy": name}},
			Approvals:         &golivev1alpha1.PolicyApprovals{Required: []golivev1alpha1.RoleQuorum{{Role: "cfo", Count: 1}}},
		},
	}
	if err := env.Client.Create(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	// Created while it selected no namespace, the policy changes nothing.
	j.waitForReady(golivev1alpha1.ReasonAwaitingApproval, "")
	var namespace corev1.Namespace
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: j.production}, &namespace); err != nil {
		t.Fatal(err)
	}
	base := namespace.DeepCopy()
	metav1.SetMetaDataLabel(&namespace.ObjectMeta, "golive-test/policy", name)
	if err := env.Client.Patch(t.Context(), &namespace, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	want := "spec.approvals.required: policy " + name + " requires role cfo (count 1)"
	eventually(t, func(ctx context.Context) string {
		stalled := meta.FindStatusCondition(j.current().Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || stalled.Reason != golivev1alpha1.ReasonPolicyNotMet || !strings.Contains(stalled.Message, want) {
			return fmt.Sprintf("Stalled = %+v, want PolicyNotMet saying %q", stalled, want)
		}
		return ""
	})
	j.productionUntouched()
}

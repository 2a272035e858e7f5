package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

var ledgerKey = []byte("a ledger key for the tests only")

// journey is one request's world: a production namespace, its grey twin, the
// billing-api Deployment in both, a window (always open unless an option
// says otherwise) and a running operator on a fake clock.
type journey struct {
	t                   *testing.T
	production, staging string
	request             *golivev1alpha1.UpdateRequest
	clock               *clocktesting.FakeClock
	operator            *operator
	// metrics gathers what the operator records with withNotifierAndMetrics.
	metrics *prometheus.Registry
}

// journeyStart is when every journey's fake clock starts: a Monday, 10:00 UTC.
var journeyStart = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// journeyOptions shape a journey before its operator starts.
type journeyOptions struct {
	request        func(*golivev1alpha1.UpdateRequest)
	window         func(*golivev1alpha1.GoLiveWindowSpec)
	killAfterWrite int32
	notices        *notify.Options
	// beforeRequest runs once the operator runs, before the request is created.
	beforeRequest func(*journey)
	// archive, when set, has the operator write ReleaseRecords into this namespace.
	archive string
	// writeAs, when set, is the user the operator writes as (operator.writeAs).
	writeAs string
}

type journeyOption func(*journeyOptions)

// withRequest changes the request before it is created.
func withRequest(mutate func(*golivev1alpha1.UpdateRequest)) journeyOption {
	return func(o *journeyOptions) { o.request = mutate }
}

// withWindow changes the window "always" before it is created.
func withWindow(mutate func(*golivev1alpha1.GoLiveWindowSpec)) journeyOption {
	return func(o *journeyOptions) { o.window = mutate }
}

// withBeforeRequest sets up more of the world, such as a claim or a grey
// Deployment already updated, before the request is created.
func withBeforeRequest(setup func(*journey)) journeyOption {
	return func(o *journeyOptions) { o.beforeRequest = setup }
}

// killingAfterWrite kills the operator right after its write number n.
func killingAfterWrite(n int32) journeyOption {
	return func(o *journeyOptions) { o.killAfterWrite = n }
}

// withNotifierAndMetrics has the operator post notices through a Dispatcher
// made with options and record metrics in journey.metrics, as cmd/main.go
// wires them.
func withNotifierAndMetrics(options notify.Options) journeyOption {
	return func(o *journeyOptions) { o.notices = &options }
}

func newJourney(t *testing.T, options ...journeyOption) *journey {
	t.Helper()
	var opts journeyOptions
	for _, option := range options {
		option(&opts)
	}
	j := &journey{t: t, production: newNamespace(t), staging: newNamespace(t), clock: clocktesting.NewFakeClock(journeyStart)}
	ctx := t.Context()
	var grey corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: j.staging}, &grey); err != nil {
		t.Fatal(err)
	}
	grey.Labels = map[string]string{golivev1alpha1.LabelStagingFor: j.production}
	if err := env.Client.Update(ctx, &grey); err != nil {
		t.Fatal(err)
	}
	j.addDeployment("billing-api", "billing")
	glw := testfixtures.MakeGoLiveWindow(j.production, "always").AlwaysOpen().Obj()
	if opts.window != nil {
		opts.window(&glw.Spec)
	}
	j.create(glw)

	o := &operator{t: t, namespaces: []string{j.production, j.staging}, clock: j.clock, killAfterWrite: opts.killAfterWrite, notices: opts.notices,
		archive: opts.archive, writeAs: opts.writeAs}
	if opts.notices != nil {
		o.metrics = metrics.NewRecorder()
		j.metrics = prometheus.NewRegistry()
		if err := o.metrics.Register(j.metrics); err != nil {
			t.Fatal(err)
		}
	}
	j.operator = startOperator(o)
	if opts.beforeRequest != nil {
		opts.beforeRequest(j)
	}
	j.request = j.newRequest("billing-2-4-0", opts.request)
	j.create(j.request)
	return j
}

// addDeployment creates Deployment name of pods labelled app, running
// previousImage as container "api", in both namespaces, rolled out.
func (j *journey) addDeployment(name, app string) {
	j.t.Helper()
	for _, namespace := range []string{j.production, j.staging} {
		j.create(&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(int32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: previousImage}}},
				},
			},
		})
		j.rollOutDeployment(namespace, name)
	}
}

// newRequest returns the journey's usual request, named name, changed by mutate.
func (j *journey) newRequest(name string, mutate func(*golivev1alpha1.UpdateRequest)) *golivev1alpha1.UpdateRequest {
	request := testfixtures.MakeUpdateRequest(j.production, name).
		Annotation(golivev1alpha1.AnnotationRequestedBy, "alice").
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "billing-api:2.4.0"}).
		Staging(j.staging).VerifyJob(false, smokeJob("billing-smoke:2.4.0")).
		Approval("rnd-lead", 1).Window("always").Obj()
	if mutate != nil {
		mutate(request)
	}
	return request
}

// another is a view of the journey following a second request in the same namespaces.
func (j *journey) another(name string, mutate func(*golivev1alpha1.UpdateRequest)) *journey {
	other := *j
	other.request = j.newRequest(name, mutate)
	other.create(other.request)
	return &other
}

// smokeJob is a verification Job check named "smoke".
func smokeJob(image string) golivev1alpha1.VerificationJob {
	return golivev1alpha1.VerificationJob{
		Name: "smoke",
		Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "smoke", Image: image}},
		}}}},
	}
}

func (j *journey) create(object client.Object) {
	j.t.Helper()
	if err := env.Client.Create(j.t.Context(), object); err != nil {
		j.t.Fatalf("creating %T %s: %v", object, object.GetName(), err)
	}
}

// rollOut plays the Deployment controller: the current generation rolled out.
func (j *journey) rollOut(namespace string) {
	j.t.Helper()
	j.rollOutDeployment(namespace, "billing-api")
}

// rollOutDeployment rolls out the current generation of Deployment name.
func (j *journey) rollOutDeployment(namespace, name string) {
	j.t.Helper()
	j.setStatusOf(namespace, name, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}
	})
}

// failRollout plays a Deployment whose new pods never become ready.
func (j *journey) failRollout(namespace string) {
	j.t.Helper()
	j.setDeploymentStatus(namespace, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 2, UnavailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				Message: `ReplicaSet "billing-api-7d9" has timed out progressing.`}}}
	})
}

func (j *journey) setDeploymentStatus(namespace string, set func(*appsv1.Deployment)) {
	j.t.Helper()
	j.setStatusOf(namespace, "billing-api", set)
}

func (j *journey) setStatusOf(namespace, name string, set func(*appsv1.Deployment)) {
	j.t.Helper()
	var deployment appsv1.Deployment
	if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, &deployment); err != nil {
		j.t.Fatal(err)
	}
	set(&deployment)
	if err := env.Client.Status().Update(j.t.Context(), &deployment); err != nil {
		j.t.Fatal(err)
	}
}

func (j *journey) image(namespace string) string { return j.imageOf(namespace, "billing-api") }

func (j *journey) imageOf(namespace, name string) string {
	var deployment appsv1.Deployment
	if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, &deployment); err != nil {
		return err.Error()
	}
	return deployment.Spec.Template.Spec.Containers[0].Image
}

// waitForImage waits until the Deployment in namespace runs image.
func (j *journey) waitForImage(namespace, image string) {
	j.t.Helper()
	j.waitForImageOf(namespace, "billing-api", image)
}

// waitForImageOf waits until Deployment name in namespace runs image.
func (j *journey) waitForImageOf(namespace, name, image string) {
	j.t.Helper()
	eventually(j.t, func(context.Context) string {
		if got := j.imageOf(namespace, name); got != image {
			return fmt.Sprintf("%s in %s runs %s, want %s (request: %s)", name, namespace, got, image, j.describe())
		}
		return ""
	})
}

// waitForImageAndRollOut waits until the Deployment in namespace runs image, then rolls it out.
func (j *journey) waitForImageAndRollOut(namespace, image string) {
	j.t.Helper()
	j.waitForImage(namespace, image)
	j.rollOut(namespace)
}

// finishJob plays the Job controller for the staging smoke Job.
func (j *journey) finishJob(succeeded bool) {
	j.t.Helper()
	j.finishJobIn(verify.EnvironmentStaging, succeeded)
}

// finishJobIn plays the Job controller for the smoke Job of env.
func (j *journey) finishJobIn(environment string, succeeded bool) {
	j.t.Helper()
	j.finishCheckJob(environment, "smoke", succeeded)
}

// finishCheckJob plays the Job controller for the Job of check in env
// ("migrate-<name>" for a migration, "backup-<name>" and "restore-<name>"
// for the Jobs of spec.backup and spec.rollback).
func (j *journey) finishCheckJob(environment, check string, succeeded bool) {
	j.t.Helper()
	var job batchv1.Job
	namespace := j.staging
	if environment == verify.EnvironmentProduction {
		namespace = j.production
	}
	eventually(j.t, func(ctx context.Context) string {
		// The name carries the hash of the spec as it is now.
		var request golivev1alpha1.UpdateRequest
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(j.request), &request); err != nil {
			return fmt.Sprintf("the request: %v", err)
		}
		attempt := lifecycle.VerificationAttempt(&request, lifecycle.Environment(environment))
		if strings.HasPrefix(check, migrationCheckPrefix) || strings.HasPrefix(check, backupCheckPrefix) || strings.HasPrefix(check, restoreCheckPrefix) {
			attempt = 0
		}
		name := verify.AttemptJobName(request.Name, environment, check, ledger.SpecHash(&request.Spec), attempt)
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &job); err != nil {
			return fmt.Sprintf("the %s Job: %v (request: %s)", check, err, j.describe())
		}
		return ""
	})
	started, finished := metav1.NewTime(time.Now().Add(-time.Minute)), metav1.Now()
	job.Status = batchv1.JobStatus{StartTime: &started, CompletionTime: &finished, Succeeded: 1, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue},
	}}
	if !succeeded {
		job.Status = batchv1.JobStatus{StartTime: &started, Failed: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
		}}
	}
	if err := env.Client.Status().Update(j.t.Context(), &job); err != nil {
		j.t.Fatal(err)
	}
}

// approve plays the admission webhook: it appends a signed approval to the ledger.
func (j *journey) approve(user, role string) {
	j.t.Helper()
	j.command(user, role, golivev1alpha1.LedgerApprove, "")
}

// command plays the admission webhook for any command: it appends a signed
// entry, dated by the journey's clock, to the ledger.
func (j *journey) command(user, role string, action golivev1alpha1.LedgerAction, comment string) {
	j.t.Helper()
	var request golivev1alpha1.UpdateRequest
	if err := env.Client.Get(j.t.Context(), client.ObjectKeyFromObject(j.request), &request); err != nil {
		j.t.Fatal(err)
	}
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		j.t.Fatal(err)
	}
	entries = append(entries, ledger.Sign(ledgerKey, &request, golivev1alpha1.LedgerEntry{
		User: user, Role: role, Action: action, Comment: comment, Time: metav1.NewTime(j.clock.Now()), SpecHash: ledger.SpecHash(&request.Spec),
	}))
	encoded, err := json.Marshal(entries)
	if err != nil {
		j.t.Fatal(err)
	}
	base := request.DeepCopy()
	request.Annotations[golivev1alpha1.AnnotationLedger] = string(encoded)
	if err := env.Client.Patch(j.t.Context(), &request, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
}

func (j *journey) current() golivev1alpha1.UpdateRequest {
	var request golivev1alpha1.UpdateRequest
	if err := env.Client.Get(j.t.Context(), client.ObjectKeyFromObject(j.request), &request); err != nil {
		j.t.Fatal(err)
	}
	return request
}

func (j *journey) describe() string {
	request := j.current()
	ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
	if ready == nil {
		return string(request.Status.Phase)
	}
	return fmt.Sprintf("%s: %s", request.Status.Phase, ready.Message)
}

func (j *journey) waitForPhase(phase golivev1alpha1.Phase) golivev1alpha1.UpdateRequest {
	j.t.Helper()
	eventually(j.t, func(context.Context) string {
		if got := j.current().Status.Phase; got != phase {
			return fmt.Sprintf("phase %s, want %s (%s)", got, phase, j.describe())
		}
		return ""
	})
	return j.current()
}

// eventReasons lists the reasons of the Events recorded for the request, oldest first.
func (j *journey) eventReasons() []string {
	var events eventsv1.EventList
	if err := env.Client.List(j.t.Context(), &events, client.InNamespace(j.production)); err != nil {
		j.t.Fatal(err)
	}
	slices.SortFunc(events.Items, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	var reasons []string
	for _, event := range events.Items {
		if event.Regarding.Kind == "UpdateRequest" && event.Regarding.Name == j.request.Name {
			reasons = append(reasons, event.Reason)
		}
	}
	return reasons
}

func timelineEvents(request golivev1alpha1.UpdateRequest) []string {
	var events []string
	for _, entry := range request.Status.Timeline {
		events = append(events, entry.Event)
	}
	return events
}

func TestHappyPathReachesProduction(t *testing.T) {
	j := newJourney(t)
	j.waitForImageAndRollOut(j.staging, "billing-api:2.4.0")
	j.finishJob(true)
	request := j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if request.Status.ApprovalSummary != "0/1" || j.image(j.production) != "billing-api:2.3.1" {
		t.Fatalf("before approval: summary %q, production runs %s", request.Status.ApprovalSummary, j.image(j.production))
	}

	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, "billing-api:2.4.0")
	request = j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	for _, condition := range []string{golivev1alpha1.ConditionReady, golivev1alpha1.ConditionStagingVerified, golivev1alpha1.ConditionApproved,
		golivev1alpha1.ConditionScheduled, golivev1alpha1.ConditionBackedUp, golivev1alpha1.ConditionUpdated, golivev1alpha1.ConditionVerified} {
		if !meta.IsStatusConditionTrue(request.Status.Conditions, condition) {
			t.Errorf("condition %s is not True: %+v", condition, meta.FindStatusCondition(request.Status.Conditions, condition))
		}
	}
	wantTimeline := []string{"Created", "StagingStarted", "Verifying", "StagingVerified", "SoakCompleted", "Approved", "ProductionStarted", "BackedUp", "Verifying", golivev1alpha1.ReasonSucceeded}
	if got := timelineEvents(request); !slices.Equal(got, wantTimeline) {
		t.Errorf("timeline = %v, want %v", got, wantTimeline)
	}
	if got := request.Status.Approvals; len(got) != 1 || got[0].User != "bob" || request.Status.ApprovalSummary != "1/1" {
		t.Errorf("approvals = %+v, summary %q", got, request.Status.ApprovalSummary)
	}
	saved, err := workload.LoadSavedSpec(t.Context(), env.Client, ledgerKey, &request, request.Status.Backup.SavedSpecs, j.production, request.Spec.Targets[0])
	if err != nil || saved.PodTemplate.Spec.Containers[0].Image != "billing-api:2.3.1" {
		t.Errorf("saved spec = %+v, %v; want the previous image 2.3.1", saved.PodTemplate, err)
	}
	eventually(t, func(context.Context) string {
		if reasons := j.eventReasons(); !slices.Contains(reasons, "ProductionStarted") || !slices.Contains(reasons, golivev1alpha1.ReasonSucceeded) {
			return fmt.Sprintf("Events %v lack ProductionStarted and Succeeded", reasons)
		}
		return ""
	})
}

func TestStagingFailureLeavesProductionUntouched(t *testing.T) {
	j := newJourney(t)
	j.waitForImageAndRollOut(j.staging, "billing-api:2.4.0")
	j.finishJob(false)
	request := j.waitForPhase(golivev1alpha1.PhaseFailed)
	if got := j.image(j.production); got != "billing-api:2.3.1" {
		t.Errorf("production runs %s, want the untouched 2.3.1", got)
	}
	if request.Status.Production != nil || request.Status.Backup != nil {
		t.Errorf("production %+v, backup %+v; want neither", request.Status.Production, request.Status.Backup)
	}
	stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
	if stalled == nil || !strings.Contains(stalled.Message, `Job `+verify.JobName(request.Name, verify.EnvironmentStaging, "smoke", ledger.SpecHash(&request.Spec))+` failed`) {
		t.Errorf("Stalled = %+v, want the failed Job named", stalled)
	}
}

func TestProductionFailureRollsBack(t *testing.T) {
	j := newJourney(t)
	j.waitForImageAndRollOut(j.staging, "billing-api:2.4.0")
	j.finishJob(true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	eventually(t, func(context.Context) string {
		if got := j.image(j.production); got != "billing-api:2.4.0" {
			return "production runs " + got
		}
		return ""
	})
	j.failRollout(j.production)
	// The rollback re-applies the saved spec; the test rolls the old version out again.
	j.waitForImageAndRollOut(j.production, "billing-api:2.3.1")
	request := j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	if request.Status.Rollback == nil || request.Status.Rollback.CompletedAt == nil || !strings.Contains(request.Status.Rollback.Reason, "ProgressDeadlineExceeded") && !strings.Contains(request.Status.Rollback.Reason, "failed to roll out") {
		t.Errorf("rollback = %+v", request.Status.Rollback)
	}
	if !meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionRolledBack) {
		t.Errorf("RolledBack condition: %+v", meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionRolledBack))
	}
}

func TestMissingStagingWorkloadStallsNamingTheField(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Targets = append(r.Spec.Targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]golivev1alpha1.Image{"postgres": "postgres:16.4"}})
	}))
	eventually(t, func(context.Context) string {
		request := j.current()
		stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || !strings.Contains(stalled.Message, `spec.targets[1]: StatefulSet "billing-db" not found`) {
			return fmt.Sprintf("Stalled = %+v", stalled)
		}
		return ""
	})
	if got := j.image(j.staging); got != "billing-api:2.3.1" {
		t.Errorf("staging runs %s; nothing may change while a reference is missing", got)
	}
}

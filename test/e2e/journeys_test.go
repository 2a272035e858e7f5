package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/test/cluster"
)

// The billing API of the journeys: a Deployment of two replicas.
const (
	api            = "billing-api"
	apiContainer   = "api"
	apiPrevious    = "billing-api:2.3.1"
	apiWindow      = "weekdays"
	smokeImage     = "billing-smoke:2.4.0"
	apiReplicas    = 2
	journeyTimeout = 2 * time.Minute
)

// TestJourneys plays, on one cluster, the releases people make, each in
// namespaces of its own and at the same time: golive runs as its
// ServiceAccount with its admission webhooks installed, and every command
// (approve, accept, abort) is an annotation set by an impersonated person,
// checked and signed by the webhook.
func TestJourneys(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-journeys", Authorization: true})
	cl.StartCSI(t)
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	// A run of its own groups the parallel journeys: it returns when they all
	// ended, before the cluster goes.
	t.Run("journeys", func(t *testing.T) {
		t.Run("a release goes live", func(t *testing.T) { t.Parallel(); releaseGoesLive(t, cl) })
		t.Run("a failing smoke test in staging stops the release", func(t *testing.T) { t.Parallel(); stagingFails(t, cl) })
		t.Run("a freeze holds the release until it is lifted", func(t *testing.T) { t.Parallel(); freezeHolds(t, cl) })
		t.Run("an emergency goes live outside the window, within its budget", func(t *testing.T) { t.Parallel(); emergency(t, cl) })
		t.Run("an abort during production rolls back", func(t *testing.T) { t.Parallel(); abortDuringProduction(t, cl) })
	})
}

// app is the billing API in a production namespace of its own and its grey
// twin, with the people bound and a GoLiveWindow.
type app struct {
	t                   *testing.T
	cl                  *cluster.Cluster
	c                   client.Client
	production, staging string
}

// appOptions shape an app beyond the billing API.
type appOptions struct {
	// database adds the billing database, a StatefulSet with a volume.
	database bool
	// slow makes the workloads' rollouts take slowRollout at least and the
	// database take 10 s to stop, so that golive can be killed in the middle.
	slow bool
}

// labelSlowStop on a pod makes kwok take 10 s to delete it
// (kwok-stages.yaml), as a database shutting down cleanly would.
const labelSlowStop = "e2e.golive.dev/slow-stop"

// slowRollout is the minReadySeconds of slow workloads, in seconds.
const slowRollout = 5

func newApp(t *testing.T, cl *cluster.Cluster, production string, window golivev1alpha1.GoLiveWindowSpec, options appOptions) *app {
	t.Helper()
	a := &app{t: t, cl: cl, c: cl.Client, production: production}
	a.staging = namespaces(t, a.c, production)
	bindPeople(t, a.c, production)
	create(t, a.c, &golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Name: apiWindow, Namespace: production}, Spec: window})
	for _, namespace := range []string{a.production, a.staging} {
		d := deployment(namespace)
		if options.slow {
			d.Spec.MinReadySeconds = slowRollout
		}
		create(t, a.c, d)
		if options.database {
			s := statefulSet(namespace)
			if options.slow {
				s.Spec.MinReadySeconds = slowRollout
				s.Spec.Template.Labels[labelSlowStop] = "true"
			}
			create(t, a.c, s)
		}
	}
	for _, namespace := range []string{a.production, a.staging} {
		waitForRollout(t, a.c, namespace, api, apiPrevious, func() string { return "" })
	}
	return a
}

// frozen is window with a freeze from an hour ago until tomorrow: a request
// waits in Scheduled until the test lifts it.
func frozen(window golivev1alpha1.GoLiveWindowSpec) golivev1alpha1.GoLiveWindowSpec {
	now := time.Now().UTC()
	window.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Reason: "year-end closing",
		Start: now.Add(-time.Hour).Format("2006-01-02T15:04"), End: now.Add(24 * time.Hour).Format("2006-01-02T15:04")}}
	return window
}

// liftFreeze is the change manager ending the window's freeze.
func (a *app) liftFreeze() {
	a.t.Helper()
	var glw golivev1alpha1.GoLiveWindow
	if err := a.c.Get(a.t.Context(), client.ObjectKey{Namespace: a.production, Name: apiWindow}, &glw); err != nil {
		a.t.Fatal(err)
	}
	base := glw.DeepCopy()
	glw.Spec.Freezes = nil
	if err := a.c.Patch(a.t.Context(), &glw, client.MergeFrom(base)); err != nil {
		a.t.Fatal(err)
	}
}

// deployment is the billing API: two replicas.
func deployment(namespace string) *appsv1.Deployment {
	labels := map[string]string{"app": "billing", "component": "api"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: api, Namespace: namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(apiReplicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: apiContainer, Image: apiPrevious}}},
			},
		},
	}
}

// request is alice's request for release of the billing API: staging
// verified by a smoke Job, approvals by an R&D lead and the operations
// office, production verified by rollout health.
func (a *app) request(name, release string) *golivev1alpha1.UpdateRequest {
	return testfixtures.MakeUpdateRequest(a.production, name).
		Release(release).
		Target(golivev1alpha1.TargetDeployment, api, map[string]string{apiContainer: apiImage(release)}).
		Staging(a.staging).StagingVerifyTimeout(journeyTimeout).VerifyJob(false, smokeJob(false)).
		Approval(roleRnDLead, 1).Approval(roleOperationsOffice, 1).
		Window(apiWindow).
		VerifyTimeout(journeyTimeout).Obj()
}

func apiImage(release string) string { return "billing-api:" + release }

// smokeJob is a verification Job; kwok completes its pod, or, when failing,
// ends it Failed with exit code 1 (cluster.LabelFailPod).
func smokeJob(failing bool) golivev1alpha1.VerificationJob {
	labels := map[string]string{}
	if failing {
		labels[cluster.LabelFailPod] = "true"
	}
	return golivev1alpha1.VerificationJob{Name: "smoke", Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		BackoffLimit: ptr.To(int32(0)),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "smoke", Image: smokeImage, Args: []string{"--invoices", "100"}}}},
		},
	}}}
}

// create has alice create the request, through the admission webhooks.
func (a *app) create(request *golivev1alpha1.UpdateRequest) *release {
	a.t.Helper()
	if err := as(a.t, a.cl, alice).Create(a.t.Context(), request); err != nil {
		a.t.Fatalf("alice creating UpdateRequest %s: %v", request.Name, err)
	}
	return &release{t: a.t, c: a.c, key: client.ObjectKeyFromObject(request)}
}

// productionImage is the image production's billing API asks for, and its generation.
func (a *app) productionImage() (string, int64) {
	a.t.Helper()
	var d appsv1.Deployment
	if err := a.c.Get(a.t.Context(), client.ObjectKey{Namespace: a.production, Name: api}, &d); err != nil {
		a.t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image, d.Generation
}

// healthServer is a release's health endpoint, probed by golive's HTTP
// checks from golive's own process: it answers status until changed.
type healthServer struct {
	*httptest.Server
	status atomic.Int32
	probes atomic.Int32
}

func newHealthServer(t *testing.T, status int) *healthServer {
	h := &healthServer{}
	h.status.Store(int32(status))
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.probes.Add(1)
		w.WriteHeader(int(h.status.Load()))
	}))
	t.Cleanup(h.Close)
	return h
}

func httpCheck(url string) golivev1alpha1.HTTPCheck {
	return golivev1alpha1.HTTPCheck{Name: "health", URL: url, Period: metav1.Duration{Duration: time.Second}}
}

// releaseGoesLive is the demo's first release: the API and the database,
// staging verified by a smoke Job and an HTTP check, a soak, the
// requester's own approval refused, two approvals, a snapshot of the
// database's volume, production verified by an HTTP check, acceptance by
// the business owner: Succeeded.
func releaseGoesLive(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "live", alwaysOpen(), appOptions{database: true})
	health := newHealthServer(t, http.StatusOK)

	request := a.request("billing-2-4-0", "2.4.0")
	request.Spec.Description = "Quarterly release"
	request.Spec.Targets = append(request.Spec.Targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetStatefulSet, Name: database,
		Images: map[string]golivev1alpha1.Image{container: newImage}})
	request.Spec.Staging.Soak = metav1.Duration{Duration: 5 * time.Second}
	request.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(health.URL + "/staging/healthz")}
	request.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(health.URL + "/healthz")}
	request.Spec.Backup = golivev1alpha1.Backup{
		VolumeClaimSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}},
		VolumeSnapshotClassName: cluster.VolumeSnapshotClass,
		Retention:               metav1.Duration{Duration: 168 * time.Hour},
	}
	request.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: roleBusinessOwner, Timeout: metav1.Duration{Duration: 30 * time.Minute}}
	// The team's chat hangs, the event bus answers 500: neither holds the release up.
	notices := newNoticeServer(t, a, "s3cret")
	request.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{
		{URL: notices.URL + "/golive", Format: golivev1alpha1.FormatGeneric,
			SecretRef: &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}},
		{URL: hangingServer(t).URL + "/services/T000/B000/XXXX", Format: golivev1alpha1.FormatSlack},
		{URL: failingServer(t).URL + "/events", Format: golivev1alpha1.FormatCloudEvents},
	}
	r := a.create(request)
	if got := r.current().Annotations[golivev1alpha1.AnnotationRequestedBy]; got != alice.user {
		t.Errorf("requested-by = %q, want %s, stamped by the webhook", got, alice.user)
	}

	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	err := command(t, cl, alice, r.key, golivev1alpha1.AnnotationApprove, roleRnDLead+"; my own release")
	if err == nil || !strings.Contains(err.Error(), "may not approve it") {
		t.Errorf("alice approving her own request: %v, want a refusal naming self-approval", err)
	}
	approve(t, cl, bob, r.key, roleRnDLead, "code reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "change board agreed")
	r.waitForPhase(golivev1alpha1.PhaseAwaitingAcceptance)
	if err := command(t, cl, erin, r.key, golivev1alpha1.AnnotationAccept, "invoices checked"); err != nil {
		t.Fatalf("erin accepting: %v", err)
	}
	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	t.Logf("the request's timeline:\n%s", timeline(done))

	want := []golivev1alpha1.Phase{golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging,
		golivev1alpha1.PhaseSoaking, golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseBackingUp,
		golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.PhaseSucceeded}
	if got := phases(done); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	var approvers []string
	for _, record := range done.Status.Approvals {
		approvers = append(approvers, record.Role+"="+record.User)
	}
	slices.Sort(approvers)
	if want := []string{"operations-office=" + carol.user, "rnd-lead=" + bob.user}; !slices.Equal(approvers, want) {
		t.Errorf("status.approvals %v, want %v", approvers, want)
	}
	if done.Status.RequestedBy != alice.user {
		t.Errorf("status.requestedBy %q, want %s", done.Status.RequestedBy, alice.user)
	}
	for _, environment := range []*golivev1alpha1.EnvironmentStatus{done.Status.Staging, done.Status.Production} {
		if check := findCheck(environment, "health"); check == nil || check.Result != golivev1alpha1.CheckPassed {
			t.Errorf("check health = %+v, want Passed", check)
		}
	}
	if findCheck(done.Status.Staging, "smoke") == nil {
		t.Errorf("staging has no smoke check: %+v", done.Status.Staging)
	}
	if health.probes.Load() < 2 {
		t.Errorf("the health endpoint was probed %d times, want at least once per environment", health.probes.Load())
	}
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.0"), r.describe)
	snapshots := done.Status.Backup.Snapshots
	if len(snapshots) != 1 || !snapshots[0].ReadyToUse || snapshots[0].Claim != claim {
		t.Fatalf("status.backup.snapshots = %+v, want one ready snapshot of %s", snapshots, claim)
	}
	var snapshot snapv1.VolumeSnapshot
	if err := a.c.Get(t.Context(), client.ObjectKey{Namespace: a.production, Name: snapshots[0].VolumeSnapshot}, &snapshot); err != nil {
		t.Errorf("the backup's VolumeSnapshot: %v", err)
	} else if !ptr.Deref(snapshot.Status.ReadyToUse, false) {
		t.Errorf("VolumeSnapshot %s is not ready to use: %+v", snapshot.Name, snapshot.Status)
	}

	// One notice per phase change, in order, with the bearer token from the Secret.
	cluster.Eventually(t, timeout, "a notice of every phase change", func(context.Context) (bool, string, error) {
		got := notices.phases()
		return slices.Equal(got, phases(done)), fmt.Sprintf("notices of %v, want %v", got, phases(done)), nil
	})
	cluster.Eventually(t, timeout, "a NotificationFailed Event for the event bus", func(ctx context.Context) (bool, string, error) {
		var events eventsv1.EventList
		if err := a.c.List(ctx, &events, client.InNamespace(a.production)); err != nil {
			return false, "", err
		}
		for _, event := range events.Items {
			if event.Reason == "NotificationFailed" && event.Regarding.Name == r.key.Name && strings.Contains(event.Note, "webhooks[2]") {
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("%d Events, none NotificationFailed for spec.notify.webhooks[2]", len(events.Items)), nil
	})
}

// noticeServer is the team's notification endpoint (Generic format,
// bearer token, so https: golive trusts httptest's certificate): it records
// the phase of each notice it accepts.
type noticeServer struct {
	*httptest.Server
	mu       sync.Mutex
	received []golivev1alpha1.Phase
}

// newNoticeServer starts the endpoint and puts its token into the Secret
// hook in the app's namespace, with the Role and RoleBinding that let golive
// read that one Secret (docs/notifications.md).
func newNoticeServer(t *testing.T, a *app, token string) *noticeServer {
	t.Helper()
	n := &noticeServer{}
	n.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		// The documented fields of the Generic format.
		var notice struct {
			Request struct{ Namespace, Name string } `json:"request"`
			Phase   golivev1alpha1.Phase             `json:"phase"`
			Reason  string                           `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&notice); err != nil || notice.Request.Namespace != a.production {
			http.Error(w, fmt.Sprintf("not a notice of %s: %v", a.production, err), http.StatusBadRequest)
			return
		}
		n.mu.Lock()
		n.received = append(n.received, notice.Phase)
		n.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(n.Close)
	create(t, a.c, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: a.production},
		StringData: map[string]string{"token": token}})
	create(t, a.c, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "golive-notify", Namespace: a.production},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"hook"}, Verbs: []string{"get"}}}})
	create(t, a.c, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "golive-notify", Namespace: a.production},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "golive-notify"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: cluster.GoliveServiceAccount, Namespace: cluster.GoliveNamespace}}})
	return n
}

func (n *noticeServer) phases() []golivev1alpha1.Phase {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.received)
}

// hangingServer accepts connections and never answers, until golive gives
// up on the request or the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(s.Close)
	// Cleanups run last-registered first: the handlers return before Close waits for them.
	t.Cleanup(func() { close(done) })
	return s
}

// failingServer answers every notice with 500.
func failingServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the event bus is down", http.StatusInternalServerError)
	}))
	t.Cleanup(s.Close)
	return s
}

// stagingFails: the smoke test fails in the grey namespace (kwok ends its
// pod Failed); the request ends Failed and production is not touched.
func stagingFails(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "smoke-fails", alwaysOpen(), appOptions{})
	imageBefore, generationBefore := a.productionImage()
	var grey appsv1.Deployment
	if err := a.c.Get(t.Context(), client.ObjectKey{Namespace: a.staging, Name: api}, &grey); err != nil {
		t.Fatal(err)
	}
	greyImageBefore := grey.Spec.Template.Spec.Containers[0].Image
	request := a.request("billing-2-4-1", "2.4.1")
	request.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob(true)}
	r := a.create(request)

	failed := r.waitForPhase(golivev1alpha1.PhaseFailed)
	t.Logf("the request's timeline:\n%s", timeline(failed))
	check := findCheck(failed.Status.Staging, "smoke")
	if check == nil || check.Result != golivev1alpha1.CheckFailed {
		t.Errorf("staging check smoke = %+v, want Failed", check)
	}
	ready := meta.FindStatusCondition(failed.Status.Conditions, golivev1alpha1.ConditionReady)
	if ready == nil || ready.Reason != golivev1alpha1.ReasonVerificationFailed || !strings.Contains(ready.Message, "production was not touched") {
		t.Errorf("Ready = %+v, want reason VerificationFailed saying production was not touched", ready)
	}
	if image, generation := a.productionImage(); image != imageBefore || generation != generationBefore {
		t.Errorf("production's %s is %s at generation %d, want untouched: %s at generation %d", api, image, generation, imageBefore, generationBefore)
	}
	// The grey namespace is put back on the version from before the request
	// (spec.staging.onFailure defaults to Restore), so the next run starts clean.
	waitForRollout(t, a.c, a.staging, api, greyImageBefore, r.describe)
	cluster.Eventually(t, timeout, "the staging restore of "+r.key.String()+" to be recorded", func(ctx context.Context) (bool, string, error) {
		restore := r.current().Status.StagingRestore
		return restore != nil && restore.RestoredAt != nil && restore.TargetsRestored == 1, r.describe(), nil
	})
	var jobs batchv1.JobList
	if err := a.c.List(t.Context(), &jobs, client.InNamespace(a.production)); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 {
		t.Errorf("%d Jobs in production, want none", len(jobs.Items))
	}
}

// freezeHolds: approved during a freeze, the request waits in Scheduled,
// saying Frozen, and production is untouched; the change manager lifts the
// freeze and the release goes live.
func freezeHolds(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "frozen", frozen(alwaysOpen()), appOptions{})
	r := a.create(a.request("billing-2-4-2", "2.4.2"))
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed, after the freeze")

	frozen := r.waitForReason(golivev1alpha1.ReasonFrozen)
	if frozen.Status.Phase != golivev1alpha1.PhaseScheduled {
		t.Errorf("frozen request in phase %s, want Scheduled", frozen.Status.Phase)
	}
	if image, _ := a.productionImage(); image != apiPrevious {
		t.Errorf("production runs %s during the freeze, want %s", image, apiPrevious)
	}

	a.liftFreeze()
	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	t.Logf("the request's timeline:\n%s", timeline(done))
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.2"), r.describe)
}

// emergency: the window is closed for days, but an emergency fix with the
// CTO's approval goes live at once; the window allows one per period, so
// a second emergency waits, saying so.
func emergency(t *testing.T, cl *cluster.Cluster) {
	// Open on one day, three days from now: closed now, whatever the time.
	opensOn := golivev1alpha1.Weekday(time.Now().UTC().AddDate(0, 0, 3).Format("Mon"))
	window := golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC",
		Schedule:  []golivev1alpha1.ScheduleEntry{{Days: []golivev1alpha1.Weekday{opensOn}, Start: "20:00", Duration: metav1.Duration{Duration: time.Hour}}},
		Emergency: &golivev1alpha1.EmergencyPolicy{Roles: []string{roleCTO}, MaxPerPeriod: 1, Period: metav1.Duration{Duration: 720 * time.Hour}},
	}
	a := newApp(t, cl, "hotfix", window, appOptions{})

	fix := a.request("billing-2-4-3", "2.4.3")
	fix.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "invoices are charged twice", Incident: "INC-4711"}
	fix.Spec.Staging.Soak = metav1.Duration{Duration: 48 * time.Hour}
	r := a.create(fix)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "one-line fix")
	approve(t, cl, carol, r.key, roleOperationsOffice, "informed")
	approve(t, cl, dana, r.key, roleCTO, "go")
	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	t.Logf("the request's timeline:\n%s", timeline(done))
	// An emergency passes Soaking without waiting its 48h.
	if i := slices.IndexFunc(done.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool {
		return e.Phase == golivev1alpha1.PhaseSoaking
	}); i >= 0 && i+1 < len(done.Status.Timeline) {
		if soaked := done.Status.Timeline[i+1].At.Sub(done.Status.Timeline[i].At.Time); soaked > time.Minute {
			t.Errorf("the emergency soaked for %s", soaked)
		}
	}
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.3"), r.describe)
	cluster.Eventually(t, timeout, "the window to count the emergency", func(ctx context.Context) (bool, string, error) {
		var glw golivev1alpha1.GoLiveWindow
		if err := a.c.Get(ctx, client.ObjectKey{Namespace: a.production, Name: apiWindow}, &glw); err != nil {
			return false, "", err
		}
		return glw.Status.EmergencyUsed == 1, fmt.Sprintf("emergencyUsed %d", glw.Status.EmergencyUsed), nil
	})

	second := a.request("billing-2-4-4", "2.4.4")
	second.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "another one", Incident: "INC-4712"}
	r2 := a.create(second)
	r2.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r2.key, roleRnDLead, "ok")
	approve(t, cl, carol, r2.key, roleOperationsOffice, "ok")
	approve(t, cl, dana, r2.key, roleCTO, "ok")
	waiting := r2.waitForReason(golivev1alpha1.ReasonEmergencyBudgetExhausted)
	if waiting.Status.Phase != golivev1alpha1.PhaseScheduled {
		t.Errorf("the second emergency is %s, want Scheduled", waiting.Status.Phase)
	}
	if image, _ := a.productionImage(); image != apiImage("2.4.3") {
		t.Errorf("production runs %s, want the first fix %s", image, apiImage("2.4.3"))
	}
}

// abortDuringProduction: production's health check keeps failing; before
// its timeout, alice aborts, and golive rolls production back.
func abortDuringProduction(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "aborted", alwaysOpen(), appOptions{})
	health := newHealthServer(t, http.StatusServiceUnavailable)
	request := a.request("billing-2-4-5", "2.4.5")
	request.Spec.Verify.Timeout = metav1.Duration{Duration: 30 * time.Minute}
	request.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(health.URL + "/healthz")}
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
	r.waitForPhase(golivev1alpha1.PhaseVerifying)
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.5"), r.describe)
	cluster.Eventually(t, timeout, "golive to probe the failing health endpoint", func(context.Context) (bool, string, error) {
		return health.probes.Load() > 0, "no probe yet", nil
	})

	if err := command(t, cl, alice, r.key, golivev1alpha1.AnnotationAbort, "customers report errors"); err != nil {
		t.Fatalf("alice aborting: %v", err)
	}
	done := r.waitForPhase(golivev1alpha1.PhaseRolledBack)
	t.Logf("the request's timeline:\n%s", timeline(done))
	i := slices.IndexFunc(done.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool {
		return e.Phase == golivev1alpha1.PhaseRollingBack
	})
	if i < 0 {
		t.Fatalf("no RollingBack in the timeline")
	}
	if rollingBack := done.Status.Timeline[i]; rollingBack.Actor != alice.user || !strings.Contains(rollingBack.Message, "customers report errors") {
		t.Errorf("the rollback's timeline entry %+v, want alice's abort with her reason", rollingBack)
	}
	waitForRollout(t, a.c, a.production, api, apiPrevious, r.describe)
}

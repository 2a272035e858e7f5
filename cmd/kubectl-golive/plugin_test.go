package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/admission"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testenv"
)

// The commands run in this process against a real API server with golive's
// admission webhooks installed and served, as people run them: kubectl's
// flags, a kubeconfig, and --as for the person. The suite starts with the
// first test that needs it, so the formatting tests run without it.
var (
	suiteOnce sync.Once
	suite     *pluginSuite
	errSuite  error
)

// The people of the tests; each test's namespace binds them to their roles.
const (
	alice = "alice@example.com" // the requester; also holds rnd-lead
	bob   = "bob@example.com"   // rnd-lead
	carol = "carol@example.com" // operations-office
	dave  = "dave@example.com"  // may edit requests, holds no approval role
	frank = "frank@example.com" // cto once a test binds him; may not patch requests
)

// ledgerKey signs the ledger entries of the suite.
var ledgerKey = []byte("the ledger key of the plugin tests")

type pluginSuite struct {
	env   *testenv.Env
	clock *clocktesting.FakePassiveClock
	stop  func() error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if suite != nil {
		if err := errors.Join(suite.stop(), suite.env.Stop()); err != nil {
			fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

func startSuite(t *testing.T) *pluginSuite {
	t.Helper()
	suiteOnce.Do(func() { suite, errSuite = newSuite() })
	if errSuite != nil {
		t.Fatalf("Starting the test API server with golive's webhooks: %v", errSuite)
	}
	return suite
}

func newSuite() (*pluginSuite, error) {
	ctrl.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.WithWebhooks())
	if err != nil {
		return nil, err
	}
	s := &pluginSuite{env: env, clock: clocktesting.NewFakePassiveClock(monday)}
	if err := s.installClusterRoles(ctx); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if err := s.serveWebhooks(ctx); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return s, nil
}

// installClusterRoles creates the approval roles of the RBAC sample and one
// to read and annotate requests and read windows, as approvers need.
func (s *pluginSuite) installClusterRoles(ctx context.Context) error {
	if err := s.env.CreateApprovalRoles(ctx); err != nil {
		return err
	}
	editor := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "plugin-test-updaterequest-editor"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"golive.dev"}, Resources: []string{"updaterequests"}, Verbs: []string{"create", "get", "list", "watch", "update", "patch"}},
			{APIGroups: []string{"golive.dev"}, Resources: []string{"golivewindows"}, Verbs: []string{"get", "list", "watch"}},
		},
	}
	if err := s.env.Client.Create(ctx, editor); err != nil {
		return fmt.Errorf("creating ClusterRole %s: %w", editor.Name, err)
	}
	return nil
}

// serveWebhooks serves golive's webhooks where the installed configurations
// point, and waits until the API server reaches them.
func (s *pluginSuite) serveWebhooks(ctx context.Context) (err error) {
	s.stop, err = s.env.ServeWebhooks(ctx, func(mgr ctrl.Manager) {
		(&admission.Webhooks{
			Reader:  mgr.GetAPIReader(),
			Access:  admission.SubjectAccessReviewer{Client: mgr.GetClient()},
			Key:     ledgerKey,
			Clock:   s.clock,
			Decoder: ctrladmission.NewDecoder(s.env.Scheme),
		}).Register(mgr.GetWebhookServer())
	})
	return err
}

// newRequest is makeRequest as people write it: no status, no annotations.
func newRequest(namespace, name string) *golivev1alpha1.UpdateRequest {
	request := makeRequest().Obj()
	request.ObjectMeta = metav1.ObjectMeta{Namespace: namespace, Name: name}
	request.Spec.Staging.Namespace = namespace + "-grey"
	return request
}

// fixture is one test's production namespace, its grey namespace opted in,
// the people bound to their roles there, the window and the request alice created.
type fixture struct {
	*pluginSuite
	t          *testing.T
	namespace  string
	kubeconfig string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := startSuite(t)
	f := &fixture{pluginSuite: s, t: t, namespace: s.env.NewNamespace(t, "plugin-")}
	grey := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.namespace + "-grey", Labels: map[string]string{golivev1alpha1.LabelStagingFor: f.namespace}}}
	f.create(grey)
	for clusterRole, users := range map[string][]string{
		"plugin-test-updaterequest-editor":  {alice, bob, carol, dave},
		"golive-approver-rnd-lead":          {alice, bob},
		"golive-approver-operations-office": {carol},
	} {
		s.env.BindClusterRole(t, f.namespace, clusterRole, users...)
	}
	// RBAC takes effect once the API server's informers saw the bindings.
	s.env.WaitForAccess(t, carol, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "operations-office"})
	s.env.WaitForAccess(t, dave, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "patch", Group: "golive.dev", Resource: "updaterequests"})

	window := thursdayEvening()
	window.ObjectMeta = metav1.ObjectMeta{Namespace: f.namespace, Name: "thursday-evening"}
	f.create(window)
	f.kubeconfig = f.writeKubeconfig()
	return f
}

func (f *fixture) create(object client.Object) {
	f.t.Helper()
	if err := f.env.Client.Create(f.t.Context(), object); err != nil {
		f.t.Fatalf("Creating %T %s: %v", object, object.GetName(), err)
	}
}

// writeKubeconfig writes envtest's kubeconfig with a second context, named
// after the test's namespace, whose default namespace is that namespace.
func (f *fixture) writeKubeconfig() string {
	f.t.Helper()
	kubeconfig, err := clientcmd.Load(f.env.KubeConfig())
	if err != nil {
		f.t.Fatal(err)
	}
	current := kubeconfig.Contexts[kubeconfig.CurrentContext]
	context := *current
	context.Namespace = f.namespace
	kubeconfig.Contexts[f.namespace] = &context
	path := filepath.Join(f.t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// createRequest creates a request as alice, so golive's webhook stamps her as
// the requester, and records status as golive would have.
func (f *fixture) createRequest(name string, status golivev1alpha1.UpdateRequestStatus) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	config := rest.CopyConfig(f.env.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: alice}
	asAlice, err := client.New(config, client.Options{Scheme: f.env.Scheme})
	if err != nil {
		f.t.Fatal(err)
	}
	request := newRequest(f.namespace, name)
	if err := asAlice.Create(f.t.Context(), request); err != nil {
		f.t.Fatalf("alice creating request %s: %v", name, err)
	}
	request.Status = status
	if status.SpecHash != "" {
		// golive hashes the spec as stored, with the API server's defaults.
		request.Status.SpecHash = ledger.SpecHash(&request.Spec)
	}
	if err := f.env.Client.Status().Update(f.t.Context(), request); err != nil {
		f.t.Fatalf("Recording the status of %s: %v", name, err)
	}
	return f.get(name)
}

func (f *fixture) get(name string) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	var request golivev1alpha1.UpdateRequest
	if err := f.env.Client.Get(f.t.Context(), client.ObjectKey{Namespace: f.namespace, Name: name}, &request); err != nil {
		f.t.Fatalf("Reading request %s: %v", name, err)
	}
	return &request
}

// awaitingApproval is the status golive records once staging is verified
// for the spec and the soak is over.
func awaitingApproval(spec *golivev1alpha1.UpdateRequestSpec) golivev1alpha1.UpdateRequestStatus {
	verified := metav1.Time{Time: monday.Add(-72 * time.Hour)}
	return golivev1alpha1.UpdateRequestStatus{
		Phase:       golivev1alpha1.PhaseAwaitingApproval,
		SpecHash:    ledger.SpecHash(spec),
		RequestedBy: alice,
		Staging:     &golivev1alpha1.EnvironmentStatus{StartedAt: &verified, UpdatedAt: &verified, VerifiedAt: &verified, TargetsApplied: 2},
		Conditions: []metav1.Condition{{
			Type: golivev1alpha1.ConditionStagingVerified, Status: metav1.ConditionTrue,
			Reason: golivev1alpha1.ReasonSucceeded, Message: "Staging passed its verification", LastTransitionTime: verified,
		}},
		Timeline: []golivev1alpha1.TimelineEntry{
			{At: verified, Phase: golivev1alpha1.PhaseSoaking, Actor: lifecycle.Actor, Event: "StagingVerified", Message: "Staging passed its verification"},
			{At: metav1.Time{Time: monday.Add(-24 * time.Hour)}, Phase: golivev1alpha1.PhaseAwaitingApproval, Actor: lifecycle.Actor, Event: "SoakCompleted", Message: "Soak completed; waiting for approvals"},
		},
	}
}

// kubectlGolive runs the plugin as a person would, with the fixture's
// kubeconfig, and returns what it wrote and its exit code.
func (f *fixture) kubectlGolive(args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code = run(f.t.Context(), append([]string{"--kubeconfig", f.kubeconfig}, args...), streams, f.clock)
	return out.String(), errOut.String(), code
}

// mustSucceed runs the plugin and fails the test unless it exits 0.
func (f *fixture) mustSucceed(args ...string) string {
	f.t.Helper()
	stdout, stderr, code := f.kubectlGolive(args...)
	if code != 0 {
		f.t.Fatalf("kubectl golive %s exited %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// decide records the status golive decides for the request, with the ledger
// entries that golive's key verifies, as golive's controller does.
func (f *fixture) decide(name string) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	request := f.get(name)
	window := thursdayEvening()
	world := lifecycle.World{
		SpecHash:    ledger.SpecHash(&request.Spec),
		RequestedBy: request.Annotations[golivev1alpha1.AnnotationRequestedBy],
		Window:      lifecycle.WindowObservation{Found: true, Spec: window.Spec},
	}
	valid, rejected := ledger.Verify(ledgerKey, request, world.SpecHash)
	if len(rejected) > 0 {
		f.t.Fatalf("Ledger entries golive would not count: %+v", rejected)
	}
	for _, entry := range valid {
		world.Commands = append(world.Commands, lifecycle.Command{
			Action: lifecycle.CommandAction(entry.Action), User: entry.User, Role: entry.Role, Comment: entry.Comment, At: entry.Time.Time,
		})
	}
	request.Status = lifecycle.Decide(request, world, f.clock.Now()).Status
	if err := f.env.Client.Status().Update(f.t.Context(), request); err != nil {
		f.t.Fatalf("Recording the decided status: %v", err)
	}
	return f.get(name)
}

func TestApproveRecordsAnApprovalGoliveCounts(t *testing.T) {
	f := newFixture(t)
	request := f.createRequest("billing-2-4-0", awaitingApproval(&newRequest(f.namespace, "").Spec))

	stdout := f.mustSucceed("approve", "billing-2-4-0", "-n", f.namespace, "--as", bob, "--role", "rnd-lead", "--comment", "looks good")
	want := "updaterequest.golive.dev/billing-2-4-0 approved for role rnd-lead\n" +
		"Recorded in golive.dev/ledger as entry 1: approve (rnd-lead) by bob@example.com at 2026-11-23T10:00:00Z for spec " + shortHash(request.Status.SpecHash) + "\n"
	if stdout != want {
		t.Errorf("approve wrote\n%s\nwant\n%s", stdout, want)
	}

	stored := f.get("billing-2-4-0")
	if value, ok := stored.Annotations[golivev1alpha1.AnnotationApprove]; ok {
		t.Errorf("The command annotation is still there: %q", value)
	}
	valid, rejected := ledger.Verify(ledgerKey, stored, ledger.SpecHash(&stored.Spec))
	if len(valid) != 1 || len(rejected) != 0 {
		t.Fatalf("The ledger holds %d valid and %d rejected entries, want 1 valid: %+v", len(valid), len(rejected), rejected)
	}
	if got := valid[0]; got.User != bob || got.Role != "rnd-lead" || got.Action != golivev1alpha1.LedgerApprove || got.Comment != "looks good" || !got.Time.Equal(&metav1.Time{Time: monday}) {
		t.Errorf("The ledger entry is %+v", got)
	}

	// golive counts it, and status shows who still has to approve.
	f.decide("billing-2-4-0")
	status := f.mustSucceed("status", "billing-2-4-0", "--context", f.namespace, "--timeline", "1")
	for _, line := range []string{
		"Phase:          AwaitingApproval, since 2026-11-22T10:00:00Z (24h ago)\n",
		"Now:            Waiting for approvals: operations-office 0/2 (AwaitingApproval)\n",
		"Approvals:      1/3\n",
		"  rnd-lead           1/1  bob@example.com at 2026-11-23T10:00:00Z\n",
		"  operations-office  0/2  needs 2 more\n",
		"  alice@example.com requested this update and may not approve it; each person counts once.\n",
		"Window:         thursday-evening (Europe/Berlin): closed; opens Thu 2026-11-26 20:00 CET = 2026-11-26T19:00:00Z (in 3d9h)\n",
		"Timeline:       last 1 of 2\n",
	} {
		if !strings.Contains(status, line) {
			t.Errorf("status does not show %q:\n%s", line, status)
		}
	}

	report := f.mustSucceed("report", "billing-2-4-0", "-n", f.namespace)
	for _, row := range []string{
		"| rnd-lead | bob@example.com | 2026-11-23T10:00:00Z | looks good |\n",
		"| 2026-11-23T10:00:00Z | approve | rnd-lead | bob@example.com | system:authenticated | looks good | current |\n",
	} {
		if !strings.Contains(report, row) {
			t.Errorf("report does not show %q:\n%s", row, report)
		}
	}
}

// golive's refusals reach the person verbatim, after kubectl's "Error from
// server", and the plugin exits non-zero; nothing is recorded.
func TestRefusalsAreShownVerbatim(t *testing.T) {
	f := newFixture(t)
	f.createRequest("billing-2-4-0", awaitingApproval(&newRequest(f.namespace, "").Spec))
	const denied = `Error from server (Forbidden): admission webhook "mupdaterequest.golive.dev" denied the request: `
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"self-approval", []string{"approve", "--as", alice, "--role", "rnd-lead"},
			denied + "golive.dev/approve refused: alice@example.com requested this update and may not approve it (spec.approvals.allowSelfApproval is false)\n"},
		{"an unknown role", []string{"approve", "--as", bob, "--role", "cto"},
			denied + `golive.dev/approve refused: role "cto" is not one this request asks for: it asks for operations-office, rnd-lead` + "\n"},
		{"a role the person does not hold", []string{"approve", "--as", dave, "--role", "rnd-lead"},
			denied + "golive.dev/approve refused: dave@example.com may not approve for role rnd-lead in namespace " + f.namespace +
				": no RBAC rule grants them the verb approve on approvalroles.golive.dev/rnd-lead\n"},
		{"acceptance before production", []string{"accept", "--as", carol, "--comment", "fine"},
			denied + "golive.dev/accept refused: acceptance is possible only in AwaitingAcceptance; the request is in AwaitingApproval\n"},
		{"an unknown flag", []string{"approve", "--as", bob, "--role", "rnd-lead", "--name-that-is-not-a-flag"},
			"error: unknown flag: --name-that-is-not-a-flag\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{tc.args[0], "billing-2-4-0", "-n", f.namespace}, tc.args[1:]...)
			stdout, stderr, code := f.kubectlGolive(args...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero; stdout %q", stdout)
			}
			if stderr != tc.want {
				t.Errorf("stderr\n%s\nwant\n%s", stderr, tc.want)
			}
		})
	}
	if ledger := f.get("billing-2-4-0").Annotations[golivev1alpha1.AnnotationLedger]; ledger != "" {
		t.Errorf("Refused commands were recorded: %s", ledger)
	}

	_, stderr, code := f.kubectlGolive("status", "billing-9-9-9", "-n", f.namespace)
	if want := `Error from server (NotFound): updaterequests.golive.dev "billing-9-9-9" not found` + "\n"; code == 0 || stderr != want {
		t.Errorf("status of a missing request: exit %d, stderr %q; want non-zero, %q", code, stderr, want)
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	f := newFixture(t)
	f.createRequest("billing-2-4-0", awaitingApproval(&newRequest(f.namespace, "").Spec))
	stdout := f.mustSucceed("approve", "billing-2-4-0", "-n", f.namespace, "--as", carol, "--role", "operations-office", "--dry-run=server")
	if want := "updaterequest.golive.dev/billing-2-4-0 approved for role operations-office (server dry run: golive checked the command and recorded nothing)\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if ledger := f.get("billing-2-4-0").Annotations[golivev1alpha1.AnnotationLedger]; ledger != "" {
		t.Errorf("A dry run was recorded: %s", ledger)
	}
}

func TestRejectAndAbortAreRecorded(t *testing.T) {
	f := newFixture(t)
	spec := newRequest(f.namespace, "").Spec
	f.createRequest("rejected", awaitingApproval(&spec))
	f.createRequest("aborted", awaitingApproval(&spec))

	f.mustSucceed("reject", "rejected", "-n", f.namespace, "--as", carol, "--role", "operations-office", "--reason", "backup untested")
	_, stderr, code := f.kubectlGolive("abort", "aborted", "-n", f.namespace, "--as", alice)
	if want := "error: --reason is required: say why the request is aborted\n"; code == 0 || stderr != want {
		t.Errorf("abort without a reason: exit %d, stderr %q; want non-zero, %q", code, stderr, want)
	}
	stdout := f.mustSucceed("abort", "aborted", "-n", f.namespace, "--as", alice, "--reason", "the vendor withdrew 2.4.0", "-o", "name")
	if want := "updaterequest.golive.dev/aborted\n"; stdout != want {
		t.Errorf("abort -o name wrote %q, want %q", stdout, want)
	}

	for name, tc := range map[string]struct {
		entry golivev1alpha1.LedgerEntry
		phase golivev1alpha1.Phase
	}{
		"rejected": {golivev1alpha1.LedgerEntry{User: carol, Role: "operations-office", Action: golivev1alpha1.LedgerReject, Comment: "backup untested"}, golivev1alpha1.PhaseRejected},
		"aborted":  {golivev1alpha1.LedgerEntry{User: alice, Action: golivev1alpha1.LedgerAbort, Comment: "the vendor withdrew 2.4.0"}, golivev1alpha1.PhaseAborted},
	} {
		want := tc.entry
		stored := f.get(name)
		valid, _ := ledger.Verify(ledgerKey, stored, ledger.SpecHash(&stored.Spec))
		if len(valid) != 1 || valid[0].User != want.User || valid[0].Role != want.Role || valid[0].Action != want.Action || valid[0].Comment != want.Comment {
			t.Errorf("%s: the ledger holds %+v, want one entry like %+v", name, valid, want)
		}
		if got := f.decide(name).Status.Phase; got != tc.phase {
			t.Errorf("%s: golive decided %s, want %s", name, got, tc.phase)
		}
	}
}

// A retry is refused until a verification stalls as inconclusive, then
// recorded as a signed entry by the person.
func TestRetryIsRecorded(t *testing.T) {
	f := newFixture(t)
	spec := newRequest(f.namespace, "").Spec
	status := awaitingApproval(&spec)
	status.Phase = golivev1alpha1.PhaseVerifying
	status.GateRecords = nil
	stalledAt := metav1.Time{Time: f.clock.Now().Add(-time.Hour)}
	status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: &stalledAt, Checks: []golivev1alpha1.CheckStatus{
		{Name: golivev1alpha1.RolloutCheckName, Result: golivev1alpha1.CheckPassed},
		{Name: "error-rate", Result: golivev1alpha1.CheckInconclusive, Message: "2 inconclusive (limit 1)"},
	}}
	status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: &stalledAt, SavedSpecs: "retried-saved-specs"}
	f.createRequest("retried", status)

	_, stderr, code := f.kubectlGolive("retry", "retried", "-n", f.namespace, "--as", alice)
	if want := "retry is possible only while the verification is stalled as VerificationInconclusive"; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("retry before a stall: exit %d, stderr %q; want non-zero and %q", code, stderr, want)
	}
	stalled := f.get("retried")
	meta.SetStatusCondition(&stalled.Status.Conditions, metav1.Condition{Type: golivev1alpha1.ConditionStalled, Status: metav1.ConditionTrue,
		Reason: golivev1alpha1.ReasonVerificationInconclusive, Message: "production verification is inconclusive", LastTransitionTime: stalledAt})
	if err := f.env.Client.Status().Update(t.Context(), stalled); err != nil {
		t.Fatal(err)
	}
	if stdout := f.mustSucceed("retry", "retried", "-n", f.namespace, "--as", alice, "--comment", "Prometheus is back"); !strings.Contains(stdout, "retried") {
		t.Errorf("retry wrote %q", stdout)
	}
	stored := f.get("retried")
	valid, _ := ledger.Verify(ledgerKey, stored, ledger.SpecHash(&stored.Spec))
	if len(valid) != 1 || valid[0].User != alice || valid[0].Action != golivev1alpha1.LedgerRetry || valid[0].Comment != "Prometheus is back" {
		t.Errorf("the ledger holds %+v, want alice's retry", valid)
	}
}

func TestStatusAndWindowsPrintObjects(t *testing.T) {
	f := newFixture(t)
	f.createRequest("billing-2-4-0", awaitingApproval(&newRequest(f.namespace, "").Spec))

	yaml := f.mustSucceed("status", "billing-2-4-0", "-n", f.namespace, "-o", "yaml")
	for _, line := range []string{"apiVersion: golive.dev/v1alpha1\n", "kind: UpdateRequest\n", "  phase: AwaitingApproval\n", "    golive.dev/requested-by: alice@example.com\n"} {
		if !strings.Contains(yaml, line) {
			t.Errorf("status -o yaml does not show %q:\n%s", line, yaml)
		}
	}
	if strings.Contains(yaml, "managedFields") {
		t.Errorf("status -o yaml shows managedFields, as kubectl does only with --show-managed-fields")
	}
	if got := f.mustSucceed("status", "billing-2-4-0", "-n", f.namespace, "-o", "jsonpath={.status.phase}"); got != "AwaitingApproval" {
		t.Errorf("status -o jsonpath wrote %q", got)
	}

	windows := f.mustSucceed("windows", "--context", f.namespace, "--count", "2")
	want := "WINDOW             TIME ZONE       OPENS (LOCAL)              CLOSES (LOCAL)             OPENS (UTC)            CLOSES (UTC)           NOTE\n" +
		"thursday-evening   Europe/Berlin   Thu 2026-11-26 20:00 CET   Thu 2026-11-26 23:00 CET   2026-11-26T19:00:00Z   2026-11-26T22:00:00Z   in 3d9h\n" +
		"thursday-evening   Europe/Berlin   Thu 2026-12-03 20:00 CET   Thu 2026-12-03 23:00 CET   2026-12-03T19:00:00Z   2026-12-03T22:00:00Z   in 10d\n" +
		"\n" +
		"FREEZE     WINDOW             FROM (LOCAL)               UNTIL (LOCAL)              FROM (UTC)             UNTIL (UTC)            REASON\n" +
		"year-end   thursday-evening   Sun 2026-12-20 00:00 CET   Wed 2027-01-06 00:00 CET   2026-12-19T23:00:00Z   2027-01-05T23:00:00Z   Year-end closing\n"
	if windows != want {
		t.Errorf("windows wrote\n%s\nwant\n%s", windows, want)
	}
	all := f.mustSucceed("windows", "-A")
	if !strings.Contains(all, "NAMESPACE") || !strings.Contains(all, f.namespace+"   thursday-evening") {
		t.Errorf("windows -A does not list the window with its namespace:\n%s", all)
	}
	list := f.mustSucceed("windows", "-n", f.namespace, "-o", "json")
	if !strings.Contains(list, `"kind": "GoLiveWindowList"`) || !strings.Contains(list, `"name": "thursday-evening"`) {
		t.Errorf("windows -o json:\n%s", list)
	}
}

// A person without the right to patch requests is told which right they
// miss and where it is described; a rejection without a reason is refused
// before anything is sent.
func TestCommandsSayWhatIsMissing(t *testing.T) {
	f := newFixture(t)
	f.env.BindClusterRole(t, f.namespace, "golive-approver-cto", frank)
	f.env.WaitForAccess(t, frank, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "cto"})
	f.createRequest("billing-2-4-0", awaitingApproval(&newRequest(f.namespace, "").Spec))

	for _, args := range [][]string{
		{"approve", "--role", "rnd-lead"},
		{"reject", "--role", "rnd-lead", "--reason", "too early"},
		{"accept"},
		{"abort", "--reason", "withdrawn"},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, stderr, code := f.kubectlGolive(append([]string{args[0], "billing-2-4-0", "-n", f.namespace, "--as", frank}, args[1:]...)...)
			want := `Error from server (Forbidden): updaterequests.golive.dev "billing-2-4-0" is forbidden: User "frank@example.com" cannot patch resource "updaterequests" in API group "golive.dev" in the namespace "` + f.namespace + `"` + "\n" +
				"You may not patch updaterequests.golive.dev in namespace " + f.namespace + ". The commands are annotations on the request, so besides the approval role " +
				`they need the verbs get and patch on updaterequests in the request's namespace: ask your administrator, see "Grant approval roles" in docs/approvals.md.` + "\n"
			if code == 0 || stderr != want {
				t.Errorf("exit %d, stderr\n%s\nwant non-zero and\n%s", code, stderr, want)
			}
		})
	}

	_, stderr, code := f.kubectlGolive("reject", "billing-2-4-0", "-n", f.namespace, "--as", carol, "--role", "operations-office")
	if want := "error: --reason is required: say why you reject the request; the requester reads it in status and the record\n"; code == 0 || stderr != want {
		t.Errorf("reject without a reason: exit %d, stderr %q; want non-zero, %q", code, stderr, want)
	}
	if ledger := f.get("billing-2-4-0").Annotations[golivev1alpha1.AnnotationLedger]; ledger != "" {
		t.Errorf("Refused commands were recorded: %s", ledger)
	}
}

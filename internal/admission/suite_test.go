package admission

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The envtest suite: a real API server with golive's webhooks installed from
// config/webhook, served by a manager in this process. It starts with the
// first test that needs it, so the pure tests of this package run without it.
var (
	suiteOnce sync.Once
	suite     *webhookSuite
	errSuite  error
)

// The users of the tests. Each test's namespace binds them to their roles.
const (
	alice = "alice@example.com" // the requester; also holds rnd-lead and operations-supervisor, to try approving and saying go on her own request
	bob   = "bob@example.com"   // rnd-lead
	carol = "carol@example.com" // operations-office
	dave  = "dave@example.com"  // may edit requests, holds no approval role
	erin  = "erin@example.com"  // business-owner, the acceptance role
	frank = "frank@example.com" // cto, the window's emergency role; operations-supervisor
	pat   = "pat@example.com"   // may only patch requests: can annotate, but has no "update" to abort
)

// suiteTime is the webhook's clock: every ledger entry of the suite is dated then.
var suiteTime = time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)

type webhookSuite struct {
	env   *testenv.Env
	key   []byte
	clock *clocktesting.FakePassiveClock

	mu      sync.Mutex
	clients map[string]client.Client
	stop    func() error // stops the webhook server; nil while it is down
}

func TestMain(m *testing.M) {
	flag.Parse()
	logOutput := io.Discard
	if testing.Verbose() {
		logOutput = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOutput), zap.UseDevMode(true)))
	code := m.Run()
	if suite != nil {
		if err := errors.Join(suite.stopWebhooks(), suite.env.Stop()); err != nil {
			fmt.Fprintln(os.Stderr, "Failed to stop the test API server:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// startSuite returns the running suite, starting it on first use.
func startSuite(t *testing.T) *webhookSuite {
	t.Helper()
	suiteOnce.Do(func() { suite, errSuite = newSuite() })
	if errSuite != nil {
		t.Fatalf("Starting the test API server with golive's webhooks: %v", errSuite)
	}
	return suite
}

func newSuite() (*webhookSuite, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.WithWebhooks())
	if err != nil {
		return nil, err
	}
	s := &webhookSuite{
		env:     env,
		key:     []byte("the ledger key of the test suite"),
		clock:   clocktesting.NewFakePassiveClock(suiteTime),
		clients: map[string]client.Client{},
	}
	if err := s.installClusterRoles(ctx); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if err := s.startWebhooks(ctx); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return s, nil
}

// installClusterRoles creates the approval roles of the RBAC sample and the
// roles the test users edit requests with.
func (s *webhookSuite) installClusterRoles(ctx context.Context) error {
	if err := s.env.CreateApprovalRoles(ctx); err != nil {
		return err
	}
	for _, role := range []*rbacv1.ClusterRole{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "test-updaterequest-editor"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"golive.dev"}, Resources: []string{"updaterequests"}, Verbs: []string{"create", "get", "list", "watch", "update", "patch"}},
				{APIGroups: []string{"golive.dev"}, Resources: []string{"golivewindows"}, Verbs: []string{"create", "get", "patch", "update"}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "test-job-author"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create"}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "test-serviceaccount-user"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}},
			},
		},
		{
			// A supervision role, as an organisation would grant it: like an approval role.
			ObjectMeta: metav1.ObjectMeta{Name: "test-supervisor-operations-supervisor"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"golive.dev"}, Resources: []string{"approvalroles"}, ResourceNames: []string{"operations-supervisor"}, Verbs: []string{"approve"}},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "test-updaterequest-patcher"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"golive.dev"}, Resources: []string{"updaterequests"}, Verbs: []string{"get", "patch"}},
			},
		},
	} {
		if err := s.env.Client.Create(ctx, role); err != nil {
			return fmt.Errorf("creating ClusterRole %s: %w", role.Name, err)
		}
	}
	return nil
}

// startWebhooks serves golive's webhooks where the installed configurations
// point, and waits until the API server reaches them.
func (s *webhookSuite) startWebhooks(ctx context.Context) error {
	stop, err := s.env.ServeWebhooks(ctx, func(mgr ctrl.Manager) {
		(&Webhooks{
			Reader:  NewSharedReads(mgr.GetAPIReader(), 10*time.Second, s.clock),
			Cached:  mgr.GetClient(),
			Access:  SubjectAccessReviewer{Client: mgr.GetClient()},
			Key:     s.key,
			Clock:   s.clock,
			Decoder: admission.NewDecoder(s.env.Scheme),
		}).Register(mgr.GetWebhookServer())
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
	return nil
}

// stopWebhooks stops the webhook server; the API server's calls then fail.
func (s *webhookSuite) stopWebhooks() error {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop == nil {
		return nil
	}
	return stop()
}

// as is a client that acts as user, through impersonation.
func (s *webhookSuite) as(t *testing.T, user string) client.Client {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[user]; ok {
		return c
	}
	config := rest.CopyConfig(s.env.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"golive-test-users"}}
	c, err := client.New(config, client.Options{Scheme: s.env.Scheme})
	if err != nil {
		t.Fatalf("Creating a client for %s: %v", user, err)
	}
	s.clients[user] = c
	return c
}

// fixture is one test's production namespace, its opted-in grey namespace,
// and the test users bound to their roles there.
type fixture struct {
	*webhookSuite
	t         *testing.T
	namespace string
}

// The role bindings of every test namespace: cluster role -> users.
var fixtureBindings = []struct {
	clusterRole string
	users       []string
}{
	{"test-updaterequest-editor", []string{alice, bob, carol, dave, erin, frank}},
	{"test-updaterequest-patcher", []string{pat}},
	{"golive-approver-rnd-lead", []string{alice, bob}},
	{"golive-approver-operations-office", []string{carol}},
	{"golive-approver-business-owner", []string{erin}},
	{"golive-approver-cto", []string{frank}},
	{"test-supervisor-operations-supervisor", []string{alice, frank}},
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := startSuite(t)
	ctx := t.Context()
	production := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "approval-"}}
	if err := s.env.Client.Create(ctx, production); err != nil {
		t.Fatalf("Creating a namespace: %v", err)
	}
	f := &fixture{webhookSuite: s, t: t, namespace: production.Name}
	f.createNamespace(f.namespace+"-grey", map[string]string{golivev1alpha1.LabelStagingFor: f.namespace})
	for _, binding := range fixtureBindings {
		s.env.BindClusterRole(t, f.namespace, binding.clusterRole, binding.users...)
	}
	// RBAC takes effect once the API server's informers saw the bindings.
	s.env.WaitForAccess(t, frank, authorizationv1.ResourceAttributes{
		Namespace: f.namespace, Verb: "approve", Group: "golive.dev", Resource: "approvalroles", Name: "cto",
	})
	s.env.WaitForAccess(t, pat, authorizationv1.ResourceAttributes{
		Namespace: f.namespace, Verb: "patch", Group: "golive.dev", Resource: "updaterequests",
	})
	return f
}

func (f *fixture) createNamespace(name string, labels map[string]string) {
	f.t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := f.env.Client.Create(f.t.Context(), namespace); err != nil {
		f.t.Fatalf("Creating namespace %s: %v", name, err)
	}
}

// request is a request of this fixture's namespace, as people write it.
func (f *fixture) request(name string) *testfixtures.UpdateRequestWrapper {
	return testfixtures.MakeAlicesRequest(f.namespace, name).Mutate(noRequester).UID("")
}

// create creates request as user and returns it as stored.
func (f *fixture) create(user string, request *golivev1alpha1.UpdateRequest) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	if err := f.as(f.t, user).Create(f.t.Context(), request); err != nil {
		f.t.Fatalf("%s creating request %s: %v", user, request.Name, err)
	}
	return f.get(request.Name)
}

// get reads a request as the administrator.
func (f *fixture) get(name string) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	var request golivev1alpha1.UpdateRequest
	if err := f.env.Client.Get(f.t.Context(), client.ObjectKey{Namespace: f.namespace, Name: name}, &request); err != nil {
		f.t.Fatalf("Reading request %s: %v", name, err)
	}
	return &request
}

// setPhase records phase in the request's status, as the controller would:
// from Soaking on with staging verified for the current spec.
func (f *fixture) setPhase(name string, phase golivev1alpha1.Phase) *golivev1alpha1.UpdateRequest {
	f.t.Helper()
	request := (&testfixtures.UpdateRequestWrapper{UpdateRequest: *f.get(name)}).Mutate(inPhase(phase)).Obj()
	if err := f.env.Client.Status().Update(f.t.Context(), request); err != nil {
		f.t.Fatalf("Setting the phase of %s: %v", name, err)
	}
	return f.get(name)
}

// annotate sets (or, with a nil value, removes) annotations of a request as
// user, with a JSON merge patch as `kubectl annotate` sends.
func (f *fixture) annotate(user, name string, annotations map[string]*string, opts ...client.PatchOption) (*golivev1alpha1.UpdateRequest, error) {
	f.t.Helper()
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		f.t.Fatal(err)
	}
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: name}}
	err = f.as(f.t, user).Patch(f.t.Context(), request, client.RawPatch(types.MergePatchType, patch), opts...)
	return request, err
}

// command gives one command annotation as user.
func (f *fixture) command(user, name, annotation, value string) error {
	f.t.Helper()
	_, err := f.annotate(user, name, map[string]*string{annotation: &value})
	return err
}

// mustCommand gives a command that must be accepted.
func (f *fixture) mustCommand(user, name, annotation, value string) {
	f.t.Helper()
	if err := f.command(user, name, annotation, value); err != nil {
		f.t.Fatalf("%s setting %s=%q was refused: %v", user, annotation, value, err)
	}
}

// ledger verifies the stored request's ledger against its current spec.
func (f *fixture) ledger(name string) ([]golivev1alpha1.LedgerEntry, []ledger.RejectedEntry) {
	f.t.Helper()
	request := f.get(name)
	return ledger.Verify(f.key, request, ledger.SpecHash(&request.Spec))
}

// wantRefused fails unless err is a refusal whose message contains want.
func wantRefused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want a refusal saying %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("refused with %q, want a message containing %q", err.Error(), want)
	}
}

// eventually polls check until it returns "" or fails the test.
func eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	testenv.Eventually(t, check)
}

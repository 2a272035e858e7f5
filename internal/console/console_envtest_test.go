package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/admission"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testenv/oidcissuer"
)

const (
	testClientID = "golive-console"
	testSecret   = "console-test-secret"
)

// consoleCluster is an API server that trusts a real OIDC provider, with
// golive's webhooks served, and a console in front of it.
type consoleCluster struct {
	env        *testenv.Env
	issuer     *oidcissuer.Issuer
	console    *Server
	consoleURL string
	namespace  string
}

// startConsoleCluster starts the provider (people: users), an API server
// trusting it (--authentication-config), golive's webhooks and the console.
func startConsoleCluster(t *testing.T, users ...string) *consoleCluster {
	t.Helper()
	return startConsoleClusterWith(t, func(*Options) {}, users...)
}

// startConsoleClusterWith is startConsoleCluster with changed console options.
func startConsoleClusterWith(t *testing.T, change func(*Options), users ...string) *consoleCluster {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, or `make controlplane` and export KUBEBUILDER_ASSETS")
	}
	ctx := t.Context()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	consoleServer := httptest.NewUnstartedServer(nil)
	consoleURL := "https://" + consoleServer.Listener.Addr().String()
	issuer := oidcissuer.Start(t, testClientID, testSecret, []string{consoleURL + "/callback"}, users...)
	authConfig, err := issuer.AuthenticationConfig(t.TempDir(), testClientID)
	if err != nil {
		t.Fatal(err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	env, err := testenv.Start(startCtx, testenv.WithWebhooks(), testenv.WithAPIServerArg("authentication-config", authConfig))
	if err != nil {
		t.Fatalf("Starting the API server: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("Stopping the API server: %v", err)
		}
	})
	stopWebhooks, err := env.ServeWebhooks(startCtx, func(mgr ctrl.Manager) {
		(&admission.Webhooks{
			Reader:  mgr.GetAPIReader(),
			Access:  admission.SubjectAccessReviewer{Client: mgr.GetClient()},
			Key:     []byte("the ledger key of the console's tests"),
			Clock:   clocktesting.NewFakePassiveClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)),
			Decoder: ctrladmission.NewDecoder(env.Scheme),
		}).Register(mgr.GetWebhookServer())
	})
	if err != nil {
		t.Fatalf("Serving golive's webhooks: %v", err)
	}
	t.Cleanup(func() {
		if err := stopWebhooks(); err != nil {
			t.Errorf("Stopping the webhooks: %v", err)
		}
	})

	c := &consoleCluster{env: env, issuer: issuer, consoleURL: consoleURL}
	c.setUpNamespace(t, users)
	opts := Options{
		Issuer: issuer.URL, ClientID: testClientID, ClientSecret: testSecret, RedirectURL: consoleURL + "/callback",
		Scopes: []string{"profile", "offline_access"}, IssuerHTTPClient: issuer.Client,
		API: env.Config, Scheme: env.Scheme,
		LoginRate: 1000, LoginBurst: 1000, Namespaces: []string{c.namespace},
	}
	change(&opts)
	console, err := New(startCtx, opts)
	if err != nil {
		t.Fatalf("Starting the console: %v", err)
	}
	consoleServer.Config.Handler = console.Handler()
	consoleServer.StartTLS()
	t.Cleanup(consoleServer.Close)

	c.console = console
	return c
}

// setUpNamespace creates a namespace, its staging namespace, the approval
// roles and the rights to read and annotate requests for users.
func (c *consoleCluster) setUpNamespace(t *testing.T, users []string) {
	t.Helper()
	ctx := t.Context()
	production := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "console-"}}
	if err := c.env.Client.Create(ctx, production); err != nil {
		t.Fatal(err)
	}
	c.namespace = production.Name
	grey := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.namespace + "-grey",
		Labels: map[string]string{golivev1alpha1.LabelStagingFor: c.namespace}}}
	if err := c.env.Client.Create(ctx, grey); err != nil {
		t.Fatal(err)
	}
	if err := testenv.IgnoreAlreadyExists(c.env.CreateApprovalRoles(ctx)); err != nil {
		t.Fatal(err)
	}
	editor := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "console-test-requester"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"golive.dev"}, Resources: []string{"updaterequests"}, Verbs: []string{"create", "get", "list", "watch", "update", "patch"}},
			{APIGroups: []string{"golive.dev"}, Resources: []string{"golivewindows"}, Verbs: []string{"get", "list", "watch"}},
		},
	}
	if err := testenv.IgnoreAlreadyExists(c.env.Client.Create(ctx, editor)); err != nil {
		t.Fatal(err)
	}
	c.env.BindClusterRole(t, c.namespace, editor.Name, users...)
}

// waitForIssuerTrust waits until the API server authenticates the
// provider's ID tokens: it loads the issuer's keys in the background.
func (c *consoleCluster) waitForIssuerTrust(t *testing.T, b *browser, user string) page {
	t.Helper()
	var landed page
	testenv.Eventually(t, func(context.Context) string {
		landed = b.login(c.issuer, c.consoleURL, user)
		if landed.Status != http.StatusOK {
			return landed.URL.String() + ": " + landed.Body
		}
		return ""
	})
	return landed
}

func TestApprovalThroughTheConsoleIsSignedForThePerson(t *testing.T) {
	testApprovalThroughTheConsole(t, startConsoleCluster(t, "alice", "bob"))
}

// In the impersonation fallback the console's own credentials (here the
// test's administrator) impersonate the verified person: the ledger still
// names bob, and alice is still refused.
func TestApprovalThroughTheImpersonationFallbackIsSignedForThePerson(t *testing.T) {
	testApprovalThroughTheConsole(t, startConsoleClusterWith(t, func(o *Options) { o.Impersonate = true }, "alice", "bob"))
}

func testApprovalThroughTheConsole(t *testing.T, c *consoleCluster) {
	const alice, bob = "alice", "bob"
	ctx := t.Context()
	c.env.BindClusterRole(t, c.namespace, "golive-approver-rnd-lead", alice, bob)
	c.env.WaitForAccess(t, bob, authorizationv1.ResourceAttributes{Namespace: c.namespace, Verb: "approve",
		Group: "golive.dev", Resource: "approvalroles", Name: "rnd-lead"})
	request := c.createAlicesRequest(t, ctx)
	requestURL := c.consoleURL + "/requests/" + c.namespace + "/" + request.Name

	bobsBrowser := newBrowser(t, c.issuer.CertPool())
	waiting := c.waitForIssuerTrust(t, bobsBrowser, bob)
	if !strings.Contains(waiting.Body, `id="user">bob<`) || !strings.Contains(waiting.Body, request.Name) ||
		!strings.Contains(waiting.Body, "rnd-lead") {
		t.Fatalf("bob's waiting page does not list %s for rnd-lead:\n%s", request.Name, waiting.Body)
	}

	page := bobsBrowser.get(requestURL)
	if !strings.Contains(page.Body, `id="do-approve"`) {
		t.Fatalf("bob sees no approve button on the request's page:\n%s", page.Body)
	}
	done := bobsBrowser.post(requestURL, url.Values{"csrf": {csrfOf(t, page)}, "action": {"approve"},
		"role": {"rnd-lead"}, "comment": {"Looks good; tested in grey"}})
	if done.Status != http.StatusOK || !strings.Contains(done.Body, `id="recorded"`) || !strings.Contains(done.Body, "<b>bob</b>") {
		t.Fatalf("bob's approval was not confirmed (status %d):\n%s", done.Status, done.Body)
	}
	var stored golivev1alpha1.UpdateRequest
	if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
		t.Fatal(err)
	}
	entries, err := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil || len(entries) != 1 {
		t.Fatalf("The ledger holds %d entries (%v), want bob's approval", len(entries), err)
	}
	if got := entries[0]; got.User != bob || got.Role != "rnd-lead" || got.Action != golivev1alpha1.LedgerApprove ||
		got.Comment != "Looks good; tested in grey" {
		t.Errorf("The ledger entry is %+v, want bob's approval for rnd-lead with his comment", got)
	}

	// alice requested it: no approve button, and a forged post is refused by
	// golive's webhook, whose words the page shows.
	alicesBrowser := newBrowser(t, c.issuer.CertPool())
	alicesBrowser.login(c.issuer, c.consoleURL, alice)
	page = alicesBrowser.get(requestURL)
	if strings.Contains(page.Body, `id="do-approve"`) {
		t.Errorf("alice, the requester, sees an approve button:\n%s", page.Body)
	}
	refused := alicesBrowser.post(requestURL, url.Values{"csrf": {csrfOf(t, page)}, "action": {"approve"}, "role": {"rnd-lead"}})
	if refused.Status < 400 || !strings.Contains(refused.Body, `id="refusal"`) || !strings.Contains(refused.Body, "denied the request") {
		t.Errorf("alice's forged approval was not refused with the webhook's words (status %d):\n%s", refused.Status, refused.Body)
	}
	if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
		t.Fatal(err)
	}
	if entries, _ := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger]); len(entries) != 1 {
		t.Errorf("alice's forged approval reached the ledger: %+v", entries)
	}

	// No token ever reached a browser: the sessions hold them.
	c.console.store.mu.Lock()
	defer c.console.store.mu.Unlock()
	for _, sess := range c.console.store.sessions {
		secrets := []string{sess.RawIDToken, sess.Token.AccessToken, sess.Token.RefreshToken}
		if bobsBrowser.sawAny(secrets...) || alicesBrowser.sawAny(secrets...) {
			t.Errorf("A token of %s reached a browser", sess.User)
		}
	}
}

// TestAPICallsCarryThePersonsTokenOnly checks that the console's client drops
// its own credentials: without a person it makes no call, and with bob's ID
// token the API server knows bob.
func TestAPICallsCarryThePersonsTokenOnly(t *testing.T) {
	c := startConsoleCluster(t, "bob")
	b := newBrowser(t, c.issuer.CertPool())
	c.waitForIssuerTrust(t, b, "bob")
	if _, err := whoAmI(t.Context(), c.console.client); err == nil {
		t.Error("The console made an API call without a person")
	}
	var token string
	c.console.store.mu.Lock()
	for _, sess := range c.console.store.sessions {
		token = sess.RawIDToken
	}
	c.console.store.mu.Unlock()
	config := rest.AnonymousClientConfig(c.env.Config)
	config.BearerToken = token
	direct, err := client.New(config, client.Options{Scheme: c.env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := direct.Create(t.Context(), review); err != nil {
		t.Fatal(err)
	}
	if review.Status.UserInfo.Username != "bob" {
		t.Errorf("The API server knows the ID token as %q, want bob", review.Status.UserInfo.Username)
	}
}

// setAwaitingApproval records in request's status what the controller would:
// staging verified for the current spec, approvals taken.
func setAwaitingApproval(t *testing.T, env *testenv.Env, request *golivev1alpha1.UpdateRequest) {
	t.Helper()
	request.Status.Phase = golivev1alpha1.PhaseAwaitingApproval
	request.Status.SpecHash = ledger.SpecHash(&request.Spec)
	request.Status.Conditions = []metav1.Condition{{Type: golivev1alpha1.ConditionStagingVerified, Status: metav1.ConditionTrue,
		Reason: golivev1alpha1.ReasonSucceeded, LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(t.Context(), request); err != nil {
		t.Fatalf("Setting the request's phase: %v", err)
	}
}

// TestSessionRefreshesTheIDTokenAndEnds checks that an ID token about to
// expire is refreshed with the refresh token from the real provider (the API
// server accepts the new one), and that a session past its lifetime sends
// the person to the login.
func TestSessionRefreshesTheIDTokenAndEnds(t *testing.T) {
	// The console's clock stands still until the test moves it.
	clock := clocktesting.NewFakePassiveClock(time.Now())
	c := startConsoleClusterWith(t, func(o *Options) { o.Clock = clock }, "bob")
	b := newBrowser(t, c.issuer.CertPool())
	c.waitForIssuerTrust(t, b, "bob")
	session := func() session {
		c.console.store.mu.Lock()
		defer c.console.store.mu.Unlock()
		for _, sess := range c.console.store.sessions {
			return *sess
		}
		t.Fatal("The console holds no session")
		return session{}
	}
	before := session()
	if before.Token.RefreshToken == "" {
		t.Fatal("The provider gave no refresh token (offline_access)")
	}
	// The console's clock reaches the last minute of the ID token, and the
	// person's browser asks for several pages at once: one refresh serves
	// them all, and none of them ends the session.
	clock.SetTime(before.IDTokenExpiry.Add(-30 * time.Second))
	noRedirects := *b.client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	statuses := make(chan int, 4)
	for range cap(statuses) {
		go func() {
			resp, err := noRedirects.Get(c.consoleURL + "/windows")
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range cap(statuses) {
		if status := <-statuses; status != http.StatusOK {
			t.Errorf("A page asked for while the ID token was refreshed got %d, want 200", status)
		}
	}
	waiting := b.get(c.consoleURL + "/")
	if waiting.Status != http.StatusOK || !strings.Contains(waiting.Body, `id="user">bob<`) {
		t.Fatalf("After the refresh the waiting page is %d:\n%s", waiting.Status, waiting.Body)
	}
	after := session()
	if after.RawIDToken == before.RawIDToken || !after.IDTokenExpiry.After(before.IDTokenExpiry.Add(-time.Minute)) {
		t.Errorf("The ID token was not refreshed: expiry %v, before %v", after.IDTokenExpiry, before.IDTokenExpiry)
	}
	if b.sawAny(after.RawIDToken, after.Token.RefreshToken) {
		t.Error("A refreshed token reached the browser")
	}

	// Past the session's lifetime the person logs in again.
	clock.SetTime(after.Expires.Add(time.Second))
	resp, err := noRedirects.Get(c.consoleURL + "/windows")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if location := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(location, "/login?next=") {
		t.Errorf("An ended session got %d to %q, want the login", resp.StatusCode, location)
	}
}

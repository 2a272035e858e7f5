package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testenv/oidcissuer"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// screenshotsDir is where the browser test writes a screenshot of each page
// (docs/console.md shows them); bin/ is not committed.
var screenshotsDir = filepath.Join(testenv.RepoRoot(), "bin", "console-screenshots")

// chromium starts a headless Chromium of its own (its own profile, so its
// own cookies) that sends acceptLanguage, and returns its tab's context. The
// test certificates of the console and the provider are not in the system's
// roots: this browser ignores certificate errors (it only visits 127.0.0.1).
func chromium(t *testing.T, acceptLanguage string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Chromium is not installed: `make test` installs the Debian package chromium (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1000),
	)
	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocator)
	t.Cleanup(func() { cancelTab(); cancelAllocator() })
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Starting Chromium: %v", err)
	}
	if _, err := chromedp.Call(tab, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": acceptLanguage}}); err != nil {
		t.Fatalf("Setting the browser's language: %v", err)
	}
	return tab
}

// stepTimeout bounds each step in the browser: a page that never shows
// what a step waits for fails the test instead of hanging it.
const stepTimeout = time.Minute

// do runs steps in the tab.
func do(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// textOf is the text of the element the CSS selector finds.
func textOf(t *testing.T, tab context.Context, selector string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("Reading %s: %v", selector, err)
	}
	return text
}

// screenshot saves the whole page as <name>.png in screenshotsDir.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("Taking a screenshot of %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotsDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loginInBrowser opens the console, fills in the provider's login page and
// waits for the console's page.
func loginInBrowser(t *testing.T, tab context.Context, consoleURL, user string) {
	t.Helper()
	do(t, tab, user+" logging in",
		chromedp.Navigate(consoleURL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), oidcissuer.Password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
}

func TestBrowserApprovalInChromium(t *testing.T) {
	const alice, bob = "alice", "bob"
	c := startConsoleClusterWith(t, func(o *Options) { o.ArchiveNamespace = testArchive }, alice, bob)
	ctx := t.Context()
	c.setUpArchive(t, bob)
	c.env.BindClusterRole(t, c.namespace, "golive-approver-rnd-lead", alice, bob)
	c.env.WaitForAccess(t, bob, authorizationv1.ResourceAttributes{Namespace: c.namespace, Verb: "approve",
		Group: "golive.dev", Resource: "approvalroles", Name: "rnd-lead"})
	request := c.createAlicesRequest(t, ctx)
	requestURL := c.consoleURL + "/requests/" + c.namespace + "/" + request.Name
	recordNames := writeRecords(t, c.env, nil, c.endedRequests(t, "billing-2-2-0", "billing-2-3-0")...)
	// The API server loads the issuer's keys in the background.
	c.waitForIssuerTrust(t, newBrowser(t, c.issuer.CertPool()), bob)

	bobsTab := chromium(t, "en")
	loginInBrowser(t, bobsTab, c.consoleURL, bob)
	do(t, bobsTab, "Opening the waiting page", chromedp.WaitVisible(chromedp.ID("waiting")))
	waiting := textOf(t, bobsTab, "#waiting")
	if !strings.Contains(waiting, request.Name) || !strings.Contains(waiting, "rnd-lead") {
		t.Errorf("bob's waiting page does not list %s for rnd-lead: %q", request.Name, waiting)
	}
	screenshot(t, bobsTab, "waiting")
	do(t, bobsTab, "bob opening the request",
		chromedp.Click(chromedp.CSS("#waiting a")),
		chromedp.WaitVisible(chromedp.ID("do-approve")),
		chromedp.SendKeys(chromedp.ID("comment"), "Tested in grey, looks good"),
	)
	screenshot(t, bobsTab, "request")
	do(t, bobsTab, "bob approving",
		chromedp.Click(chromedp.ID("do-approve")),
		chromedp.WaitVisible(chromedp.ID("recorded")),
	)
	if recorded := textOf(t, bobsTab, "#recorded"); !strings.Contains(recorded, "bob") {
		t.Errorf("The confirmation does not name bob: %q", recorded)
	}
	screenshot(t, bobsTab, "approved")
	// A window of Thursday evenings in Berlin with a freeze, seen from Berlin.
	thursdays := testfixtures.MakeGoLiveWindow(c.namespace, "thursday-evening").TimeZone("Europe/Berlin").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).
		Freeze(golivev1alpha1.Freeze{Name: "year-end", Start: "2026-12-18T00:00", End: "2027-01-06T00:00", Reason: "Year-end closing"}).Obj()
	if err := c.env.Client.Create(ctx, thursdays); err != nil {
		t.Fatal(err)
	}
	do(t, bobsTab, "Opening the windows in Berlin time",
		chromedp.Navigate(c.consoleURL+"/preferences?tz=Europe/Berlin&next=/windows"), chromedp.WaitVisible(chromedp.ID("calendar")))
	if calendar := textOf(t, bobsTab, "#calendar"); !strings.Contains(calendar, c.namespace+"/evening: all day") ||
		!strings.Contains(calendar, c.namespace+"/thursday-evening: 20:00–23:00 CET (19:00–22:00 UTC)") {
		t.Errorf("The calendar does not show the windows' openings in Berlin time and UTC: %q", calendar)
	}
	screenshot(t, bobsTab, "windows")
	do(t, bobsTab, "Opening the records", chromedp.Click(chromedp.CSS(`nav a[href="/records"]`)), chromedp.WaitVisible(chromedp.ID("records")))
	if records := textOf(t, bobsTab, "#records"); strings.Count(records, "signature and chain hold") != len(recordNames) {
		t.Errorf("The records page does not verify the %d records: %q", len(recordNames), records)
	}
	screenshot(t, bobsTab, "records")
	do(t, bobsTab, "Opening a record", chromedp.Click(chromedp.CSS("#records a")), chromedp.WaitVisible(chromedp.ID("record")))
	screenshot(t, bobsTab, "record")

	var stored golivev1alpha1.UpdateRequest
	if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
		t.Fatal(err)
	}
	entries, err := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil || len(entries) != 1 || entries[0].User != bob || entries[0].Comment != "Tested in grey, looks good" {
		t.Fatalf("The ledger is %+v (%v), want bob's approval with his comment", entries, err)
	}

	// The page in German and in Chinese, from the browser's Accept-Language.
	for lang, word := range map[string]string{"de": "Freigaben", "zh": "审批"} {
		tab := chromium(t, lang)
		loginInBrowser(t, tab, c.consoleURL, bob)
		do(t, tab, "Opening the request in "+lang, chromedp.Navigate(requestURL), chromedp.WaitVisible(chromedp.ID("quorums")))
		if text := textOf(t, tab, "main"); !strings.Contains(text, word) {
			t.Errorf("The request's page in %s lacks %q:\n%s", lang, word, text)
		}
		screenshot(t, tab, "request-"+lang)
	}

	// alice requested it: no approve button for her.
	alicesTab := chromium(t, "en")
	loginInBrowser(t, alicesTab, c.consoleURL, alice)
	do(t, alicesTab, "alice opening her request", chromedp.Navigate(requestURL), chromedp.WaitVisible(chromedp.ID("actions")))
	buttons, err := chromedp.Run(alicesTab, chromedp.Evaluate[int](`document.querySelectorAll('#do-approve').length`))
	if err != nil {
		t.Fatal(err)
	}
	if buttons != 0 {
		t.Error("alice, the requester, sees an approve button")
	}
	screenshot(t, alicesTab, "request-requester")

	// A form on another site that posts an abort to the console, with bob's
	// session cookie in the browser: refused before it reaches the API server.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<form method="post" action="` + requestURL + `"><input name="action" value="abort">` +
			`<input name="comment" value="forged"><button id="forge" type="submit">win a prize</button></form>`))
	}))
	defer evil.Close()
	do(t, bobsTab, "Opening the other site", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.ID("forge")))
	postCtx, cancel := context.WithTimeout(bobsTab, stepTimeout)
	defer cancel()
	response, err := chromedp.RunResponse(postCtx, chromedp.Click(chromedp.ID("forge")))
	if err != nil {
		t.Fatalf("Posting the cross-site form: %v", err)
	}
	if response.Status != http.StatusForbidden {
		t.Errorf("The cross-site form got %d, want 403", response.Status)
	}
	answer := textOf(t, bobsTab, "body")
	if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
		t.Fatal(err)
	}
	if entries, _ := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger]); len(entries) != 1 {
		t.Errorf("The cross-site form reached the ledger: %+v (the browser showed %q)", entries, answer)
	}
	if !strings.Contains(strings.ToLower(answer), "cross-origin") {
		t.Errorf("The browser did not show the cross-origin refusal: %q", answer)
	}
	t.Logf("Screenshots of each page are in %s", screenshotsDir)
}

// createAlicesRequest creates alice's request under an always open window
// and puts it where the controller would: staging verified, approvals taken.
func (c *consoleCluster) createAlicesRequest(t *testing.T, ctx context.Context) *golivev1alpha1.UpdateRequest {
	t.Helper()
	if err := c.env.Client.Create(ctx, testfixtures.MakeGoLiveWindow(c.namespace, "evening").AlwaysOpen().Obj()); err != nil {
		t.Fatal(err)
	}
	asAlice, err := c.env.ClientAs("alice")
	if err != nil {
		t.Fatal(err)
	}
	request := testfixtures.MakeUpdateRequest(c.namespace, "billing-2-4-0").Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
		Staging(c.namespace+"-grey").Approval("rnd-lead", 1).Approval("operations-office", 1).Window("evening").Obj()
	if err := asAlice.Create(ctx, request); err != nil {
		t.Fatalf("alice creating her request: %v", err)
	}
	setAwaitingApproval(t, c.env, request)
	return request
}

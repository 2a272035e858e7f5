package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/test/cluster"
	"github.com/golive-dev/golive/test/consolebrowser"
)

// consoleTimeout bounds a login through the console while the
// kube-apiserver is still loading the provider's keys, and a page.
const consoleTimeout = 2 * time.Minute

// TestConsoleApprovals: the people approve through `golive console`, which
// logs them in through the cluster's real OIDC provider and calls the
// kube-apiserver with their own ID tokens, which it trusts through its
// structured authentication configuration. So golive's webhook signs the
// real person: bob's and carol's approvals name them, and alice's forged
// approval of her own request is refused in the webhook's words.
func TestConsoleApprovals(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-console", Authorization: true,
		OIDCUsers: []string{alice.user, bob.user, carol.user}})
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)
	a := newApp(t, cl, "console", alwaysOpen(), appOptions{})
	// The provider's ID tokens carry no groups: alice and bob hold rnd-lead
	// (and may give commands) as users, not through billing-rnd-leads.
	for _, clusterRole := range []string{"golive-approver-" + roleRnDLead, "golive-approver-commands"} {
		create(t, a.c, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: clusterRole + "-oidc", Namespace: a.production},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alice.user},
				{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: bob.user}},
		})
	}
	console := cl.StartConsole(t, a.production)

	r := a.create(a.request("billing-3-0-0", "3.0.0"))
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	requestURL := console.URL + "/requests/" + a.production + "/" + r.key.Name

	// alice requested it: her page shows no approve button, and a forged
	// post of the approve form is refused by golive's webhook, in its words.
	alices := login(t, cl, console, alice)
	page := open(t, alices, requestURL)
	if strings.Contains(page.Body, `id="do-approve"`) {
		t.Errorf("alice, the requester, sees an approve button:\n%s", page.Body)
	}
	refused := post(t, alices, requestURL, page, url.Values{"action": {"approve"}, "role": {roleRnDLead}, "comment": {"my own work"}})
	if refused.Status < 400 || !strings.Contains(refused.Body, `id="refusal"`) || !strings.Contains(refused.Body, "may not approve it") {
		t.Errorf("alice's forged approval was not refused with the webhook's words (status %d):\n%s", refused.Status, refused.Body)
	}

	for _, approval := range []struct {
		who           person
		role, comment string
	}{
		{bob, roleRnDLead, "code reviewed"},
		{carol, roleOperationsOffice, "change board agreed"},
	} {
		browser := login(t, cl, console, approval.who)
		page := open(t, browser, requestURL)
		if !strings.Contains(page.Body, `id="do-approve"`) {
			t.Fatalf("%s sees no approve button on the request's page:\n%s", approval.who.user, page.Body)
		}
		done := post(t, browser, requestURL, page, url.Values{"action": {"approve"}, "role": {approval.role}, "comment": {approval.comment}})
		if done.Status != http.StatusOK || !strings.Contains(done.Body, `id="recorded"`) ||
			!strings.Contains(done.Body, "<b>"+approval.who.user+"</b>") {
			t.Fatalf("%s's approval was not confirmed (status %d):\n%s", approval.who.user, done.Status, done.Body)
		}
	}

	// The ledger golive's webhook signed and the approvals golive counted
	// name bob and carol, with their comments.
	request := r.current()
	entries, err := ledger.Parse(request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		t.Fatalf("reading the ledger: %v", err)
	}
	var approvers []string
	for _, entry := range entries {
		if entry.Action == golivev1alpha1.LedgerApprove {
			approvers = append(approvers, fmt.Sprintf("%s as %s: %s", entry.User, entry.Role, entry.Comment))
		}
	}
	want := []string{bob.user + " as rnd-lead: code reviewed", carol.user + " as operations-office: change board agreed"}
	if !slices.Equal(approvers, want) {
		t.Errorf("the ledger's approvals are %q, want %q", approvers, want)
	}
	cluster.Eventually(t, journeyTimeout, "golive to count bob's and carol's approvals", func(context.Context) (bool, string, error) {
		var counted []string
		for _, approval := range r.current().Status.Approvals {
			counted = append(counted, fmt.Sprintf("%s as %s: %s", approval.User, approval.Role, approval.Comment))
		}
		return slices.Equal(counted, want), fmt.Sprintf("status.approvals %q\n%s", counted, r.describe()), nil
	})
}

// login logs p in to the console through the OIDC provider. Until the
// kube-apiserver has loaded the provider's keys, the console cannot ask it
// who p is; so it tries again until "waiting for me" greets p.
func login(t *testing.T, cl *cluster.Cluster, console *cluster.Console, p person) *consolebrowser.Browser {
	t.Helper()
	var browser *consolebrowser.Browser
	cluster.Eventually(t, consoleTimeout, p.user+" to log in to the console", func(ctx context.Context) (bool, string, error) {
		browser = consolebrowser.New(cl.OIDC.Issuer, cl.OIDC.Roots)
		landed, err := browser.Login(ctx, console.URL, p.user, cluster.OIDCPassword)
		if err != nil {
			return false, "", err
		}
		greeted := landed.Status == http.StatusOK && strings.Contains(landed.Body, `id="user">`+p.user+`<`)
		return greeted, fmt.Sprintf("%s answered %d:\n%s", landed.URL, landed.Status, landed.Body), nil
	})
	return browser
}

// open opens a console page and wants 200 OK.
func open(t *testing.T, browser *consolebrowser.Browser, address string) consolebrowser.Page {
	t.Helper()
	page, err := browser.Get(t.Context(), address)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK {
		t.Fatalf("%s answered %d:\n%s", address, page.Status, page.Body)
	}
	return page
}

// post posts form to address with the CSRF token of page, as its form does.
func post(t *testing.T, browser *consolebrowser.Browser, address string, page consolebrowser.Page, form url.Values) consolebrowser.Page {
	t.Helper()
	token, err := consolebrowser.CSRF(page)
	if err != nil {
		t.Fatal(err)
	}
	form.Set("csrf", token)
	answer, err := browser.Post(t.Context(), address, form)
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

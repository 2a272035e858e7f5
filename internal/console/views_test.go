package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestCommandValue(t *testing.T) {
	for _, tc := range []struct {
		action     lifecycle.CommandAction
		role, text string
		want       string
		wantError  bool
	}{
		{lifecycle.ActionApprove, "rnd-lead", "", "rnd-lead", false},
		{lifecycle.ActionApprove, "rnd-lead", "  looks\n good ", "rnd-lead; looks good", false},
		{lifecycle.ActionApprove, "", "ok", "", true},
		{lifecycle.ActionReject, "rnd;lead", "", "", true},
		{lifecycle.ActionReject, "business-owner", "broken checkout", "business-owner; broken checkout", false},
		{lifecycle.ActionAccept, "", "fine", "fine", false},
		{lifecycle.ActionGo, "", "", "", false},
		{lifecycle.ActionAbort, "", "", "", true},
		{lifecycle.ActionAbort, "", "wrong image", "wrong image", false},
		{lifecycle.ActionRetry, "", " Prometheus is back ", "Prometheus is back", false},
		{"delete", "", "", "", true},
	} {
		got, err := commandValue(tc.action, tc.role, tc.text)
		if (err != nil) != tc.wantError || got != tc.want {
			t.Errorf("commandValue(%s, %q, %q) = %q, %v; want %q (error %v)", tc.action, tc.role, tc.text, got, err, tc.want, tc.wantError)
		}
	}
}

// The request's page shows what the configuration changes against
// production and each migration's results, escaped like every value people
// wrote.
func TestRequestPageShowsConfigAndMigrations(t *testing.T) {
	s := newTestServer(t, Options{})
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-5-0").Release("2.5.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "billing-api:2.5.0"}).Obj()
	request.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema"}}
	request.Status.Staging = &golivev1alpha1.EnvironmentStatus{Migrations: []golivev1alpha1.CheckStatus{{Name: "schema", Result: golivev1alpha1.CheckPassed}}}
	view := newRequestView(request, nil)
	view.Migrations = migrationResults(request)
	view.Config = []string{"ConfigMap billing-config → billing-config-0123456789, against billing-config in production", "  ~ LOG_LEVEL: debug → <b>info</b>"}

	r := httptest.NewRequest(http.MethodGet, "/requests/billing/billing-2-5-0", nil)
	r.Header.Set("Accept-Language", "de")
	recorder := httptest.NewRecorder()
	s.render(recorder, r, http.StatusOK, "request", pageData{User: "bob", CSRF: "token", Page: view})
	body := recorder.Body.String()
	for _, want := range []string{
		"Konfiguration gegenüber dem, was die Produktion jetzt nutzt",
		"<li><code>ConfigMap billing-config → billing-config-0123456789, against billing-config in production</code></li>",
		"~ LOG_LEVEL: debug → &lt;b&gt;info&lt;/b&gt;",
		"Migrationen",
		"<li>schema · staging: Passed</li>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>info</b>") {
		t.Error("a configuration value was rendered as HTML")
	}
}

// The request's page shows the soak and when it ends, who approved and who
// said go, with their comments.
func TestRequestPageShowsSoakApprovalsAndGoes(t *testing.T) {
	s := newTestServer(t, Options{})
	verified := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Release("2.4.0").Staging("billing-grey").
		Soak(48*time.Hour).Approval("rnd-lead", 1).Phase(golivev1alpha1.PhaseAwaitingGo).StagingVerified(verified).Obj()
	request.Status.Approvals = []golivev1alpha1.ApprovalRecord{{Role: "rnd-lead", User: "bob", At: metav1.NewTime(verified.Add(time.Hour)), Comment: "checks reviewed"}}
	request.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"},
		Given: []golivev1alpha1.ApprovalRecord{{Role: "operations-supervisor", User: "sam", At: metav1.NewTime(verified.Add(50 * time.Hour)), Comment: "on call"}}}

	r := httptest.NewRequest(http.MethodGet, "/requests/billing/billing-2-4-0", nil)
	recorder := httptest.NewRecorder()
	s.render(recorder, r, http.StatusOK, "request", pageData{User: "carol", CSRF: "token", Page: newRequestView(request, nil)})
	body := recorder.Body.String()
	for _, want := range []string{
		`<p id="soak">Soak: 48h, ends 2026-12-02 09:00 UTC</p>`,
		"<td>bob</td>", "checks reviewed",
		`<table id="goes">`, "<td>sam</td>", "on call",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}

	// An emergency does not soak, and nothing was counted yet.
	emergency := testfixtures.MakeUpdateRequest("billing", "billing-2-4-1").Staging("billing-grey").Soak(48 * time.Hour).
		Emergency("outage").Phase(golivev1alpha1.PhaseAwaitingApproval).StagingVerified(verified).Obj()
	recorder = httptest.NewRecorder()
	s.render(recorder, r, http.StatusOK, "request", pageData{User: "carol", CSRF: "token", Page: newRequestView(emergency, nil)})
	if body := recorder.Body.String(); strings.Contains(body, `id="soak"`) || !strings.Contains(body, `id="no-approvals"`) {
		t.Errorf("an emergency's page shows a soak, or no word of the missing approvals:\n%s", body)
	}
}

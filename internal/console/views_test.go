package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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

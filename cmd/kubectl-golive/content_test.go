package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/report"
)

// contentRequest carries billing-config, billing-credentials and a schema
// migration, and staging made its copies and ran the migration.
func contentRequest() *golivev1alpha1.UpdateRequest {
	return makeRequest().Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.ReasonAwaitingApproval, "Waiting for approvals")).
		Mutate(verifiedStaging("2026-11-23T09:10:00Z")).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Config = []golivev1alpha1.ConfigEntry{
				{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Data: map[string]string{"LOG_LEVEL": "info", "SCHEMA": "42", "NEW": "yes"}},
				{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", FromSecret: "billing-credentials-2-4-0"},
			}
			r.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema"}}
			r.Status.Config = []golivev1alpha1.ConfigCopyStatus{
				{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Copy: "billing-config-0123456789", Keys: []string{"LOG_LEVEL", "NEW", "SCHEMA"}},
				{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: "billing-credentials-abcdef0123", Keys: []string{"password", "token"}},
			}
			r.Status.Staging.Migrations = []golivev1alpha1.CheckStatus{{Name: "schema", Result: golivev1alpha1.CheckPassed, Message: "Job billing-2-4-0-staging-migrate-schema-1a2b3c4d completed"}}
		}).Obj()
}

// Status shows what the configuration changes against production, a
// Secret by its keys only, and the migrations' results.
func TestStatusShowsTheConfigDiff(t *testing.T) {
	current := []productionConfig{
		{Object: "billing-config", Data: map[string]string{"LOG_LEVEL": "debug", "SCHEMA": "42", "OLD": "gone"}},
		{Object: "billing-credentials", Keys: []string{"password", "legacy"}},
	}
	var out bytes.Buffer
	if err := writeStatus(&out, statusInput{Request: contentRequest(), Window: thursdayEvening(), Config: current, Now: monday, TimelineEntries: 0}); err != nil {
		t.Fatal(err)
	}
	want := `Config:         what the release changes against production now
  ConfigMap billing-config → billing-config-0123456789, against billing-config in production
    ~ LOG_LEVEL: debug → info
    + NEW=yes
    - OLD=gone
  Secret billing-credentials → billing-credentials-abcdef0123, against billing-credentials in production
    + token
    - legacy
    keys in both (values are never shown): password
Migrations:     schema, run before each environment's targets change
  staging    schema       Passed: Job billing-2-4-0-staging-migrate-schema-1a2b3c4d completed
`
	got := out.String()
	start := strings.Index(got, "Config:")
	end := strings.Index(got, "Approvals:")
	if start < 0 || end < start {
		t.Fatalf("no Config and Migrations in:\n%s", got)
	}
	if diff := cmp.Diff(want, got[start:end]); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if strings.Contains(got, "s3cret") {
		t.Error("the status shows a Secret's value")
	}
}

func TestConfigLinesWithoutProduction(t *testing.T) {
	request := contentRequest()
	request.Status.Config = nil
	got := configLines(request, []productionConfig{{}, {Object: "billing-credentials", Unreadable: "you may not read it"}})
	want := []string{
		"ConfigMap billing-config: no production target references it now",
		"Secret billing-credentials: production runs billing-credentials, which cannot be read (you may not read it)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configLines (-want +got):\n%s", diff)
	}
}

// The report lists the copies golive made, keys only, and each environment's migrations.
func TestReportShowsTheReleaseContent(t *testing.T) {
	var out bytes.Buffer
	if err := report.Write(&out, contentRequest(), utc("2026-12-04T08:00:00Z"), nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"## Configuration and migrations",
		"| ConfigMap | billing-config | data in the request | billing-config-0123456789 | LOG\\_LEVEL, NEW, SCHEMA |",
		"| Secret | billing-credentials | Secret billing-credentials-2-4-0 | billing-credentials-abcdef0123 | password, token |",
		"Migrations, run in each environment before its targets changed: schema.",
		"| schema | Passed | Job billing-2-4-0-staging-migrate-schema-1a2b3c4d completed |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
}

// A report of a request that has not ended compares the configuration with
// what production runs now, as status does, a Secret by its keys only.
func TestReportShowsTheConfigDiff(t *testing.T) {
	current := []productionConfig{
		{Object: "billing-config", Data: map[string]string{"LOG_LEVEL": "debug", "SCHEMA": "42"}},
		{Object: "billing-credentials", Keys: []string{"password", "legacy"}},
	}
	var out bytes.Buffer
	if err := report.Write(&out, contentRequest(), utc("2026-12-04T08:00:00Z"), current); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"What the release changes against what production runs now (a Secret by its keys only):",
		"- ConfigMap billing-config → billing-config-0123456789, against billing-config in production",
		`  - \~ LOG\_LEVEL: debug → info`,
		`  - \+ NEW=yes`,
		`  - \- legacy`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
	var without bytes.Buffer
	if err := report.Write(&without, contentRequest(), utc("2026-12-04T08:00:00Z"), nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(without.String(), "against what production runs now") {
		t.Error("a report without production's configuration compares with it")
	}
}

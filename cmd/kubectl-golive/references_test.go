package main

import (
	"bytes"
	"strings"
	"testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// withReferencesAndPolicies gives a request the documents it comes with and
// the policies production started under.
func withReferencesAndPolicies(r *golivev1alpha1.UpdateRequest) {
	r.Spec.References = []golivev1alpha1.Reference{
		{Type: "change", ID: "CHG0012345", URL: "https://itsm.example.com/CHG0012345"},
		{Type: "test-report", Digest: "sha256:4f2a"},
	}
	r.Status.Policies = []golivev1alpha1.AppliedPolicy{{Name: "production-apps", Generation: 3}, {Name: "payments", Generation: 1}}
	r.Status.SubmittedBy = "system:serviceaccount:argocd:argocd-application-controller"
}

func TestStatusAndReportNameTheReferencesAndPolicies(t *testing.T) {
	request := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production")).
		Mutate(withReferencesAndPolicies).Obj()

	var status bytes.Buffer
	if err := writeStatus(&status, statusInput{Request: request, Window: thursdayEvening(), Now: monday, TimelineEntries: 5}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Reference:      change CHG0012345 https://itsm.example.com/CHG0012345\n",
		"Reference:      test-report sha256:4f2a\n",
		"Policies:       production-apps (generation 3), payments (generation 1)\n",
		"Submitted by:   system:serviceaccount:argocd:argocd-application-controller, a trusted submitter, on the requester's behalf\n",
	} {
		if !strings.Contains(status.String(), want) {
			t.Errorf("the status lacks %q:\n%s", want, status.String())
		}
	}

	var report bytes.Buffer
	if err := writeReport(&report, request, monday); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- **Reference:** change CHG0012345 https://itsm.example.com/CHG0012345\n",
		"- **Reference:** test-report sha256:4f2a\n",
		"- **Policies production started under:** production-apps (generation 3), payments (generation 1)\n",
		"- **Submitted by:** system:serviceaccount:argocd:argocd-application-controller (a trusted submitter, on the requester's behalf)\n",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, report.String())
		}
	}
}

func TestStatusOmitsReferencesAndPoliciesARequestDoesNotHave(t *testing.T) {
	var status bytes.Buffer
	if err := writeStatus(&status, statusInput{Request: makeRequest().Obj(), Window: thursdayEvening(), Now: monday, TimelineEntries: 5}); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"Reference:", "Policies:", "Submitted by:"} {
		if strings.Contains(status.String(), absent) {
			t.Errorf("the status of a request without them says %q:\n%s", absent, status.String())
		}
	}
}

func TestReportSaysStagingWasVerifiedAgain(t *testing.T) {
	request := makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production")).
		Mutate(verifiedStaging("2026-11-18T09:10:00Z")).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Status.Staging.Reverifications = 1
			r.Status.Staging.ReverificationStartedAt = at("2026-11-26T19:00:00Z")
			r.Status.Staging.ReverifiedAt = at("2026-11-26T19:04:00Z")
		}).Obj()
	var report bytes.Buffer
	if err := writeReport(&report, request, monday); err != nil {
		t.Fatal(err)
	}
	want := "Verified again 1 time(s), as a GoLivePolicy's staging.maxAge asked: the latest began 2026-11-26T19:00:00Z and passed 2026-11-26T19:04:00Z."
	if !strings.Contains(report.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, report.String())
	}
}

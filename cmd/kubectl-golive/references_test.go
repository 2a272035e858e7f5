package main

import (
	"bytes"
	"strings"
	"testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/report"
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

	var markdown bytes.Buffer
	if err := report.Write(&markdown, request, monday, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- **Reference:** change CHG0012345 https://itsm.example.com/CHG0012345\n",
		"- **Reference:** test-report sha256:4f2a\n",
		"- **Policies production started under:** production-apps (generation 3), payments (generation 1)\n",
		"- **Submitted by:** system:serviceaccount:argocd:argocd-application-controller (a trusted submitter, on the requester's behalf)\n",
	} {
		if !strings.Contains(markdown.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, markdown.String())
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

package report

import (
	"fmt"
	"strings"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// The texts of a request that the report shares with the plugin's status.

// Requester is who created the request, from the status or the annotation the webhook stamps.
func Requester(request *golivev1alpha1.UpdateRequest) string {
	if request.Status.RequestedBy != "" {
		return request.Status.RequestedBy
	}
	return request.Annotations[golivev1alpha1.AnnotationRequestedBy]
}

// SubmitterOf is the trusted submitter that created request for its requester.
func SubmitterOf(request *golivev1alpha1.UpdateRequest) string {
	if request.Status.SubmittedBy != "" {
		return request.Status.SubmittedBy
	}
	return request.Annotations[golivev1alpha1.AnnotationSubmittedBy]
}

// EmergencyApprovalText says whose approval an emergency needs and whose
// rules say so, as golive counted them.
func EmergencyApprovalText(approval *golivev1alpha1.EmergencyApprovalStatus, window string) string {
	text := "no emergency role applies"
	if len(approval.Roles) > 0 {
		text = "one approval of " + strings.Join(approval.Roles, " or ")
	}
	if approval.Policy != "" {
		return text + ", by GoLivePolicy " + approval.Policy + " (its emergency rules replace window " + window + "'s)"
	}
	return text + ", by window " + window
}

// EmergencyText is an emergency's justification with its incident.
func EmergencyText(emergency *golivev1alpha1.Emergency) string {
	text := emergency.Justification
	if emergency.Incident != "" {
		text += " (incident " + emergency.Incident + ")"
	}
	return text
}

// ReferenceText is one spec.references entry as a line: "change CHG0012345
// https://… sha256:…", whichever parts it has.
func ReferenceText(reference golivev1alpha1.Reference) string {
	parts := []string{reference.Type}
	if reference.ID != "" {
		parts = append(parts, reference.ID)
	}
	if reference.URL != "" {
		parts = append(parts, reference.URL)
	}
	if reference.Digest != "" {
		parts = append(parts, reference.Digest)
	}
	return strings.Join(parts, " ")
}

// PoliciesText names the policies production started under, with their generations.
func PoliciesText(policies []golivev1alpha1.AppliedPolicy) string {
	names := make([]string, len(policies))
	for i, p := range policies {
		names[i] = fmt.Sprintf("%s (generation %d)", p.Name, p.Generation)
	}
	return strings.Join(names, ", ")
}

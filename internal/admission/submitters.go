package admission

import (
	"context"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/freetext"
)

// maxRequesterLength bounds the person a trusted submitter names.
const maxRequesterLength = 256

// Who asked for a request is the user who created it, as the API server
// authenticated them, with one exception: a GitOps identity that a
// GoLivePolicy of the namespace names in spec.trustedSubmitters applies
// requests on behalf of people, and states the person (from the commit or
// the pull request) in golive.dev/requested-by. golive then takes that person
// as the requester, so four-eyes applies to them, and stamps the submitter in
// golive.dev/submitted-by. Anyone else stating a requester is refused.

// requesterOf returns who asked for a new request created by user, and the
// trusted submitter that stated it (empty when user asked themselves).
func (w *Webhooks) requesterOf(ctx context.Context, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) (requester, submitter string, err error) {
	stated, set := request.Annotations[golivev1alpha1.AnnotationRequestedBy]
	if !set {
		return user.Username, "", nil
	}
	rules, err := w.namespaceRules(ctx, request.Namespace)
	if err != nil {
		return "", "", err
	}
	policyName, trusted := rules.TrustedSubmitters[user.Username]
	if !trusted {
		return "", "", refused("%s is stamped by golive with the user who creates the request: remove it "+
			"(only an identity that a GoLivePolicy of namespace %s names in spec.trustedSubmitters may state who asked; %s is not one)",
			golivev1alpha1.AnnotationRequestedBy, request.Namespace, user.Username)
	}
	if problem := requesterProblem(stated); problem != "" {
		return "", "", refused("%s: %s (stated by %s, a trusted submitter of policy %s)", golivev1alpha1.AnnotationRequestedBy, problem, user.Username, policyName)
	}
	return stated, user.Username, nil
}

// requesterProblem says what is wrong with the person a submitter named.
func requesterProblem(stated string) string {
	switch {
	case strings.TrimSpace(stated) == "":
		return "names nobody: state the person who asked, as the API server knows them (e.g. alice@example.com)"
	case stated != strings.TrimSpace(stated):
		return "has leading or trailing spaces"
	case strings.HasPrefix(stated, "system:"):
		return "must name a person, not a system identity such as a ServiceAccount: " + stated
	case len(stated) > maxRequesterLength:
		return "is longer than 256 characters"
	}
	if _, _, found := freetext.FirstDisallowed(stated, false); found {
		return "carries a control or formatting character"
	}
	return ""
}

// checkSubmitter refuses, in the validating webhook, a new request whose
// stated requester is not the user who creates it unless that user is a
// trusted submitter of the namespace, stamped as such. It re-derives what the
// mutating webhook decided rather than believe the annotations.
func (w *Webhooks) checkSubmitter(ctx context.Context, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) error {
	requester := request.Annotations[golivev1alpha1.AnnotationRequestedBy]
	submitter, submitted := request.Annotations[golivev1alpha1.AnnotationSubmittedBy]
	if !submitted {
		if requester != user.Username {
			return refused("%s must name the user who creates the request (%s), as golive stamps it; it names %q",
				golivev1alpha1.AnnotationRequestedBy, user.Username, requester)
		}
		return nil
	}
	if submitter != user.Username {
		return refused("%s must name the user who creates the request (%s), as golive stamps it; it names %q",
			golivev1alpha1.AnnotationSubmittedBy, user.Username, submitter)
	}
	stated, _, err := w.requesterOf(ctx, request, user)
	if err != nil {
		return err
	}
	if stated != requester {
		return refused("%s changed after golive stamped it", golivev1alpha1.AnnotationRequestedBy)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// The plugin asks the API server about the person running it, who may be
// someone else with --as: who they are (SelfSubjectReview) and what they may
// do (SelfSubjectAccessReview), the same question golive's webhook asks with
// a SubjectAccessReview before it records a command.

// whoAmI is the username the API server authenticates the plugin's requests as.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview): %w", err)
	}
	return review.Status.UserInfo.Username, nil
}

// accessReviews asks the API server what the person may do, each question once.
type accessReviews struct {
	client  client.Client
	answers map[authorizationv1.ResourceAttributes]bool
}

func newAccessReviews(c client.Client) *accessReviews {
	return &accessReviews{client: c, answers: map[authorizationv1.ResourceAttributes]bool{}}
}

// allowed asks a SelfSubjectAccessReview for attributes.
func (a *accessReviews) allowed(ctx context.Context, attributes authorizationv1.ResourceAttributes) (bool, error) {
	if allowed, ok := a.answers[attributes]; ok {
		return allowed, nil
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attributes}}
	if err := a.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("asking the API server whether you may %s %s/%s in namespace %s: %w",
			attributes.Verb, attributes.Resource, attributes.Name, attributes.Namespace, err)
	}
	a.answers[attributes] = review.Status.Allowed
	return review.Status.Allowed, nil
}

// holdsRole reports whether the person holds the approval role in namespace:
// the verb approve on approvalroles.golive.dev/<role>, as docs/approvals.md
// grants it and golive's webhook checks it.
func (a *accessReviews) holdsRole(ctx context.Context, namespace, role string) (bool, error) {
	return a.allowed(ctx, authorizationv1.ResourceAttributes{
		Namespace: namespace, Verb: golivev1alpha1.ApproveVerb,
		Group: golivev1alpha1.GroupVersion.Group, Resource: golivev1alpha1.ApprovalRoleResource, Name: role,
	})
}

// grantRolesSection is where docs/approvals.md says which rights approvers need.
const grantRolesSection = `"Grant approval roles" in docs/approvals.md`

// hintedError is an error with a next step, shown on the line after it.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() + "\n" + e.hint }
func (e *hintedError) Unwrap() error { return e.err }

// explainPatchRefusal adds a pointer to an error of the command's patch when
// the API server refused it because the person may not patch the request
// (RBAC, before golive's webhook is asked): the commands are annotations.
// Any other error, golive's refusals included, is returned as it is.
func explainPatchRefusal(ctx context.Context, c client.Client, key client.ObjectKey, err error) error {
	if !apierrors.IsForbidden(err) {
		return err
	}
	attributes := authorizationv1.ResourceAttributes{
		Namespace: key.Namespace, Verb: "patch", Group: golivev1alpha1.GroupVersion.Group, Resource: "updaterequests", Name: key.Name,
	}
	allowed, reviewErr := newAccessReviews(c).allowed(ctx, attributes)
	if reviewErr != nil || allowed {
		return err
	}
	return &hintedError{err: err, hint: fmt.Sprintf(
		"You may not patch updaterequests.%s in namespace %s. The commands are annotations on the request, so besides the "+
			"approval role they need the verbs get and patch on updaterequests in the request's namespace: "+
			"ask your administrator, see %s.", attributes.Group, key.Namespace, grantRolesSection)}
}

// describeHinted is describeError for an error with a next step.
func describeHinted(err error) (string, bool) {
	var hinted *hintedError
	if !errors.As(err, &hinted) {
		return "", false
	}
	return describeError(hinted.err) + "\n" + hinted.hint, true
}

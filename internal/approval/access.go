package approval

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AccessReviewer asks the API server whether a user may do something.
type AccessReviewer interface {
	// Allowed reports whether user has the access described by attributes,
	// and the authorizer's reason.
	Allowed(ctx context.Context, user authenticationv1.UserInfo, attributes authorizationv1.ResourceAttributes) (bool, string, error)
}

// SubjectAccessReviewer answers with a SubjectAccessReview, so every
// authorizer of the cluster (RBAC, webhooks) has its say.
type SubjectAccessReviewer struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Allowed creates a SubjectAccessReview for user.
func (r SubjectAccessReviewer) Allowed(ctx context.Context, user authenticationv1.UserInfo, attributes authorizationv1.ResourceAttributes) (bool, string, error) {
	review := &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			ResourceAttributes: &attributes,
			User:               user.Username,
			Groups:             user.Groups,
			UID:                user.UID,
		},
	}
	if len(user.Extra) > 0 {
		review.Spec.Extra = make(map[string]authorizationv1.ExtraValue, len(user.Extra))
		for key, values := range user.Extra {
			review.Spec.Extra[key] = authorizationv1.ExtraValue(values)
		}
	}
	if err := r.Client.Create(ctx, review); err != nil {
		return false, "", fmt.Errorf("creating a SubjectAccessReview for %s: %w", user.Username, err)
	}
	return review.Status.Allowed && !review.Status.Denied, review.Status.Reason, nil
}

package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/utils/clock"
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

// CachedAccessReviewer remembers a reviewer's allowed answers for a short
// while. A command is checked twice within milliseconds, by the mutating and
// then the validating webhook; the second check is answered from here.
// Refusals are never remembered, so a right just granted works at once; a
// right just revoked still works for up to the TTL, as with the API server's
// own webhook authorizer cache.
type CachedAccessReviewer struct {
	reviewer AccessReviewer
	ttl      time.Duration
	allowed  *cache.LRUExpireCache
}

// cachedAnswers bounds the answers remembered: each is a user's one right.
const cachedAnswers = 1024

// NewCachedAccessReviewer wraps reviewer, remembering allowed answers for ttl
// by clock.
func NewCachedAccessReviewer(reviewer AccessReviewer, ttl time.Duration, clock clock.PassiveClock) *CachedAccessReviewer {
	return &CachedAccessReviewer{reviewer: reviewer, ttl: ttl, allowed: cache.NewLRUExpireCacheWithClock(cachedAnswers, clock)}
}

// Allowed answers from the remembered answers, else asks the reviewer.
func (r *CachedAccessReviewer) Allowed(ctx context.Context, user authenticationv1.UserInfo, attributes authorizationv1.ResourceAttributes) (bool, string, error) {
	key, err := json.Marshal(struct {
		User       authenticationv1.UserInfo
		Attributes authorizationv1.ResourceAttributes
	}{user, attributes})
	if err != nil {
		return false, "", fmt.Errorf("keying an access review: %w", err)
	}
	if reason, ok := r.allowed.Get(string(key)); ok {
		return true, reason.(string), nil
	}
	allowed, reason, err := r.reviewer.Allowed(ctx, user, attributes)
	if err == nil && allowed {
		r.allowed.Add(string(key), reason, r.ttl)
	}
	return allowed, reason, err
}

package main

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// managerIdentity asks the API server who golive's own calls are made as
// (a SelfSubjectReview, which every authenticated user may create), so that
// admission can ask whether golive itself may change a request's workloads
// (--namespaced-rbac).
func managerIdentity(ctx context.Context, c client.Client) (*authenticationv1.UserInfo, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return nil, fmt.Errorf("asking the API server who golive is (SelfSubjectReview): %w", err)
	}
	user := review.Status.UserInfo
	if user.Username == "" {
		return nil, fmt.Errorf("the API server's SelfSubjectReview names no user")
	}
	return &user, nil
}

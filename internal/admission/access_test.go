package admission

import (
	"context"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// countingReviewer allows what allow says and counts the questions.
type countingReviewer struct {
	allow func(user string) bool
	asked int
}

func (r *countingReviewer) Allowed(_ context.Context, user authenticationv1.UserInfo, _ authorizationv1.ResourceAttributes) (bool, string, error) {
	r.asked++
	if r.allow(user.Username) {
		return true, "bound", nil
	}
	return false, "", nil
}

func TestCachedAccessReviewerRemembersAllowedAnswersOnly(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	inner := &countingReviewer{allow: func(user string) bool { return user == "bob" }}
	reviewer := NewCachedAccessReviewer(inner, 10*time.Second, clock)
	approve := authorizationv1.ResourceAttributes{Group: "golive.dev", Resource: "approvalroles", Verb: "approve", Name: "rnd-lead"}
	ask := func(user string, attributes authorizationv1.ResourceAttributes) bool {
		t.Helper()
		allowed, _, err := reviewer.Allowed(t.Context(), authenticationv1.UserInfo{Username: user}, attributes)
		if err != nil {
			t.Fatal(err)
		}
		return allowed
	}

	// The validating webhook's check right after the mutating one's is answered from memory.
	if !ask("bob", approve) || !ask("bob", approve) || inner.asked != 1 {
		t.Fatalf("bob asked twice: allowed, with %d reviews; want 1", inner.asked)
	}
	// Another right, or another user, is another question.
	other := approve
	other.Name = "operations-office"
	ask("bob", other)
	if ask("mallory", approve) || inner.asked != 3 {
		t.Fatalf("after other questions: %d reviews, want 3", inner.asked)
	}
	// A refusal is not remembered: a right granted since counts at once.
	inner.allow = func(string) bool { return true }
	if !ask("mallory", approve) || inner.asked != 4 {
		t.Fatalf("mallory, granted since: %d reviews, want 4 and allowed", inner.asked)
	}
	// An allowed answer is forgotten after the TTL: a right revoked since counts then.
	inner.allow = func(string) bool { return false }
	clock.Step(10*time.Second + time.Millisecond)
	if ask("bob", approve) || inner.asked != 5 {
		t.Fatalf("bob, revoked, after the TTL: %d reviews, want 5 and refused", inner.asked)
	}
}

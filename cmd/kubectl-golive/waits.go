package main

import (
	"errors"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// deadline is an instant a request waits for, read from the timestamps golive
// recorded in its status with the same rules golive waits by.
type deadline = lifecycle.Deadline

// deadlines lists what the request waits for in its current phase, by time.
// Waits on people or watched objects have no deadline of their own; the
// Ready condition describes them.
func deadlines(request *golivev1alpha1.UpdateRequest) []deadline {
	return lifecycle.Deadlines(request)
}

// quorum is one share of the approvals a request needs: a required role, or
// for an emergency one approval from any of the window's emergency roles.
type quorum = lifecycle.Quorum

// quorums shares status.approvals (the approvals golive verified and counted)
// out to the quorums of the spec as golive counts them. window may be nil; an
// emergency quorum then names no roles.
func quorums(request *golivev1alpha1.UpdateRequest, window *golivev1alpha1.GoLiveWindow) []quorum {
	return lifecycle.ShareApprovals(request, window)
}

// approvalsOpen reports whether approvals can still be given: from the start
// until production starts, as golive's webhook allows them (some only once
// staging is verified, which writeApprovals says separately).
func approvalsOpen(request *golivev1alpha1.UpdateRequest) bool {
	err := lifecycle.CommandAllowed(request, lifecycle.ActionApprove, "", request.Status.SpecHash)
	var refusal *lifecycle.CommandRefusal
	return err == nil || (errors.As(err, &refusal) && refusal.Later)
}

package lifecycle

import (
	"strings"
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A policy's approvals.expireAfter: an approval older than it when
// production would start no longer counts.
func TestApprovalsExpire(t *testing.T) {
	expiry := ApprovalExpiry{After: 72 * time.Hour, Policy: "production-apps"}
	scheduledLongAgo := func(r *golivev1alpha1.UpdateRequest) {
		stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-7*24*time.Hour))
	}
	testDecide(t, []decideCase{
		{
			name:    "a scheduled request whose approval expired waits for approvals again, saying whose",
			request: scheduledLongAgo,
			world: func(w *World) {
				w.ApprovalExpiry = expiry
				w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-4*24*time.Hour)), approve("carol", "operations-office", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingApproval, message: "rnd-lead 0/1", check: func(t *testing.T, d Decision) {
				last := d.Status.Timeline[len(d.Status.Timeline)-1]
				for _, part := range []string{"Approvals older than 3 days no longer count (policy production-apps approvals.expireAfter)", "bob (rnd-lead) at 2026-11-19T10:00:00Z"} {
					if !strings.Contains(last.Message, part) {
						t.Errorf("timeline %q, want it to say %q", last.Message, part)
					}
				}
				wantEvent(t, d, false, golivev1alpha1.ReasonApprovalsExpired)
			}},
		},
		{
			name:    "bob approving again counts",
			request: scheduledLongAgo,
			world: func(w *World) {
				w.Window.Spec = alwaysOpen()
				w.ApprovalExpiry = expiry
				w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-4*24*time.Hour)), approve("carol", "operations-office", monday), approve("bob", "rnd-lead", monday)}
			},
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name:    "a request waiting for the window is looked at again when its first approval expires",
			request: scheduledLongAgo,
			world: func(w *World) {
				w.ApprovalExpiry = expiry
				w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-time.Hour)), approve("carol", "operations-office", monday)}
			},
			// Thursday evening is 3 days and 9 hours away; bob's approval expires in 71 hours.
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: 71 * time.Hour},
		},
	})
}

func TestProductionGatesLeaveOutExpiredApprovals(t *testing.T) {
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseScheduled, monday.Add(-7*24*time.Hour))
	world := newWorld()
	world.Window.Spec = alwaysOpen()
	world.Attested.StagingVerifiedAt = monday.Add(-7 * 24 * time.Hour)
	world.Attested.StagingFirstVerifiedAt = world.Attested.StagingVerifiedAt
	world.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-4*24*time.Hour)), approve("carol", "operations-office", monday)}
	if unmet := ProductionGates(request, world, monday); len(unmet) != 0 {
		t.Fatalf("without an expiry: %v", unmet)
	}
	world.ApprovalExpiry = ApprovalExpiry{After: 72 * time.Hour, Policy: "production-apps"}
	if unmet := strings.Join(ProductionGates(request, world, monday), "; "); !strings.Contains(unmet, "approvals: the signed ledger does not meet the quorum") {
		t.Errorf("ProductionGates = %q, want the quorum unmet", unmet)
	}
}

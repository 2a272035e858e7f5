package lifecycle

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// withSnapshot gives the request's completed backup one snapshot.
func withSnapshot(r *golivev1alpha1.UpdateRequest) {
	r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "s", ReadyToUse: true}}
}

// A rollback after production passed its verification may drop what
// production wrote since the snapshot: restoreData says whether it does, and
// people waiting to accept are told before they reject.
func TestRestoreDataAfterTraffic(t *testing.T) {
	rejectedAfterVerification := func(mode golivev1alpha1.RestoreDataMode) func(*golivev1alpha1.UpdateRequest) {
		return func(r *golivev1alpha1.UpdateRequest) {
			rollingBack(r)
			withSnapshot(r)
			r.Status.Production.VerifiedAt = at(monday.Add(-5 * time.Minute))
			r.Spec.Rollback.RestoreData = mode
		}
	}
	testDecide(t, []decideCase{
		{
			name:    "Auto restores the volumes also after the verification passed",
			request: rejectedAfterVerification(golivev1alpha1.RestoreDataAuto),
			world:   func(w *World) { w.Production.Targets[0].Replicas = 2 },
			want:    want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval},
		},
		{
			name:    "BeforeAcceptance keeps the data after the verification passed: the workloads alone go back",
			request: rejectedAfterVerification(golivev1alpha1.RestoreDataBeforeAcceptance),
			want:    want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: RestoreTarget, Target: 1}},
		},
		{
			name: "BeforeAcceptance restores the volumes when the verification failed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				rollingBack(r)
				withSnapshot(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataBeforeAcceptance
			},
			world: func(w *World) { w.Production.Targets[0].Replicas = 2 },
			want:  want{phase: golivev1alpha1.PhaseRollingBack, action: Action{Kind: StopTargets}, requeue: PollInterval},
		},
		{
			name: "waiting for acceptance says that a rejection restores the volumes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				awaitingAcceptance(golivev1alpha1.AcceptOnTimeout)(r)
				withSnapshot(r)
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingAcceptance, requeue: 24 * time.Hour,
				message: "a rejection, abort or timeout now restores the volumes from the snapshots of"},
		},
		{
			name: "with BeforeAcceptance, waiting for acceptance says nothing about the volumes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				awaitingAcceptance(golivev1alpha1.AcceptOnTimeout)(r)
				withSnapshot(r)
				r.Spec.Rollback.RestoreData = golivev1alpha1.RestoreDataBeforeAcceptance
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingAcceptance, requeue: 24 * time.Hour, check: func(t *testing.T, d Decision) {
				if ready := readyMessage(d); strings.Contains(ready, "restores the volumes") {
					t.Errorf("Ready says %q, want nothing about restoring volumes", ready)
				}
			}},
		},
	})
}

func readyMessage(d Decision) string {
	if ready := meta.FindStatusCondition(d.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
		return ready.Message
	}
	return ""
}

func TestCommandsWithoutACommentReadAsSentences(t *testing.T) {
	testDecide(t, []decideCase{
		{
			name:    "a reject without a reason",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhaseAwaitingApproval },
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionReject, User: "carol", Role: "operations-office", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseRejected, stalled: golivev1alpha1.ReasonRejected, message: "Rejected by carol (operations-office), without a reason"},
		},
		{
			name:    "an acceptance without a comment",
			request: awaitingAcceptance(golivev1alpha1.AcceptOnTimeout),
			world: func(w *World) {
				w.Commands = []Command{{Action: ActionAccept, User: "erin", Role: "business-owner", At: monday}}
			},
			want: want{phase: golivev1alpha1.PhaseSucceeded, requeue: 168 * time.Hour, check: func(t *testing.T, d Decision) {
				if last := d.Status.Timeline[len(d.Status.Timeline)-1]; last.Message != "Accepted by erin, without a comment" {
					t.Errorf("the timeline's last entry says %q", last.Message)
				}
			}},
		},
	})
}

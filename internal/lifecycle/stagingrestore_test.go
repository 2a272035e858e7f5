package lifecycle

import (
	"strings"
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// stagingSaved records the staging targets' specs as saved, as the decision
// that first applied a staging target did.
func stagingSaved(r *golivev1alpha1.UpdateRequest) {
	r.Status.StagingRestore = &golivev1alpha1.StagingRestoreStatus{SavedSpecs: stagingSavedSpecs}
}

// endedInStaging is a request whose staging verification failed, its staging targets changed.
func endedInStaging(phase golivev1alpha1.Phase) func(r *golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		inStaging(r, monday.Add(-10*time.Minute))
		r.Status.Phase = phase
		r.Status.CompletedAt = at(monday.Add(-time.Minute))
		stagingSaved(r)
	}
}

// greyRestore is the world of an ended request whose staging targets run the
// new images, with saved specs: restored says which run their saved spec again.
func greyRestore(restored ...bool) func(w *World) {
	return func(w *World) {
		applied(w.Staging.Targets)
		for i := range w.Staging.Targets {
			w.Staging.Targets[i].Saved = true
			w.Staging.Targets[i].Restored = i < len(restored) && restored[i]
		}
	}
}

func TestDecideSavesStagingSpecsBeforeStagingChanges(t *testing.T) {
	testDecide(t, []decideCase{
		{
			name: "leaving Pending saves the staging specs before any staging target changes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
			},
			world: func(w *World) { w.StagingSavedSpecs = StagingSavedSpecsObservation{} },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: SaveStagingSpecs}, message: "Saving the staging workload specs",
				check: func(t *testing.T, d Decision) {
					if d.Status.StagingRestore != nil {
						t.Errorf("stagingRestore = %+v, want none before the saved specs exist", d.Status.StagingRestore)
					}
				}},
		},
		{
			name:    "saved specs that lack a target a spec change added are completed before staging changes",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday.Add(-time.Minute)); stagingSaved(r) },
			world: func(w *World) {
				w.StagingSavedSpecs.Complete = false
				w.Staging.Targets[0].ImagesApplied = true
			},
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: SaveStagingSpecs}},
		},
		{
			name:    "once saved, the saved specs are recorded and the first staging target is applied",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday) },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}, check: func(t *testing.T, d Decision) {
				if d.Status.StagingRestore == nil || d.Status.StagingRestore.SavedSpecs != stagingSavedSpecs {
					t.Errorf("stagingRestore = %+v, want savedSpecs %s", d.Status.StagingRestore, stagingSavedSpecs)
				}
			}},
		},
		{
			name:    "a planted staging saved specs ConfigMap is not adopted: staging stalls before it changes anything",
			request: func(r *golivev1alpha1.UpdateRequest) { inStaging(r, monday) },
			world: func(w *World) {
				w.StagingSavedSpecs = StagingSavedSpecsObservation{NotOurs: "ConfigMap billing/billing-2-4-0-staging-saved-specs is not golive's (signature does not match)"}
			},
			want: want{phase: golivev1alpha1.PhaseStaging, stalled: golivev1alpha1.ReasonPlantedObject,
				message: "Staging stopped before a staging target changed: ConfigMap billing/billing-2-4-0-staging-saved-specs is not golive's",
				check: func(t *testing.T, d Decision) {
					wantEvent(t, d, true, golivev1alpha1.ReasonPlantedObject)
					if d.Status.StagingRestore != nil {
						t.Errorf("stagingRestore = %+v, want none: the planted specs are never recorded", d.Status.StagingRestore)
					}
				}},
		},
	})
}

func TestDecideRestoresStagingAfterAnUnsuccessfulEnd(t *testing.T) {
	testDecide(t, []decideCase{
		{
			name: "a failed staging verification ends Failed, then looks again to restore staging",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inStaging(r, monday.Add(-time.Minute))
				r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
				stagingSaved(r)
			},
			world: func(w *World) {
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: "check smoke failed"}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain || d.Status.StagingRestore.RestoredAt != nil {
					t.Errorf("observeAgain = %v, restoredAt = %v; want a second look before anything is restored", d.ObserveAgain, d.Status.StagingRestore.RestoredAt)
				}
			}},
		},
		{
			name:    "a Failed request restores the first staging target",
			request: endedInStaging(golivev1alpha1.PhaseFailed),
			world:   greyRestore(),
			want:    want{phase: golivev1alpha1.PhaseFailed, stalled: string(golivev1alpha1.PhaseFailed), action: Action{Kind: RestoreStagingTarget, Target: 0}},
		},
		{
			name:    "an Aborted request restores the next staging target, recording how far it got",
			request: endedInStaging(golivev1alpha1.PhaseAborted),
			world:   greyRestore(true),
			want: want{phase: golivev1alpha1.PhaseAborted, stalled: string(golivev1alpha1.PhaseAborted), action: Action{Kind: RestoreStagingTarget, Target: 1},
				check: func(t *testing.T, d Decision) {
					if got := d.Status.StagingRestore.TargetsRestored; got != 1 {
						t.Errorf("stagingRestore.targetsRestored = %d, want 1", got)
					}
				}},
		},
		{
			name:    "a Rejected request whose staging targets run their saved specs records the restore",
			request: endedInStaging(golivev1alpha1.PhaseRejected),
			world:   greyRestore(true, true),
			want: want{phase: golivev1alpha1.PhaseRejected, stalled: string(golivev1alpha1.PhaseRejected), check: func(t *testing.T, d Decision) {
				restore := d.Status.StagingRestore
				if restore.RestoredAt == nil || !restore.RestoredAt.Time.Equal(monday) || restore.TargetsRestored != 2 {
					t.Errorf("stagingRestore = %+v, want restoredAt %v and 2 targets", restore, monday)
				}
				want := `Restored Deployment "billing-api", StatefulSet "billing-db" in namespace "billing-grey" to their specs from before this request`
				if restore.Message != want {
					t.Errorf("stagingRestore.message = %q, want %q", restore.Message, want)
				}
				wantEvent(t, d, false, golivev1alpha1.ReasonStagingRestored)
				if last := d.Status.Timeline[len(d.Status.Timeline)-1]; last.Event != golivev1alpha1.ReasonStagingRestored || last.Phase != golivev1alpha1.PhaseRejected {
					t.Errorf("last timeline entry = %+v, want StagingRestored in Rejected", last)
				}
			}},
		},
		{
			name: "a RolledBack request restores staging before it marks the snapshots' expiry",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseRolledBack, monday.Add(-time.Hour))
				r.Status.CompletedAt = at(monday.Add(-time.Minute))
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data", VolumeSnapshot: "billing-2-4-0-data", ReadyToUse: true}}
				stagingSaved(r)
			},
			world: greyRestore(false, true),
			want: want{phase: golivev1alpha1.PhaseRolledBack, stalled: string(golivev1alpha1.PhaseRolledBack), action: Action{Kind: RestoreStagingTarget, Target: 0},
				// The backup's wait is not reached yet: the staging restore is woken by the targets it changes.
				requeue: 0},
		},
		{
			name:    "a target that is gone, or was never saved, is left as it is and the record says so",
			request: endedInStaging(golivev1alpha1.PhaseAborted),
			world: func(w *World) {
				greyRestore(true, false)(w)
				w.Staging.Targets[1] = TargetObservation{}
			},
			want: want{phase: golivev1alpha1.PhaseAborted, stalled: string(golivev1alpha1.PhaseAborted), check: func(t *testing.T, d Decision) {
				wantEvent(t, d, true, golivev1alpha1.ReasonStagingNotRestored)
				if d.Status.StagingRestore.RestoredAt == nil || !strings.Contains(d.Status.StagingRestore.Message, `left as they are in namespace "billing-grey": StatefulSet "billing-db", which no longer exists`) {
					t.Errorf("stagingRestore = %+v, want it ended, naming the target that is gone", d.Status.StagingRestore)
				}
			}},
		},
		{
			name:    "saved specs that are no longer golive's restore nothing, and say why",
			request: endedInStaging(golivev1alpha1.PhaseFailed),
			world: func(w *World) {
				greyRestore()(w)
				w.StagingSavedSpecs = StagingSavedSpecsObservation{NotOurs: "ConfigMap billing/billing-2-4-0-staging-saved-specs is not golive's (signature does not match)"}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: string(golivev1alpha1.PhaseFailed), check: func(t *testing.T, d Decision) {
				wantEvent(t, d, true, golivev1alpha1.ReasonPlantedObject)
				wantEvent(t, d, true, golivev1alpha1.ReasonStagingNotRestored)
				if !strings.HasPrefix(d.Status.StagingRestore.Message, "Restored no staging target") {
					t.Errorf("stagingRestore.message = %q, want it to say nothing was restored", d.Status.StagingRestore.Message)
				}
			}},
		},
		{
			name: "onFailure Keep leaves the staging targets on the request's images",
			request: func(r *golivev1alpha1.UpdateRequest) {
				endedInStaging(golivev1alpha1.PhaseFailed)(r)
				r.Spec.Staging.OnFailure = golivev1alpha1.KeepStagingOnFailure
			},
			world: greyRestore(),
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: string(golivev1alpha1.PhaseFailed), check: func(t *testing.T, d Decision) {
				if d.Status.StagingRestore.RestoredAt != nil || len(d.Events) > 0 {
					t.Errorf("stagingRestore = %+v, events %+v; want nothing restored", d.Status.StagingRestore, d.Events)
				}
			}},
		},
		{
			name: "a Succeeded request keeps staging on its release",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseSucceeded, monday.Add(-time.Hour))
				r.Status.CompletedAt = at(monday.Add(-time.Minute))
				stagingSaved(r)
			},
			world: greyRestore(),
			want:  want{phase: golivev1alpha1.PhaseSucceeded, requeue: 167*time.Hour + 59*time.Minute},
		},
		{
			name: "a request deleted after it changed staging ends Aborted, to restore staging before it goes",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseAwaitingApproval, monday.Add(-time.Hour))
				stagingSaved(r)
			},
			world: func(w *World) { w.Deleting = true },
			want: want{phase: golivev1alpha1.PhaseAborted, stalled: golivev1alpha1.ReasonAborted, message: DeletedMessage, check: func(t *testing.T, d Decision) {
				if !d.ObserveAgain {
					t.Error("observeAgain = false, want a second look to restore staging")
				}
			}},
		},
	})
}

func TestStagingRestoreHoldsTargets(t *testing.T) {
	base := func(phase golivev1alpha1.Phase) *testfixtures.UpdateRequestWrapper {
		return testfixtures.MakeUpdateRequest("billing", "a").Created(monday.Add(-time.Hour)).Phase(phase).
			Target(golivev1alpha1.TargetDeployment, "api", nil).Staging("billing-grey")
	}
	stalled := func(w *testfixtures.UpdateRequestWrapper) *testfixtures.UpdateRequestWrapper {
		return w.Condition(golivev1alpha1.ConditionStalled, "True", golivev1alpha1.ReasonReferenceNotFound, "window not found")
	}
	cases := []struct {
		name            string
		request         *golivev1alpha1.UpdateRequest
		claims, removes bool
		message         string
	}{
		{"ended, staging to restore", base(golivev1alpha1.PhaseAborted).StagingSaved("a-staging-saved-specs").Obj(), true, false,
			`UpdateRequest "a" ended (Aborted) and puts the staging targets back; waiting until it has`},
		{"ended, staging restored", base(golivev1alpha1.PhaseAborted).StagingSaved("a-staging-saved-specs").StagingRestoredAt(monday).Obj(), false, true, ""},
		{"ended, onFailure Keep", base(golivev1alpha1.PhaseFailed).StagingSaved("a-staging-saved-specs").OnStagingFailure(golivev1alpha1.KeepStagingOnFailure).Obj(), false, true, ""},
		{"succeeded", base(golivev1alpha1.PhaseSucceeded).StagingSaved("a-staging-saved-specs").Obj(), false, true, ""},
		{"back in Pending and stalled after it changed staging", stalled(base(golivev1alpha1.PhasePending)).StagingSaved("a-staging-saved-specs").Obj(), true, false,
			`UpdateRequest "a" changed the staging targets and holds them until it ends (phase Pending)`},
		{"soaking", base(golivev1alpha1.PhaseSoaking).StagingSaved("a-staging-saved-specs").Obj(), true, false,
			`UpdateRequest "a" holds one of the targets (phase Soaking); waiting until it ends`},
		{"soaking, onFailure Keep", base(golivev1alpha1.PhaseSoaking).StagingSaved("a-staging-saved-specs").OnStagingFailure(golivev1alpha1.KeepStagingOnFailure).Obj(), true, true,
			`UpdateRequest "a" holds one of the targets (phase Soaking); waiting until it ends`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClaimsTargets(tc.request); got != tc.claims {
				t.Errorf("ClaimsTargets() = %v, want %v", got, tc.claims)
			}
			if got := MayRemoveOnDelete(tc.request); got != tc.removes {
				t.Errorf("MayRemoveOnDelete() = %v, want %v", got, tc.removes)
			}
			waiting := testfixtures.MakeUpdateRequest("billing", "b").Created(monday).Phase(golivev1alpha1.PhasePending).
				Target(golivev1alpha1.TargetDeployment, "api", nil).Staging("billing-grey").Obj()
			lock := LockHolder(waiting, []golivev1alpha1.UpdateRequest{*tc.request})
			if tc.message == "" {
				if lock.Name != "" {
					t.Errorf("LockHolder() = %+v, want none", lock)
				}
				return
			}
			if got := lockMessage(lock); got != tc.message {
				t.Errorf("lockMessage(%+v) = %q, want %q", lock, got, tc.message)
			}
		})
	}
}

package lifecycle

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// A policy's staging.maxAge: production starts only within it of staging's
// last verification; else staging is verified again first.
func TestDecideVerifiesStagingAgainWhenItIsTooOld(t *testing.T) {
	maxAge := StagingMaxAge{After: 48 * time.Hour, Policy: "production-apps"}
	// Staging was verified a week ago; the approvals came today.
	scheduledLongAgo := func(r *golivev1alpha1.UpdateRequest) {
		stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-7*24*time.Hour))
	}
	readyToStart := func(w *World) {
		w.Window.Spec = alwaysOpen()
		w.StagingMaxAge = maxAge
		w.Commands = []Command{approve("bob", "rnd-lead", monday.Add(-time.Hour)), approve("carol", "operations-office", monday.Add(-time.Hour))}
	}
	// reverifyingSince is a request whose staging is being verified again since started.
	reverifyingSince := func(started time.Time) func(r *golivev1alpha1.UpdateRequest) {
		return func(r *golivev1alpha1.UpdateRequest) {
			scheduledLongAgo(r)
			r.Status.Phase = golivev1alpha1.PhaseVerifyingStaging
			r.Status.Staging.Reverifications = 1
			r.Status.Staging.ReverificationStartedAt = at(started)
		}
	}
	firstVerified := monday.Add(-7 * 24 * time.Hour)
	testDecide(t, []decideCase{
		{
			name: "production would start, but staging is older than maxAge: it is verified again, checks from scratch",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduledLongAgo(r)
				r.Status.Staging.Checks = []golivev1alpha1.CheckStatus{{Name: "smoke", Result: golivev1alpha1.CheckPassed}}
			},
			world: readyToStart,
			want: want{phase: golivev1alpha1.PhaseVerifyingStaging, check: func(t *testing.T, d Decision) {
				staging := d.Status.Staging
				if staging.Reverifications != 1 || staging.ReverificationStartedAt == nil || !staging.ReverificationStartedAt.Time.Equal(monday) || staging.Checks != nil {
					t.Errorf("staging = %+v, want reverification 1 started at %s, no checks", staging, monday)
				}
				if !staging.VerifiedAt.Time.Equal(firstVerified) {
					t.Errorf("staging.verifiedAt = %s, want the first verification %s kept", staging.VerifiedAt, firstVerified)
				}
				if d.Status.Production != nil {
					t.Errorf("production = %+v, want it untouched", d.Status.Production)
				}
				last := d.Status.Timeline[len(d.Status.Timeline)-1]
				for _, part := range []string{"staging was last verified at 2026-11-16T10:00:00Z, longer ago than 2 days (policy production-apps staging.maxAge)", "verifying staging again"} {
					if !strings.Contains(last.Message, part) {
						t.Errorf("timeline %q, want it to say %q", last.Message, part)
					}
				}
				if last.Event != golivev1alpha1.ReasonStagingTooOld {
					t.Errorf("timeline event %q, want %s", last.Event, golivev1alpha1.ReasonStagingTooOld)
				}
			}},
		},
		{
			name: "within maxAge production starts",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-47*time.Hour))
				r.Spec.Staging.Soak = duration(24 * time.Hour)
			},
			world: readyToStart,
			want:  want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name:    "without a policy's maxAge staging does not age",
			request: scheduledLongAgo,
			world:   func(w *World) { readyToStart(w); w.StagingMaxAge = StagingMaxAge{} },
			want:    want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}},
		},
		{
			name:    "the checks run again, timed from the reverification",
			request: reverifyingSince(monday.Add(-time.Minute)),
			world:   func(w *World) { readyToStart(w); applied(w.Staging.Targets) },
			want:    want{phase: golivev1alpha1.PhaseVerifyingStaging, action: Action{Kind: VerifyStaging}, requeue: 9 * time.Minute},
		},
		{
			name:    "passed again: back to the schedule without soaking again, the first verification kept",
			request: reverifyingSince(monday.Add(-time.Minute)),
			world: func(w *World) {
				readyToStart(w)
				applied(w.Staging.Targets)
				w.Staging.Verification.State = VerificationPassed
			},
			// The same decision goes on to start production: the soak counts
			// from the first verification, the age from this one.
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}, check: func(t *testing.T, d Decision) {
				staging := d.Status.Staging
				if staging.ReverifiedAt == nil || !staging.ReverifiedAt.Time.Equal(monday) || !staging.VerifiedAt.Time.Equal(firstVerified) {
					t.Errorf("staging = %+v, want reverifiedAt %s and verifiedAt %s", staging, monday, firstVerified)
				}
				var verifiedRecords []metav1.Time
				for _, record := range d.Status.GateRecords {
					if record.Gate == golivev1alpha1.GateStagingVerified {
						verifiedRecords = append(verifiedRecords, record.At)
					}
				}
				if len(verifiedRecords) != 2 || !verifiedRecords[1].Time.Equal(monday) {
					t.Errorf("staging verified records at %v, want a second one at %s", verifiedRecords, monday)
				}
				wantEvent(t, d, false, golivev1alpha1.ReasonStagingReverified)
			}},
		},
		{
			name:    "failed again: the request fails, production untouched",
			request: reverifyingSince(monday.Add(-time.Minute)),
			world: func(w *World) {
				readyToStart(w)
				applied(w.Staging.Targets)
				w.Staging.Verification = VerificationObservation{State: VerificationFailed, Message: "check smoke failed"}
			},
			want: want{phase: golivev1alpha1.PhaseFailed, stalled: golivev1alpha1.ReasonVerificationFailed, message: "check smoke failed", check: func(t *testing.T, d Decision) {
				if d.Status.Production != nil {
					t.Errorf("production = %+v, want it untouched", d.Status.Production)
				}
			}},
		},
	})
}

func TestProductionGatesRefuseStagingOlderThanMaxAge(t *testing.T) {
	request, world := readyToStart()
	world.StagingMaxAge = StagingMaxAge{After: 48 * time.Hour, Policy: "production-apps"}
	// Verified Sunday 10:00; Thursday evening is four days later.
	unmet := ProductionGates(request, world, plannedThursday)
	if len(unmet) != 1 || !strings.HasPrefix(unmet[0], "staging age: staging was last verified at 2026-11-22T10:00:00Z, longer ago than 2 days (policy production-apps staging.maxAge)") {
		t.Errorf("unmet gates = %q, want the staging age only", unmet)
	}
	world.StagingMaxAge.After = 5 * 24 * time.Hour
	if unmet := ProductionGates(request, world, plannedThursday); len(unmet) != 0 {
		t.Errorf("unmet gates within maxAge = %q, want none", unmet)
	}
}

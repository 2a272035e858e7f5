package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// readyToStart is a request and world at the Thursday opening where every
// production gate holds: staging attested three days before, both approvals
// signed on Monday.
func readyToStart() (*golivev1alpha1.UpdateRequest, World) {
	request, world := newRequest(), newWorld()
	stagingVerified(request, golivev1alpha1.PhaseScheduled, monday.Add(-24*time.Hour))
	world.Attested = AttestedFrom(verifiedRecords(request), hash)
	world.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
	return request, world
}

func TestProductionGates(t *testing.T) {
	cases := []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequest, *World)
		now    time.Time
		// want are the gates named, in order; none when production may start.
		want []string
	}{
		{name: "every gate met"},
		{name: "staging not attested", change: func(_ *golivev1alpha1.UpdateRequest, w *World) { w.Attested = Attested{} }, want: []string{"staging:"}},
		{name: "staging attested for an earlier spec", change: func(r *golivev1alpha1.UpdateRequest, w *World) {
			w.Attested = AttestedFrom(verifiedRecords(r), "sha256:earlier")
		}, want: []string{"staging:"}},
		{name: "soak not elapsed since the attested time", change: func(_ *golivev1alpha1.UpdateRequest, w *World) {
			w.Attested.StagingVerifiedAt = plannedThursday.Add(-time.Hour)
			w.Attested.StagingFirstVerifiedAt = w.Attested.StagingVerifiedAt
		}, want: []string{"soak:"}},
		{name: "no emergency soak", change: func(r *golivev1alpha1.UpdateRequest, w *World) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			w.Attested.StagingVerifiedAt, w.Attested.StagingFirstVerifiedAt = monday, monday
			w.Commands = append(w.Commands, approve("dave", "cto", monday))
		}, now: monday.Add(time.Minute)},
		{name: "quorum not met in the signed ledger", change: func(_ *golivev1alpha1.UpdateRequest, w *World) { w.Commands = w.Commands[:1] }, want: []string{"approvals:"}},
		{name: "self-approval does not count", change: func(_ *golivev1alpha1.UpdateRequest, w *World) {
			w.Commands[1] = approve("alice", "operations-office", monday)
		}, want: []string{"approvals:"}},
		{name: "lead time not given", change: func(_ *golivev1alpha1.UpdateRequest, w *World) {
			w.Window.Spec.LeadTime = duration(96 * time.Hour)
		}, want: []string{"lead time:"}},
		{name: "window closed", now: plannedThursday.Add(-2 * time.Hour), want: []string{"window:"}},
		{name: "window open with too little left", now: plannedThursday.Add(150 * time.Minute), want: []string{"window:"}},
		{name: "frozen", change: func(_ *golivev1alpha1.UpdateRequest, w *World) {
			w.Window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "audit", Start: "2026-11-26T00:00", End: "2026-11-27T00:00"}}
		}, want: []string{"window:"}},
		{name: "emergency budget used up", change: func(r *golivev1alpha1.UpdateRequest, w *World) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			w.Commands = append(w.Commands, approve("dave", "cto", monday))
			w.Window.EmergencyUsed = 2
		}, want: []string{"emergency budget:"}},
		{name: "suspended", change: func(r *golivev1alpha1.UpdateRequest, _ *World) { r.Spec.Suspend = true }, want: []string{"suspend:"}},
		{name: "status claims alone prove nothing", change: func(r *golivev1alpha1.UpdateRequest, w *World) {
			w.Attested, w.Commands = Attested{}, nil
			r.Status.ApprovalSummary = "2/2"
		}, want: []string{"staging:", "approvals:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request, world := readyToStart()
			if tc.change != nil {
				tc.change(request, &world)
			}
			now := plannedThursday
			if !tc.now.IsZero() {
				now = tc.now
			}
			var got []string
			for _, message := range ProductionGates(request, world, now) {
				got = append(got, message[:strings.Index(message, ":")+1])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unmet gates (-want +got):\n%s\nmessages: %q", diff, ProductionGates(request, world, now))
			}
		})
	}
}

func TestDecideDistrustsForgedStatus(t *testing.T) {
	forged := func(phase golivev1alpha1.Phase) func(*golivev1alpha1.UpdateRequest) {
		return func(r *golivev1alpha1.UpdateRequest) {
			inProduction(r, phase, monday.Add(-10*time.Minute))
			r.Status.GateRecords = nil // what a status writer can claim, without golive's signatures
		}
	}
	var cases []decideCase
	for _, phase := range []golivev1alpha1.Phase{golivev1alpha1.PhaseBackingUp, golivev1alpha1.PhaseUpdating,
		golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.PhaseRollingBack} {
		cases = append(cases, decideCase{
			name: "forged " + string(phase), request: forged(phase),
			want: want{phase: phase, stalled: golivev1alpha1.ReasonStatusNotTrusted,
				message: "The status says phase " + string(phase) + ", but golive has no signed record that production started for this spec; nothing was changed"},
		})
	}
	cases = append(cases,
		decideCase{
			name: "forged Scheduled on a fresh request",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhaseScheduled
				r.Status.Staging = &golivev1alpha1.EnvironmentStatus{VerifiedAt: at(monday.Add(-72 * time.Hour))}
			},
			now: plannedThursday,
			want: want{phase: golivev1alpha1.PhaseScheduled, stalled: golivev1alpha1.ReasonGateNotPassed,
				message: "Production was not started; gates not met: staging: golive has no signed record",
				check: func(t *testing.T, d Decision) {
					ready := d.Status.Conditions
					for _, gate := range []string{"staging:", "approvals:"} {
						if !strings.Contains(ready[0].Message+ready[len(ready)-1].Message, gate) {
							t.Errorf("conditions %+v do not name the gate %s", ready, gate)
						}
					}
					if d.Status.Production != nil || len(d.Status.GateRecords) != 0 {
						t.Errorf("production recorded as started: %+v, records %+v", d.Status.Production, d.Status.GateRecords)
					}
				}},
		},
		decideCase{
			name: "every gate met: the start is recorded with the phase",
			request: func(r *golivev1alpha1.UpdateRequest) {
				stagingVerified(r, golivev1alpha1.PhaseScheduled, monday.Add(-24*time.Hour))
			},
			world: func(w *World) {
				w.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
			},
			now: plannedThursday,
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs},
				check: func(t *testing.T, d Decision) {
					records := d.Status.GateRecords
					last := records[len(records)-1]
					if last.Gate != golivev1alpha1.GateProductionStarted || last.SpecHash != hash || !last.At.Time.Equal(plannedThursday) || last.Signature != "" {
						t.Errorf("last gate record = %+v, want an unsigned ProductionStarted for %s at %s", last, hash, plannedThursday)
					}
				}},
		},
	)
	testDecide(t, cases)
}

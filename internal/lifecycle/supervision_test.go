package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// goCommand is a go as the verified ledger gives it.
func goCommand(user, role string, when time.Time) Command {
	return Command{Action: ActionGo, User: user, Role: role, At: when, Comment: "watching"}
}

// The Thursday opening runs 19:00-22:00 UTC; with an hour expected, production
// fits until 21:00, the last instant a go still starts it.
var lastGoThursday = plannedThursday.Add(2 * time.Hour)

func TestSupervision(t *testing.T) {
	scheduled := func(phase golivev1alpha1.Phase) func(*golivev1alpha1.UpdateRequest) {
		return func(r *golivev1alpha1.UpdateRequest) {
			stagingVerified(r, phase, monday.Add(-72*time.Hour))
		}
	}
	approved := []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
	supervised := func(commands ...Command) func(*World) {
		return func(w *World) {
			w.SupervisionRoles = []string{"operations-supervisor"}
			w.Commands = append(append([]Command{}, approved...), commands...)
		}
	}
	wantSupervision := func(want *golivev1alpha1.SupervisionStatus) func(t *testing.T, d Decision) {
		return func(t *testing.T, d Decision) {
			t.Helper()
			if diff := cmp.Diff(want, d.Status.Supervision); diff != "" {
				t.Errorf("status.supervision (-want +got):\n%s", diff)
			}
		}
	}
	testDecide(t, []decideCase{
		{
			name:    "without supervision production starts at the planned start, as before",
			request: scheduled(golivev1alpha1.PhaseScheduled),
			world:   func(w *World) { w.Commands = approved },
			now:     plannedThursday,
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs},
				check: wantSupervision(nil)},
		},
		{
			name:    "before the window opens a supervised request waits in Scheduled",
			request: scheduled(golivev1alpha1.PhaseScheduled),
			world:   supervised(),
			want:    want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Sub(monday), message: "Waiting for the go-live window"},
		},
		{
			name:    "the window open and every gate passed: the request waits for go until production no longer fits",
			request: scheduled(golivev1alpha1.PhaseScheduled),
			world:   supervised(),
			now:     plannedThursday,
			want: want{phase: golivev1alpha1.PhaseAwaitingGo, requeue: 2*time.Hour + time.Second,
				message: "waiting for a go (golive.dev/go) from a person holding role operations-supervisor who is not the requester until 2026-11-26T21:00:00Z",
				check: func(t *testing.T, d Decision) {
					wantSupervision(&golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}, Until: at(lastGoThursday)})(t, d)
					timelineEvents(t, d, golivev1alpha1.ReasonAwaitingGo)
					if len(d.Events) != 1 || !d.Events[0].Notify || !strings.Contains(d.Events[0].Message, "operations-supervisor") {
						t.Errorf("events = %+v, want one notice naming the supervision role", d.Events)
					}
					if d.Status.Production != nil || len(d.Status.GateRecords) != 1 {
						t.Errorf("production = %+v, gate records %+v: nothing may start before go", d.Status.Production, d.Status.GateRecords)
					}
				}},
		},
		{
			name:    "a gate not passed keeps the request from AwaitingGo",
			request: scheduled(golivev1alpha1.PhaseScheduled),
			world: func(w *World) {
				supervised()(w)
				w.Attested = Attested{}
			},
			now:  plannedThursday,
			want: want{phase: golivev1alpha1.PhaseScheduled, stalled: golivev1alpha1.ReasonGateNotPassed, message: "staging: golive has no signed record"},
		},
		{
			name:    "the go of the supervision role starts production",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world:   supervised(goCommand("sam", "operations-supervisor", plannedThursday.Add(10*time.Minute))),
			now:     plannedThursday.Add(10 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}, check: func(t *testing.T, d Decision) {
				wantSupervision(&golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"},
					Given: []golivev1alpha1.ApprovalRecord{{Role: "operations-supervisor", User: "sam", At: *at(plannedThursday.Add(10 * time.Minute)), Comment: "watching"}}})(t, d)
				entry := d.Status.Timeline[len(d.Status.Timeline)-1]
				if entry.Event != golivev1alpha1.ReasonProductionStarted || entry.Actor != "sam" || !strings.Contains(entry.Message, "Go given by sam (operations-supervisor): watching") {
					t.Errorf("timeline entry = %+v, want production started by sam's go", entry)
				}
				if d.Status.Production == nil || !d.Status.Production.StartedAt.Equal(at(plannedThursday.Add(10*time.Minute))) {
					t.Errorf("production = %+v", d.Status.Production)
				}
			}},
		},
		{
			name:    "the requester's own go does not count",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world:   supervised(goCommand("alice", "operations-supervisor", plannedThursday.Add(10*time.Minute))),
			now:     plannedThursday.Add(10 * time.Minute),
			want:    want{phase: golivev1alpha1.PhaseAwaitingGo, requeue: 110*time.Minute + time.Second, message: "waiting for a go"},
		},
		{
			name:    "a go for another role does not count",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world:   supervised(goCommand("sam", "shift-lead", plannedThursday.Add(10*time.Minute))),
			now:     plannedThursday.Add(10 * time.Minute),
			want:    want{phase: golivev1alpha1.PhaseAwaitingGo, requeue: 110*time.Minute + time.Second, message: "waiting for a go"},
		},
		{
			name:    "a go given in an earlier opening does not carry over to this one",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world:   supervised(goCommand("sam", "operations-supervisor", plannedThursday.Add(-7*24*time.Hour+time.Hour))),
			now:     plannedThursday.Add(10 * time.Minute),
			want:    want{phase: golivev1alpha1.PhaseAwaitingGo, requeue: 110*time.Minute + time.Second, message: "waiting for a go"},
		},
		{
			name: "the opening no longer fits production before go: back to Scheduled for the next opening",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduled(golivev1alpha1.PhaseAwaitingGo)(r)
				r.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}, Until: at(lastGoThursday)}
			},
			world: supervised(),
			now:   lastGoThursday.Add(time.Second),
			want: want{phase: golivev1alpha1.PhaseScheduled, requeue: plannedThursday.Add(7 * 24 * time.Hour).Sub(lastGoThursday.Add(time.Second)),
				message: "Waiting for the go-live window; planned start 2026-12-03T19:00:00Z", check: func(t *testing.T, d Decision) {
					timelineEvents(t, d, golivev1alpha1.ReasonGoLapsed)
					wantSupervision(&golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}})(t, d)
				}},
		},
		{
			name: "spec.suspend set while waiting for go: back to Scheduled",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduled(golivev1alpha1.PhaseAwaitingGo)(r)
				r.Spec.Suspend = true
			},
			world: supervised(),
			now:   plannedThursday.Add(10 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseScheduled, message: "Suspended before production", check: func(t *testing.T, d Decision) {
				timelineEvents(t, d, golivev1alpha1.ReasonGoLapsed)
			}},
		},
		{
			name:    "a policy that drops supervision lets a request waiting for go start",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world:   func(w *World) { w.Commands = approved },
			now:     plannedThursday.Add(10 * time.Minute),
			want:    want{phase: golivev1alpha1.PhaseBackingUp, action: Action{Kind: SaveSpecs}, check: wantSupervision(nil)},
		},
		{
			name:    "two supervision roles each say go, by two people",
			request: scheduled(golivev1alpha1.PhaseAwaitingGo),
			world: func(w *World) {
				supervised(goCommand("sam", "operations-supervisor", plannedThursday), goCommand("sam", "shift-lead", plannedThursday))(w)
				w.SupervisionRoles = []string{"operations-supervisor", "shift-lead"}
			},
			now:  plannedThursday.Add(10 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseAwaitingGo, requeue: 110*time.Minute + time.Second, message: "holding role shift-lead who"},
		},
		{
			name: "a spec change while waiting for go starts again; the go was for the old spec",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduled(golivev1alpha1.PhaseAwaitingGo)(r)
				r.Status.SpecHash = "sha256:previous"
				r.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}, Until: at(lastGoThursday)}
			},
			world: supervised(),
			now:   plannedThursday.Add(10 * time.Minute),
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging}, check: func(t *testing.T, d Decision) {
				wantSupervision(nil)(t, d)
				timelineEvents(t, d, golivev1alpha1.ReasonSpecChanged, golivev1alpha1.ReasonStagingStarted)
			}},
		},
		{
			name: "an emergency waits for go too, without a deadline",
			request: func(r *golivev1alpha1.UpdateRequest) {
				scheduled(golivev1alpha1.PhaseScheduled)(r)
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) {
				supervised()(w)
				w.Commands = append(w.Commands, approve("dave", "cto", monday))
			},
			want: want{phase: golivev1alpha1.PhaseAwaitingGo, message: "waiting for a go", check: func(t *testing.T, d Decision) {
				wantSupervision(&golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"}})(t, d)
			}},
		},
	})
}

// The go re-derived at the moment production starts: from the verified
// ledger and the window's spec, for the current spec (World.Commands hold the
// current spec's commands only).
func TestProductionGatesNeedTheGo(t *testing.T) {
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseAwaitingGo, monday.Add(-72*time.Hour))
	world := newWorld()
	world.Attested = AttestedFrom(verifiedRecords(request), world.SpecHash)
	world.SupervisionRoles = []string{"operations-supervisor"}
	world.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
	now := plannedThursday.Add(10 * time.Minute)
	unmet := ProductionGates(request, world, now)
	if len(unmet) != 1 || !strings.HasPrefix(unmet[0], "supervision: ") {
		t.Errorf("without a go: %q, want the supervision gate only", unmet)
	}
	world.Commands = append(world.Commands, goCommand("sam", "operations-supervisor", now))
	if unmet := ProductionGates(request, world, now); len(unmet) != 0 {
		t.Errorf("with the go: %q, want none", unmet)
	}
}

// The decision that waits for go is recorded in one status patch: deciding
// again on what it recorded changes nothing and tells nobody twice.
func TestAwaitingGoIsDecidedOnce(t *testing.T) {
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseScheduled, monday.Add(-72*time.Hour))
	world := newWorld()
	world.Attested = AttestedFrom(verifiedRecords(request), world.SpecHash)
	world.SupervisionRoles = []string{"operations-supervisor"}
	world.Commands = []Command{approve("bob", "rnd-lead", monday), approve("carol", "operations-office", monday)}
	first := Decide(request, world, plannedThursday)
	if first.Status.Phase != golivev1alpha1.PhaseAwaitingGo {
		t.Fatalf("phase = %s, want AwaitingGo", first.Status.Phase)
	}
	request.Status = first.Status
	again := Decide(request, world, plannedThursday.Add(time.Second))
	if diff := cmp.Diff(first.Status, again.Status); diff != "" {
		t.Errorf("the second decision changed the status (-first +again):\n%s", diff)
	}
	if len(again.Events) != 0 || again.Action.Kind != NoAction {
		t.Errorf("the second decision: events %+v, action %+v; want none", again.Events, again.Action)
	}
}

func TestGoAllowedOnlyInAwaitingGo(t *testing.T) {
	for _, phase := range PhaseOrder() {
		request := newRequest()
		request.Status.Phase = phase
		err := CommandAllowed(request, ActionGo, "", hash)
		if (err == nil) != (phase == golivev1alpha1.PhaseAwaitingGo) {
			t.Errorf("go in %s: %v", phase, err)
		}
	}
	request := newRequest()
	stagingVerified(request, golivev1alpha1.PhaseAwaitingGo, monday)
	request.Status.Conditions = append(request.Status.Conditions, metav1.Condition{Type: golivev1alpha1.ConditionStagingVerified, Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonSucceeded})
	if err := CommandAllowed(request, ActionApprove, "rnd-lead", hash); err != nil {
		t.Errorf("an approval in AwaitingGo: %v; approvals are taken until production starts", err)
	}
}

// AwaitingGo has not touched production: the spec may change, a failure ends
// without a rollback, it takes no room under maxConcurrent; it keeps its targets.
func TestAwaitingGoIsBeforeProduction(t *testing.T) {
	phase := golivev1alpha1.PhaseAwaitingGo
	request := newRequest()
	request.Status.Phase = phase
	if phase.TouchesProduction() || phase.IsTerminal() || RunsProductionUpdate(phase) || !ClaimsTargets(request) || !MayRemoveOnDelete(request) {
		t.Errorf("AwaitingGo: touches production %t, terminal %t, runs an update %t, claims targets %t, may go on delete %t",
			phase.TouchesProduction(), phase.IsTerminal(), RunsProductionUpdate(phase), ClaimsTargets(request), MayRemoveOnDelete(request))
	}
}

// A go counts once per person and never the requester's, whatever the case
// or padding of the names, by the rule the webhook judges them by.
func TestTallyGoesJudgesPeopleBySamePerson(t *testing.T) {
	at := plannedThursday
	commands := []Command{
		goCommand("Alice", "operations-supervisor", at),
		goCommand("sam", "operations-supervisor", at),
		goCommand("SAM ", "release-manager", at),
		goCommand("erin", "release-manager", at),
	}
	tally := TallyGoes(commands, []string{"operations-supervisor", "release-manager"}, "alice", time.Time{})
	var given []string
	for _, record := range tally.Given {
		given = append(given, record.Role+"="+record.User)
	}
	if want := []string{"operations-supervisor=sam", "release-manager=erin"}; !slices.Equal(given, want) {
		t.Errorf("TallyGoes counted %v, want %v", given, want)
	}
}

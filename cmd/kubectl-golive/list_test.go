package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// listRequests are requests as golive records them, named after their state,
// in the order list shows them.
func listRequests() []*golivev1alpha1.UpdateRequest {
	named := func(name string, w *testfixtures.UpdateRequestWrapper) *golivev1alpha1.UpdateRequest {
		r := w.Obj()
		r.Name = name
		return r
	}
	scheduled := func(r *golivev1alpha1.UpdateRequest) {
		r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NotBefore: at("2026-11-23T09:00:00Z"), PlannedStart: at("2026-11-26T19:00:00Z")}
	}
	return []*golivev1alpha1.UpdateRequest{
		named("typo-target", makeRequest().Mutate(inPhase(golivev1alpha1.PhasePending, golivev1alpha1.ReasonReferenceNotFound,
			`spec.targets[0].name: Deployment "biling-api" not found in namespace "billing"`)).Mutate(toStalled)),
		named("suspended", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonSuspended, "Suspended before production")).
			Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Suspend()),
		named("new", makeRequest()),
		named("locked", makeRequest().Mutate(inPhase(golivev1alpha1.PhasePending, golivev1alpha1.ReasonTargetLocked,
			`UpdateRequest "billing-2-3-9" holds one of the targets; waiting until it ends`))),
		named("verifying-staging", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.ReasonProgressing, "Verifying staging")).
			StagingStarted(utc("2026-11-23T09:55:00Z"))),
		named("soaking", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSoaking, golivev1alpha1.ReasonSoaking, "Soaking until 2026-11-25T09:10:00Z")).
			Mutate(verifiedStaging("2026-11-23T09:10:00Z"))),
		named("awaiting-approval", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.ReasonAwaitingApproval, "Waiting for approvals")).
			Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Approved("operations-office", "carol@example.com", utc("2026-11-20T10:30:00Z"), "")),
		named("scheduled", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonWindowClosed, "Waiting for the go-live window")).
			Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Mutate(scheduled).
			Approved("rnd-lead", "bob@example.com", utc("2026-11-20T10:00:00Z"), "").
			Approved("operations-office", "carol@example.com", utc("2026-11-20T10:30:00Z"), "").
			Approved("operations-office", "dave@example.com", utc("2026-11-20T11:00:00Z"), "")),
		named("awaiting-acceptance", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.ReasonWaiting, "Waiting for acceptance")).
			Mutate(verifiedStaging("2026-11-18T09:10:00Z"))),
		named("succeeded", makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "Release 2.4.0 is in production"))),
	}
}

func TestWriteList(t *testing.T) {
	requests := listRequests()
	windows := map[string]*golivev1alpha1.GoLiveWindow{"billing/thursday-evening": thursdayEvening()}
	var listed []listedRequest
	// Given in reverse, list puts them in order.
	for _, request := range slices.Backward(requests) {
		r := newListedRequest(request, windows)
		r.SpecHash = request.Status.SpecHash // the tests' status hashes stand for the current spec
		listed = append(listed, r)
	}
	slices.SortStableFunc(listed, listOrder)
	var out bytes.Buffer
	if err := writeList(&out, listed, monday, false); err != nil {
		t.Fatal(err)
	}
	want := `NAME                  RELEASE   PHASE                WAITS FOR                                                                                    AGE
typo-target           2.4.0     Pending              a person: spec.targets[0].name: Deployment "biling-api" not found in namespace "billing"     5d1h
suspended             2.4.0     Scheduled            a person: Suspended before production (spec.suspend is true)                                 5d1h
locked                2.4.0     Pending              UpdateRequest "billing-2-3-9" holds one of the targets; waiting until it ends                5d1h
new                   2.4.0     -                    golive to take it up                                                                         5d1h
verifying-staging     2.4.0     VerifyingStaging     staging verification                                                                         5d1h
soaking               2.4.0     Soaking              approval: rnd-lead 0/1, operations-office 0/2; soak ends Wed 2026-11-25 10:10 CET (in 47h)   5d1h
awaiting-approval     2.4.0     AwaitingApproval     approval: rnd-lead 0/1, operations-office 1/2                                                5d1h
scheduled             2.4.0     Scheduled            window opens Thu 2026-11-26 20:00 CET (in 3d9h)                                              5d1h
awaiting-acceptance   2.4.0     AwaitingAcceptance   acceptance by business-owner                                                                 5d1h
succeeded             2.4.0     Succeeded            -                                                                                            5d1h
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	out.Reset()
	if err := writeList(&out, listed[:1], monday, true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "NAMESPACE   NAME          RELEASE") || !strings.Contains(out.String(), "\nbilling     typo-target   2.4.0") {
		t.Errorf("list -A has no NAMESPACE column:\n%s", out.String())
	}
}

// list asks for approvals exactly while the lifecycle takes one now and a
// quorum misses some, for the acceptance exactly while the lifecycle takes
// it, and shows the instants the lifecycle waits for; a request that ended
// waits for nothing.
func TestListAnswersAsTheLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	for _, state := range testfixtures.States(now) {
		t.Run(state.Name, func(t *testing.T) {
			request := state.Request
			r := listedRequest{Request: request, SpecHash: state.SpecHash}
			text := r.waitsFor(now)

			approvals := lifecycle.CommandAllowed(request, lifecycle.ActionApprove, "", state.SpecHash) == nil &&
				hasMissing(lifecycle.ShareApprovals(request, nil))
			acceptance := lifecycle.CommandAllowed(request, lifecycle.ActionAccept, "", state.SpecHash) == nil
			if got := strings.Contains(text, "approval: "); got != approvals && !acceptance {
				t.Errorf("list asks for approvals: %t, the lifecycle takes a missing one now: %t (%q)", got, approvals, text)
			}
			if got := strings.HasPrefix(text, "acceptance by "); got != acceptance {
				t.Errorf("list asks for the acceptance: %t, the lifecycle takes it now: %t (%q)", got, acceptance, text)
			}
			if request.Status.Phase.IsTerminal() && text != "-" {
				t.Errorf("an ended request waits for %q, want -", text)
			}
			if text == "" {
				t.Error("list says nothing about what the request waits for")
			}
		})
	}
}

// asksOf asks a person only for what golive would take from them: an
// approval for a role they hold that misses approvals, not their own request
// and not twice; the acceptance for its role; their own stalled request.
func TestAsksOf(t *testing.T) {
	holds := map[string][]string{
		"alice@example.com": {"rnd-lead"},
		"bob@example.com":   {"rnd-lead"},
		"carol@example.com": {"operations-office"},
		"erin@example.com":  {"business-owner"},
	}
	requests := map[string]*golivev1alpha1.UpdateRequest{}
	for _, r := range listRequests() {
		requests[r.Name] = r
	}
	claimed := requests["awaiting-approval"].DeepCopy()
	claimed.Name = "claimed"
	entries, err := ledger.Format([]golivev1alpha1.LedgerEntry{{
		User: "Carol@Example.com ", Role: "operations-office", Action: golivev1alpha1.LedgerApprove,
		Time: metav1.Time{Time: monday}, SpecHash: claimed.Status.SpecHash,
	}})
	if err != nil {
		t.Fatal(err)
	}
	claimed.Annotations = map[string]string{golivev1alpha1.AnnotationLedger: entries}
	claimed.Status.Approvals = nil
	requests["claimed"] = claimed

	for _, tc := range []struct {
		me, request string
		want        []string
	}{
		{"bob@example.com", "awaiting-approval", []string{"approve as rnd-lead (0/1) | kubectl golive approve awaiting-approval -n billing --role rnd-lead"}},
		{"carol@example.com", "awaiting-approval", nil}, // counted already
		{"carol@example.com", "claimed", nil},           // the ledger claims her approval
		{"bob@example.com", "claimed", []string{"approve as rnd-lead (0/1) | kubectl golive approve claimed -n billing --role rnd-lead"}},
		{"alice@example.com", "awaiting-approval", nil}, // her own request
		{"bob@example.com", "soaking", []string{"approve as rnd-lead (0/1) | kubectl golive approve soaking -n billing --role rnd-lead"}},
		{"bob@example.com", "verifying-staging", nil}, // approvals open once staging is verified
		{"bob@example.com", "scheduled", nil},         // every quorum reached
		{"erin@example.com", "awaiting-acceptance", []string{"accept or reject as business-owner | kubectl golive accept awaiting-acceptance -n billing"}},
		{"bob@example.com", "awaiting-acceptance", nil},
		{"alice@example.com", "typo-target", []string{`your request needs you: spec.targets[0].name: Deployment "biling-api" not found in namespace "billing" | kubectl golive status typo-target -n billing`}},
		{"ALICE@example.com", "suspended", []string{"your request needs you: Suspended before production (spec.suspend is true) | kubectl golive status suspended -n billing"}},
		{"bob@example.com", "typo-target", nil},
		{"alice@example.com", "succeeded", nil},
	} {
		t.Run(tc.me+" "+tc.request, func(t *testing.T) {
			request := requests[tc.request]
			r := listedRequest{Request: request, SpecHash: request.Status.SpecHash, Window: thursdayEvening()}
			asks, err := asksOf(t.Context(), r, tc.me, func(_ context.Context, namespace, role string) (bool, error) {
				return namespace == "billing" && slices.Contains(holds[strings.ToLower(tc.me)], role), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range asks {
				got = append(got, a.What+" | "+a.Next)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("asks (-want +got):\n%s", diff)
			}
		})
	}
}

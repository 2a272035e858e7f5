package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// listedRequest is a request with what list and waiting read beside it.
type listedRequest struct {
	Request *golivev1alpha1.UpdateRequest
	// SpecHash is the hash of the request's current spec, as golive's webhook
	// computes it for a command given now.
	SpecHash string
	// Window is the request's GoLiveWindow; nil when it could not be read.
	Window *golivev1alpha1.GoLiveWindow
}

func newListedRequest(request *golivev1alpha1.UpdateRequest, windows map[string]*golivev1alpha1.GoLiveWindow) listedRequest {
	return listedRequest{
		Request:  request,
		SpecHash: ledger.SpecHash(&request.Spec),
		Window:   windows[request.Namespace+"/"+request.Spec.Window.Name],
	}
}

// needsPerson returns what a person must do before the request can move on:
// the Stalled message, or the gate spec.suspend stopped it at; "" otherwise,
// and always once the request ended.
func needsPerson(request *golivev1alpha1.UpdateRequest) string {
	status := &request.Status
	if status.Phase.IsTerminal() {
		return ""
	}
	if stalled := meta.FindStatusCondition(status.Conditions, golivev1alpha1.ConditionStalled); stalled != nil && stalled.Status == metav1.ConditionTrue {
		return oneLine(cmp.Or(stalled.Message, stalled.Reason, "Stalled"))
	}
	if ready := meta.FindStatusCondition(status.Conditions, golivev1alpha1.ConditionReady); ready != nil && ready.Reason == golivev1alpha1.ReasonSuspended {
		return oneLine(ready.Message) + " (spec.suspend is true)"
	}
	return ""
}

// acceptanceOpen reports whether the acceptance role may accept now.
func (r listedRequest) acceptanceOpen() bool {
	return lifecycle.CommandAllowed(r.Request, lifecycle.ActionAccept, "", r.SpecHash) == nil
}

// goOpen reports whether a supervision role may say go now.
func (r listedRequest) goOpen() bool {
	return lifecycle.CommandAllowed(r.Request, lifecycle.ActionGo, "", r.SpecHash) == nil
}

// goWaiting says whose go the request waits for, and until when, in AwaitingGo:
// "a person holding role R (not the requester) until T"; "" otherwise.
func (r listedRequest) goWaiting(now time.Time) string {
	supervision := r.Request.Status.Supervision
	if !r.goOpen() || supervision == nil {
		return ""
	}
	missing := missingGoRoles(supervision)
	if len(missing) == 0 {
		return ""
	}
	text := "a person holding role " + strings.Join(missing, " and ") + " (not the requester)"
	if supervision.Until != nil {
		text += " until " + instant(supervision.Until.Time, now)
	}
	return text
}

// missingGoRoles are the supervision roles no go was counted for yet.
func missingGoRoles(supervision *golivev1alpha1.SupervisionStatus) []string {
	return slices.DeleteFunc(slices.Clone(supervision.Roles), func(role string) bool {
		return slices.ContainsFunc(supervision.Given, func(given golivev1alpha1.ApprovalRecord) bool { return given.Role == role })
	})
}

// approvalsOpen reports whether golive takes an approval now (not "later").
func (r listedRequest) approvalsOpen() bool {
	return lifecycle.CommandAllowed(r.Request, lifecycle.ActionApprove, "", r.SpecHash) == nil
}

// missingQuorums are the quorums that still need approvals, by golive's count
// of the verified approvals, while golive takes approvals.
func (r listedRequest) missingQuorums() []quorum {
	if !r.approvalsOpen() {
		return nil
	}
	var missing []quorum
	for _, q := range quorums(r.Request, r.Window) {
		if q.Missing() > 0 {
			missing = append(missing, q)
		}
	}
	return missing
}

// waitsFor says in a few words what the request waits for now: a person, an
// approval, the acceptance, an instant of lifecycle.Deadlines, or golive's
// work in the current phase. "-" once it ended.
func (r listedRequest) waitsFor(now time.Time) string {
	request, status := r.Request, &r.Request.Status
	if status.Phase.IsTerminal() {
		return "-"
	}
	if person := needsPerson(request); person != "" {
		return "a person: " + person
	}
	if status.Phase == "" {
		return "golive to take it up"
	}
	if r.acceptanceOpen() {
		return "acceptance by " + request.Spec.Acceptance.Role
	}
	if waiting := r.goWaiting(now); waiting != "" {
		return "go by " + waiting
	}
	var waits []string
	if missing := r.missingQuorums(); len(missing) > 0 {
		var counts []string
		for _, q := range missing {
			counts = append(counts, fmt.Sprintf("%s %d/%d", quorumName(q), len(q.Approvals), q.Required))
		}
		waits = append(waits, "approval: "+strings.Join(counts, ", "))
	}
	ready := meta.FindStatusCondition(status.Conditions, golivev1alpha1.ConditionReady)
	for _, d := range deadlines(request) {
		// Timeouts are limits, not what the request waits for; passed instants no longer hold it.
		if d.Then == "" || d.Then == golivev1alpha1.PhaseFailed || d.Then == golivev1alpha1.PhaseRollingBack || !d.At.After(now) {
			continue
		}
		waits = append(waits, r.deadlineText(d, ready, now))
	}
	if len(waits) > 0 {
		return strings.Join(waits, "; ")
	}
	return r.activity(ready)
}

// deadlineText names an instant the request waits for, in its window's zone.
func (r listedRequest) deadlineText(d deadline, ready *metav1.Condition, now time.Time) string {
	zone := time.UTC
	if r.Window != nil {
		if location, err := time.LoadLocation(r.Window.Spec.TimeZone); err == nil {
			zone = location
		}
	}
	when := localTime(d.At, zone) + " (" + relative(d.At, now) + ")"
	switch {
	case d.Then == golivev1alpha1.PhaseBackingUp && ready != nil && ready.Reason == golivev1alpha1.ReasonWindowClosed:
		return "window opens " + when
	case d.Then == golivev1alpha1.PhaseBackingUp && ready != nil && ready.Reason == golivev1alpha1.ReasonNoticeLead:
		return "notice lead passes " + when
	case d.Then == golivev1alpha1.PhaseBackingUp && ready != nil && ready.Reason == golivev1alpha1.ReasonFrozen:
		return "freeze ends, production starts " + when
	case d.Then == golivev1alpha1.PhaseBackingUp:
		return "production starts " + when
	}
	return d.What + " " + when
}

// activity is what golive works on in the request's phase, where neither a
// person nor an instant holds it.
func (r listedRequest) activity(ready *metav1.Condition) string {
	switch r.Request.Status.Phase {
	case golivev1alpha1.PhasePending:
		if ready != nil && ready.Reason == golivev1alpha1.ReasonTargetLocked {
			return oneLine(ready.Message)
		}
		return "start of staging"
	case golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging:
		return "staging verification"
	case golivev1alpha1.PhaseBackingUp:
		return "backup"
	case golivev1alpha1.PhaseUpdating:
		return "production update"
	case golivev1alpha1.PhaseVerifying:
		return "production verification"
	case golivev1alpha1.PhaseRollingBack:
		return "rollback"
	}
	if ready != nil && ready.Message != "" {
		return oneLine(ready.Message)
	}
	return string(r.Request.Status.Phase)
}

// listOrder sorts requests as list shows them: those that need a person
// first, then those still running, then those that ended; each group in the
// order of the release process, then by namespace and name.
func listOrder(a, b listedRequest) int {
	group := func(r listedRequest) int {
		switch {
		case needsPerson(r.Request) != "":
			return 0
		case r.Request.Status.Phase.IsTerminal():
			return 2
		}
		return 1
	}
	phases := lifecycle.PhaseOrder()
	position := func(r listedRequest) int {
		phase := r.Request.Status.Phase
		if phase == "" {
			phase = golivev1alpha1.PhasePending
		}
		return slices.Index(phases, phase)
	}
	return cmp.Or(group(a)-group(b), position(a)-position(b),
		strings.Compare(a.Request.Namespace, b.Request.Namespace), strings.Compare(a.Request.Name, b.Request.Name))
}

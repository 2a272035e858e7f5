package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/test/cluster"
)

// noticeLead is the journey policy's notice.minLead: long enough to see the
// request wait for it, short enough for a test.
const noticeLead = time.Minute

// TestPolicyJourney plays a release under a GoLivePolicy after the upgrade
// procedure: alice's request without its change reference is refused, naming
// the policy and the field, and nothing is created; corrected, it is
// admitted; an approval without a comment is refused, approvals with
// comments count; production waits for the notice lead, then for the
// supervisor's go (the requester's own is refused), and starts only then.
// golive is killed while the request waits for the notice lead and again
// while it waits for the go: the notice is sent once, the go is not lost.
func TestPolicyJourney(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-policy", Authorization: true})
	golive := cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	a := newApp(t, cl, "governed", alwaysOpen(), appOptions{})
	const policyName = "procedure-004"
	create(t, a.c, &golivev1alpha1.GoLivePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: policyName},
		Spec: golivev1alpha1.GoLivePolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": a.production}},
			Approvals: &golivev1alpha1.PolicyApprovals{
				Required:       []golivev1alpha1.RoleQuorum{{Role: roleRnDLead, Count: 1}, {Role: roleOperationsOffice, Count: 1}},
				RequireComment: true,
			},
			Notice:      &golivev1alpha1.PolicyNotice{MinLead: metav1.Duration{Duration: noticeLead}},
			Supervision: &golivev1alpha1.PolicySupervision{Role: roleSupervisor},
			References:  []golivev1alpha1.PolicyReference{{Type: "change", Pattern: "^CHG[0-9]{7}$"}},
		},
	})
	cluster.Eventually(t, timeout, "golive to count the namespace the policy governs", func(ctx context.Context) (bool, string, error) {
		var policy golivev1alpha1.GoLivePolicy
		if err := a.c.Get(ctx, client.ObjectKey{Name: policyName}, &policy); err != nil {
			return false, "", err
		}
		return policy.Status.Namespaces == 1, fmt.Sprintf("status %+v", policy.Status), nil
	})

	// Refused by the policy: nothing is created.
	request := a.request("billing-2-4-0", "2.4.0")
	err := as(t, cl, alice).Create(t.Context(), request.DeepCopy())
	if err == nil || !strings.Contains(err.Error(), "spec.references: policy "+policyName+" requires a reference of type change") {
		t.Fatalf("alice creating a request without its change reference: %v, want the policy's refusal naming the field", err)
	}
	if err := a.c.Get(t.Context(), client.ObjectKeyFromObject(request), &golivev1alpha1.UpdateRequest{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused request exists: %v", err)
	}

	// Corrected.
	request.Spec.References = []golivev1alpha1.Reference{{Type: "change", ID: "CHG0004711", URL: "https://itsm.example.com/change/CHG0004711"}}
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	err = command(t, cl, bob, r.key, golivev1alpha1.AnnotationApprove, roleRnDLead)
	if err == nil || !strings.Contains(err.Error(), policyName) || !strings.Contains(err.Error(), "comment") {
		t.Fatalf("bob approving without a comment: %v, want the policy's refusal", err)
	}
	approve(t, cl, bob, r.key, roleRnDLead, "grey run reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "backup plan checked")

	// The notice: production is planned no earlier than the lead after it.
	scheduled := r.waitForPhase(golivev1alpha1.PhaseScheduled)
	schedule := scheduled.Status.Schedule
	if schedule == nil || schedule.NoticeSentAt == nil || schedule.PlannedStart == nil {
		t.Fatalf("a scheduled request under notice.minLead has no notice or no planned start:\n%s", r.describe())
	}
	noticeSent := schedule.NoticeSentAt.Time
	if lead := schedule.PlannedStart.Sub(noticeSent); lead < noticeLead {
		t.Errorf("planned start %s is %s after the notice, want at least %s", schedule.PlannedStart, lead, noticeLead)
	}
	golive.Kill(t)
	golive.Restart(t)

	// The supervisor's go: production waits for it, and the requester may not give it.
	waiting := r.waitForPhase(golivev1alpha1.PhaseAwaitingGo)
	if supervision := waiting.Status.Supervision; supervision == nil || !slices.Equal(supervision.Roles, []string{roleSupervisor}) {
		t.Errorf("status.supervision = %+v, want role %s", waiting.Status.Supervision, roleSupervisor)
	}
	if waiting.Status.Production != nil && waiting.Status.Production.StartedAt != nil {
		t.Fatalf("production started before the go:\n%s", r.describe())
	}
	if image, _ := a.productionImage(); image != apiPrevious {
		t.Fatalf("production runs %s before the go, want %s", image, apiPrevious)
	}
	golive.Kill(t)
	golive.Restart(t)
	err = command(t, cl, alice, r.key, golivev1alpha1.AnnotationGo, "ready when you are")
	if err == nil {
		t.Fatal("golive accepted the requester's own go")
	}
	t.Logf("alice's go was refused: %v", err)
	if err := command(t, cl, sam, r.key, golivev1alpha1.AnnotationGo, "on the bridge"); err != nil {
		t.Fatalf("sam's go: %v", err)
	}

	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	t.Logf("the request's timeline:\n%s", timeline(done))
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.0"), r.describe)
	started := done.Status.Production.StartedAt
	if started == nil || started.Sub(noticeSent) < noticeLead {
		t.Errorf("production started at %v, less than %s after the notice at %s", started, noticeLead, noticeSent)
	}
	var goEntry *golivev1alpha1.TimelineEntry
	for i, entry := range done.Status.Timeline {
		if entry.Event == golivev1alpha1.ReasonProductionStarted {
			goEntry = &done.Status.Timeline[i]
		}
	}
	if goEntry == nil || goEntry.Actor != sam.user || !strings.Contains(goEntry.Message, "on the bridge") {
		t.Errorf("the production start in the timeline: %+v, want it by %s with the go's comment", goEntry, sam.user)
	}
	if !slices.ContainsFunc(done.Status.Policies, func(p golivev1alpha1.AppliedPolicy) bool { return p.Name == policyName && p.Generation == 1 }) {
		t.Errorf("status.policies = %+v, want %s at generation 1", done.Status.Policies, policyName)
	}
	if sent := done.Status.Schedule.NoticeSentAt; sent == nil || !sent.Time.Equal(noticeSent) {
		t.Errorf("status.schedule.noticeSentAt = %v after the restarts, want the first notice at %s", sent, noticeSent)
	}
	var events eventsv1.EventList
	if err := a.c.List(t.Context(), &events, client.InNamespace(a.production)); err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, event := range events.Items {
		if event.Reason == golivev1alpha1.ReasonGoLiveNotice && event.Regarding.Name == r.key.Name {
			notices++
			if event.Series != nil {
				notices += int(event.Series.Count) - 1
			}
		}
	}
	if notices != 1 {
		t.Errorf("%d GoLiveNotice Events about %s, want 1: golive restarted while waiting for the notice lead must not announce again", notices, r.key.Name)
	}
	for _, approval := range done.Status.Approvals {
		if approval.Comment == "" {
			t.Errorf("an approval without a comment counted: %+v", approval)
		}
	}
}

package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The buttons of a request's page follow lifecycle.CommandAllowed for the
// request's phase and the rights the API server gives the person (asked
// with bob's and erin's own ID tokens).
func TestButtonsFollowThePhaseAndThePersonsRights(t *testing.T) {
	const alice, bob, erin = "alice", "bob", "erin"
	c := startConsoleCluster(t, alice, bob, erin)
	ctx := t.Context()
	c.env.BindClusterRole(t, c.namespace, "golive-approver-rnd-lead", bob)
	c.env.BindClusterRole(t, c.namespace, "golive-approver-business-owner", erin)
	c.env.WaitForAccess(t, erin, authorizationv1.ResourceAttributes{Namespace: c.namespace, Verb: "approve",
		Group: "golive.dev", Resource: "approvalroles", Name: "business-owner"})
	if err := c.env.Client.Create(ctx, testfixtures.MakeGoLiveWindow(c.namespace, "evening").AlwaysOpen().Obj()); err != nil {
		t.Fatal(err)
	}
	asAlice, err := c.env.ClientAs(alice)
	if err != nil {
		t.Fatal(err)
	}
	phases := []golivev1alpha1.Phase{golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseUpdating,
		golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.PhaseSucceeded, golivev1alpha1.PhaseVerifying}
	requests := map[golivev1alpha1.Phase]*golivev1alpha1.UpdateRequest{}
	for i, phase := range phases {
		request := testfixtures.MakeUpdateRequest(c.namespace, fmt.Sprintf("release-%d", i)).Release("2.4.0").
			Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
			Staging(c.namespace+"-grey").Approval("rnd-lead", 1).Window("evening").
			Acceptance("business-owner", time.Hour, golivev1alpha1.RollBackOnTimeout).Obj()
		if err := asAlice.Create(ctx, request); err != nil {
			t.Fatalf("alice creating a request: %v", err)
		}
		setAwaitingApproval(t, c.env, request)
		request.Status.Phase = phase
		if phase == golivev1alpha1.PhaseVerifying {
			// A metric check was inconclusive past its limit: a person may retry.
			meta.SetStatusCondition(&request.Status.Conditions, metav1.Condition{Type: golivev1alpha1.ConditionStalled,
				Status: metav1.ConditionTrue, Reason: golivev1alpha1.ReasonVerificationInconclusive, Message: "error-rate is inconclusive"})
		}
		if err := c.env.Client.Status().Update(ctx, request); err != nil {
			t.Fatal(err)
		}
		requests[phase] = request
	}

	people := map[string]identity{}
	for _, person := range []string{bob, erin} {
		c.waitForIssuerTrust(t, newBrowser(t, c.issuer.CertPool()), person)
	}
	c.console.store.mu.Lock()
	for _, sess := range c.console.store.sessions {
		people[sess.User] = c.console.identityOf(sess)
	}
	c.console.store.mu.Unlock()

	for _, tc := range []struct {
		person string
		phase  golivev1alpha1.Phase
		want   []string
	}{
		{bob, golivev1alpha1.PhaseAwaitingApproval, []string{"approve rnd-lead", "reject rnd-lead", "abort"}},
		{bob, golivev1alpha1.PhaseUpdating, []string{"abort"}},
		{bob, golivev1alpha1.PhaseAwaitingAcceptance, []string{"abort"}},
		{bob, golivev1alpha1.PhaseSucceeded, nil},
		{erin, golivev1alpha1.PhaseAwaitingApproval, []string{"reject business-owner", "abort"}},
		{erin, golivev1alpha1.PhaseUpdating, []string{"abort"}},
		{erin, golivev1alpha1.PhaseAwaitingAcceptance, []string{"reject business-owner", "accept", "abort"}},
		{erin, golivev1alpha1.PhaseSucceeded, nil},
		{bob, golivev1alpha1.PhaseVerifying, []string{"retry", "abort"}},
	} {
		t.Run(tc.person+" in "+string(tc.phase), func(t *testing.T) {
			personCtx := withIdentity(ctx, people[tc.person])
			commands, err := commandsFor(personCtx, newAccessReviews(c.console.client), requests[tc.phase], nil, tc.person)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, command := range commands {
				if len(command.Roles) == 0 {
					got = append(got, string(command.Action))
				}
				for _, role := range command.Roles {
					got = append(got, string(command.Action)+" "+role)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Buttons (-want +got):\n%s", diff)
			}
		})
	}

	// What waits for them: bob's approval, erin's acceptance; nothing for alice.
	for person, want := range map[string][]string{
		bob:  {"release-0 approveAs rnd-lead"},
		erin: {"release-2 acceptAs business-owner"},
	} {
		personCtx := withIdentity(ctx, people[person])
		access := newAccessReviews(c.console.client)
		var got []string
		for _, phase := range phases {
			asks, err := asksOf(personCtx, access, requests[phase], nil, person)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range asks {
				got = append(got, a.Name+" "+a.What+" "+strings.Join(a.Roles, ","))
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("What waits for %s (-want +got):\n%s", person, diff)
		}
	}
}

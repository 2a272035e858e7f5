package admission

import (
	"fmt"
	"slices"
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"

	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The webhook refuses a command by the phase exactly when the lifecycle,
// which acts on the commands, would not act on it, with the lifecycle's
// words. cmd/kubectl-golive's TestPluginAnswersAsTheLifecycle feeds the
// plugin the same states; together they fail if a reader of a request
// re-derives the rule differently (docs/development.md, "One rule, every
// reader").
func TestWebhookAnswersAsTheLifecycle(t *testing.T) {
	emergencyRoles := []string{"cto"}
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	for _, state := range testfixtures.States(now) {
		for _, try := range testfixtures.CommandTries() {
			t.Run(fmt.Sprintf("%s/%s %s", state.Name, try.Action, try.Role), func(t *testing.T) {
				rejecting := try.Action == golivev1alpha1.LedgerReject
				if (rejecting || try.Action == golivev1alpha1.LedgerApprove) && !slices.Contains(rolesAsked(state.Request, emergencyRoles, rejecting), try.Role) {
					t.Skip("the request does not ask for the role: the webhook refuses before any phase rule")
				}
				lifecycleSays := lifecycle.CommandAllowed(state.Request, lifecycle.CommandAction(try.Action), try.Role, state.SpecHash)
				// Someone other than the requester, for a role the request asks
				// for, with nothing in the ledger: only the phase can refuse.
				_, webhookSays := checkCommand(commandInput{
					Request: state.Request, SpecHash: state.SpecHash, User: "dave",
					Command:        Command{Action: try.Action, Role: try.Role},
					EmergencyRoles: emergencyRoles,
					// A policy asks for supervision: only the phase refuses a go.
					SupervisionRoles: []string{"operations-supervisor"},
				})
				if fmt.Sprint(webhookSays) != fmt.Sprint(lifecycleSays) {
					t.Errorf("the webhook says %v, the lifecycle %v", webhookSays, lifecycleSays)
				}
			})
		}
	}
}

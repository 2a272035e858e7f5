package testfixtures

import golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"

// CommandTry is a command someone might give a request of States.
type CommandTry struct {
	Action golivev1alpha1.LedgerAction
	// Role is the role the command names; accept, go, retry and abort name none.
	Role string
}

// CommandTries are the commands tried on every one of States: each action,
// and a rejection both by an approval role and by the acceptance role.
func CommandTries() []CommandTry {
	return []CommandTry{
		{Action: golivev1alpha1.LedgerApprove, Role: "rnd-lead"},
		{Action: golivev1alpha1.LedgerReject, Role: "rnd-lead"},
		{Action: golivev1alpha1.LedgerReject, Role: "business"},
		{Action: golivev1alpha1.LedgerAccept},
		{Action: golivev1alpha1.LedgerGo},
		{Action: golivev1alpha1.LedgerRetry},
		{Action: golivev1alpha1.LedgerAbort},
	}
}

package controller

import (
	"fmt"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/workload"
)

// The mappings below translate other packages' enums into lifecycle's, one
// value at a time: a value added on one side and not here fails the
// reconcile with an error naming it, instead of reaching lifecycle as a
// string it does not know.

// healthOf maps a workload's rollout state to lifecycle's.
func healthOf(state workload.State) (lifecycle.Health, error) {
	switch state {
	case workload.Progressing:
		return lifecycle.Progressing, nil
	case workload.Healthy:
		return lifecycle.Healthy, nil
	case workload.Failed:
		return lifecycle.Failed, nil
	}
	return "", fmt.Errorf("unknown rollout state %q", state)
}

// dataRestoreStateOf maps where a restore of claims stands to lifecycle's.
func dataRestoreStateOf(state backup.RestoreState) (lifecycle.DataRestoreState, error) {
	switch state {
	case backup.RestoreInProgress:
		return lifecycle.DataRestoreInProgress, nil
	case backup.Restored:
		return lifecycle.DataRestored, nil
	case backup.RestoreFailed:
		return lifecycle.DataRestoreFailed, nil
	}
	return "", fmt.Errorf("unknown data restore state %q", state)
}

// commandActionOf maps the action of a verified ledger entry to lifecycle's.
func commandActionOf(action golivev1alpha1.LedgerAction) (lifecycle.CommandAction, error) {
	switch action {
	case golivev1alpha1.LedgerApprove:
		return lifecycle.ActionApprove, nil
	case golivev1alpha1.LedgerReject:
		return lifecycle.ActionReject, nil
	case golivev1alpha1.LedgerAccept:
		return lifecycle.ActionAccept, nil
	case golivev1alpha1.LedgerGo:
		return lifecycle.ActionGo, nil
	case golivev1alpha1.LedgerRetry:
		return lifecycle.ActionRetry, nil
	case golivev1alpha1.LedgerAbort:
		return lifecycle.ActionAbort, nil
	}
	return "", fmt.Errorf("unknown ledger action %q", action)
}

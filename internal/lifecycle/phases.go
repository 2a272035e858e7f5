package lifecycle

import (
	"slices"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// phaseOrder is every phase in the order of the release process: the happy
// path first, then the other ends and the rollback.
var phaseOrder = []golivev1alpha1.Phase{
	golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.PhaseSoaking,
	golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseAwaitingGo, golivev1alpha1.PhaseBackingUp,
	golivev1alpha1.PhaseUpdating,
	golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.PhaseSucceeded, golivev1alpha1.PhaseFailed,
	golivev1alpha1.PhaseRollingBack, golivev1alpha1.PhaseRolledBack, golivev1alpha1.PhaseRejected, golivev1alpha1.PhaseAborted,
}

// PhaseOrder returns every phase in the order of the release process (a new
// slice, for the caller to keep). Metrics report phases in this order and
// hack/demo.sh follows a request by it.
func PhaseOrder() []golivev1alpha1.Phase {
	return slices.Clone(phaseOrder)
}

// RunsProductionUpdate reports whether a request in phase is changing
// production right now, which is what a window's maxConcurrent caps. Phases
// before BackingUp have not touched production; AwaitingAcceptance and the
// terminal phases are done changing it (acceptance waits on a person for up
// to a day and must not block the next update), so neither counts. This is
// narrower than Phase.TouchesProduction, which says whether production may
// already have changed (and so the spec is frozen and a failure rolls back).
func RunsProductionUpdate(phase golivev1alpha1.Phase) bool {
	return phase.TouchesProduction() && !phase.IsTerminal() && phase != golivev1alpha1.PhaseAwaitingAcceptance
}

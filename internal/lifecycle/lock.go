package lifecycle

import (
	"k8s.io/apimachinery/pkg/api/meta"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Lock is another request that keeps a pending request from starting.
type Lock struct {
	// Name names the other request; "" when none keeps the request back.
	Name string
	// Phase is the other request's phase: Pending (or "") for an older
	// request the request waits behind, any other for one holding a target.
	Phase golivev1alpha1.Phase
	// Waiting is the Ready reason of an older pending request: what it waits for itself.
	Waiting string
	// Holds is true when the other request holds the targets (holdsTargets)
	// rather than queues for them ahead of request.
	Holds bool
}

// ClaimsTargets reports whether request keeps other requests off its
// targets: a request that left Pending holds them until it ends; a pending
// one queues for them, unless it stalled there. A stalled pending request
// changed nothing and waits for a person, so it holds no one back; once fixed
// it queues again, behind any request that left Pending meanwhile. A request
// that changed the staging targets and is to put them back
// (StagingRestorePending) holds them, pending or ended, until it has: no one
// else may change them before.
func ClaimsTargets(request *golivev1alpha1.UpdateRequest) bool {
	switch phase := request.Status.Phase; {
	case StagingRestorePending(request):
		return true
	case phase.IsTerminal():
		return false
	case phase == "" || phase == golivev1alpha1.PhasePending:
		return !meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionStalled)
	}
	return true
}

// holdsTargets reports whether request, which claims its targets, holds them
// rather than queues for them: it left Pending, or it changed the staging
// targets before it went back there.
func holdsTargets(request *golivev1alpha1.UpdateRequest) bool {
	phase := request.Status.Phase
	return (phase != "" && phase != golivev1alpha1.PhasePending) || StagingRestorePending(request)
}

// LockHolder finds the request among others that keeps request, a pending
// one, from starting; the zero Lock when none does. Two requests never hold
// the same workload: a request that left Pending holds its targets until it
// ends, and is named first; between two that are still Pending, the older
// one (then the one whose name sorts first) goes first, so exactly one of
// them proceeds.
func LockHolder(request *golivev1alpha1.UpdateRequest, others []golivev1alpha1.UpdateRequest) Lock {
	if request.Status.Phase != "" && request.Status.Phase != golivev1alpha1.PhasePending {
		return Lock{} // it already holds its targets
	}
	var ahead Lock
	for i := range others {
		other := &others[i]
		if other.Name == request.Name || !ClaimsTargets(other) || !sharesTarget(request, other) {
			continue
		}
		if holdsTargets(other) {
			return Lock{Name: other.Name, Phase: other.Status.Phase, Holds: true}
		}
		if ahead.Name == "" && goesFirst(other, request) {
			ahead = Lock{Name: other.Name, Phase: other.Status.Phase}
			if ready := meta.FindStatusCondition(other.Status.Conditions, golivev1alpha1.ConditionReady); ready != nil {
				ahead.Waiting = ready.Reason
			}
		}
	}
	return ahead
}

func goesFirst(a, b *golivev1alpha1.UpdateRequest) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// sharesTarget reports whether two requests in one namespace name the same workload.
func sharesTarget(a, b *golivev1alpha1.UpdateRequest) bool {
	if a.Namespace != b.Namespace {
		return false
	}
	for _, x := range a.Spec.Targets {
		for _, y := range b.Spec.Targets {
			if x.Kind == y.Kind && x.Name == y.Name {
				return true
			}
		}
	}
	return false
}

package lifecycle

import (
	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// LockHolder names the request among others that holds one of request's
// targets, or "" when none does. Two requests never hold the same workload: a
// request that left Pending holds its targets until it ends; between two that
// are still Pending, the older one (then the one whose name sorts first) goes
// first, so exactly one of them proceeds.
func LockHolder(request *golivev1alpha1.UpdateRequest, others []golivev1alpha1.UpdateRequest) string {
	if request.Status.Phase != "" && request.Status.Phase != golivev1alpha1.PhasePending {
		return "" // it already holds its targets
	}
	for i := range others {
		other := &others[i]
		if other.Name == request.Name || other.Status.Phase.IsTerminal() || !sharesTarget(request, other) {
			continue
		}
		if other.Status.Phase != "" && other.Status.Phase != golivev1alpha1.PhasePending {
			return other.Name
		}
		if goesFirst(other, request) {
			return other.Name
		}
	}
	return ""
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

package controller

import (
	"context"
	"maps"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// What wakes an UpdateRequest besides its own changes: the requests a
// changed object concerns, found through the cache's indexes and labels.

func (r *UpdateRequestReconciler) requestsMatching(ctx context.Context, options ...client.ListOption) []reconcile.Request {
	return r.requestsWhere(ctx, anyRequest, options...)
}

func anyRequest(*golivev1alpha1.UpdateRequest) bool { return true }

// requestsWhere lists the cached requests matching options for which keep is true.
func (r *UpdateRequestReconciler) requestsWhere(ctx context.Context, keep func(*golivev1alpha1.UpdateRequest) bool, options ...client.ListOption) []reconcile.Request {
	var requests golivev1alpha1.UpdateRequestList
	// Read only, for the names: the cache's objects are not copied.
	if err := r.List(ctx, &requests, append(options, client.UnsafeDisableDeepCopy)...); err != nil {
		log.FromContext(ctx).Error(err, "Failed to list the update requests of a changed object")
		return nil
	}
	result := make([]reconcile.Request, 0, len(requests.Items))
	for i := range requests.Items {
		if keep(&requests.Items[i]) {
			result = append(result, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&requests.Items[i])})
		}
	}
	return result
}

// requestsOfWindows wakes the requests a window's change concerns: all of
// those naming it when it is created, deleted or its spec changes; only those
// waiting in Scheduled or AwaitingGo when the production updates it counts
// change (room for one more, or an emergency budget back; or none left, for a
// request waiting for go). The window's other status changes, such as
// opening, wake none: each request plans on the window's spec itself.
func (r *UpdateRequestReconciler) requestsOfWindows() handler.EventHandler {
	scheduled := func(request *golivev1alpha1.UpdateRequest) bool {
		return request.Status.Phase == golivev1alpha1.PhaseScheduled || request.Status.Phase == golivev1alpha1.PhaseAwaitingGo
	}
	enqueue := func(ctx context.Context, window client.Object, keep func(*golivev1alpha1.UpdateRequest) bool, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		addAll(queue, r.requestsWhere(ctx, keep, client.InNamespace(window.GetNamespace()), client.MatchingFields{WindowNameIndex: window.GetName()}))
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, anyRequest, queue)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, anyRequest, queue)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			before, beforeOK := e.ObjectOld.(*golivev1alpha1.GoLiveWindow)
			after, afterOK := e.ObjectNew.(*golivev1alpha1.GoLiveWindow)
			switch {
			case !beforeOK || !afterOK || before.Generation != after.Generation:
				enqueue(ctx, e.ObjectNew, anyRequest, queue)
			case !slices.Equal(before.Status.ActiveUpdates, after.Status.ActiveUpdates) || before.Status.EmergencyUsed != after.Status.EmergencyUsed:
				enqueue(ctx, after, scheduled, queue)
			}
		},
	}
}

// releasesTargets passes the changes after which a request no longer keeps
// others off its targets (lifecycle.ClaimsTargets): it ended, it stalled in
// Pending, or it was deleted.
var releasesTargets = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	UpdateFunc: func(e event.UpdateEvent) bool {
		before, beforeOK := e.ObjectOld.(*golivev1alpha1.UpdateRequest)
		after, afterOK := e.ObjectNew.(*golivev1alpha1.UpdateRequest)
		return beforeOK && afterOK && lifecycle.ClaimsTargets(before) && !lifecycle.ClaimsTargets(after)
	},
}

// requestsWaitingFor maps a request that released its targets to the other
// pending requests naming one of them.
func (r *UpdateRequestReconciler) requestsWaitingFor(ctx context.Context, object client.Object) []reconcile.Request {
	released, ok := object.(*golivev1alpha1.UpdateRequest)
	if !ok {
		return nil
	}
	var waiting []reconcile.Request
	for _, key := range indexRequestByTargets(released) {
		for _, request := range r.requestsMatching(ctx, client.InNamespace(released.Namespace), client.MatchingFields{TargetIndex: key}) {
			if request.Name != released.Name && !slices.Contains(waiting, request) {
				waiting = append(waiting, request)
			}
		}
	}
	return waiting
}

// requestOfLabels maps an object golive created for a request (a
// verification Job in either namespace, a VolumeSnapshot) to the request,
// named by its labels.
func requestOfLabels(_ context.Context, object client.Object) []reconcile.Request {
	name, namespace := object.GetLabels()[golivev1alpha1.LabelRequest], object.GetLabels()[golivev1alpha1.LabelRequestNamespace]
	if name == "" || namespace == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}}
}

// requestsOfClaims wakes, when a claim comes, goes or its labels change, the
// requests of its namespace that read the claims before production: a
// pending request whose selector selected none, or that a policy's
// backup.requireSnapshots stalled for a claim left out, goes on once the
// claim is labelled.
func (r *UpdateRequestReconciler) requestsOfClaims() handler.EventHandler {
	readsClaims := func(request *golivev1alpha1.UpdateRequest) bool {
		return request.Spec.Backup.VolumeClaimSelector != nil && checksClaimsNow(request.Status.Phase)
	}
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, claim client.Object) []reconcile.Request {
		return r.requestsWhere(ctx, readsClaims, client.InNamespace(claim.GetNamespace()))
	})
}

// observedWorkloadChanged passes the changes of a workload that can change
// what a request observes of it: its spec (generation), its labels, its
// deletion, and its rollout's state (workload.Rollout). A rollout in progress
// updates its status once per replica; those counts appear only in the
// message of a failure, which a change of state or a deadline brings, so
// they wake no request: each would cost a reconcile that decides nothing.
var observedWorkloadChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		before, after := e.ObjectOld, e.ObjectNew
		if before == nil || after == nil {
			return true
		}
		return before.GetGeneration() != after.GetGeneration() ||
			!before.GetDeletionTimestamp().Equal(after.GetDeletionTimestamp()) ||
			!maps.Equal(before.GetLabels(), after.GetLabels()) ||
			workload.Rollout(before).State != workload.Rollout(after).State
	},
}

// observedJobChanged passes the changes of a Job that can change what a
// request observes of it: its spec (generation), labels, annotations (the
// seal), deletion, and its result with the message of a running one
// (verify.JobResult). The Job controller updates a Job's status several
// times on the way to its result (start time, ready pods, pods counted as
// they end); those change nothing golive reads, and each would cost a
// reconcile that decides nothing.
var observedJobChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		before, isJob := e.ObjectOld.(*batchv1.Job)
		after, stillJob := e.ObjectNew.(*batchv1.Job)
		if !isJob || !stillJob {
			return true
		}
		resultBefore, resultAfter := verify.JobResult(before), verify.JobResult(after)
		return before.Generation != after.Generation ||
			!before.DeletionTimestamp.Equal(after.DeletionTimestamp) ||
			!maps.Equal(before.Labels, after.Labels) ||
			!maps.Equal(before.Annotations, after.Annotations) ||
			resultBefore.Result != resultAfter.Result || resultBefore.Message != resultAfter.Message
	},
}

package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/policy"
	"github.com/golive-dev/golive/internal/workload"
)

// eventActionProtect is the action of the Events the protection reconciler records.
const eventActionProtect = "Protect"

// WorkloadProtectionReconciler enforces GoLivePolicy spec.protectWorkloads,
// one namespace at a time: it lists every Deployment and StatefulSet an
// UpdateRequest of a governed namespace targets in the namespace's protected
// list (workload.ProtectedList), which the admission policy
// golive-protected-workloads reads to refuse anyone else's changes to their
// pod template and replicas; it deletes the list once no such policy governs
// the namespace; and it records a change it finds that golive did not make
// (the break-glass group's) as a policy breach: a Warning Event PolicyBreach
// on the workload and on the requests that target it, and a notice to their
// webhooks.
type WorkloadProtectionReconciler struct {
	client.Client
	// LiveReader reads the list and the workloads whole (the cache trims
	// workloads and holds none of the list ConfigMaps).
	LiveReader client.Reader
	Clock      clock.PassiveClock
	Recorder   events.EventRecorder
	// Notifier posts the notices of breaches; nil sends none.
	Notifier *notify.Dispatcher
}

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=golivepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=updaterequests,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings the protected list of the namespace req.Name up to date.
func (r *WorkloadProtectionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	protectedBy, err := r.protectingPolicy(ctx, req.Name)
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}

	list := &corev1.ConfigMap{}
	key := client.ObjectKey{Namespace: req.Name, Name: workload.ProtectedList}
	err = r.LiveReader.Get(ctx, key, list)
	switch {
	case protectedBy == "" && (apierrors.IsNotFound(err) || apierrors.IsForbidden(err)):
		// Nothing protected, or a namespace golive may not manage (--namespaced-rbac).
		return reconcile.Result{}, nil
	case apierrors.IsNotFound(err):
		list = nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("reading the protected workloads of %s: %w", req.Name, err)
	case protectedBy == "":
		return reconcile.Result{}, r.unprotect(ctx, list)
	}

	var requests golivev1alpha1.UpdateRequestList
	if err := r.List(ctx, &requests, client.InNamespace(req.Name)); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing the UpdateRequests of %s: %w", req.Name, err)
	}
	data := map[string]string{}
	if list != nil {
		maps.Copy(data, list.Data)
	}
	for _, request := range requests.Items {
		for _, target := range request.Spec.Targets {
			if workloadKey, ok := workload.ProtectedKey(target.Kind, target.Name); ok {
				data[workloadKey] = protectedBy
			}
		}
	}
	for _, workloadKey := range slices.Sorted(maps.Keys(data)) {
		if workload.IsObservedKey(workloadKey) {
			continue
		}
		// Keep a workload protected once it was, whichever request targeted
		// it; only the policy it is protected by follows the policies.
		data[workloadKey] = protectedBy
		if err := r.checkSpec(ctx, req.Name, workloadKey, data, requests.Items); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, r.writeList(ctx, req.Name, list, data)
}

// protectingPolicy names the GoLivePolicy whose protectWorkloads governs
// namespace, or "" when none does, from the cache.
func (r *WorkloadProtectionReconciler) protectingPolicy(ctx context.Context, namespace string) (string, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, meta); err != nil {
		return "", err
	}
	var policies golivev1alpha1.GoLivePolicyList
	if err := r.List(ctx, &policies); err != nil {
		return "", fmt.Errorf("listing the GoLivePolicies: %w", err)
	}
	return policy.Merge(policy.Selecting(policies.Items, meta.Labels)).ProtectWorkloadsBy, nil
}

// checkSpec compares a protected workload's pod template and replicas with
// what the list keeps of them: a change golive did not make is a breach,
// which it records; either way the list then keeps what it saw now.
func (r *WorkloadProtectionReconciler) checkSpec(ctx context.Context, namespace, workloadKey string, data map[string]string,
	requests []golivev1alpha1.UpdateRequest) error {
	kind, name, ok := workload.ParseProtectedKey(workloadKey)
	if !ok {
		return nil
	}
	obj, err := workload.NewObject(kind, name, namespace)
	if err != nil {
		return err
	}
	// A workload deleted keeps its state: one created again in its place by
	// someone else with another spec is a breach too.
	if err := r.LiveReader.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading the protected %s %s/%s: %w", kind, namespace, name, err)
	}
	current, err := workload.ObserveProtected(obj)
	if err != nil {
		return err
	}
	observedKey := workload.ObservedKey(workloadKey)
	previous, known := workload.ParseProtectedState(data[observedKey])
	data[observedKey] = current.String()
	if !known || previous.Hash == current.Hash {
		return nil
	}
	change, ok := workload.ChangeSince(obj.GetManagedFields(), previous)
	if ok && change.ByGolive() {
		return nil
	}
	r.recordBreach(ctx, kind, obj, change, requests, data[workloadKey])
	return nil
}

// recordBreach records a change of a protected workload that golive did not
// make: the admission policy let it through, so it came from the break-glass
// group (or the policy was not installed).
func (r *WorkloadProtectionReconciler) recordBreach(ctx context.Context, kind golivev1alpha1.TargetKind, obj client.Object,
	change workload.SpecChange, requests []golivev1alpha1.UpdateRequest, protectedBy string) {
	by := "someone other than golive"
	if len(change.Managers) > 0 {
		names := make([]string, len(change.Managers))
		for i, manager := range change.Managers {
			names[i] = manager.String()
		}
		by = fmt.Sprintf("field manager %s, not golive,", strings.Join(names, " or "))
	}
	message := fmt.Sprintf("The pod template or replicas of %s %s/%s were changed by %s although GoLivePolicy %s protects them "+
		"(spec.protectWorkloads): a break-glass change, recorded as a policy breach; the API server's audit log names who",
		kind, obj.GetNamespace(), obj.GetName(), by, protectedBy)
	log.FromContext(ctx).Info("Recorded a policy breach", "workload", client.ObjectKeyFromObject(obj), "kind", kind,
		"fieldManagers", change.Managers, "policy", protectedBy)
	r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, golivev1alpha1.ReasonPolicyBreach, eventActionProtect, "%s", message)
	now := r.Clock.Now()
	for i := range requests {
		request := &requests[i]
		if !slices.ContainsFunc(request.Spec.Targets, func(t golivev1alpha1.Target) bool {
			return t.Kind == kind && t.Name == obj.GetName()
		}) {
			continue
		}
		r.Recorder.Eventf(request, obj, corev1.EventTypeWarning, golivev1alpha1.ReasonPolicyBreach, eventActionProtect, "%s", message)
		if r.Notifier != nil && len(request.Spec.Notify.Webhooks) > 0 {
			r.Notifier.Enqueue(ctx, notify.Notice{
				Namespace: request.Namespace, Name: request.Name, UID: request.UID, Release: request.Spec.Release,
				Phase: request.Status.Phase, Reason: golivev1alpha1.ReasonPolicyBreach, Message: message, Warning: true, Time: now,
			}, request.Spec.Notify.Webhooks)
		}
	}
}

// writeList creates or patches the namespace's protected list to hold data.
func (r *WorkloadProtectionReconciler) writeList(ctx context.Context, namespace string, list *corev1.ConfigMap, data map[string]string) error {
	if list == nil {
		list = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: workload.ProtectedList,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "golive"}},
			Data: data,
		}
		if err := r.Create(ctx, list, client.FieldOwner(workload.FieldManager)); err != nil {
			return fmt.Errorf("creating the protected workloads of %s: %w", namespace, err)
		}
		log.FromContext(ctx).Info("Protected workloads", "namespace", namespace, "workloads", len(data))
		return nil
	}
	if maps.Equal(list.Data, data) {
		return nil
	}
	base := list.DeepCopy()
	list.Data = data
	if err := r.Patch(ctx, list, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}), client.FieldOwner(workload.FieldManager)); err != nil {
		return fmt.Errorf("updating the protected workloads of %s: %w", namespace, err)
	}
	return nil
}

// unprotect deletes the list of a namespace no policy with
// protectWorkloads governs any more.
func (r *WorkloadProtectionReconciler) unprotect(ctx context.Context, list *corev1.ConfigMap) error {
	if list == nil {
		return nil
	}
	if err := r.Delete(ctx, list, client.Preconditions{UID: &list.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the protected workloads of %s: %w", list.Namespace, err)
	}
	log.FromContext(ctx).Info("Unprotected workloads: no GoLivePolicy with protectWorkloads governs the namespace", "namespace", list.Namespace)
	return nil
}

// SetupWithManager reconciles a namespace a policy protects when a request
// there is created, changed or deleted, or a Deployment or StatefulSet there
// changes its spec; any namespace when its labels change; and, when a policy changes, every namespace
// with requests or a list.
func (r *WorkloadProtectionReconciler) SetupWithManager(mgr manager.Manager, options controller.Options) error {
	// A request or a workload matters only where a policy protects
	// workloads: elsewhere there is nothing to list, and a list left from an
	// earlier policy goes when a policy or the namespace's labels change
	// (watched below). Skipping the rest saves a live read of the list per
	// workload change in every namespace no policy governs.
	ofGovernedNamespace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		if protectedBy, err := r.protectingPolicy(ctx, obj.GetNamespace()); err == nil && protectedBy == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: obj.GetNamespace()}}}
	})
	namespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: obj.GetName()}}}
	})
	// A policy may start or stop governing any namespace: those with
	// requests, and those with a list to delete.
	withRequestsOrList := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		namespaces := map[string]bool{}
		var requests golivev1alpha1.UpdateRequestList
		if err := r.List(ctx, &requests); err == nil {
			for _, request := range requests.Items {
				namespaces[request.Namespace] = true
			}
		}
		var lists corev1.ConfigMapList
		if err := r.LiveReader.List(ctx, &lists, client.MatchingFields{"metadata.name": workload.ProtectedList}); err == nil {
			for _, list := range lists.Items {
				namespaces[list.Namespace] = true
			}
		}
		var enqueue []reconcile.Request
		for _, name := range slices.Sorted(maps.Keys(namespaces)) {
			enqueue = append(enqueue, reconcile.Request{NamespacedName: client.ObjectKey{Name: name}})
		}
		return enqueue
	})
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	return builder.ControllerManagedBy(mgr).
		Named("workloadprotection").
		WatchesMetadata(&corev1.Namespace{}, namespace, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&golivev1alpha1.GoLivePolicy{}, withRequestsOrList, specChanged).
		Watches(&golivev1alpha1.UpdateRequest{}, ofGovernedNamespace, specChanged).
		Watches(&appsv1.Deployment{}, ofGovernedNamespace, specChanged).
		Watches(&appsv1.StatefulSet{}, ofGovernedNamespace, specChanged).
		WithOptions(options).
		Complete(r)
}

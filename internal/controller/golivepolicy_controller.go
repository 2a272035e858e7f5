package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/policy"
)

// GoLivePolicyReconciler keeps a GoLivePolicy's status current: how many
// namespaces it governs, and whether golive can enforce it whole (Ready).
// The rules themselves are enforced by the admission webhook and the
// UpdateRequest controller, which read the policies as they are.
type GoLivePolicyReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=golive.dev,resources=golivepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=golivepolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile counts the namespaces the policy selects and patches its status.
func (r *GoLivePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var p golivev1alpha1.GoLivePolicy
	if err := r.Get(ctx, req.NamespacedName, &p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	namespaces := &metav1.PartialObjectMetadataList{}
	namespaces.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.List(ctx, namespaces); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing namespaces: %w", err)
	}
	governed := int32(0)
	for _, namespace := range namespaces.Items {
		if len(policy.Selecting([]golivev1alpha1.GoLivePolicy{p}, namespace.Labels)) > 0 {
			governed++
		}
	}

	base := p.DeepCopy()
	p.Status.Namespaces = governed
	p.Status.ObservedGeneration = p.Generation
	ready := metav1.Condition{Type: golivev1alpha1.ConditionReady, ObservedGeneration: p.Generation}
	switch problems := policy.Problems(&p); {
	case len(problems) > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, golivev1alpha1.ReasonInvalidSpec
		ready.Message = "golive enforces what it can read of this policy, but: " + strings.Join(problems, "; ")
	case governed == 0:
		ready.Status, ready.Reason = metav1.ConditionTrue, golivev1alpha1.ReasonNoNamespaceSelected
		ready.Message = "The policy selects no namespace yet: it governs no request"
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded
		ready.Message = fmt.Sprintf("Governs the requests of %d namespaces", governed)
		if governed == 1 {
			ready.Message = "Governs the requests of 1 namespace"
		}
	}
	meta.SetStatusCondition(&p.Status.Conditions, ready)
	if apiequality.Semantic.DeepEqual(base.Status, p.Status) {
		return ctrl.Result{}, nil
	}
	if err := r.Status().Patch(ctx, &p, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("patching the status of GoLivePolicy %s: %w", p.Name, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches policies and namespaces: a namespace whose labels
// change may change what every policy governs.
func (r *GoLivePolicyReconciler) SetupWithManager(mgr ctrl.Manager, options controller.Options) error {
	allPolicies := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var policies golivev1alpha1.GoLivePolicyList
		if err := r.List(ctx, &policies); err != nil {
			return nil
		}
		requests := make([]reconcile.Request, len(policies.Items))
		for i, p := range policies.Items {
			requests[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)}
		}
		return requests
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&golivev1alpha1.GoLivePolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Namespace{}, allPolicies, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WithOptions(options).
		Named("golivepolicy").
		Complete(r)
}

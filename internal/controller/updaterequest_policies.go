package controller

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/policy"
	"github.com/golive-dev/golive/internal/workload"
)

// observePolicies reads the GoLivePolicies that select the request's
// namespace and how its spec falls short of them: the admission webhook
// checked them when the spec was written, but a policy (or a namespace's
// labels) may have changed since. Only a request that has not reached
// production needs them; a started one finishes under status.policies.
func (r *UpdateRequestReconciler) observePolicies(ctx context.Context, request *golivev1alpha1.UpdateRequest, world *lifecycle.World) error {
	if request.Status.Phase.TouchesProduction() {
		return nil
	}
	namespace := &metav1.PartialObjectMetadata{}
	namespace.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, client.ObjectKey{Name: request.Namespace}, namespace); err != nil {
		return fmt.Errorf("reading namespace %s for its policies: %w", request.Namespace, err)
	}
	var policies golivev1alpha1.GoLivePolicyList
	if err := r.List(ctx, &policies); err != nil {
		return fmt.Errorf("listing the GoLivePolicies: %w", err)
	}
	rules := policy.Merge(policy.Selecting(policies.Items, namespace.Labels))
	for _, applied := range rules.Policies {
		world.Policies = append(world.Policies, golivev1alpha1.AppliedPolicy{Name: applied.Name, Generation: applied.Generation})
	}
	world.ApprovalExpiry = lifecycle.ApprovalExpiry{After: rules.ExpireAfter.Duration, Policy: rules.ExpireAfter.Policy}
	world.NoticeMinLead = lifecycle.NoticeLead{After: rules.NoticeMinLead.Duration, Policy: rules.NoticeMinLead.Policy}
	world.StagingMaxAge = lifecycle.StagingMaxAge{After: rules.MaxAge.Duration, Policy: rules.MaxAge.Policy}
	if rules.Emergency != nil && world.Window.Found {
		// The policies' emergency rules replace the window's, budget and period included.
		world.Window.Spec.Emergency = rules.Emergency.WindowEmergency()
		world.Window.EmergencyPolicy = rules.Emergency.Policy
	}
	violations := policy.Check(rules, &request.Spec)
	if rules.SnapshotsRequiredBy != "" && request.Spec.Backup.VolumeClaimSelector != nil && checksClaimsNow(request.Status.Phase) {
		missing, err := r.unsnapshottedClaims(ctx, request, rules)
		if err != nil {
			return err
		}
		violations = append(violations, missing...)
	}
	for _, violation := range violations {
		world.PolicyViolations = append(world.PolicyViolations, violation.String())
	}
	return nil
}

// checksClaimsNow says when backup.requireSnapshots reads the claims the
// production targets mount: at the start, for early word, and while
// production is scheduled, for the production gate. Each look reads every
// target from the API server (the cache drops volumes).
func checksClaimsNow(phase golivev1alpha1.Phase) bool {
	return phase == "" || phase == golivev1alpha1.PhasePending || phase == golivev1alpha1.PhaseScheduled
}

// unsnapshottedClaims are the existing claims the production targets mount
// that spec.backup.volumeClaimSelector leaves out, as policy violations.
func (r *UpdateRequestReconciler) unsnapshottedClaims(ctx context.Context, request *golivev1alpha1.UpdateRequest, rules policy.Rules) ([]policy.Violation, error) {
	var existing corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &existing, client.InNamespace(request.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the PersistentVolumeClaims of %s: %w", request.Namespace, err)
	}
	exists := map[string]bool{}
	for _, claim := range existing.Items {
		exists[claim.Name] = true
	}
	var mounted []policy.MountedClaims
	for _, target := range request.Spec.Targets {
		object, err := workload.Get(ctx, r.LiveReader, target, request.Namespace)
		if apierrors.IsNotFound(err) {
			continue // Pending stalls on it.
		}
		if err != nil {
			return nil, err
		}
		claims := slices.DeleteFunc(workload.ClaimsMounted(object), func(claim string) bool { return !exists[claim] })
		mounted = append(mounted, policy.MountedClaims{Target: fmt.Sprintf("%s %q", target.Kind, target.Name), Claims: claims})
	}
	selected, err := backup.SelectClaims(ctx, r.Client, request.Namespace, request.Spec.Backup.VolumeClaimSelector)
	if err != nil {
		return nil, err
	}
	return policy.CheckSnapshots(rules, mounted, selected), nil
}

// requestsOfPolicies wakes, on any change of a policy, the requests that
// have not reached production, in every namespace: which namespaces a
// policy selected before its change is not known any more, and policies
// change rarely.
func (r *UpdateRequestReconciler) requestsOfPolicies() handler.EventHandler {
	beforeProduction := func(request *golivev1alpha1.UpdateRequest) bool {
		return !request.Status.Phase.TouchesProduction() && !request.Status.Phase.IsTerminal()
	}
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return r.requestsWhere(ctx, beforeProduction)
	})
}

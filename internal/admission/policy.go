package admission

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/policy"
)

// The organisation's GoLivePolicies decide what a request must ask for: a
// request that falls short of any policy selecting its namespace is refused
// at admission, naming the policy and the field (internal/policy holds the
// rules; the controller re-checks requests that have not reached production
// when a policy changes).

// +kubebuilder:rbac:groups=golive.dev,resources=golivepolicies,verbs=get;list;watch

// namespaceRules merges the policies that select the request's namespace.
func (w *Webhooks) namespaceRules(ctx context.Context, namespace string) (policy.Rules, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := w.Reader.Get(ctx, client.ObjectKey{Name: namespace}, meta); err != nil {
		return policy.Rules{}, fmt.Errorf("reading namespace %s for its policies: %w", namespace, err)
	}
	var policies golivev1alpha1.GoLivePolicyList
	if err := w.Reader.List(ctx, &policies); err != nil {
		return policy.Rules{}, fmt.Errorf("listing the GoLivePolicies: %w", err)
	}
	return policy.Merge(policy.Selecting(policies.Items, meta.Labels)), nil
}

// checkPolicies refuses a spec that falls short of a selecting policy.
func (w *Webhooks) checkPolicies(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	rules, err := w.namespaceRules(ctx, request.Namespace)
	if err != nil {
		return err
	}
	violations := policy.Check(rules, &request.Spec)
	if len(violations) == 0 {
		return nil
	}
	messages := make([]string, len(violations))
	for i, v := range violations {
		messages[i] = v.String()
	}
	return refused("%s", strings.Join(messages, "; "))
}

// checkCommentRequired refuses an approval or a rejection without a comment
// where a policy requires one.
func (w *Webhooks) checkCommentRequired(ctx context.Context, stored *golivev1alpha1.UpdateRequest, command Command) error {
	if command.Comment != "" || (command.Action != golivev1alpha1.LedgerApprove && command.Action != golivev1alpha1.LedgerReject) {
		return nil
	}
	rules, err := w.namespaceRules(ctx, stored.Namespace)
	if err != nil {
		return err
	}
	if by := rules.CommentRequiredBy; by != "" {
		return refused("%s: policy %s requires a comment: \"%s; <comment>\"", annotationOf(command.Action), by, command.Role)
	}
	return nil
}

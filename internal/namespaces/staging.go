package namespaces

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

var (
	// ErrStagingNamespaceNotFound: spec.staging.namespace names no namespace.
	ErrStagingNamespaceNotFound = errors.New("the staging namespace does not exist")
	// ErrStagingNotOptedIn: the staging namespace lacks golive.dev/staging-for=<request namespace>.
	ErrStagingNotOptedIn = errors.New("the staging namespace has not opted in")
)

// CheckStaging checks that the request's staging namespace exists, differs
// from its own and carries the label golive.dev/staging-for=<the request's
// namespace> (golivev1alpha1.StagingOptedIn): a request may change workloads
// only there and in its own namespace. The admission webhook refuses requests
// that fail it; the controller re-checks before changing staging, since labels
// can change. The errors wrap ErrStagingNamespaceNotFound or
// ErrStagingNotOptedIn; any other error is a failure to read the namespace.
func CheckStaging(ctx context.Context, reader client.Reader, request *golivev1alpha1.UpdateRequest) error {
	staging := request.Spec.Staging.Namespace
	if staging == request.Namespace {
		return fmt.Errorf("spec.staging.namespace: %w: %q is the request's own namespace", ErrStagingNotOptedIn, staging)
	}
	// Only its labels matter: read as metadata, so a cache holds no more.
	namespace := &metav1.PartialObjectMetadata{}
	namespace.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := reader.Get(ctx, client.ObjectKey{Name: staging}, namespace); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("spec.staging.namespace: %w: namespace %q", ErrStagingNamespaceNotFound, staging)
		}
		return fmt.Errorf("reading staging namespace %q: %w", staging, err)
	}
	if !golivev1alpha1.StagingOptedIn(staging, namespace.Labels, request.Namespace) {
		return fmt.Errorf("spec.staging.namespace: %w: namespace %q needs the label %s=%s to be the staging environment of %q",
			ErrStagingNotOptedIn, staging, golivev1alpha1.LabelStagingFor, request.Namespace, request.Namespace)
	}
	return nil
}

package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// identity is who an API call is made for: the person's ID token, or, in
// the impersonation fallback, the verified user and groups.
type identity struct {
	idToken string
	user    string
	groups  []string
}

type identityKey struct{}

// withIdentity returns ctx carrying the person every API call made with it acts as.
func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// errNoIdentity guards against an API call without a person: the console
// never falls back to its own rights.
var errNoIdentity = errors.New("the console made an API call without a person's identity")

// personRoundTripper sets the person of the request's context on every call.
type personRoundTripper struct {
	next        http.RoundTripper
	impersonate bool
}

func (t *personRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	id, ok := req.Context().Value(identityKey{}).(identity)
	if !ok {
		return nil, errNoIdentity
	}
	req = req.Clone(req.Context())
	if t.impersonate {
		if id.user == "" {
			return nil, errNoIdentity
		}
		req.Header.Set(transport.ImpersonateUserHeader, id.user)
		req.Header.Del(transport.ImpersonateGroupHeader)
		for _, group := range id.groups {
			req.Header.Add(transport.ImpersonateGroupHeader, group)
		}
	} else {
		if id.idToken == "" {
			return nil, errNoIdentity
		}
		req.Header.Set("Authorization", "Bearer "+id.idToken)
	}
	return t.next.RoundTrip(req)
}

// newPersonClient is one client for everyone: each call carries its
// person's identity from the context. With impersonate false the console's
// own credentials are dropped, so that the API server sees the person's ID
// token alone; with it, the console's credentials impersonate the person.
func newPersonClient(base *rest.Config, scheme *runtime.Scheme, impersonate bool) (client.Client, error) {
	var config *rest.Config
	if impersonate {
		config = rest.CopyConfig(base)
	} else {
		config = rest.AnonymousClientConfig(base)
	}
	config.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &personRoundTripper{next: rt, impersonate: impersonate}
	}
	// A fixed mapper: discovery would otherwise run with no person's context.
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, gvk := range []schema.GroupVersionKind{
		golivev1alpha1.GroupVersion.WithKind("UpdateRequest"),
		golivev1alpha1.GroupVersion.WithKind("GoLiveWindow"),
		golivev1alpha1.GroupVersion.WithKind("GoLivePolicy"),
		golivev1alpha1.GroupVersion.WithKind("ReleaseRecord"),
		corev1.SchemeGroupVersion.WithKind("ConfigMap"),
	} {
		scope := meta.RESTScopeNamespace
		if gvk.Kind == "GoLivePolicy" {
			scope = meta.RESTScopeRoot
		}
		mapper.Add(gvk, scope)
	}
	mapper.Add(authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview"), meta.RESTScopeRoot)
	mapper.Add(authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview"), meta.RESTScopeRoot)
	c, err := client.New(config, client.Options{Scheme: scheme, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("creating the API client: %w", err)
	}
	return c, nil
}

// whoAmI is the name the API server authenticated the person as.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are: %w", err)
	}
	return review.Status.UserInfo.Username, nil
}

// accessReviews asks the API server what the person may do, remembering the
// answers for one page.
type accessReviews struct {
	c       client.Client
	answers map[authorizationv1.ResourceAttributes]bool
}

func newAccessReviews(c client.Client) *accessReviews {
	return &accessReviews{c: c, answers: map[authorizationv1.ResourceAttributes]bool{}}
}

func (a *accessReviews) allowed(ctx context.Context, attributes authorizationv1.ResourceAttributes) (bool, error) {
	if answer, ok := a.answers[attributes]; ok {
		return answer, nil
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attributes}}
	if err := a.c.Create(ctx, review); err != nil {
		return false, fmt.Errorf("asking the API server whether you may %s %s: %w", attributes.Verb, attributes.Resource, err)
	}
	a.answers[attributes] = review.Status.Allowed
	return review.Status.Allowed, nil
}

// holdsRole asks whether the person holds an approval role in namespace, as
// golive's webhook will ask it.
func (a *accessReviews) holdsRole(ctx context.Context, namespace, role string) (bool, error) {
	return a.allowed(ctx, authorizationv1.ResourceAttributes{
		Namespace: namespace, Verb: golivev1alpha1.ApproveVerb, Group: golivev1alpha1.GroupVersion.Group,
		Resource: golivev1alpha1.ApprovalRoleResource, Name: role,
	})
}

// mayAbort asks whether the person may update the request, the right an abort needs.
func (a *accessReviews) mayAbort(ctx context.Context, namespace, name string) (bool, error) {
	return a.allowed(ctx, authorizationv1.ResourceAttributes{
		Namespace: namespace, Verb: "update", Group: golivev1alpha1.GroupVersion.Group, Resource: "updaterequests", Name: name,
	})
}

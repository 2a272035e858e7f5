package testenv

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/webhookinfra/webhookserver"
)

// CreateApprovalRoles creates the ClusterRoles of
// config/samples/approval_roles_rbac.yaml: one per approval role of the
// sample, and golive-approver-commands. Tests bind them per namespace.
func (e *Env) CreateApprovalRoles(ctx context.Context) error {
	return CreateApprovalRoles(ctx, e.Client)
}

// CreateApprovalRoles creates the sample's approval ClusterRoles with c, on
// any API server: envtest's or an end-to-end cluster's.
func CreateApprovalRoles(ctx context.Context, c client.Client) error {
	objects, err := ReadObjects(filepath.Join(RepoRoot(), "config", "samples", "approval_roles_rbac.yaml"))
	if err != nil {
		return err
	}
	for _, object := range objects {
		if object.GetKind() != "ClusterRole" {
			continue
		}
		if err := c.Create(ctx, object); err != nil {
			return fmt.Errorf("creating ClusterRole %s: %w", object.GetName(), err)
		}
	}
	return nil
}

// BindClusterRole binds clusterRole to users in namespace, with a
// RoleBinding named after the ClusterRole.
func (e *Env) BindClusterRole(t *testing.T, namespace, clusterRole string, users ...string) {
	t.Helper()
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
	}
	for _, user := range users {
		binding.Subjects = append(binding.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user})
	}
	if err := e.Client.Create(t.Context(), binding); err != nil {
		t.Fatalf("Creating RoleBinding %s: %v", clusterRole, err)
	}
}

// WaitForAccess waits until the API server allows user what attributes say.
func (e *Env) WaitForAccess(t *testing.T, user string, attributes authorizationv1.ResourceAttributes) {
	t.Helper()
	Eventually(t, func(ctx context.Context) string {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, ResourceAttributes: &attributes,
		}}
		if err := e.Client.Create(ctx, review); err != nil {
			return err.Error()
		}
		if !review.Status.Allowed {
			return fmt.Sprintf("%s is not yet allowed to %s %s/%s", user, attributes.Verb, attributes.Resource, attributes.Name)
		}
		return ""
	})
}

// ServeWebhooks serves admission webhooks where WithWebhooks pointed the API
// server, only to callers with a client certificate of WebhookClientCA (the
// API server's), from a manager that register adds golive's webhooks to (testenv
// cannot import internal/admission, whose tests use testenv). It returns once
// the API server reaches them; after stop its calls fail, and the webhooks
// fail closed.
func (e *Env) ServeWebhooks(ctx context.Context, register func(ctrl.Manager)) (stop func() error, err error) {
	if e.Webhooks == nil {
		return nil, errors.New("no webhooks are installed: start the API server WithWebhooks")
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		WebhookServer: webhookserver.New(webhookserver.Options{
			Host: e.Webhooks.LocalServingHost, Port: e.Webhooks.LocalServingPort, CertDir: e.Webhooks.LocalServingCertDir,
			ClientCAFile: e.WebhookClientCAFile,
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	register(mgr)

	managerCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(managerCtx) }()
	stop = func() error {
		cancel()
		if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	if err := e.waitForWebhooks(ctx); err != nil {
		return nil, errors.Join(err, stop())
	}
	return stop, nil
}

// waitForWebhooks dry-runs the creation of a request until the mutating
// webhook stamps its requester.
func (e *Env) waitForWebhooks(ctx context.Context) error {
	grey := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "default-grey", Labels: map[string]string{golivev1alpha1.LabelStagingFor: "default"},
	}}
	if err := IgnoreAlreadyExists(e.Client.Create(ctx, grey)); err != nil {
		return err
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		probe := probeRequest("webhook-probe", grey.Name)
		last = e.Client.Create(ctx, probe, client.DryRunAll)
		return last == nil && probe.Annotations[golivev1alpha1.AnnotationRequestedBy] != "", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the webhooks to be served (the probe got %v): %w", last, err)
	}
	return nil
}

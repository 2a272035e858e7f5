package controller

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/golive-dev/golive/internal/webhookinfra/servingcert"
)

// ServingCertificateReconciler copies the webhook server's certificate from
// its Secret into the folder the server reads it from, whenever the Secret
// changes. It runs on every replica: each serves the webhooks.
type ServingCertificateReconciler struct {
	Certificate servingcert.Certificate

	// copied is closed once the certificate was first copied.
	copied chan struct{}
	once   sync.Once
}

// +kubebuilder:rbac:groups="",namespace=golive-system,resources=secrets,verbs=get;list;watch

// Reconcile copies the certificate of the Secret into the folder.
func (r *ServingCertificateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.NamespacedName != r.Certificate.Secret {
		return ctrl.Result{}, nil
	}
	copied, err := servingcert.CopyCertificate(ctx, r.Certificate.Secrets, r.Certificate.Secret, r.Certificate.Dir)
	if err != nil {
		return ctrl.Result{}, err
	}
	if copied {
		r.once.Do(func() { close(r.copied) })
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler, watching the Secret through the
// certificate's own cache, and returns a channel closed once the certificate
// was first copied.
func (r *ServingCertificateReconciler) SetupWithManager(mgr ctrl.Manager) (<-chan struct{}, error) {
	r.copied = make(chan struct{})
	err := ctrl.NewControllerManagedBy(mgr).
		Named("webhook-certificate").
		WatchesRawSource(source.Kind(r.Certificate.Secrets, &corev1.Secret{}, &handler.TypedEnqueueRequestForObject[*corev1.Secret]{})).
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false), MaxConcurrentReconciles: 1}).
		Complete(r)
	if err != nil {
		return nil, err
	}
	return r.copied, nil
}

// SetupServingCertificate arranges for the webhook certificate described by
// options to reach its folder (servingcert.Setup and the copier), and returns
// a channel closed once the webhook server may start: the certificate is in
// the folder and, when rotating, its CA in the webhook configurations.
func SetupServingCertificate(ctx context.Context, mgr ctrl.Manager, options servingcert.Options) (<-chan struct{}, error) {
	certificate, err := servingcert.Setup(ctx, mgr, options)
	if err != nil {
		return nil, err
	}
	copied, err := (&ServingCertificateReconciler{Certificate: certificate}).SetupWithManager(mgr)
	if err != nil {
		return nil, fmt.Errorf("setting up the certificate copier: %w", err)
	}
	if certificate.Rotated != nil {
		return certificate.Rotated, nil
	}
	return copied, nil
}

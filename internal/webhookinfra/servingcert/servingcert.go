// Package servingcert keeps the TLS certificate of golive's webhook server in
// the folder the server reads it from. The certificate lives in a Secret:
// written by the manager itself (a self-signed CA and a server certificate,
// created and rotated by open-policy-agent/cert-controller, which also keeps
// the webhook configurations' caBundle current) or by cert-manager. Either
// way the manager copies it from the Secret into the folder, so it works the
// same in a Pod (an emptyDir, no wait for the kubelet to refresh a mounted
// Secret) and out of cluster.
package servingcert

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// The file names in the certificate folder and the Secret's data keys, as
// controller-runtime's webhook server, cert-controller and cert-manager use them.
const (
	certificateFile = corev1.TLSCertKey
	keyFile         = corev1.TLSPrivateKeyKey
)

// Options say where the certificate is kept and who writes it.
type Options struct {
	// Namespace holds the Secret; it is golive's own namespace.
	Namespace string
	// SecretName is the Secret that holds the certificate.
	SecretName string
	// ServiceName is the Service the API server reaches the webhooks through;
	// the certificate is issued for <service>.<namespace>.svc.
	ServiceName string
	// ExtraDNSNames are further names the certificate is issued for, such as
	// localhost when the manager runs out of cluster.
	ExtraDNSNames []string
	// CertDir is the folder the webhook server reads tls.crt and tls.key from.
	CertDir string
	// Rotate makes the manager create and rotate the certificate and inject
	// its CA into the webhook configurations. Without it, another party
	// (cert-manager) writes the Secret and the caBundle.
	Rotate bool
	// MutatingWebhookConfiguration and ValidatingWebhookConfiguration receive
	// the CA bundle when Rotate is set.
	MutatingWebhookConfiguration   string
	ValidatingWebhookConfiguration string
}

// +kubebuilder:rbac:groups="",namespace=golive-system,resources=secrets,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=update,resourceNames=golive-mutating-webhook-configuration
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=update,resourceNames=golive-validating-webhook-configuration

// Certificate is where the webhook server's certificate comes from, as Setup
// arranged it. A copier (controller.ServingCertificateReconciler) watches
// Secrets and calls CopyCertificate for Secret into Dir.
type Certificate struct {
	// Secrets is a cache of the certificate's Secret alone, run by the manager
	// on every replica, leader or not.
	Secrets cache.Cache
	// Secret is the Secret that holds the certificate.
	Secret types.NamespacedName
	// Dir is the folder the webhook server reads tls.crt and tls.key from.
	Dir string
	// Rotated, when the manager rotates the certificate, is closed once the
	// certificate is in Dir and its CA in the webhook configurations; nil
	// when another party writes the certificate.
	Rotated <-chan struct{}
}

// Setup adds to mgr, before it starts, the cache of the certificate's Secret
// and, with options.Rotate, what creates and rotates the certificate. The
// certificate reaches options.CertDir only through a copier of the returned
// Certificate; the webhook server may start once it copied the certificate
// and, when rotating, Rotated is closed.
func Setup(ctx context.Context, mgr manager.Manager, options Options) (Certificate, error) {
	secret := types.NamespacedName{Namespace: options.Namespace, Name: options.SecretName}
	if err := os.MkdirAll(options.CertDir, 0o700); err != nil {
		return Certificate{}, fmt.Errorf("creating the certificate folder: %w", err)
	}
	// Only the Secret's namespace is watched, so the manager needs no access to
	// Secrets elsewhere; the webhook configurations are cluster-scoped.
	secrets, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{options.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", options.SecretName),
			},
		},
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("creating the certificate Secret's cache: %w", err)
	}
	if err := mgr.Add(secretCache{secrets}); err != nil {
		return Certificate{}, err
	}
	certificate := Certificate{Secrets: secrets, Secret: secret, Dir: options.CertDir}
	if !options.Rotate {
		return certificate, nil
	}

	// cert-controller updates the Secret but does not create it.
	if err := ensureSecret(ctx, mgr.GetAPIReader(), mgr.GetClient(), secret); err != nil {
		return Certificate{}, err
	}
	ready := make(chan struct{})
	err = rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      secret,
		CertDir:        options.CertDir,
		CAName:         "golive-ca",
		CAOrganization: "golive",
		DNSName:        fmt.Sprintf("%s.%s.svc", options.ServiceName, options.Namespace),
		ExtraDNSNames: append([]string{
			fmt.Sprintf("%s.%s.svc.cluster.local", options.ServiceName, options.Namespace),
		}, options.ExtraDNSNames...),
		IsReady: ready,
		Webhooks: []rotator.WebhookInfo{
			{Name: options.MutatingWebhookConfiguration, Type: rotator.Mutating},
			{Name: options.ValidatingWebhookConfiguration, Type: rotator.Validating},
		},
		// Every replica serves the webhooks, so every replica keeps the certificate.
		RequireLeaderElection: false,
		ControllerName:        "webhook-certificate-rotator",
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("setting up the certificate rotator: %w", err)
	}
	certificate.Rotated = ready
	return certificate, nil
}

// secretCache runs the Secret's cache on every replica, leader or not.
type secretCache struct{ cache.Cache }

func (secretCache) NeedLeaderElection() bool { return false }

// ensureSecret creates the empty certificate Secret if it does not exist.
func ensureSecret(ctx context.Context, reader client.Reader, writer client.Writer, key types.NamespacedName) error {
	err := reader.Get(ctx, key, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		if err != nil {
			return fmt.Errorf("reading the webhook certificate Secret %s: %w", key, err)
		}
		return nil
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{"app.kubernetes.io/name": "golive", "app.kubernetes.io/component": "webhook-certificate"},
		},
		Type: corev1.SecretTypeOpaque,
	}
	err = writer.Create(ctx, secret)
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil // another replica created it first
	case err != nil:
		return fmt.Errorf("creating the webhook certificate Secret %s: %w", key, err)
	}
	log.FromContext(ctx).Info("Created the webhook certificate Secret", "secret", key)
	return nil
}

// CopyCertificate writes the certificate and key of secret, read with
// reader, into dir where they differ; the webhook server picks new files up by
// itself. It reports whether dir holds the Secret's certificate now: not
// while the Secret is missing, not written yet, or holds a certificate and a
// key that do not match (logged; the Secret's next change tells again).
func CopyCertificate(ctx context.Context, reader client.Reader, secret types.NamespacedName, dir string) (bool, error) {
	var stored corev1.Secret
	if err := reader.Get(ctx, secret, &stored); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	certificate, key := stored.Data[certificateFile], stored.Data[keyFile]
	if len(certificate) == 0 || len(key) == 0 {
		// Not written yet; its next change tells.
		return false, nil
	}
	if _, err := tls.X509KeyPair(certificate, key); err != nil {
		log.FromContext(ctx).Error(err, "Ignored a webhook certificate Secret whose certificate and key do not match", "secret", secret)
		return false, nil
	}
	changed, err := writeFiles(dir, map[string][]byte{certificateFile: certificate, keyFile: key})
	if err != nil {
		return false, err
	}
	if changed {
		log.FromContext(ctx).Info("Wrote the webhook certificate", "secret", secret, "folder", dir)
	}
	return true, nil
}

// writeFiles writes each file that differs, atomically (a temporary file
// renamed over it), key first: the server reloads when the certificate
// changes, and must then find the matching key. It reports whether any changed.
func writeFiles(dir string, files map[string][]byte) (bool, error) {
	changed := false
	for _, name := range []string{keyFile, certificateFile} {
		path := filepath.Join(dir, name)
		if current, err := os.ReadFile(path); err == nil && bytes.Equal(current, files[name]) {
			continue
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("reading %s: %w", path, err)
		}
		temporary, err := os.CreateTemp(dir, "."+name+"-*")
		if err != nil {
			return false, fmt.Errorf("writing %s: %w", path, err)
		}
		_, err = temporary.Write(files[name])
		err = errors.Join(err, temporary.Close())
		if err == nil {
			err = os.Rename(temporary.Name(), path)
		}
		if err != nil {
			_ = os.Remove(temporary.Name())
			return false, fmt.Errorf("writing %s: %w", path, err)
		}
		changed = true
	}
	return changed, nil
}

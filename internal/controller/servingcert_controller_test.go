package controller

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/webhookinfra/servingcert"
)

// The manager creates a certificate for its Service (and the extra names),
// writes it to the folder, injects its CA into both webhook configurations,
// and replaces it when it is about to expire.
func TestRotatedCertificate(t *testing.T) {
	namespace := newNamespace(t)
	mutating, validating := createWebhookConfigurations(t, namespace)
	options := servingcert.Options{
		Namespace: namespace, SecretName: "webhook-cert", ServiceName: "golive-webhook-service",
		ExtraDNSNames: []string{"localhost"}, CertDir: t.TempDir(), Rotate: true,
		MutatingWebhookConfiguration: mutating, ValidatingWebhookConfiguration: validating,
	}
	ready := startCertificateManager(t, namespace, options)
	waitClosed(t, ready, "the certificate to be ready")

	secret := getSecret(t, namespace, "webhook-cert")
	for _, name := range []string{"golive-webhook-service." + namespace + ".svc", "localhost"} {
		if err := verifyCertificate(secret.Data["ca.crt"], secret.Data[corev1.TLSCertKey], name); err != nil {
			t.Errorf("the certificate does not serve %s: %v", name, err)
		}
	}
	wantFolderHolds(t, options.CertDir, secret)
	wantCABundle(t, mutating, validating, secret.Data["ca.crt"])

	// A certificate that expires within cert-controller's look-ahead (90 days) is replaced.
	expiring := secret.DeepCopy()
	ca, certificate, key := issue(t, "golive-webhook-service."+namespace+".svc", 24*time.Hour)
	expiring.Data = map[string][]byte{"ca.crt": ca, "ca.key": nil, corev1.TLSCertKey: certificate, corev1.TLSPrivateKeyKey: key}
	if err := env.Client.Update(t.Context(), expiring); err != nil {
		t.Fatal(err)
	}
	var rotated *corev1.Secret
	eventually(t, func(ctx context.Context) string {
		rotated = getSecret(t, namespace, "webhook-cert")
		if bytes.Equal(rotated.Data[corev1.TLSCertKey], certificate) || bytes.Equal(rotated.Data[corev1.TLSCertKey], secret.Data[corev1.TLSCertKey]) {
			return "the expiring certificate was not replaced"
		}
		if err := verifyCertificate(rotated.Data["ca.crt"], rotated.Data[corev1.TLSCertKey], "localhost"); err != nil {
			return err.Error()
		}
		return ""
	})
	wantFolderHolds(t, options.CertDir, rotated)
	wantCABundle(t, mutating, validating, rotated.Data["ca.crt"])
}

// With cert-manager, the manager only copies the Secret cert-manager writes,
// and is ready once it did.
func TestCertificateWrittenByAnotherParty(t *testing.T) {
	namespace := newNamespace(t)
	options := servingcert.Options{Namespace: namespace, SecretName: "webhook-cert", ServiceName: "golive-webhook-service", CertDir: t.TempDir()}
	ready := startCertificateManager(t, namespace, options)

	ca, certificate, key := issue(t, "golive-webhook-service."+namespace+".svc", 90*24*time.Hour)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "webhook-cert"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"ca.crt": ca, corev1.TLSCertKey: certificate, corev1.TLSPrivateKeyKey: key},
	}
	select {
	case <-ready:
		t.Fatal("ready before the Secret exists")
	default:
	}
	if err := env.Client.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ready, "the copied certificate")
	wantFolderHolds(t, options.CertDir, secret)
}

// startCertificateManager starts a manager that keeps the certificate of
// options in its folder, as Setup does, and returns when it may serve.
func startCertificateManager(t *testing.T, namespace string, options servingcert.Options) <-chan struct{} {
	t.Helper()
	var ready <-chan struct{}
	startManager(t, []string{namespace}, func(mgr ctrl.Manager) error {
		var err error
		ready, err = SetupServingCertificate(t.Context(), mgr, options)
		return err
	})
	return ready
}

// createWebhookConfigurations creates a mutating and a validating
// configuration named after the test's namespace, for a resource nobody
// uses, without a caBundle.
func createWebhookConfigurations(t *testing.T, name string) (string, string) {
	t.Helper()
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"things"}},
	}}
	clientConfig := admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "default", Name: "nothing", Path: ptr.To("/")}}
	sideEffects := admissionregistrationv1.SideEffectClassNone
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-mutating"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "m.example.com", ClientConfig: clientConfig, Rules: rules, SideEffects: &sideEffects, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-validating"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "v.example.com", ClientConfig: clientConfig, Rules: rules, SideEffects: &sideEffects, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	for _, object := range []client.Object{mutating, validating} {
		if err := env.Client.Create(t.Context(), object); err != nil {
			t.Fatal(err)
		}
	}
	return mutating.Name, validating.Name
}

func getSecret(t *testing.T, namespace, name string) *corev1.Secret {
	t.Helper()
	var secret corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, &secret); err != nil {
		t.Fatal(err)
	}
	return &secret
}

func wantFolderHolds(t *testing.T, dir string, secret *corev1.Secret) {
	t.Helper()
	eventually(t, func(context.Context) string {
		for _, name := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return err.Error()
			}
			if !bytes.Equal(data, secret.Data[name]) {
				return name + " in the folder differs from the Secret's"
			}
		}
		return ""
	})
}

func wantCABundle(t *testing.T, mutating, validating string, ca []byte) {
	t.Helper()
	eventually(t, func(ctx context.Context) string {
		var m admissionregistrationv1.MutatingWebhookConfiguration
		var v admissionregistrationv1.ValidatingWebhookConfiguration
		if err := env.Client.Get(ctx, client.ObjectKey{Name: mutating}, &m); err != nil {
			return err.Error()
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: validating}, &v); err != nil {
			return err.Error()
		}
		if !bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, ca) {
			return "the mutating configuration's caBundle is not the CA"
		}
		if !bytes.Equal(v.Webhooks[0].ClientConfig.CABundle, ca) {
			return "the validating configuration's caBundle is not the CA"
		}
		return ""
	})
}

func verifyCertificate(caPEM, certificatePEM []byte, name string) error {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return errors.New("no CA certificate")
	}
	block, _ := pem.Decode(certificatePEM)
	if block == nil {
		return errors.New("no certificate")
	}
	certificate, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	_, err = certificate.Verify(x509.VerifyOptions{DNSName: name, Roots: roots})
	return err
}

// issue makes a CA and a server certificate for name valid for lifetime, as PEM.
func issue(t *testing.T, name string, lifetime time.Duration) (ca, certificate, key []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(lifetime),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(lifetime),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caTemplate, &serverKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func waitClosed(t *testing.T, ready <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatalf("Timed out waiting for %s", what)
	}
}

package servingcert

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
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/golive-dev/golive/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{certificateFile: []byte("certificate 1"), keyFile: []byte("key 1")}
	for _, step := range []struct {
		files       map[string][]byte
		wantChanged bool
	}{
		{files, true},
		{files, false},
		{map[string][]byte{certificateFile: []byte("certificate 2"), keyFile: []byte("key 1")}, true},
	} {
		changed, err := writeFiles(dir, step.files)
		if err != nil {
			t.Fatal(err)
		}
		if changed != step.wantChanged {
			t.Errorf("changed = %v, want %v", changed, step.wantChanged)
		}
		for name, want := range step.files {
			path := filepath.Join(dir, name)
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s = %q, %v; want %q", name, got, err, want)
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, %v; want 0600", name, info.Mode(), err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Errorf("the folder holds %v (%v), want only tls.crt and tls.key", entries, err)
	}
}

// The manager creates a certificate for its Service (and the extra names),
// writes it to the folder, injects its CA into both webhook configurations,
// and replaces it when it is about to expire.
func TestRotatedCertificate(t *testing.T) {
	namespace := newNamespace(t)
	mutating, validating := createWebhookConfigurations(t, namespace)
	options := Options{
		Namespace: namespace, SecretName: "webhook-cert", ServiceName: "golive-webhook-service",
		ExtraDNSNames: []string{"localhost"}, CertDir: t.TempDir(), Rotate: true,
		MutatingWebhookConfiguration: mutating, ValidatingWebhookConfiguration: validating,
	}
	ready := startManager(t, options)
	waitClosed(t, ready, "the certificate to be ready")

	secret := getSecret(t, namespace, "webhook-cert")
	for _, name := range []string{"golive-webhook-service." + namespace + ".svc", "localhost"} {
		if err := verifyCertificate(secret.Data["ca.crt"], secret.Data[certificateFile], name); err != nil {
			t.Errorf("the certificate does not serve %s: %v", name, err)
		}
	}
	wantFolderHolds(t, options.CertDir, secret)
	wantCABundle(t, mutating, validating, secret.Data["ca.crt"])

	// A certificate that expires within cert-controller's look-ahead (90 days) is replaced.
	expiring := secret.DeepCopy()
	ca, certificate, key := issue(t, "golive-webhook-service."+namespace+".svc", 24*time.Hour)
	expiring.Data = map[string][]byte{"ca.crt": ca, "ca.key": nil, certificateFile: certificate, keyFile: key}
	if err := env.Client.Update(t.Context(), expiring); err != nil {
		t.Fatal(err)
	}
	var rotated *corev1.Secret
	eventually(t, func(ctx context.Context) string {
		rotated = getSecret(t, namespace, "webhook-cert")
		if bytes.Equal(rotated.Data[certificateFile], certificate) || bytes.Equal(rotated.Data[certificateFile], secret.Data[certificateFile]) {
			return "the expiring certificate was not replaced"
		}
		if err := verifyCertificate(rotated.Data["ca.crt"], rotated.Data[certificateFile], "localhost"); err != nil {
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
	options := Options{Namespace: namespace, SecretName: "webhook-cert", ServiceName: "golive-webhook-service", CertDir: t.TempDir()}
	ready := startManager(t, options)

	ca, certificate, key := issue(t, "golive-webhook-service."+namespace+".svc", 90*24*time.Hour)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "webhook-cert"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"ca.crt": ca, certificateFile: certificate, keyFile: key},
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

func startManager(t *testing.T, options Options) <-chan struct{} {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ready, err := Setup(t.Context(), mgr, options)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("The manager stopped with an error: %v", err)
		}
	})
	return ready
}

func newNamespace(t *testing.T) string {
	t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "servingcert-"}}
	if err := env.Client.Create(t.Context(), namespace); err != nil {
		t.Fatal(err)
	}
	return namespace.Name
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
		for _, name := range []string{certificateFile, keyFile} {
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

// eventually polls check until it returns "" or fails the test.
func eventually(t *testing.T, check func(ctx context.Context) string) {
	t.Helper()
	testenv.Eventually(t, check)
}

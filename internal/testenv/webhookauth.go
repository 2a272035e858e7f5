package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// WebhookClientName is the common name of the client certificate the test
// API server presents to the webhooks: one of the names golive's webhook
// server allows by default.
const WebhookClientName = "kube-apiserver-webhook-client"

// ClientCA is a throwaway CA that signs client certificates, as a cluster's
// CA signs the API server's client certificate for webhooks.
type ClientCA struct {
	// PEM is the CA certificate, what the webhook server trusts.
	PEM []byte

	certificate *x509.Certificate
	key         *ecdsa.PrivateKey
}

// NewClientCA creates a CA valid for a day.
func NewClientCA(name string) (*ClientCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, err
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ClientCA{
		PEM:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certificate: certificate,
		key:         key,
	}, nil
}

// ClientCertificate issues a client certificate for commonName (also its
// one DNS SAN) and returns it and its key in PEM.
func (ca *ClientCA) ClientCertificate(commonName string) (certificatePEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: commonName},
		DNSNames:     []string{commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.certificate, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// TLSCertificate is ClientCertificate for a Go client.
func (ca *ClientCA) TLSCertificate(commonName string) (tls.Certificate, error) {
	certificatePEM, keyPEM, err := ca.ClientCertificate(commonName)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certificatePEM, keyPEM)
}

func serialNumber() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return serial
}

// WriteAdmissionConfig writes into dir what makes a kube-apiserver present a
// client certificate that ca signs, named WebhookClientName, to the webhooks
// at hostPorts (host:port as in the webhooks' URLs): a kubeconfig with one
// user per host:port, and an AdmissionConfiguration whose
// WebhookAdmissionConfiguration names it for both webhook plugins. It returns
// the AdmissionConfiguration's path, for --admission-control-config-file.
func WriteAdmissionConfig(dir string, ca *ClientCA, hostPorts ...string) (string, error) {
	certificatePEM, keyPEM, err := ca.ClientCertificate(WebhookClientName)
	if err != nil {
		return "", err
	}
	// The API server picks the user named like the webhook URL's host:port
	// (a service's name.namespace.svc[:port]; "*.domain" and "*" also match).
	kubeconfig := clientcmdapi.NewConfig()
	for _, hostPort := range hostPorts {
		kubeconfig.AuthInfos[hostPort] = &clientcmdapi.AuthInfo{ClientCertificateData: certificatePEM, ClientKeyData: keyPEM}
	}
	kubeconfigPath := filepath.Join(dir, "webhook-client.kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, kubeconfigPath); err != nil {
		return "", fmt.Errorf("writing the webhook client kubeconfig: %w", err)
	}
	admissionConfig := fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %[1]q
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %[1]q
`, kubeconfigPath)
	path := filepath.Join(dir, "admission-config.yaml")
	if err := os.WriteFile(path, []byte(admissionConfig), 0o600); err != nil {
		return "", fmt.Errorf("writing the admission configuration: %w", err)
	}
	return path, nil
}

// prepareWebhookClientAuth makes the API server authenticate to the webhooks
// of options: options get their host, port and serving certificate now, a
// client CA is created, and the returned path, the AdmissionConfiguration,
// makes the API server present a certificate it signed. The CA's PEM is
// written to the returned caFile for the webhook server.
func prepareWebhookClientAuth(dir string, options *envtest.WebhookInstallOptions) (ca *ClientCA, caFile, admissionConfig string, err error) {
	if err := options.PrepWithoutInstalling(); err != nil {
		return nil, "", "", fmt.Errorf("preparing the webhooks: %w", err)
	}
	if ca, err = NewClientCA("golive-test-webhook-client-ca"); err != nil {
		return nil, "", "", err
	}
	caFile = filepath.Join(dir, "webhook-client-ca.crt")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		return nil, "", "", err
	}
	port := strconv.Itoa(options.LocalServingPort)
	admissionConfig, err = WriteAdmissionConfig(dir, ca,
		net.JoinHostPort(options.LocalServingHost, port), net.JoinHostPort("localhost", port))
	return ca, caFile, admissionConfig, err
}

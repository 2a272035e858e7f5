package admission

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// The webhook signs for whoever an AdmissionReview names, so only the API
// server may call it: a review posted directly, claiming to be carol's
// approval, gets nothing signed unless it comes with the API server's client
// certificate (testenv configures the API server with one and the webhook
// server with its CA, as a cluster's --admission-control-config-file and
// golive's --webhook-client-ca do).
func TestOnlyTheAPIServerMayCallTheWebhooks(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("billing-2-4-0").Obj())
	f.setPhase("billing-2-4-0", golivev1alpha1.PhaseAwaitingApproval)

	// Through the API server, an approval is signed as ever.
	f.mustCommand(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead; through the API server")
	if valid, rejected := f.ledger("billing-2-4-0"); len(valid) != 1 || valid[0].User != bob || len(rejected) != 0 {
		t.Fatalf("ledger after bob's approval through the API server: valid %+v, rejected %+v; want bob's entry", valid, rejected)
	}

	// A forged approval by carol (who holds operations-office), as an
	// attacker would post it.
	review := approvalReview(t, f.get("billing-2-4-0"), carol, "operations-office; forged")
	trusted := f.env.WebhookClientCA
	other, err := testenv.NewClientCA("another-ca")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		certificate *tls.Certificate
		want        string
	}{
		{name: "no client certificate", want: "refused"},
		{name: "a client certificate of another CA with the API server's name", certificate: certificateOf(t, other, testenv.WebhookClientName), want: "refused"},
		{name: "a client certificate of the API server's CA with a name not allowed", certificate: certificateOf(t, trusted, "mallory"), want: "403"},
		// The control: the same body with the API server's certificate is
		// signed, so the refusals above are the caller's, not the body's.
		{name: "the API server's client certificate", certificate: certificateOf(t, trusted, testenv.WebhookClientName), want: "signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.postReview(t, review, tc.certificate); got != tc.want {
				t.Fatalf("posting the forged review with %s: %s, want %s", tc.name, got, tc.want)
			}
		})
	}
	// An answer is not a write: the stored ledger still holds bob's entry alone.
	if valid, _ := f.ledger("billing-2-4-0"); len(valid) != 1 {
		t.Errorf("the ledger holds %d entries after the direct posts, want 1: %+v", len(valid), valid)
	}
}

// approvalReview is the AdmissionReview the API server would send when user
// sets golive.dev/approve=value on request.
func approvalReview(t *testing.T, request *golivev1alpha1.UpdateRequest, user, value string) []byte {
	t.Helper()
	// As the API server sends them: with their kind, which typed reads drop.
	request = request.DeepCopy()
	request.TypeMeta = metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest"}
	changed := request.DeepCopy()
	if changed.Annotations == nil {
		changed.Annotations = map[string]string{}
	}
	changed.Annotations[golivev1alpha1.AnnotationApprove] = value
	raw := func(object runtime.Object) runtime.RawExtension {
		data, err := json.Marshal(object)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: data}
	}
	resource := metav1.GroupVersionResource{Group: "golive.dev", Version: "v1alpha1", Resource: "updaterequests"}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("forged-" + strconv.FormatInt(time.Now().UnixNano(), 10)),
			Kind:      metav1.GroupVersionKind{Group: "golive.dev", Version: "v1alpha1", Kind: "UpdateRequest"},
			Resource:  resource,
			Name:      request.Name,
			Namespace: request.Namespace,
			Operation: admissionv1.Update,
			UserInfo:  authenticationv1.UserInfo{Username: user, Groups: []string{"golive-test-users", "system:authenticated"}},
			Object:    raw(changed),
			OldObject: raw(request),
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// postReview posts review to the mutating webhook directly, on a new
// connection, presenting certificate if not nil. It says "refused" when the
// connection or the TLS handshake failed, the status code when it was not
// 200, "signed" when the answer patches a ledger entry in, else the answer.
func (f *fixture) postReview(t *testing.T, review []byte, certificate *tls.Certificate) string {
	t.Helper()
	webhooks := f.env.Webhooks
	servingCAs := x509.NewCertPool()
	if !servingCAs.AppendCertsFromPEM(webhooks.LocalServingCAData) {
		t.Fatal("the webhooks' serving CA holds no certificate")
	}
	config := &tls.Config{RootCAs: servingCAs, ServerName: webhooks.LocalServingHost}
	if certificate != nil {
		// Presented whatever CAs the server names as acceptable: Go's client
		// would otherwise keep back a certificate of another CA.
		config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return certificate, nil }
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: config, DisableKeepAlives: true}}
	url := "https://" + net.JoinHostPort(webhooks.LocalServingHost, strconv.Itoa(webhooks.LocalServingPort)) + MutatePath
	response, err := client.Post(url, "application/json", bytes.NewReader(review))
	if err != nil {
		t.Logf("the webhook server refused the call: %v", err)
		return "refused"
	}
	defer func() { _ = response.Body.Close() }()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return "refused"
	}
	if response.StatusCode != http.StatusOK {
		if strings.Contains(string(body), "ledger") {
			t.Errorf("a %d answer mentions the ledger: %s", response.StatusCode, body)
		}
		return strconv.Itoa(response.StatusCode)
	}
	var answer admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &answer); err != nil || answer.Response == nil {
		return fmt.Sprintf("an answer that is no AdmissionReview: %s", body)
	}
	// JSON Patch escapes the annotation's "/" as "~1".
	patch := string(answer.Response.Patch)
	if answer.Response.Allowed && strings.Contains(strings.ReplaceAll(patch, "~1", "/"), golivev1alpha1.AnnotationLedger) {
		return "signed"
	}
	return fmt.Sprintf("allowed %t, patch %s, result %+v", answer.Response.Allowed, patch, answer.Response.Result)
}

func certificateOf(t *testing.T, ca *testenv.ClientCA, name string) *tls.Certificate {
	t.Helper()
	certificate, err := ca.TLSCertificate(name)
	if err != nil {
		t.Fatal(err)
	}
	return &certificate
}

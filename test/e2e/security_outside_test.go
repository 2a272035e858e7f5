package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/test/cluster"
)

// webhookCallers: attack 9. mallory posts to golive's mutating webhook an
// AdmissionReview in which bob approves a request: without a client
// certificate, and with one that claims the API server's name but is signed
// by her own CA, the TLS handshake fails; with a certificate of the right CA
// but another name, golive answers 403 before any admission logic. Nothing
// signed comes back, and the request's ledger stays empty. The API server's
// own certificate gets bob's approval signed, so the endpoint and the body
// are right.
func webhookCallers(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "webhook-callers", alwaysOpen(), appOptions{})
	r := a.create(a.request("billing-2-5-6", "2.5.6"))
	stored := r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	var configuration admissionregistrationv1.MutatingWebhookConfiguration
	if err := a.c.Get(t.Context(), client.ObjectKey{Name: "golive-mutating-webhook-configuration"}, &configuration); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(configuration.Webhooks, func(w admissionregistrationv1.MutatingWebhook) bool {
		return slices.ContainsFunc(w.Rules, func(rule admissionregistrationv1.RuleWithOperations) bool {
			return slices.Contains(rule.Resources, "updaterequests")
		})
	})
	if i < 0 {
		t.Fatalf("no webhook of %s matches updaterequests", configuration.Name)
	}
	endpoint := configuration.Webhooks[i].ClientConfig
	if endpoint.URL == nil || len(endpoint.CABundle) == 0 {
		t.Fatalf("webhook %s has no URL or no CA bundle: %+v", configuration.Webhooks[i].Name, endpoint)
	}
	golivesCA := x509.NewCertPool()
	if !golivesCA.AppendCertsFromPEM(endpoint.CABundle) {
		t.Fatalf("webhook %s: no certificate in its CA bundle", configuration.Webhooks[i].Name)
	}
	webhookURL, err := url.Parse(*endpoint.URL)
	if err != nil {
		t.Fatal(err)
	}

	stored.TypeMeta = metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest"}
	approved := stored.DeepCopy()
	approved.Annotations[golivev1alpha1.AnnotationApprove] = roleRnDLead + "; minted"
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("e2e-minted-approval"),
			Kind:      metav1.GroupVersionKind{Group: golivev1alpha1.GroupVersion.Group, Version: golivev1alpha1.GroupVersion.Version, Kind: "UpdateRequest"},
			Resource:  metav1.GroupVersionResource{Group: golivev1alpha1.GroupVersion.Group, Version: golivev1alpha1.GroupVersion.Version, Resource: "updaterequests"},
			Name:      stored.Name,
			Namespace: stored.Namespace,
			Operation: admissionv1.Update,
			UserInfo:  authenticationv1.UserInfo{Username: bob.user, Groups: append(bob.groups, "system:authenticated")},
			Object:    runtime.RawExtension{Raw: mustJSON(t, approved)},
			OldObject: runtime.RawExtension{Raw: mustJSON(t, &stored)},
		},
	}
	body := mustJSON(t, &review)
	// tlsConfig presents certificate, if any, whichever CAs the server asks for
	// (Go's default sends none that another CA signed).
	tlsConfig := func(certificate *tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: golivesCA, ServerName: webhookURL.Hostname(), MinVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if certificate == nil {
					return &tls.Certificate{}, nil
				}
				return certificate, nil
			}}
	}
	post := func(certificate *tls.Certificate) (*http.Response, []byte, error) {
		httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig(certificate)}}
		defer httpClient.CloseIdleConnections()
		response, err := httpClient.Post(*endpoint.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		defer func() { _ = response.Body.Close() }()
		answer, err := io.ReadAll(response.Body)
		return response, answer, err
	}

	// The TLS handshake refuses the caller: with TLS 1.3 the server's alert
	// arrives on the client's first read, before anything is sent.
	refusedAtHandshake := func(who string, certificate *tls.Certificate, alert string) {
		t.Helper()
		dialer := &tls.Dialer{Config: tlsConfig(certificate)}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		conn, err := dialer.DialContext(ctx, "tcp", webhookURL.Host)
		if err == nil {
			defer func() { _ = conn.Close() }()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = conn.Read(make([]byte, 1))
		}
		if err == nil || !strings.Contains(err.Error(), "remote error: tls: "+alert) {
			t.Errorf("%s: %v; want the webhook server's TLS alert %q", who, err, alert)
			return
		}
		t.Logf("%s: %v", who, err)
		if response, answer, err := post(certificate); err == nil {
			t.Errorf("%s: golive answered %s: %s; want nothing", who, response.Status, answer)
		}
	}
	refusedAtHandshake("without a client certificate", nil, "certificate required")
	mallorysCA, err := testenv.NewClientCA("mallory-ca")
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := mallorysCA.TLSCertificate(testenv.WebhookClientName)
	if err != nil {
		t.Fatal(err)
	}
	refusedAtHandshake("with "+testenv.WebhookClientName+" signed by another CA", &impostor, "unknown certificate authority")

	mallorys := cl.WebhookCallerCertificate(t, "mallory")
	response, answer, err := post(&mallorys)
	switch {
	case err != nil:
		t.Errorf("with a certificate of the right CA named mallory: %v; want 403", err)
	case response.StatusCode != http.StatusForbidden || !strings.Contains(string(answer), "this client certificate may not call the webhooks"):
		t.Errorf("with a certificate of the right CA named mallory: %s: %s; want 403 saying the certificate may not call the webhooks", response.Status, answer)
	case strings.Contains(string(answer), "patch") || strings.Contains(string(answer), "signature"):
		t.Errorf("the 403 carries a patch or a signature: %s", answer)
	}

	// The control: the name the API server presents gets an AdmissionReview.
	apiServers := cl.WebhookCallerCertificate(t, testenv.WebhookClientName)
	response, answer, err = post(&apiServers)
	if err != nil || response.StatusCode != http.StatusOK {
		t.Fatalf("as the API server: %v %v: %s; want an answer", response, err, answer)
	}
	// What only the API server may get: bob's approval, signed into a patch of the ledger.
	var answered admissionv1.AdmissionReview
	if err := json.Unmarshal(answer, &answered); err != nil || answered.Response == nil || answered.Response.UID != review.Request.UID ||
		!answered.Response.Allowed || !strings.Contains(string(answered.Response.Patch), "ledger") {
		t.Fatalf("as the API server: %v, %s; want bob's approval allowed with a patch of the ledger", err, answer)
	}

	if ledgerValue := r.current().Annotations[golivev1alpha1.AnnotationLedger]; ledgerValue != "" {
		t.Errorf("the request's ledger is %s; want it empty, nothing given through the API server", ledgerValue)
	}
	if request := r.current(); request.Status.Phase != golivev1alpha1.PhaseAwaitingApproval || len(request.Status.Approvals) != 0 {
		t.Errorf("phase %s with approvals %+v; want AwaitingApproval with none", request.Status.Phase, request.Status.Approvals)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// countingServer is a server on address that counts the requests it gets
// and answers each with status and a body that must never reach the
// request's author.
type countingServer struct {
	*httptest.Server
	hits atomic.Int32
}

// secretBanner is what the servers of the SSRF attack answer: an internal
// service's banner and a credential.
const secretBanner = "redis_version:7.2.4 requirepass=hunter2"

func newCountingServer(t *testing.T, address string, status int) *countingServer {
	t.Helper()
	listener, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatalf("listening on %s: %v", address, err)
	}
	s := &countingServer{}
	s.Server = &httptest.Server{Listener: listener, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		http.Error(w, secretBanner, status)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// closedPort is a port of 127.0.0.1 on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(listener.Addr().(*net.TCPAddr).Port)
	_ = listener.Close()
	return port
}

// egressRefused: attack 10. alice points HTTP checks and notification
// webhooks at the cloud metadata address, at a loopback address the egress
// list (127.0.0.1/32 in the tests) does not open, at a closed port and at an
// internal service that answers with a banner. Admission refuses a secretRef
// over http; golive never connects where the policy refuses, and what alice
// reads back (check messages, NotificationFailed Events) is a coarse class:
// never an address, a port's state, an error's text or the answer's body.
func egressRefused(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "egress", alwaysOpen(), appOptions{})

	insecure := a.request("billing-2-5-7", "2.5.7")
	insecure.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: "http://hooks.example.com/golive", Format: golivev1alpha1.FormatGeneric,
		SecretRef: &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}}}
	err := as(t, cl, alice).Create(t.Context(), insecure)
	wantRefusal(t, err, "must be an https URL when secretRef is set: golive sends the secret over https only")
	wantRefusal(t, err, "spec.notify.webhooks[0].url")

	otherLoopback := newCountingServer(t, "127.0.0.2:0", http.StatusOK)
	banner := newCountingServer(t, "127.0.0.1:0", http.StatusServiceUnavailable)
	rejecting := newCountingServer(t, "127.0.0.1:0", http.StatusNotFound)
	closed := "http://127.0.0.1:" + closedPort(t) + "/healthz"
	check := func(name, url string) golivev1alpha1.HTTPCheck {
		c := httpCheck(url)
		c.Name = name
		return c
	}
	request := a.request("billing-2-5-8", "2.5.8")
	request.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{
		check("metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
		check("loopback", otherLoopback.URL+"/admin"),
		check("closed", closed),
		check("banner", banner.URL+"/info"),
	}
	request.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: "http://169.254.169.254/latest/user-data", Format: golivev1alpha1.FormatGeneric}}
	r := a.create(request)
	// A request of its own: Events of the same reason on one request are
	// counted as a series of the first, whatever their notes.
	notifying := a.request("billing-2-5-9", "2.5.9")
	notifying.Spec.Suspend = true
	notifying.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: rejecting.URL + "/hook", Format: golivev1alpha1.FormatGeneric}}
	rNotifying := a.create(notifying)

	want := map[string]string{
		"metadata": "no answer: refused by golive's egress policy (",
		"loopback": "no answer: refused by golive's egress policy (",
		"closed":   "no answer: unreachable (",
		"banner":   "answered 503, expected 200 (",
	}
	var messages []string
	cluster.Eventually(t, timeout, "golive to probe the four checks", func(context.Context) (bool, string, error) {
		request := r.current()
		messages = messages[:0]
		done := true
		for name, message := range want {
			check := findCheck(request.Status.Staging, name)
			if check == nil || !strings.HasPrefix(check.Message, message) {
				done = false
			}
			if check != nil {
				messages = append(messages, name+": "+check.Message)
			}
		}
		return done, fmt.Sprintf("checks %q; %s", messages, r.describe()), nil
	})
	if hits := otherLoopback.hits.Load(); hits != 0 {
		t.Errorf("the server on 127.0.0.2 was called %d times; want never", hits)
	}
	if banner.hits.Load() == 0 {
		t.Errorf("the allowed banner server was never probed")
	}

	refused := waitForEvent(t, a.c, r.key, "spec.notify.webhooks[0] (169.254.169.254): refused by golive's egress policy")
	rejected := waitForEvent(t, a.c, rNotifying.key, "spec.notify.webhooks[0] ("+strings.TrimPrefix(rejecting.URL, "http://")+"): answered 404 Not Found")
	for _, event := range []string{refused.Note, rejected.Note} {
		if event != "" && !strings.HasPrefix(event, "Notice ") {
			t.Errorf("NotificationFailed Event %q", event)
		}
	}
	told := strings.Join(append(messages, refused.Note, rejected.Note, readyMessage(r.current())), "\n")
	for _, leak := range []string{"redis", "hunter2", "connection refused", "dial tcp", "127.0.0.2", "metadata service"} {
		if strings.Contains(told, leak) {
			t.Errorf("what alice reads back reveals %q:\n%s", leak, told)
		}
	}
}

package notify_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
)

// golive is the identity of golive's ServiceAccount as config/rbac installs it.
const golive = "system:serviceaccount:golive-system:golive"

// asGolive reads as golive's ServiceAccount, which RBAC grants nothing in the test namespaces.
func asGolive(t *testing.T) client.Reader {
	t.Helper()
	config := rest.CopyConfig(env.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: golive,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:golive-system", "system:authenticated"}}
	reader, err := client.New(config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return reader
}

// grantFromDocs creates in namespace the Role and RoleBinding that
// docs/notifications.md tells a team to create.
func grantFromDocs(t *testing.T, namespace string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "notifications.md"))
	if err != nil {
		t.Fatal(err)
	}
	var grant []byte
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
		if bytes.Contains(block[1], []byte("kind: RoleBinding")) {
			grant = block[1]
		}
	}
	if grant == nil {
		t.Fatal("docs/notifications.md shows no RoleBinding")
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(grant), 4096)
	created := 0
	for {
		object := &unstructured.Unstructured{}
		if err := decoder.Decode(&object.Object); err != nil {
			break
		}
		object.SetNamespace(namespace)
		if err := env.Client.Create(t.Context(), object); err != nil {
			t.Fatalf("creating the %s of docs/notifications.md: %v", object.GetKind(), err)
		}
		created++
	}
	if created != 2 {
		t.Fatalf("docs/notifications.md shows %d objects in its grant, want a Role and a RoleBinding", created)
	}
}

// Without a grant golive cannot read the Secret: the notice is not sent and
// the Event says which grant is missing. The Role and RoleBinding of the docs
// are that grant, and the next notice goes out with its token.
func TestSecretNeedsTheGrantTheDocsShow(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	secret(t, notice.Namespace, "hook", "token", "s3cret-token")
	secret(t, notice.Namespace, "another", "token", "not for golive")
	h := newTLSHook(t, func(_ int, p post, w http.ResponseWriter, _ *http.Request) {
		if p.header.Get("Authorization") != "Bearer s3cret-token" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	d := startDispatcher(t, notify.Options{Reader: asGolive(t), HTTPClient: trustingClient(h)})
	hooks := webhook(h, golivev1alpha1.FormatGeneric)
	hooks[0].SecretRef = &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}

	d.Enqueue(t.Context(), notice, hooks)
	d.waitForCount(t, 1, failed, "format=Generic", "reason="+notify.FailureSecretForbidden)
	waitForWarning(t, notice, "golive may not read Secret "+notice.Namespace+"/hook",
		"get on secrets with resourceNames [hook] in namespace "+notice.Namespace, `User "`+golive+`" cannot get resource "secrets"`)
	if n := len(h.received()); n != 0 {
		t.Errorf("the hook received %d posts without the token", n)
	}

	grantFromDocs(t, notice.Namespace)
	// RBAC takes effect when the API server's informers see the binding.
	testenv.Eventually(t, func(ctx context.Context) string {
		d.Enqueue(ctx, notice, hooks)
		if got := d.count(t, sent, "format=Generic"); got == 0 {
			return "the notice was not sent with the grant of the docs"
		}
		return ""
	})

	// The grant is for that one Secret.
	other := hooks[0]
	other.SecretRef = &golivev1alpha1.SecretKeySelector{Name: "another", Key: "token"}
	forbidden := d.count(t, failed, "format=Generic", "reason="+notify.FailureSecretForbidden)
	d.Enqueue(t.Context(), notice, []golivev1alpha1.NotificationWebhook{other})
	d.waitForCount(t, forbidden+1, failed, "format=Generic", "reason="+notify.FailureSecretForbidden)
}

func TestAMissingSecretOrKeyIsNotRetried(t *testing.T) {
	notice := succeeded(env.NewNamespace(t, "golive-notify-"))
	secret(t, notice.Namespace, "hook", "token", "s3cret-token")
	h := newTLSHook(t, answering(http.StatusOK))
	d := startDispatcher(t, notify.Options{HTTPClient: trustingClient(h)})
	missingSecret, missingKey := webhook(h, golivev1alpha1.FormatSlack)[0], webhook(h, golivev1alpha1.FormatSlack)[0]
	missingSecret.SecretRef = &golivev1alpha1.SecretKeySelector{Name: "no-such-secret", Key: "token"}
	missingKey.SecretRef = &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "tokn"}
	d.Enqueue(t.Context(), notice, []golivev1alpha1.NotificationWebhook{missingSecret, missingKey})

	d.waitForCount(t, 1, failed, "format=Slack", "reason="+notify.FailureSecretNotFound)
	d.waitForCount(t, 1, failed, "format=Slack", "reason="+notify.FailureSecretKeyMissing)
	waitForWarning(t, notice, "spec.notify.webhooks[0]", "Secret "+notice.Namespace+"/no-such-secret, named by secretRef, does not exist")
	waitForWarning(t, notice, "spec.notify.webhooks[1]", "Secret "+notice.Namespace+`/hook has no key "tokn"`)
	if n, waits := len(h.received()), d.waits(); n != 0 || len(waits) != 0 {
		t.Errorf("%d posts, waits %v; want neither", n, waits)
	}
}

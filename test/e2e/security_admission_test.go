package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/test/cluster"
)

// mallory may create UpdateRequests in the production namespace (the shipped
// golive-updaterequest-editor role) and nothing in its grey twin.
var mallory = person{user: "mallory@example.com"}

// TestSecurityAdmission plays the attacks of the issue "Trust" that admission
// stops, or that reach golive from outside the API, as black-box users of a
// cluster with the chart's RBAC, admission policies and golive's real webhooks.
func TestSecurityAdmission(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-security", Authorization: true})
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)
	c := cl.Client
	a := &app{t: t, cl: cl, c: c, production: "security"}
	a.staging = namespaces(t, c, a.production)
	bindPeople(t, c, a.production)
	create(t, c, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "mallory-requests", Namespace: a.production},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "golive-updaterequest-editor"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: mallory.user}},
	})
	create(t, c, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "carol-window-admin", Namespace: a.production},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "golive-window-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: carol.user}},
	})
	create(t, c, alwaysOpenWindow(a.production, apiWindow))
	waitForAccess(t, cl, mallory, authorizationv1.ResourceAttributes{Namespace: a.production, Verb: "create", Group: "golive.dev", Resource: "updaterequests"})
	waitForAccess(t, cl, alice, authorizationv1.ResourceAttributes{Namespace: a.staging, Verb: "create", Group: "batch", Resource: "jobs"})
	waitForAccess(t, cl, carol, authorizationv1.ResourceAttributes{Namespace: a.production, Verb: "patch", Group: "golive.dev", Resource: "golivewindows"})

	t.Run("attack 4: a Job in the grey namespace as its admin", func(t *testing.T) {
		escalating := func(name string) *golivev1alpha1.UpdateRequest {
			request := a.request(name, "2.4.0")
			job := smokeJob(false)
			job.Template.Spec.Template.Spec.ServiceAccountName = "grey-admin"
			request.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{job}
			return request
		}
		err := as(t, cl, mallory).Create(t.Context(), escalating("escalate"))
		wantRefusal(t, err, "spec.staging.verify.jobs: "+mallory.user+" may not create Jobs in namespace "+a.staging)
		jobs, requests := countJobs(t, c, a.staging), countRequests(t, c, a.production)
		if jobs != 0 || requests != 0 {
			t.Errorf("after the refusal: %d Jobs in %s, %d requests in %s; want none", jobs, a.staging, requests, a.production)
		}

		// alice holds edit in both namespaces, which may run their ServiceAccounts.
		if err := as(t, cl, alice).Create(t.Context(), escalating("with-the-right")); err != nil {
			t.Errorf("alice, with edit in %s, creating a request whose Job runs as grey-admin: %v", a.staging, err)
		}
	})

	t.Run("attack 6: a requester lifts the window that gates her", func(t *testing.T) {
		var glw golivev1alpha1.GoLiveWindow
		key := client.ObjectKey{Namespace: a.production, Name: apiWindow}
		if err := c.Get(t.Context(), key, &glw); err != nil {
			t.Fatal(err)
		}
		lift := func(p person) error {
			changed := glw.DeepCopy()
			changed.Spec.LeadTime = metav1.Duration{Duration: 0}
			changed.Spec.Freezes = nil
			changed.Spec.MaxConcurrent = 9
			return as(t, cl, p).Patch(t.Context(), changed, client.MergeFrom(&glw))
		}
		wantRefusal(t, lift(alice), `cannot patch resource "golivewindows"`)

		if err := lift(carol); err != nil {
			t.Fatalf("carol, the window admin, changing the window: %v", err)
		}
		cluster.Eventually(t, timeout, "golive to record carol's change of the window", func(ctx context.Context) (bool, string, error) {
			if err := c.Get(ctx, key, &glw); err != nil {
				return false, err.Error(), nil
			}
			changes := glw.Status.Changes
			if len(changes) == 0 || changes[len(changes)-1].By != carol.user || changes[len(changes)-1].Summary != "maxConcurrent" {
				return false, fmt.Sprintf("status.changes = %+v, want carol's change of maxConcurrent last", changes), nil
			}
			return true, "", nil
		})
		if stamp := glw.Annotations[golivev1alpha1.AnnotationLastChangedBy]; !strings.HasPrefix(stamp, carol.user+" at ") {
			t.Errorf("%s = %q, want carol's stamp", golivev1alpha1.AnnotationLastChangedBy, stamp)
		}
	})

	// The other attacks, each in namespaces of its own, at the same time.
	t.Run("attacks", func(t *testing.T) {
		t.Run("attack 1: a status writer forges Scheduled", func(t *testing.T) { t.Parallel(); forgedStatus(t, cl) })
		t.Run("attack 9: a body posted to the webhook without the API server's certificate", func(t *testing.T) { t.Parallel(); webhookCallers(t, cl) })
		t.Run("attack 10: checks and notifications aimed inside", func(t *testing.T) { t.Parallel(); egressRefused(t, cl) })
		t.Run("attack 11: a re-encoded ledger", func(t *testing.T) { t.Parallel(); reencodedLedger(t, cl) })
		t.Run("attack 12: terminal escapes and Markdown in free text", func(t *testing.T) { t.Parallel(); freeText(t, cl) })
	})
}

// wantRefusal fails unless err is a refusal whose message contains want.
func wantRefusal(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a refusal saying %q", err, want)
	}
}

// waitForAccess waits until RBAC grants p what attributes say.
func waitForAccess(t *testing.T, cl *cluster.Cluster, p person, attributes authorizationv1.ResourceAttributes) {
	t.Helper()
	testenv.Eventually(t, func(ctx context.Context) string {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: p.user, Groups: append(p.groups, "system:authenticated"), ResourceAttributes: &attributes,
		}}
		if err := cl.Client.Create(ctx, review); err != nil {
			return err.Error()
		}
		if !review.Status.Allowed {
			return fmt.Sprintf("%s may not yet %s %s", p.user, attributes.Verb, attributes.Resource)
		}
		return ""
	})
}

func countJobs(t *testing.T, c client.Client, namespace string) int {
	t.Helper()
	var list batchv1.JobList
	if err := c.List(t.Context(), &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

func countRequests(t *testing.T, c client.Client, namespace string) int {
	t.Helper()
	var list golivev1alpha1.UpdateRequestList
	if err := c.List(t.Context(), &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

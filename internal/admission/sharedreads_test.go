package admission

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// TestSharedReadsShareOnlyWithinOneUpdate: the validating webhook's call for
// an update answers from the mutating one's reads; another update, another
// person, a call without a scope, a failed read and an expired read all ask
// the API server.
func TestSharedReadsShareOnlyWithinOneUpdate(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing", Labels: map[string]string{"tier": "gold"}}}
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(namespace).Build()
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	reads := NewSharedReads(api, 10*time.Second, clock)

	stored := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "r", ResourceVersion: "7"}}
	bob := authenticationv1.UserInfo{Username: "bob", UID: "b"}
	update := withSharedReads(t.Context(), stored, bob)
	tier := func(ctx context.Context) string {
		t.Helper()
		var got corev1.Namespace
		if err := reads.Get(ctx, client.ObjectKey{Name: "billing"}, &got); err != nil {
			t.Fatal(err)
		}
		return got.Labels["tier"]
	}
	if got := tier(update); got != "gold" {
		t.Fatalf("first read: tier %q, want gold", got)
	}
	// The namespace changes between the two webhooks' calls.
	namespace.Labels["tier"] = "silver"
	if err := api.Update(t.Context(), namespace); err != nil {
		t.Fatal(err)
	}
	if got := tier(update); got != "gold" {
		t.Errorf("the same update's second call read tier %q, want the first call's gold", got)
	}
	if got := tier(t.Context()); got != "silver" {
		t.Errorf("a read outside an update got tier %q, want silver from the API server", got)
	}
	newer := stored.DeepCopy()
	newer.ResourceVersion = "8"
	if got := tier(withSharedReads(t.Context(), newer, bob)); got != "silver" {
		t.Errorf("the next update read tier %q, want silver", got)
	}
	if got := tier(withSharedReads(t.Context(), stored, authenticationv1.UserInfo{Username: "carol"})); got != "silver" {
		t.Errorf("another person's update read tier %q, want silver", got)
	}

	// Metadata reads of another kind with the same name are another read.
	var metadata metav1.PartialObjectMetadata
	metadata.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := reads.Get(update, client.ObjectKey{Name: "billing"}, &metadata); err != nil {
		t.Fatal(err)
	}
	var other metav1.PartialObjectMetadata
	other.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	if err := reads.Get(update, client.ObjectKey{Name: "billing"}, &other); err == nil {
		t.Errorf("a ConfigMap named billing was answered from the namespace's read: %+v", other)
	}

	// A failed read is not kept: the object created afterwards is found.
	var missing corev1.ConfigMap
	key := client.ObjectKey{Namespace: "billing", Name: "later"}
	if err := reads.Get(update, key, &missing); err == nil {
		t.Fatal("found a ConfigMap that does not exist")
	}
	if err := api.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "later"}}); err != nil {
		t.Fatal(err)
	}
	if err := reads.Get(update, key, &missing); err != nil {
		t.Errorf("a ConfigMap created after a failed read: %v", err)
	}

	// Lists of other namespaces are other reads.
	var inBilling, inPayroll corev1.ConfigMapList
	if err := reads.List(update, &inBilling, client.InNamespace("billing")); err != nil {
		t.Fatal(err)
	}
	if err := reads.List(update, &inPayroll, client.InNamespace("payroll")); err != nil {
		t.Fatal(err)
	}
	if len(inBilling.Items) != 1 || len(inPayroll.Items) != 0 {
		t.Errorf("lists: %d in billing (want 1), %d in payroll (want 0)", len(inBilling.Items), len(inPayroll.Items))
	}

	clock.SetTime(clock.Now().Add(11 * time.Second))
	if got := tier(update); got != "silver" {
		t.Errorf("after the reads expired the update read tier %q, want silver", got)
	}
}

// TestWarningsConfirmTheCacheWithTheAPIServer: warnings read the cache
// first, but only the API server's answer warns, so a target or a window
// created just before the request (not yet in the cache) draws no warning,
// and one the cache still holds after it went does.
func TestWarningsConfirmTheCacheWithTheAPIServer(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := golivev1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	deployment := func(namespace string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "billing"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}}}
	}
	glw := testfixtures.MakeGoLiveWindow("billing", "evening").TimeZone("UTC").AlwaysOpen().Obj()
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "r"}, Spec: golivev1alpha1.UpdateRequestSpec{
		Staging: golivev1alpha1.Staging{Namespace: "billing-grey"},
		Window:  golivev1alpha1.WindowReference{Name: "evening"},
		Targets: []golivev1alpha1.Target{{Kind: golivev1alpha1.TargetDeployment, Name: "billing", Images: map[string]golivev1alpha1.Image{"app": "billing:2"}}},
	}}
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(deployment("billing"), deployment("billing-grey"), glw).Build()
	emptyCache := fake.NewClientBuilder().WithScheme(scheme).Build()
	v := validator{&Webhooks{Reader: api, Cached: emptyCache, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	if warnings, err := v.targetWarnings(t.Context(), request); err != nil || len(warnings) != 0 {
		t.Errorf("targets the cache lacks but the API server has: warnings %v, error %v; want none", warnings, err)
	}
	if warnings, err := v.windowWarnings(t.Context(), request); err != nil || len(warnings) != 0 {
		t.Errorf("a window the cache lacks but the API server has: warnings %v, error %v; want none", warnings, err)
	}

	// The cache still holds a container the API server's Deployment renamed: no warning either.
	renamed := deployment("billing")
	renamed.Spec.Template.Spec.Containers[0].Name = "main"
	staleCache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(renamed, deployment("billing-grey")).Build()
	v = validator{&Webhooks{Reader: api, Cached: staleCache, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	if warnings, err := v.targetWarnings(t.Context(), request); err != nil || len(warnings) != 0 {
		t.Errorf("a container the cache has not seen renamed yet: warnings %v, error %v; want none", warnings, err)
	}

	// Missing from both: the warnings stand.
	v = validator{&Webhooks{Reader: emptyCache, Cached: emptyCache, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	if warnings, _ := v.targetWarnings(t.Context(), request); len(warnings) != 2 {
		t.Errorf("targets in neither: warnings %v, want one per namespace", warnings)
	}
	if warnings, _ := v.windowWarnings(t.Context(), request); len(warnings) != 1 {
		t.Errorf("a window in neither: warnings %v, want one", warnings)
	}

	// An approval role bound just before the request, not yet in the cache: no warning.
	request.Spec.Approvals.Required = []golivev1alpha1.RoleQuorum{{Role: "rnd-lead", Count: 1}}
	approver := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rnd-lead-approver"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{golivev1alpha1.GroupVersion.Group}, Resources: []string{golivev1alpha1.ApprovalRoleResource},
		ResourceNames: []string{"rnd-lead"}, Verbs: []string{golivev1alpha1.ApproveVerb}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "bob-rnd-lead"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: approver.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "bob"}}}
	bound := fake.NewClientBuilder().WithScheme(scheme).WithObjects(approver, binding).Build()
	v = validator{&Webhooks{Reader: bound, Cached: emptyCache, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	if warnings, err := v.roleWarnings(t.Context(), request); err != nil || len(warnings) != 0 {
		t.Errorf("a role the cache has not seen bound: warnings %v, error %v; want none", warnings, err)
	}
	v = validator{&Webhooks{Reader: emptyCache, Cached: emptyCache, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	if warnings, _ := v.roleWarnings(t.Context(), request); len(warnings) != 1 {
		t.Errorf("a role bound in neither: warnings %v, want one", warnings)
	}
	// A cache that cannot answer (a namespace it does not serve): the API server decides.
	for api, want := range map[client.Reader]int{bound: 0, emptyCache: 1} {
		v = validator{&Webhooks{Reader: api, Cached: &deadlineReader{}, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
		if warnings, err := v.roleWarnings(t.Context(), request); err != nil || len(warnings) != want {
			t.Errorf("past a failing cache: warnings %v, error %v; want %d", warnings, err, want)
		}
	}
}

// deadlineReader records the deadline of each read and fails it, as a
// cache whose informer cannot sync fails once the deadline passes.
type deadlineReader struct {
	client.Reader
	deadlines []time.Time
}

func (r *deadlineReader) Get(ctx context.Context, _ client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	return r.read(ctx)
}

func (r *deadlineReader) List(ctx context.Context, _ client.ObjectList, _ ...client.ListOption) error {
	return r.read(ctx)
}

func (r *deadlineReader) read(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	r.deadlines = append(r.deadlines, deadline)
	return context.DeadlineExceeded
}

// The search for warnings gets a bounded time, however long the webhook's
// own context lasts: a cache that cannot sync never holds an answer until
// the API server gives up on the webhook.
func TestWarningsAreBoundedInTime(t *testing.T) {
	cached := &deadlineReader{}
	v := validator{&Webhooks{Reader: cached, Cached: cached, Clock: clocktesting.NewFakePassiveClock(time.Now())}}
	request := testfixtures.MakeUpdateRequest("billing", "r").Staging("billing-grey").Window("evening").Approval("rnd-lead", 1).
		Target(golivev1alpha1.TargetDeployment, "billing", map[string]string{"app": "billing:2"}).Obj()
	if warnings := v.specWarnings(t.Context(), request); len(warnings) != 0 {
		t.Errorf("warnings %v from reads that all failed", warnings)
	}
	latest := time.Now().Add(warningsBudget)
	if len(cached.deadlines) == 0 {
		t.Fatal("no read was made")
	}
	for _, deadline := range cached.deadlines {
		if deadline.IsZero() || deadline.After(latest) {
			t.Errorf("a read's deadline is %v, want within %s", deadline, warningsBudget)
		}
	}
}

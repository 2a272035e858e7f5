package e2e

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/test/cluster"
)

// The people of the journeys, as the API server authenticates them (the
// tests impersonate them), the same as the demo's (config/demo/people.yaml):
// alice requests releases and, in group billing-rnd-leads, holds rnd-lead
// too; bob is an R&D lead, carol the operations office, erin the business
// owner who accepts, dana the CTO who approves emergencies, sam the
// operations supervisor who says go where a GoLivePolicy asks for one.
type person struct {
	user   string
	groups []string
}

var (
	alice = person{user: "alice@example.com", groups: []string{rndLeads}}
	bob   = person{user: "bob@example.com", groups: []string{rndLeads}}
	carol = person{user: "carol@example.com"}
	erin  = person{user: "erin@example.com"}
	dana  = person{user: "dana@example.com"}
	sam   = person{user: "sam@example.com"}
)

const rndLeads = "billing-rnd-leads"

// The approval roles of the journeys.
const (
	roleRnDLead          = "rnd-lead"
	roleOperationsOffice = "operations-office"
	roleBusinessOwner    = "business-owner"
	roleCTO              = "cto"
	roleSupervisor       = "operations-supervisor"
)

// grantApprovalRoles creates the cluster-wide roles of the journeys, those
// of config/samples/approval_roles_rbac.yaml: one ClusterRole per approval
// role (verb approve on approvalroles.golive.dev with the role as
// resourceName) and one that lets approvers read and annotate requests.
func grantApprovalRoles(t *testing.T, c client.Client) {
	t.Helper()
	if err := testenv.CreateApprovalRoles(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

// bindPeople gives the people their rights in namespace: alice edits
// requests (the shipped golive-updaterequest-editor role) and, as a
// requester does, holds the built-in edit role there and in the grey twin
// (namespace-grey), so that golive runs her verification Jobs; the others
// hold their approval roles and may give commands.
func bindPeople(t *testing.T, c client.Client, namespace string) {
	t.Helper()
	user := func(p person) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: p.user}
	}
	group := rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: rndLeads}
	bindings := map[string][]rbacv1.Subject{
		"golive-updaterequest-editor":             {user(alice)},
		"golive-approver-commands":                {group, user(carol), user(erin), user(dana), user(sam)},
		"golive-approver-" + roleRnDLead:          {group},
		"golive-approver-" + roleOperationsOffice: {user(carol)},
		"golive-approver-" + roleBusinessOwner:    {user(erin)},
		"golive-approver-" + roleCTO:              {user(dana)},
		"golive-approver-" + roleSupervisor:       {user(sam)},
	}
	for _, edited := range []string{namespace, namespace + "-grey"} {
		create(t, c, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "requester-edit", Namespace: edited},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects:   []rbacv1.Subject{user(alice)},
		})
	}
	for clusterRole, subjects := range bindings {
		create(t, c, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: clusterRole, Namespace: namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects:   subjects,
		})
	}
}

// as is a client acting as p.
func as(t *testing.T, cl *cluster.Cluster, p person) client.Client {
	t.Helper()
	return cl.As(t, p.user, p.groups...)
}

// command gives a command to a request as p would with kubectl annotate:
// the admission webhook checks p's right and turns it into a ledger entry,
// or refuses it with its reason, returned.
func command(t *testing.T, cl *cluster.Cluster, p person, key client.ObjectKey, annotation, value string) error {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{annotation: value}}})
	if err != nil {
		t.Fatal(err)
	}
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	return as(t, cl, p).Patch(t.Context(), request, client.RawPatch(types.MergePatchType, patch))
}

// approve gives p's approval as role and fails the test if it is refused.
func approve(t *testing.T, cl *cluster.Cluster, p person, key client.ObjectKey, role, comment string) {
	t.Helper()
	if err := command(t, cl, p, key, golivev1alpha1.AnnotationApprove, role+"; "+comment); err != nil {
		t.Fatalf("%s approving %s as %s: %v", p.user, key, role, err)
	}
}

// namespaces creates a production namespace and its grey twin, opted in as
// its staging namespace.
func namespaces(t *testing.T, c client.Client, production string) (staging string) {
	t.Helper()
	staging = production + "-grey"
	create(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: production}})
	create(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: staging,
		Labels: map[string]string{golivev1alpha1.LabelStagingFor: production}}})
	return staging
}

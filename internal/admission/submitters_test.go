package admission

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// statedBy has a request state who asked, as a GitOps tool applies it.
func statedBy(person string) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations[golivev1alpha1.AnnotationRequestedBy] = person
	}
}

// A GoLivePolicy's trusted submitter (a GitOps identity) may state who asked;
// golive takes that person as the requester, four-eyes included, and stamps
// the submitter. Nobody else may state a requester, and neither stamp changes.
func TestTrustedSubmittersStateWhoAsked(t *testing.T) {
	f := newFixture(t)
	argocd := "system:serviceaccount:argocd:argocd-application-controller"
	deployer := "system:serviceaccount:" + f.namespace + ":deployer"
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "submitters-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "test-updaterequest-editor"},
		Subjects: []rbacv1.Subject{
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: argocd},
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: deployer},
		},
	}
	if err := f.env.Client.Create(t.Context(), binding); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{argocd, deployer} {
		f.env.WaitForAccess(t, user, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "create", Group: "golive.dev", Resource: "updaterequests"})
	}

	err := f.as(t, argocd).Create(t.Context(), f.request("gitops").Mutate(statedBy(alice)).Obj())
	wantRefused(t, err, "golive.dev/requested-by is stamped by golive with the user who creates the request: remove it "+
		"(only an identity that a GoLivePolicy of namespace "+f.namespace+" names in spec.trustedSubmitters may state who asked; "+argocd+" is not one)")

	policy := f.governedBy(golivev1alpha1.GoLivePolicySpec{TrustedSubmitters: []golivev1alpha1.TrustedSubmitter{
		{ServiceAccount: golivev1alpha1.ServiceAccountRef{Namespace: "argocd", Name: "argocd-application-controller"}},
	}})
	created := f.create(argocd, f.request("gitops").Mutate(statedBy(alice)).Obj())
	if got := created.Annotations[golivev1alpha1.AnnotationRequestedBy]; got != alice {
		t.Errorf("requested-by = %q, want the person the submitter stated, %s", got, alice)
	}
	if got := created.Annotations[golivev1alpha1.AnnotationSubmittedBy]; got != argocd {
		t.Errorf("submitted-by = %q, want %s", got, argocd)
	}

	for _, refusal := range []struct {
		name, user, person, want string
	}{
		{"a person stating another", bob, alice, bob + " is not one"},
		{"a ServiceAccount no policy trusts", deployer, alice, deployer + " is not one"},
		{"a trusted submitter stating a ServiceAccount", argocd, deployer, "golive.dev/requested-by: must name a person, not a system identity such as a ServiceAccount: " + deployer + " (stated by " + argocd + ", a trusted submitter of policy " + policy + ")"},
		{"a trusted submitter stating nobody", argocd, "", "golive.dev/requested-by: names nobody"},
		{"a trusted submitter stating a control character", argocd, "alice\x1b[2J@example.com", "golive.dev/requested-by: carries a control or formatting character"},
	} {
		err := f.as(t, refusal.user).Create(t.Context(), f.request("refused").Mutate(statedBy(refusal.person)).Obj())
		if err == nil {
			t.Errorf("%s: admitted", refusal.name)
			continue
		}
		wantRefused(t, err, refusal.want)
	}
	forged := f.request("forged").Mutate(func(r *golivev1alpha1.UpdateRequest) {
		r.Annotations = map[string]string{golivev1alpha1.AnnotationSubmittedBy: argocd}
	}).Obj()
	wantRefused(t, f.as(t, alice).Create(t.Context(), forged), "golive.dev/submitted-by is stamped by golive with the trusted submitter that creates a request: remove it")

	// Re-applied with another person (a later commit's author), or without the stamp: refused, nothing changes.
	for _, change := range []func(*golivev1alpha1.UpdateRequest){
		statedBy(bob),
		func(r *golivev1alpha1.UpdateRequest) { delete(r.Annotations, golivev1alpha1.AnnotationSubmittedBy) },
	} {
		changed := f.get("gitops")
		change(changed)
		wantRefused(t, f.as(t, argocd).Update(t.Context(), changed), "is stamped by golive at creation and cannot change")
	}
	if got := f.get("gitops").Annotations; got[golivev1alpha1.AnnotationRequestedBy] != alice || got[golivev1alpha1.AnnotationSubmittedBy] != argocd {
		t.Errorf("refused updates changed the stamps: %v", got)
	}

	// Four-eyes applies to the person who asked: alice holds rnd-lead and may not approve; bob may.
	f.setPhase("gitops", golivev1alpha1.PhaseAwaitingApproval)
	wantRefused(t, f.command(alice, "gitops", golivev1alpha1.AnnotationApprove, "rnd-lead"),
		alice+" requested this update and may not approve it (spec.approvals.allowSelfApproval is false)")
	f.mustCommand(bob, "gitops", golivev1alpha1.AnnotationApprove, "rnd-lead")

	// The submitter applying without stating anyone is the requester itself, as before.
	own := f.create(argocd, f.request("own").Obj())
	if got := own.Annotations; got[golivev1alpha1.AnnotationRequestedBy] != argocd || got[golivev1alpha1.AnnotationSubmittedBy] != "" {
		t.Errorf("a request the submitter states nobody for: annotations %v, want requested-by %s and no submitted-by", got, argocd)
	}
}

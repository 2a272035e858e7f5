package admission

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// verificationJob is a Job template that runs as account ("" for default).
func verificationJob(name, account string) golivev1alpha1.VerificationJob {
	return golivev1alpha1.VerificationJob{Name: name, Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: account,
			Containers:         []corev1.Container{{Name: "smoke", Image: "registry.example.com/smoke:1"}},
		}},
	}}}
}

// stagingJob adds job to the request's staging verification.
func stagingJob(job golivev1alpha1.VerificationJob) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Staging.Verify.Jobs = append(r.Spec.Staging.Verify.Jobs, job)
	}
}

// productionJob adds job to the request's production verification.
func productionJob(job golivev1alpha1.VerificationJob) func(*golivev1alpha1.UpdateRequest) {
	return func(r *golivev1alpha1.UpdateRequest) { r.Spec.Verify.Jobs = append(r.Spec.Verify.Jobs, job) }
}

// Attack 4: a requester who may not create Jobs in the grey namespace cannot
// have golive create one there for them, let alone as another ServiceAccount.
func TestVerificationJobsRunWithTheirAuthorsRights(t *testing.T) {
	f := newFixture(t)
	grey := f.namespace + "-grey"

	err := f.as(t, alice).Create(t.Context(), f.request("escalate").Mutate(stagingJob(verificationJob("smoke", "grey-admin"))).Obj())
	wantRefused(t, err, "spec.staging.verify.jobs: "+alice+" may not create Jobs in namespace "+grey)

	err = f.as(t, alice).Create(t.Context(), f.request("in-production").Mutate(productionJob(verificationJob("smoke", ""))).Obj())
	wantRefused(t, err, "spec.verify.jobs: "+alice+" may not create Jobs in namespace "+f.namespace)

	f.env.BindClusterRole(t, grey, "test-job-author", alice)
	f.env.WaitForAccess(t, alice, authorizationv1.ResourceAttributes{Namespace: grey, Verb: "create", Group: "batch", Resource: "jobs"})

	f.create(alice, f.request("default-account").Mutate(stagingJob(verificationJob("smoke", ""))).Obj())

	err = f.as(t, alice).Create(t.Context(), f.request("escalate").Mutate(stagingJob(verificationJob("smoke", "default"))).Mutate(stagingJob(verificationJob("admin", "grey-admin"))).Obj())
	wantRefused(t, err, "spec.staging.verify.jobs[1].template.spec.template.spec.serviceAccountName: "+alice+
		" may not use ServiceAccount grey-admin in namespace "+grey+" (needs impersonate on serviceaccounts/grey-admin)")

	// Changing the template of an existing request is checked as well.
	stored := f.get("default-account")
	stored.Spec.Staging.Verify.Jobs[0].Template.Spec.Template.Spec.ServiceAccountName = "grey-admin"
	wantRefused(t, f.as(t, alice).Update(t.Context(), stored), "may not use ServiceAccount grey-admin")
	if got := f.get("default-account").Spec.Staging.Verify.Jobs[0].Template.Spec.Template.Spec.ServiceAccountName; got != "" {
		t.Errorf("the refused update changed the ServiceAccount to %q", got)
	}

	f.env.BindClusterRole(t, grey, "test-serviceaccount-user", alice)
	f.env.WaitForAccess(t, alice, authorizationv1.ResourceAttributes{Namespace: grey, Verb: "impersonate", Resource: "serviceaccounts", Name: "grey-admin"})
	f.create(alice, f.request("named-account").Mutate(stagingJob(verificationJob("admin", "grey-admin"))).Obj())
}

// Approvals come from people: a ServiceAccount's approve, reject and accept
// are refused even when RBAC grants it the role.
func TestServiceAccountsCannotApprove(t *testing.T) {
	f := newFixture(t)
	robot := "system:serviceaccount:" + f.namespace + ":deployer"
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "robot-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "test-updaterequest-editor"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: robot}},
	}
	if err := f.env.Client.Create(t.Context(), binding); err != nil {
		t.Fatal(err)
	}
	f.env.WaitForAccess(t, robot, authorizationv1.ResourceAttributes{Namespace: f.namespace, Verb: "patch", Group: "golive.dev", Resource: "updaterequests"})
	f.create(alice, f.request("billing-2-4-0").Acceptance("business-owner", 0, "").Obj())
	f.setPhase("billing-2-4-0", golivev1alpha1.PhaseAwaitingApproval)

	for annotation, value := range map[string]string{
		golivev1alpha1.AnnotationApprove: "rnd-lead",
		golivev1alpha1.AnnotationReject:  "rnd-lead; no",
		golivev1alpha1.AnnotationAccept:  "fine",
	} {
		err := f.command(robot, "billing-2-4-0", annotation, value)
		wantRefused(t, err, annotation+" refused: "+robot+" is a ServiceAccount: approvals, rejections, acceptances and go come from people")
	}
	if entries, _ := f.ledger("billing-2-4-0"); len(entries) != 0 {
		t.Errorf("refused commands were recorded: %+v", entries)
	}
}

// Comments and reasons that could repaint a terminal or reorder text are refused.
func TestControlCharactersInCommentsAreRefused(t *testing.T) {
	f := newFixture(t)
	f.create(alice, f.request("billing-2-4-0").Obj())
	f.setPhase("billing-2-4-0", golivev1alpha1.PhaseAwaitingApproval)

	err := f.command(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead; ok\x1b[2J\x1b[Happroved by cto")
	wantRefused(t, err, golivev1alpha1.AnnotationApprove+" refused: the comment contains the control character U+001B at character 3")
	err = f.command(dave, "billing-2-4-0", golivev1alpha1.AnnotationAbort, "oops \u202edesrever")
	wantRefused(t, err, golivev1alpha1.AnnotationAbort+" refused: the comment contains the control character U+202E")
	if entries, _ := f.ledger("billing-2-4-0"); len(entries) != 0 {
		t.Errorf("refused commands were recorded: %+v", entries)
	}
	f.mustCommand(bob, "billing-2-4-0", golivev1alpha1.AnnotationApprove, "rnd-lead; checked\tthe dashboards")
}

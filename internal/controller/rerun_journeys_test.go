package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/verify"
)

// Journeys of issue 24: a request edited after it left Pending, and a
// release whose images an environment already runs.

// setImage sets the image of container "api" of the billing-api Deployment in
// namespace, as someone (or an earlier run) did before the request.
func (j *journey) setImage(namespace, image string) {
	j.t.Helper()
	var deployment appsv1.Deployment
	if err := env.Client.Get(j.t.Context(), client.ObjectKey{Namespace: namespace, Name: "billing-api"}, &deployment); err != nil {
		j.t.Fatal(err)
	}
	base := deployment.DeepCopy()
	deployment.Spec.Template.Spec.Containers[0].Image = image
	if err := env.Client.Patch(j.t.Context(), &deployment, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
}

// edit changes the request's spec, as its author would with kubectl edit.
func (j *journey) edit(change func(*golivev1alpha1.UpdateRequestSpec)) {
	j.t.Helper()
	request := j.current()
	base := request.DeepCopy()
	change(&request.Spec)
	if err := env.Client.Patch(j.t.Context(), &request, client.MergeFrom(base)); err != nil {
		j.t.Fatal(err)
	}
}

// waitForPhaseAfter waits until the request's timeline records event and the
// request is in phase, without being stalled.
func (j *journey) waitForPhaseAfter(event string, phase golivev1alpha1.Phase) {
	j.t.Helper()
	eventually(j.t, func(context.Context) string {
		request := j.current()
		if !slices.Contains(timelineEvents(request), event) {
			return fmt.Sprintf("timeline %v lacks %s", timelineEvents(request), event)
		}
		if meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionStalled) || request.Status.Phase != phase {
			return fmt.Sprintf("want %s after %s, not stalled; the request is %s", phase, event, j.describe())
		}
		return ""
	})
}

// TestEditAfterPendingFindsTheSelectedClaim: an edit after the request left
// Pending sends it back to Pending, which must find the claim its backup
// selects (it stalled with "selects no PersistentVolumeClaim", issue 24).
func TestEditAfterPendingFindsTheSelectedClaim(t *testing.T) {
	ensureSnapshotClass(t)
	j := newJourney(t,
		withBeforeRequest(func(j *journey) { j.boundClaim("billing-data") }),
		withRequest(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
			r.Spec.Backup.VolumeSnapshotClassName = testSnapshotClass
		}))
	j.waitForImageAndRollOut(j.staging, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)

	j.edit(func(spec *golivev1alpha1.UpdateRequestSpec) { spec.Description = "the release notes, added later" })
	j.waitForPhaseAfter(golivev1alpha1.ReasonSpecChanged, golivev1alpha1.PhaseVerifyingStaging)
}

// TestRereleaseOfImagesTheEnvironmentsRunStartsTheChecks: both environments
// run the release's images already (an earlier run was aborted, or a flaky
// check failed it); the staging and production checks must still start
// (the smoke Job was never created, issue 24).
func TestRereleaseOfImagesTheEnvironmentsRunStartsTheChecks(t *testing.T) {
	j := newJourney(t,
		withBeforeRequest(func(j *journey) {
			for _, namespace := range []string{j.staging, j.production} {
				j.setImage(namespace, newImage)
				j.rollOut(namespace)
			}
		}),
		withRequest(productionSmoke))

	j.finishJob(true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.finishJobIn(verify.EnvironmentProduction, true)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)
}

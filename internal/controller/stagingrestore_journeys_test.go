package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// Journeys of issue 24: the staging (grey) environment is put back when a
// request ends without its release in production, so the next run starts clean.

// waitForStagingRestored waits until the request recorded the end of its staging restore.
func (j *journey) waitForStagingRestored() golivev1alpha1.UpdateRequest {
	j.t.Helper()
	var request golivev1alpha1.UpdateRequest
	eventually(j.t, func(context.Context) string {
		request = j.current()
		if restore := request.Status.StagingRestore; restore == nil || restore.RestoredAt == nil {
			return fmt.Sprintf("staging not restored yet: %+v (%s)", request.Status.StagingRestore, j.describe())
		}
		return ""
	})
	return request
}

// stagingSavedImage is the image of billing-api in the staging saved specs of request.
func (j *journey) stagingSavedImage(request golivev1alpha1.UpdateRequest) string {
	j.t.Helper()
	saved, err := workload.LoadSavedSpec(j.t.Context(), env.Client, ledgerKey, &request, workload.StagingSavedSpecsName(request.Name), j.production, request.Spec.Targets[0])
	if err != nil {
		j.t.Fatalf("Loading the staging saved spec of %s: %v", request.Name, err)
	}
	return saved.PodTemplate.Spec.Containers[0].Image
}

// TestFailedStagingRestoresTheGreyEnvironment: a staging verification fails;
// the request ends Failed and puts the grey Deployment back on its previous
// image, and says so in its status, timeline and Events.
func TestFailedStagingRestoresTheGreyEnvironment(t *testing.T) {
	j := newJourney(t)
	j.waitForImageAndRollOut(j.staging, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	if saved := j.stagingSavedImage(j.current()); saved != previousImage {
		t.Errorf("the staging saved specs hold %s, want the image from before the request, %s", saved, previousImage)
	}

	j.finishJob(false)
	j.waitForPhase(golivev1alpha1.PhaseFailed)
	j.waitForImage(j.staging, previousImage)
	request := j.waitForStagingRestored()
	j.productionUntouched()
	restore := request.Status.StagingRestore
	if restore.TargetsRestored != 1 || !strings.Contains(restore.Message, `Restored Deployment "billing-api" in namespace "`+j.staging+`"`) {
		t.Errorf("stagingRestore = %+v", restore)
	}
	if request.Status.Phase != golivev1alpha1.PhaseFailed {
		t.Errorf("phase = %s after the restore, want Failed", request.Status.Phase)
	}
	j.waitForEvents(golivev1alpha1.ReasonStagingRestored)
}

// TestKeepLeavesTheGreyEnvironmentOnTheFailedVersion: with
// spec.staging.onFailure Keep, a failed request leaves staging as it is.
func TestKeepLeavesTheGreyEnvironmentOnTheFailedVersion(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.OnFailure = golivev1alpha1.KeepStagingOnFailure }))
	j.waitForImageAndRollOut(j.staging, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	j.finishJob(false)
	request := j.waitForPhase(golivev1alpha1.PhaseFailed)
	// Ended, it holds its targets no longer: a request naming them starts at once.
	next := j.another("billing-2-4-1", nil)
	next.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	request = j.current()
	if got := j.image(j.staging); got != newImage {
		t.Errorf("staging runs %s, want the failed version %s kept", got, newImage)
	}
	if restore := request.Status.StagingRestore; restore == nil || restore.RestoredAt != nil {
		t.Errorf("stagingRestore = %+v, want the specs saved and nothing restored", restore)
	}
}

// TestReleaseAfterAnAbortStartsFromTheRestoredGreyEnvironment: a request is
// aborted while it waits for approval, and a new run of the release is
// created at once. The aborted request holds the grey Deployment until it
// has put it back; the new run then saves and changes the previous version,
// not the aborted one.
func TestReleaseAfterAnAbortStartsFromTheRestoredGreyEnvironment(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)

	j.command("alice", "", golivev1alpha1.LedgerAbort, "wrong build")
	rerun := j.another("billing-2-4-0-again", nil)
	j.waitForPhase(golivev1alpha1.PhaseAborted)
	j.waitForStagingRestored()

	rerun.waitForImageAndRollOut(j.staging, newImage)
	rerun.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	if saved := rerun.stagingSavedImage(rerun.current()); saved != previousImage {
		t.Errorf("the new run saved staging running %s, want the restored %s", saved, previousImage)
	}
	j.productionUntouched()
}

// TestDeletedRequestRestoresTheGreyEnvironmentBeforeItGoes: a request
// deleted while it soaks is aborted, puts staging back, and only then goes.
func TestDeletedRequestRestoresTheGreyEnvironmentBeforeItGoes(t *testing.T) {
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Soak = metav1.Duration{Duration: 48 * 3600e9} }))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseSoaking)
	j.deleteRequest()
	j.waitForImage(j.staging, previousImage)
	j.waitUntilGone()
	j.productionUntouched()
}

// Attack: staging saved specs planted before the request, with a pod
// template of the attacker's, are never adopted: the request stalls before it
// changes staging, reports the ConfigMap, and never restores from it.
func TestPlantedStagingSavedSpecsAreNeverAdopted(t *testing.T) {
	evil, err := json.Marshal(workload.SavedSpec{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", PodTemplate: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "billing"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "evil/backdoor:1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var planted *corev1.ConfigMap
	j := newJourney(t, withBeforeRequest(func(j *journey) {
		planted = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: workload.StagingSavedSpecsName("billing-2-4-0"), Namespace: j.production,
				Labels: map[string]string{golivev1alpha1.LabelRequest: "billing-2-4-0", golivev1alpha1.LabelRequestNamespace: j.production}},
			Data: map[string]string{"Deployment.billing-api": string(evil)},
		}
		j.create(planted)
	}))

	request := j.waitForConditionMessage("ConfigMap " + j.production + "/" + planted.Name + " is not golive's (signature does not match)")
	stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
	if request.Status.Phase != golivev1alpha1.PhaseStaging || stalled == nil || stalled.Reason != golivev1alpha1.ReasonPlantedObject {
		t.Fatalf("phase %s, Stalled %+v; want Staging stalled with reason %s", request.Status.Phase, stalled, golivev1alpha1.ReasonPlantedObject)
	}
	if got := j.image(j.staging); got != previousImage {
		t.Errorf("staging runs %s, want it untouched", got)
	}
	j.waitForEvents(golivev1alpha1.ReasonPlantedObject)

	j.command("dave", "", golivev1alpha1.LedgerAbort, "someone planted staging saved specs")
	request = j.waitForPhase(golivev1alpha1.PhaseAborted)
	if request.Status.StagingRestore != nil {
		t.Errorf("stagingRestore = %+v, want none: nothing was saved, nothing is restored", request.Status.StagingRestore)
	}
	if got := j.image(j.staging); got != previousImage {
		t.Errorf("staging runs %s after the abort, want it untouched", got)
	}
	var left corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(planted), &left); err != nil || left.UID != planted.UID {
		t.Errorf("the planted ConfigMap: %v; want it left for a person (golive did not make it)", err)
	}
}

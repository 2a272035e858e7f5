package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
)

// waitForConditionMessage waits until a condition of the request says text, and returns the request.
func (j *journey) waitForConditionMessage(text string) golivev1alpha1.UpdateRequest {
	j.t.Helper()
	var request golivev1alpha1.UpdateRequest
	eventually(j.t, func(context.Context) string {
		request = j.current()
		for _, condition := range request.Status.Conditions {
			if strings.Contains(condition.Message, text) {
				return ""
			}
		}
		return fmt.Sprintf("no condition says %q (%s)", text, j.describe())
	})
	return request
}

// stagingCheck is the recorded staging check name.
func stagingCheck(request golivev1alpha1.UpdateRequest, name string) golivev1alpha1.CheckStatus {
	if request.Status.Staging == nil {
		return golivev1alpha1.CheckStatus{}
	}
	return verify.FindCheck(request.Status.Staging.Checks, name)
}

// Attack 2: a Job planted at the smoke check's name, with the request's labels,
// running true and complete. A cluster admin outside break-glass is refused
// by the policy; planted by break-glass, golive does not count it and says so.
func TestPlantedVerificationJobIsNeverCounted(t *testing.T) {
	j := newJourney(t)
	request := j.current()
	specHash := ledger.SpecHash(&request.Spec)
	planted := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: verify.JobName(request.Name, verify.EnvironmentStaging, "smoke", specHash), Namespace: j.staging,
			Labels: map[string]string{
				golivev1alpha1.LabelRequest: request.Name, golivev1alpha1.LabelRequestNamespace: request.Namespace,
				golivev1alpha1.LabelRequestUID: string(request.UID), golivev1alpha1.LabelEnvironment: verify.EnvironmentStaging,
				golivev1alpha1.LabelCheck: "smoke", golivev1alpha1.LabelSpecHash: ledger.ShortSpecHash(specHash),
			},
		},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "smoke", Image: "billing-smoke:2.4.0", Command: []string{"true"}}},
		}}},
	}
	admin, err := env.ClientAs("mallory", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(t.Context(), planted.DeepCopy()); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Fatalf("Planting the Job as a cluster admin = %v, want the owned-objects policy's refusal", err)
	}
	j.create(planted)
	planted.Status = batchv1.JobStatus{Succeeded: 1, StartTime: ptr.To(metav1.Now()), CompletionTime: ptr.To(metav1.Now()), Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue},
	}}
	if err := env.Client.Status().Update(t.Context(), planted); err != nil {
		t.Fatal(err)
	}

	j.waitForImageAndRollOut(j.staging, newImage)
	request = j.waitForConditionMessage("Job " + j.staging + "/" + planted.Name + " is not golive's (signature does not match); golive will not count it — delete it")
	if request.Status.Phase != golivev1alpha1.PhaseVerifyingStaging || stagingCheck(request, "smoke").Result == golivev1alpha1.CheckPassed {
		t.Fatalf("phase %s, smoke check %+v; want staging not verified by the planted Job", request.Status.Phase, stagingCheck(request, "smoke"))
	}
	j.waitForEvents(golivev1alpha1.ReasonPlantedObject)

	// Once a person removed it, golive runs its own.
	if err := env.Client.Delete(t.Context(), planted, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		var job batchv1.Job
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(planted), &job); err != nil {
			return fmt.Sprintf("golive's Job: %v", err)
		}
		if job.UID == planted.UID || job.Annotations[golivev1alpha1.AnnotationSignature] == "" {
			return "the planted Job is still there"
		}
		return ""
	})
	j.finishJob(true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
}

// Attack 3: a Job completed for the old spec does not count for the new one;
// golive deletes it and runs the new spec's Job.
func TestSpecChangeAfterACompletedJobRunsTheNewSpecsJob(t *testing.T) {
	j := newJourney(t)
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	before := j.current()
	oldJob := verify.JobName(before.Name, verify.EnvironmentStaging, "smoke", ledger.SpecHash(&before.Spec))

	base := before.DeepCopy()
	before.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("billing-smoke:2.4.1")}
	if err := env.Client.Patch(t.Context(), &before, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	newJob := verify.JobName(before.Name, verify.EnvironmentStaging, "smoke", ledger.SpecHash(&before.Spec))
	if newJob == oldJob {
		t.Fatalf("the new spec's Job has the old name %s", oldJob)
	}
	eventually(t, func(ctx context.Context) string {
		var job batchv1.Job
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.staging, Name: newJob}, &job); err != nil {
			return fmt.Sprintf("the new spec's Job: %v (%s)", err, j.describe())
		}
		if image := job.Spec.Template.Spec.Containers[0].Image; image != "billing-smoke:2.4.1" {
			return "the new Job runs " + image
		}
		return ""
	})
	if request := j.current(); request.Status.Phase != golivev1alpha1.PhaseVerifyingStaging || stagingCheck(request, "smoke").Result == golivev1alpha1.CheckPassed {
		t.Fatalf("phase %s, smoke check %+v; want staging verifying, the old Job not counted", request.Status.Phase, stagingCheck(request, "smoke"))
	}
	eventually(t, func(ctx context.Context) string {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.staging, Name: oldJob}, &batchv1.Job{})
		if !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the old spec's Job %s: %v, want it deleted", oldJob, err)
		}
		return ""
	})
	j.finishJob(true)
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
}

// Attack 5: saved specs planted in advance, with the evil pod template, are
// refused by the policy to a cluster admin; planted by break-glass, golive
// never adopts them: the backup stalls before production changes, and an
// abort rolls back without writing the planted template.
func TestPlantedSavedSpecsAreNeverAdopted(t *testing.T) {
	j := newJourney(t)
	request := j.current()
	evil, err := json.Marshal(workload.SavedSpec{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", PodTemplate: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "billing"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "evil/backdoor:1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	planted := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: workload.SavedSpecsName(request.Name), Namespace: j.production,
			Labels: map[string]string{golivev1alpha1.LabelRequest: request.Name, golivev1alpha1.LabelRequestUID: string(request.UID)}},
		Data: map[string]string{"Deployment.billing-api": string(evil)},
	}
	if err := controllerutil.SetControllerReference(&request, planted, env.Scheme); err != nil {
		t.Fatal(err)
	}
	admin, err := env.ClientAs("mallory", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(t.Context(), planted.DeepCopy()); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Fatalf("Planting the saved specs as a cluster admin = %v, want the owned-objects policy's refusal", err)
	}
	j.create(planted)
	// Keeping golive's labels and data, anyone may annotate it; deleting it is golive's.
	annotated := planted.DeepCopy()
	annotated.Annotations = map[string]string{"example.com/note": "seen"}
	if err := admin.Patch(t.Context(), annotated, client.MergeFrom(planted)); err != nil {
		t.Errorf("Annotating the ConfigMap as a cluster admin = %v, want it allowed", err)
	}
	if err := admin.Delete(t.Context(), planted.DeepCopy()); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Errorf("Deleting the ConfigMap as a cluster admin = %v, want the policy's refusal", err)
	}

	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	request = j.waitForConditionMessage("ConfigMap " + j.production + "/" + planted.Name + " is not golive's (signature does not match)")
	stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
	if request.Status.Phase != golivev1alpha1.PhaseBackingUp || stalled == nil || stalled.Reason != golivev1alpha1.ReasonPlantedObject {
		t.Fatalf("phase %s, Stalled %+v; want BackingUp stalled with reason %s", request.Status.Phase, stalled, golivev1alpha1.ReasonPlantedObject)
	}
	if request.Status.Backup != nil && request.Status.Backup.SavedSpecs != "" {
		t.Errorf("status.backup.savedSpecs = %q, want the planted ConfigMap not adopted", request.Status.Backup.SavedSpecs)
	}
	j.productionUntouched()
	j.waitForEvents(golivev1alpha1.ReasonPlantedObject)

	j.command("dave", "", golivev1alpha1.LedgerAbort, "someone planted saved specs")
	eventually(t, func(context.Context) string {
		if phase := j.current().Status.Phase; !phase.IsTerminal() {
			return fmt.Sprintf("phase %s, want the request ended (%s)", phase, j.describe())
		}
		return ""
	})
	j.productionUntouched()
	var left corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(planted), &left); err != nil || left.UID != planted.UID {
		t.Errorf("the planted ConfigMap: %v; want it left for a person (golive did not make it)", err)
	}
}

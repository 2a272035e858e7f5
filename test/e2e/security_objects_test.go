package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/verify"
	"github.com/golive-dev/golive/internal/workload"
	"github.com/golive-dev/golive/test/cluster"
)

// ownedObjectsRefusal is what the owned-objects admission policy says.
const ownedObjectsRefusal = "carries golive's request labels"

// sre is a member of the chart's break-glass group (breakGlass.group), the
// only people the owned-objects policy lets plant what golive alone writes.
var sre = person{user: "sre@example.com", groups: []string{"golive:break-glass", "system:masters"}}

// TestGolivesOwnObjects plays the attacks on the objects golive creates and
// reads back, as a requester with edit rights in both namespaces would try
// them: the policy refuses them; planted by break-glass, golive ignores and
// reports them, and production is untouched. It also plays the attacks on
// what golive keeps across a request's life: Jobs of an earlier spec, the
// emergency budget and a request deleted in production.
func TestGolivesOwnObjects(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-owned-objects", Authorization: true})
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	t.Run("attacks", func(t *testing.T) {
		t.Run("a planted verification Job", func(t *testing.T) { t.Parallel(); plantedJob(t, cl) })
		t.Run("planted saved specs", func(t *testing.T) { t.Parallel(); plantedSavedSpecs(t, cl) })
		t.Run("attack 3: a Job of the previous spec", func(t *testing.T) { t.Parallel(); staleJob(t, cl) })
		t.Run("attack 7: deleting an emergency to refill the budget", func(t *testing.T) { t.Parallel(); deletedEmergency(t, cl) })
		t.Run("attack 8: deleting a request in Verifying", func(t *testing.T) { t.Parallel(); deletedWhileVerifying(t, cl) })
	})
}

// requesterEdits gives alice the edit role in the app's namespaces, as a team
// that deploys its own workloads has.
func requesterEdits(t *testing.T, a *app) {
	t.Helper()
	for _, namespace := range []string{a.production, a.staging} {
		create(t, a.c, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "alice-edit", Namespace: namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: alice.user}},
		})
	}
}

// setSuspend has alice set spec.suspend.
func (a *app) setSuspend(r *release, suspend bool) {
	a.t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend))
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: r.key.Namespace, Name: r.key.Name}}
	if err := as(a.t, a.cl, alice).Patch(a.t.Context(), request, client.RawPatch(types.MergePatchType, patch)); err != nil {
		a.t.Fatalf("alice setting suspend=%t: %v", suspend, err)
	}
}

// waitForPlantedObject waits until the request's conditions say text and a
// Warning Event PlantedObject was recorded for it.
func waitForPlantedObject(t *testing.T, c client.Client, r *release, text string) {
	t.Helper()
	cluster.Eventually(t, timeout, "golive to report "+text, func(ctx context.Context) (bool, string, error) {
		request := r.current()
		said := false
		for _, condition := range request.Status.Conditions {
			said = said || strings.Contains(condition.Message, text)
		}
		var events eventsv1.EventList
		if err := c.List(ctx, &events, client.InNamespace(r.key.Namespace)); err != nil {
			return false, "", err
		}
		reported := false
		for _, event := range events.Items {
			reported = reported || (event.Reason == golivev1alpha1.ReasonPlantedObject && event.Regarding.Name == r.key.Name)
		}
		return said && reported, fmt.Sprintf("said %t, Event %t: %s", said, reported, r.describe()), nil
	})
}

// plantedJob: alice plants a Job with the smoke check's name and labels,
// running true; the policy refuses it. Planted by break-glass, golive does not
// count it, names it, and runs its own Job once a person removed it.
func plantedJob(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "planted-job", alwaysOpen(), appOptions{})
	requesterEdits(t, a)
	imageBefore, generationBefore := a.productionImage()
	request := a.request("billing-2-4-6", "2.4.6")
	request.Spec.Suspend = true
	r := a.create(request)
	r.waitForReason(golivev1alpha1.ReasonSuspended)

	stored := r.current()
	name := verify.JobName(stored.Name, verify.EnvironmentStaging, "smoke", ledger.SpecHash(&stored.Spec))
	planted := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: a.staging, Labels: map[string]string{
			golivev1alpha1.LabelRequest: stored.Name, golivev1alpha1.LabelRequestNamespace: stored.Namespace,
			golivev1alpha1.LabelRequestUID: string(stored.UID), golivev1alpha1.LabelEnvironment: verify.EnvironmentStaging,
			golivev1alpha1.LabelCheck: "smoke", golivev1alpha1.LabelSpecHash: ledger.ShortSpecHash(ledger.SpecHash(&stored.Spec)),
		}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "smoke", Image: smokeImage, Command: []string{"true"}}}}}},
	}
	err := as(t, cl, alice).Create(t.Context(), planted.DeepCopy())
	if err == nil || !strings.Contains(err.Error(), ownedObjectsRefusal) {
		t.Fatalf("alice planting Job %s: %v, want the owned-objects policy's refusal", name, err)
	}
	t.Logf("alice was refused: %v", err)
	if err := as(t, cl, sre).Create(t.Context(), planted); err != nil {
		t.Fatalf("break-glass planting Job %s: %v", name, err)
	}

	a.setSuspend(r, false)
	waitForPlantedObject(t, a.c, r, "Job "+a.staging+"/"+name+" is not golive's (signature does not match); golive will not count it — delete it")
	if request := r.current(); request.Status.Phase != golivev1alpha1.PhaseVerifyingStaging {
		t.Errorf("phase %s, want VerifyingStaging: the planted Job must not verify staging", request.Status.Phase)
	}

	if err := as(t, cl, sre).Delete(t.Context(), planted, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if image, generation := a.productionImage(); image != imageBefore || generation != generationBefore {
		t.Errorf("production's %s is %s at generation %d, want untouched: %s at generation %d", api, image, generation, imageBefore, generationBefore)
	}
}

// plantedSavedSpecs: alice plants the request's saved specs with a backdoor
// image; the policy refuses it. Planted by break-glass, golive never adopts
// them: the backup stalls before production changes, and an abort ends the
// request with production as it was.
func plantedSavedSpecs(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "planted-specs", alwaysOpen(), appOptions{})
	requesterEdits(t, a)
	imageBefore, generationBefore := a.productionImage()
	request := a.request("billing-2-4-7", "2.4.7")
	request.Spec.Suspend = true
	r := a.create(request)
	r.waitForReason(golivev1alpha1.ReasonSuspended)
	stored := r.current()

	evil, err := json.Marshal(workload.SavedSpec{Kind: golivev1alpha1.TargetDeployment, Name: api, PodTemplate: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": api}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: apiContainer, Image: "evil/backdoor:1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	planted := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: workload.SavedSpecsName(stored.Name), Namespace: a.production,
			Labels: map[string]string{golivev1alpha1.LabelRequest: stored.Name, golivev1alpha1.LabelRequestUID: string(stored.UID)}},
		Data: map[string]string{"Deployment." + api: string(evil)},
	}
	err = as(t, cl, alice).Create(t.Context(), planted.DeepCopy())
	if err == nil || !strings.Contains(err.Error(), ownedObjectsRefusal) {
		t.Fatalf("alice planting ConfigMap %s: %v, want the owned-objects policy's refusal", planted.Name, err)
	}
	t.Logf("alice was refused: %v", err)
	if err := as(t, cl, sre).Create(t.Context(), planted); err != nil {
		t.Fatalf("break-glass planting ConfigMap %s: %v", planted.Name, err)
	}

	a.setSuspend(r, false)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
	waitForPlantedObject(t, a.c, r, "ConfigMap "+a.production+"/"+planted.Name+" is not golive's (signature does not match)")
	stalled := meta.FindStatusCondition(r.current().Status.Conditions, golivev1alpha1.ConditionStalled)
	if stalled == nil || stalled.Reason != golivev1alpha1.ReasonPlantedObject {
		t.Errorf("Stalled = %+v, want reason %s", stalled, golivev1alpha1.ReasonPlantedObject)
	}
	if image, generation := a.productionImage(); image != imageBefore || generation != generationBefore {
		t.Errorf("production's %s is %s at generation %d, want untouched: %s at generation %d", api, image, generation, imageBefore, generationBefore)
	}

	if err := command(t, cl, alice, r.key, golivev1alpha1.AnnotationAbort, "someone planted saved specs"); err != nil {
		t.Fatalf("alice aborting: %v", err)
	}
	cluster.Eventually(t, timeout, "the request to end", func(context.Context) (bool, string, error) {
		return r.current().Status.Phase.IsTerminal(), r.describe(), nil
	})
	if image, _ := a.productionImage(); image != imageBefore {
		t.Errorf("production's %s is %s after the abort, want %s (never the planted evil/backdoor:1)", api, image, imageBefore)
	}
}

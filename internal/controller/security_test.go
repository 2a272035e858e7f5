package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

// TestStatusWriteOutsideBreakGlassIsRefused: RBAC to write the status is not
// enough; the status policy refuses anyone but golive and the break-glass group.
func TestStatusWriteOutsideBreakGlassIsRefused(t *testing.T) {
	namespace := newNamespace(t)
	ctx := t.Context()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "status-writer-" + namespace},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{golivev1alpha1.GroupVersion.Group},
			Resources: []string{"updaterequests", "updaterequests/status"}, Verbs: []string{"get", "update", "patch"}}},
	}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), role) })
	const user = "mallory"
	env.BindClusterRole(t, namespace, role.Name, user)

	request := (&journey{production: namespace, staging: namespace + "-grey"}).newRequest("billing-2-4-0", nil)
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatal(err)
	}
	config := rest.CopyConfig(env.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	mallory, err := client.New(config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		var forged golivev1alpha1.UpdateRequest
		if err := mallory.Get(ctx, client.ObjectKeyFromObject(request), &forged); err != nil {
			return err.Error()
		}
		forged.Status.Phase = golivev1alpha1.PhaseScheduled
		err := mallory.Status().Update(ctx, &forged)
		switch {
		case err == nil:
			return "mallory's status write was allowed"
		case !strings.Contains(err.Error(), "updaterequests/status is written by golive alone") ||
			!strings.Contains(err.Error(), "mallory is not in the break-glass group "+testenv.BreakGlassGroup):
			return fmt.Sprintf("refused, but not by the status policy: %v", err)
		}
		return ""
	})
}

// forgeStatus writes the request's status as a break-glass member (the test's
// administrator) and pokes the request so that golive looks at it.
func (j *journey) forgeStatus(forge func(*golivev1alpha1.UpdateRequestStatus)) {
	j.t.Helper()
	request := j.current()
	base := request.DeepCopy()
	forge(&request.Status)
	if err := env.Client.Status().Patch(j.t.Context(), &request, client.MergeFrom(base)); err != nil {
		j.t.Fatalf("Forging the status: %v", err)
	}
	request = j.current()
	base = request.DeepCopy()
	metav1.SetMetaDataAnnotation(&request.ObjectMeta, "test.golive.dev/poke", "forged")
	if err := env.Client.Patch(j.t.Context(), &request, client.MergeFrom(base)); err != nil {
		j.t.Fatalf("Poking the request: %v", err)
	}
}

// TestForgedScheduledDoesNotReachProduction replays attack 1: a status writer
// moves a fresh request to Scheduled; golive re-derives the gates at the
// production start and changes nothing.
func TestForgedScheduledDoesNotReachProduction(t *testing.T) {
	j := newJourney(t)
	j.waitForImage(j.staging, newImage)
	j.forgeStatus(func(status *golivev1alpha1.UpdateRequestStatus) {
		status.Phase = golivev1alpha1.PhaseScheduled
		status.ApprovalSummary = "1/1"
		status.Staging = &golivev1alpha1.EnvironmentStatus{VerifiedAt: &metav1.Time{Time: journeyStart.Add(-72 * 3600e9)}}
	})
	request := j.waitForReady(golivev1alpha1.ReasonGateNotPassed, "Production was not started; gates not met")
	ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
	for _, gate := range []string{"staging: golive has no signed record", "approvals: the signed ledger does not meet the quorum"} {
		if !strings.Contains(ready.Message, gate) {
			t.Errorf("Ready message %q does not name the gate %q", ready.Message, gate)
		}
	}
	if request.Status.Phase != golivev1alpha1.PhaseScheduled || request.Status.Production != nil || request.Status.Backup != nil {
		t.Errorf("status = phase %s, production %+v, backup %+v; want Scheduled and nothing started", request.Status.Phase, request.Status.Production, request.Status.Backup)
	}
	j.productionUntouched()
}

// TestForgedUpdatingDoesNotApplyImages: a status that claims a production
// phase without golive's signed record of the start changes nothing.
func TestForgedUpdatingDoesNotApplyImages(t *testing.T) {
	j := newJourney(t)
	j.waitForImage(j.staging, newImage)
	j.forgeStatus(func(status *golivev1alpha1.UpdateRequestStatus) {
		status.Phase = golivev1alpha1.PhaseUpdating
		status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: &metav1.Time{Time: journeyStart}}
		status.Backup = &golivev1alpha1.BackupStatus{SavedSpecs: "billing-2-4-0-saved-specs", CompletedAt: &metav1.Time{Time: journeyStart}}
		status.GateRecords = []golivev1alpha1.GateRecord{{Gate: golivev1alpha1.GateProductionStarted, SpecHash: status.SpecHash,
			At: metav1.Time{Time: journeyStart}, Signature: "bm90IGdvbGl2ZSdz"}}
	})
	j.waitForReady(golivev1alpha1.ReasonStatusNotTrusted,
		"The status says phase Updating, but golive has no signed record that production started for this spec; nothing was changed")
	j.productionUntouched()
}

// TestCleanupFinalizerIsGolivesToRemove: a cluster administrator outside the
// break-glass group who deletes a request in production cannot strip golive's
// cleanup finalizer to skip the rollback; a break-glass member can.
func TestCleanupFinalizerIsGolivesToRemove(t *testing.T) {
	namespace := newNamespace(t)
	ctx := t.Context()
	request := (&journey{production: namespace, staging: namespace + "-grey"}).newRequest("billing-2-4-0", nil)
	request.Finalizers = []string{golivev1alpha1.FinalizerCleanup}
	// Suspended, so the test's operator leaves it as created.
	request.Spec.Suspend = true
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatal(err)
	}
	admin, err := env.ClientAs("cluster-admin-"+namespace, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		var stored golivev1alpha1.UpdateRequest
		if err := admin.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
			return err.Error()
		}
		base := stored.DeepCopy()
		stored.Finalizers = nil
		err := admin.Patch(ctx, &stored, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return "the administrator removed golive's cleanup finalizer"
		case !strings.Contains(err.Error(), "metadata.finalizers: golive.dev/cleanup is removed by golive alone") ||
			!strings.Contains(err.Error(), "is not in the break-glass group "+testenv.BreakGlassGroup):
			return fmt.Sprintf("refused, but not by the cleanup-finalizer policy: %v", err)
		}
		return ""
	})
	var stored golivev1alpha1.UpdateRequest
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(request), &stored); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(stored.Finalizers, golivev1alpha1.FinalizerCleanup) {
		t.Fatalf("finalizers %v after the refusal, want golive's kept", stored.Finalizers)
	}
	// Other finalizers stay anyone's to manage.
	base := stored.DeepCopy()
	stored.Finalizers = append(stored.Finalizers, "example.com/keep")
	if err := admin.Patch(ctx, &stored, client.MergeFrom(base)); err != nil {
		t.Errorf("adding another finalizer: %v", err)
	}
	base = stored.DeepCopy()
	stored.Finalizers = []string{golivev1alpha1.FinalizerCleanup}
	if err := admin.Patch(ctx, &stored, client.MergeFrom(base)); err != nil {
		t.Errorf("removing the other finalizer: %v", err)
	}
	// The break-glass group (the test's administrator) may repair.
	base = stored.DeepCopy()
	stored.Finalizers = nil
	if err := env.Client.Patch(ctx, &stored, client.MergeFrom(base)); err != nil {
		t.Errorf("break-glass removing the finalizer: %v", err)
	}
}

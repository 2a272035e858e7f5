package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// deleteRequest deletes the journey's request as its owner would.
func (j *journey) deleteRequest() {
	j.t.Helper()
	request := j.current()
	if err := env.Client.Delete(j.t.Context(), &request); err != nil {
		j.t.Fatalf("Deleting the request: %v", err)
	}
}

// waitUntilGone waits until the journey's request no longer exists.
func (j *journey) waitUntilGone() {
	j.t.Helper()
	eventually(j.t, func(ctx context.Context) string {
		var request golivev1alpha1.UpdateRequest
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(j.request), &request)
		switch {
		case apierrors.IsNotFound(err):
			return ""
		case err != nil:
			return err.Error()
		}
		return fmt.Sprintf("the request is still there in %s (finalizers %v)", request.Status.Phase, request.Finalizers)
	})
}

// TestDeletedEmergencyStillUsesTheBudget replays attack 7: deleting an
// emergency request after its production update does not give its place in
// the budget back; the window's record of the start keeps it counted.
func TestDeletedEmergencyStillUsesTheBudget(t *testing.T) {
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "card payments fail", Incident: "INC-4711"}
	}
	j := newJourney(t, withRequest(emergency), withWindow(func(spec *golivev1alpha1.GoLiveWindowSpec) {
		spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 1, Period: metav1.Duration{Duration: 720 * time.Hour}}
	}))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.approve("erin", "cto")
	j.waitForImageAndRollOut(j.production, newImage)
	first := j.waitForPhase(golivev1alpha1.PhaseSucceeded)

	j.deleteRequest()
	j.waitUntilGone()
	eventually(t, func(ctx context.Context) string {
		var glw golivev1alpha1.GoLiveWindow
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: j.production, Name: "always"}, &glw); err != nil {
			return err.Error()
		}
		recorded := slices.ContainsFunc(glw.Status.EmergencyStarts, func(start golivev1alpha1.EmergencyStart) bool {
			return start.UID == string(first.UID) && start.Request == first.Name && start.At.Equal(first.Status.Production.StartedAt)
		})
		if !recorded || glw.Status.EmergencyUsed != 1 {
			return fmt.Sprintf("window status: emergencyStarts %+v, emergencyUsed %d; want the deleted request's start, counted", glw.Status.EmergencyStarts, glw.Status.EmergencyUsed)
		}
		return ""
	})

	j.secondEmergencyOverBudget(emergency, "cto", "allows 1 emergency updates per 720h0m0s and 1 were used")
	if got := j.image(j.production); got != newImage {
		t.Fatalf("production runs %s, want %s: the budget was used by the deleted request", got, newImage)
	}
}

// TestDeletingDuringVerificationRollsBackFirst replays attack 8: a request
// deleted while production is verified is aborted; golive rolls production
// back from the saved specs, which the request still owns, and only then lets
// the request go.
func TestDeletingDuringVerificationRollsBackFirst(t *testing.T) {
	j := newJourney(t, withRequest(productionSmoke))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	verifying := j.waitForPhase(golivev1alpha1.PhaseVerifying)
	savedSpecs := client.ObjectKey{Namespace: j.production, Name: verifying.Status.Backup.SavedSpecs}

	j.deleteRequest()
	request := j.waitForPhase(golivev1alpha1.PhaseRollingBack)
	if request.DeletionTimestamp.IsZero() || request.Status.Rollback == nil || request.Status.Rollback.Reason != lifecycle.DeletedMessage {
		t.Errorf("deleting %v, rollback %+v; want a rollback because %q", request.DeletionTimestamp, request.Status.Rollback, lifecycle.DeletedMessage)
	}
	if last := request.Status.Timeline[len(request.Status.Timeline)-1]; last.Event != golivev1alpha1.ReasonAborted || !strings.Contains(last.Message, lifecycle.DeletedMessage) {
		t.Errorf("last timeline entry = %+v, want the abort by deletion", last)
	}
	var saved corev1.ConfigMap
	if err := env.Client.Get(t.Context(), savedSpecs, &saved); err != nil {
		t.Fatalf("The saved specs are needed for the rollback: %v", err)
	}

	j.waitForImageAndRollOut(j.production, previousImage)
	j.waitUntilGone()
	if got := j.image(j.production); got != previousImage {
		t.Errorf("production runs %s after the deleted request went, want %s", got, previousImage)
	}
}

package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// worldOf is a cluster in which every reference of makeRequest resolves and
// both targets run the new images in both environments.
func worldOf(request *golivev1alpha1.UpdateRequest) lifecycle.World {
	targets := func() []lifecycle.TargetObservation {
		return []lifecycle.TargetObservation{
			{Found: true, ImagesApplied: true, Health: lifecycle.Healthy},
			{Found: true, ImagesApplied: true, Health: lifecycle.Healthy},
		}
	}
	// The requests are in states golive made, so golive holds signed records of them.
	var attested lifecycle.Attested
	if request.Status.Staging != nil && request.Status.Staging.VerifiedAt != nil {
		attested.StagingVerifiedAt = request.Status.Staging.VerifiedAt.Time
		attested.StagingFirstVerifiedAt = attested.StagingVerifiedAt
	}
	attested.ProductionStarted = request.Status.Production != nil && request.Status.Production.StartedAt != nil
	return lifecycle.World{
		Attested:         attested,
		SpecHash:         request.Status.SpecHash,
		RequestedBy:      "alice@example.com",
		StagingNamespace: lifecycle.NamespaceObservation{Found: true, OptedIn: true},
		Window:           lifecycle.WindowObservation{Found: true, Spec: thursdayEvening().Spec},
		Staging:          lifecycle.EnvironmentObservation{Targets: targets()},
		Production:       lifecycle.EnvironmentObservation{Targets: targets()},
		Backup:           lifecycle.BackupObservation{SnapshotClassFound: true, SavedSpecs: "billing-2-4-0-saved-specs"},
	}
}

// The deadlines status shows are the instants golive itself waits for: the
// decision golive makes for the request requeues for exactly then.
func TestDeadlinesAreWhatGoliveWaitsFor(t *testing.T) {
	approvals := []lifecycle.Command{
		{Action: lifecycle.ActionApprove, User: "bob@example.com", Role: "rnd-lead", At: utc("2026-11-20T10:00:00Z")},
		{Action: lifecycle.ActionApprove, User: "carol@example.com", Role: "operations-office", At: utc("2026-11-20T10:30:00Z")},
		{Action: lifecycle.ActionApprove, User: "dave@example.com", Role: "operations-office", At: utc("2026-11-20T11:00:00Z")},
	}
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		world   func(*lifecycle.World)
	}{
		{
			name: "staging verification",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.ReasonProgressing, "")).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-11-23T09:57:00Z"), TargetsApplied: 2}
			}).Obj(),
			world: func(w *lifecycle.World) { w.Staging.Verification.State = lifecycle.VerificationRunning },
		},
		{
			name:    "soak",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSoaking, golivev1alpha1.ReasonSoaking, "")).Mutate(verifiedStaging("2026-11-23T09:00:00Z")).Obj(),
		},
		{
			name:    "planned start",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseScheduled, golivev1alpha1.ReasonWindowClosed, "")).Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Obj(),
			world:   func(w *lifecycle.World) { w.Commands = approvals },
		},
		{
			name: "backup",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseBackingUp, golivev1alpha1.ReasonProgressing, "")).Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
				r.Spec.Backup.VolumeSnapshotClassName = "csi-snapclass"
				r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-11-23T09:55:00Z")}
			}).Obj(),
			world: func(w *lifecycle.World) {
				w.Commands = approvals
				w.Backup.Claims = []string{"billing-data"}
				w.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "billing-data", VolumeSnapshot: "billing-2-4-0-billing-data"}}
			},
		},
		{
			name: "production verification",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseVerifying, golivev1alpha1.ReasonProgressing, "")).Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-11-23T09:50:00Z"), UpdatedAt: at("2026-11-23T09:55:00Z"), TargetsApplied: 2}
				r.Status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: at("2026-11-23T09:51:00Z"), SavedSpecs: "billing-2-4-0-saved-specs"}
			}).Obj(),
			world: func(w *lifecycle.World) {
				w.Commands = approvals
				w.Production.Verification.State = lifecycle.VerificationRunning
			},
		},
		{
			name: "acceptance",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.ReasonWaiting, "")).Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at("2026-11-23T08:50:00Z"), VerifiedAt: at("2026-11-23T09:05:00Z"), TargetsApplied: 2}
				r.Status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: at("2026-11-23T08:51:00Z"), SavedSpecs: "billing-2-4-0-saved-specs"}
			}).Obj(),
			world: func(w *lifecycle.World) { w.Commands = approvals },
		},
		{
			name: "retention after the end",
			request: makeRequest().Mutate(inPhase(golivev1alpha1.PhaseSucceeded, golivev1alpha1.ReasonSucceeded, "")).Mutate(verifiedStaging("2026-11-18T09:10:00Z")).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.CompletedAt = at("2026-11-20T21:00:00Z")
				r.Status.Backup = &golivev1alpha1.BackupStatus{CompletedAt: at("2026-11-20T19:05:00Z"), SavedSpecs: "billing-2-4-0-saved-specs"}
			}).Obj(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			world := worldOf(tc.request)
			if tc.world != nil {
				tc.world(&world)
			}
			decision := lifecycle.Decide(tc.request, world, monday)
			if decision.RequeueAfter <= 0 {
				t.Fatalf("golive does not wait for a time in %s (action %s)", decision.Status.Phase, decision.Action.Kind)
			}
			request := tc.request.DeepCopy()
			request.Status = decision.Status
			var shown []time.Time
			for _, d := range deadlines(request) {
				shown = append(shown, d.At)
			}
			wait := monday.Add(decision.RequeueAfter)
			if len(shown) == 0 || !shown[len(shown)-1].Equal(wait) {
				t.Errorf("%s: status shows %v; golive waits until %s", decision.Status.Phase, shown, wait)
			}
		})
	}
}

func TestQuorums(t *testing.T) {
	record := func(role, user string) golivev1alpha1.ApprovalRecord {
		return golivev1alpha1.ApprovalRecord{Role: role, User: user, At: *at("2026-11-23T09:00:00Z")}
	}
	emergency := func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "Payment outage"}
	}
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		window  *golivev1alpha1.GoLiveWindow
		want    []quorum
	}{
		{
			name: "each approval counts for its role",
			request: makeRequest().Approved("operations-office", "carol@example.com", utc("2026-11-23T09:00:00Z"), "").
				Approved("rnd-lead", "bob@example.com", utc("2026-11-23T09:00:00Z"), "").Obj(),
			want: []quorum{
				{Roles: []string{"rnd-lead"}, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("rnd-lead", "bob@example.com")}},
				{Roles: []string{"operations-office"}, Required: 2, Approvals: []golivev1alpha1.ApprovalRecord{record("operations-office", "carol@example.com")}},
			},
		},
		{
			name:    "an emergency needs one of the window's emergency roles",
			request: makeRequest().Mutate(emergency).Approved("ciso", "frank@example.com", utc("2026-11-23T09:00:00Z"), "").Obj(),
			window:  thursdayEvening(),
			want: []quorum{
				{Roles: []string{"rnd-lead"}, Required: 1},
				{Roles: []string{"operations-office"}, Required: 2},
				{Roles: []string{"cto", "ciso"}, Emergency: true, Required: 1, Approvals: []golivev1alpha1.ApprovalRecord{record("ciso", "frank@example.com")}},
			},
		},
		{
			name:    "without the window the emergency roles are unknown",
			request: makeRequest().Mutate(emergency).Obj(),
			want: []quorum{
				{Roles: []string{"rnd-lead"}, Required: 1},
				{Roles: []string{"operations-office"}, Required: 2},
				{Emergency: true, Required: 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, quorums(tc.request, tc.window)); diff != "" {
				t.Errorf("quorums (-want +got):\n%s", diff)
			}
		})
	}
}

package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestDeadlines(t *testing.T) {
	base := func() *testfixtures.UpdateRequestWrapper {
		return testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Staging("billing-grey").Soak(48 * time.Hour).
			StagingVerifyTimeout(10 * time.Minute).VerifyTimeout(20 * time.Minute)
	}
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		want    []Deadline
	}{
		{
			name:    "staging verification counts from staging's start",
			request: base().Phase(golivev1alpha1.PhaseVerifyingStaging).StagingStarted(monday).Obj(),
			want:    []Deadline{{At: monday.Add(10 * time.Minute), What: "staging verification times out: Failed, production untouched", Then: golivev1alpha1.PhaseFailed}},
		},
		{
			name:    "the soak ends soak after staging verified",
			request: base().Phase(golivev1alpha1.PhaseSoaking).StagingVerified(monday).Obj(),
			want:    []Deadline{{At: monday.Add(48 * time.Hour), What: "soak ends", Then: golivev1alpha1.PhaseAwaitingApproval}},
		},
		{
			name:    "an emergency does not soak",
			request: base().Emergency("outage").Phase(golivev1alpha1.PhaseSoaking).StagingVerified(monday).Obj(),
			want:    []Deadline{{At: monday, What: "soak ends", Then: golivev1alpha1.PhaseAwaitingApproval}},
		},
		{
			name: "a schedule shows the earliest and the planned start",
			request: base().Phase(golivev1alpha1.PhaseScheduled).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Schedule = &golivev1alpha1.ScheduleStatus{Window: "thursday-evening", NotBefore: at(monday), PlannedStart: at(plannedThursday)}
			}).Obj(),
			want: []Deadline{
				{At: monday, What: "earliest start after soak and lead time"},
				{At: plannedThursday, What: "planned start of production in window thursday-evening", Then: golivev1alpha1.PhaseBackingUp},
			},
		},
		{
			name:    "the backup times out after BackupTimeout",
			request: base().Phase(golivev1alpha1.PhaseBackingUp).ProductionStarted(monday).Obj(),
			want:    []Deadline{{At: monday.Add(BackupTimeout), What: "backup times out: RollingBack", Then: golivev1alpha1.PhaseRollingBack}},
		},
		{
			name:    "production verification counts from the end of the backup",
			request: base().Phase(golivev1alpha1.PhaseUpdating).ProductionStarted(monday).BackedUp("saved", monday.Add(time.Minute)).Obj(),
			want: []Deadline{{At: monday.Add(21 * time.Minute), What: "production verification times out: RollingBack",
				Then: golivev1alpha1.PhaseRollingBack}},
		},
		{
			name: "the acceptance times out as onTimeout says",
			request: base().Acceptance("business-owner", 24*time.Hour, golivev1alpha1.RollBackOnTimeout).Phase(golivev1alpha1.PhaseAwaitingAcceptance).
				Mutate(func(r *golivev1alpha1.UpdateRequest) {
					r.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: at(monday), VerifiedAt: at(monday)}
				}).Obj(),
			want: []Deadline{{At: monday.Add(24 * time.Hour), What: "acceptance by business-owner times out: RollingBack (spec.acceptance.onTimeout)",
				Then: golivev1alpha1.PhaseRollingBack}},
		},
		{
			name: "an ended request's backups expire",
			request: base().Phase(golivev1alpha1.PhaseSucceeded).BackedUp("saved", monday).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Backup.ExpiresAt = at(monday.Add(168 * time.Hour))
			}).Obj(),
			want: []Deadline{{At: monday.Add(168 * time.Hour), What: "snapshots and saved specs are deleted (spec.backup.retention)"}},
		},
		{
			name:    "waits on people have no deadline",
			request: base().Phase(golivev1alpha1.PhaseAwaitingApproval).StagingVerified(monday).Obj(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Deadlines(tc.request)); diff != "" {
				t.Errorf("Deadlines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerificationStart(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "r").StagingStarted(monday).BackedUp("saved", monday.Add(time.Hour)).Obj()
	for env, want := range map[Environment]time.Time{Staging: monday, Production: monday.Add(time.Hour)} {
		if got := VerificationStart(request, env); !got.Equal(want) {
			t.Errorf("VerificationStart(%s) = %s, want %s", env, got, want)
		}
	}
}

func TestSoakEnd(t *testing.T) {
	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").Staging("billing-grey").Soak(48 * time.Hour)
	if _, ok := SoakEnd(request.Phase(golivev1alpha1.PhaseStaging).Obj()); ok {
		t.Error("SoakEnd before staging verified: want none")
	}
	if got, ok := SoakEnd(request.Phase(golivev1alpha1.PhaseAwaitingApproval).StagingVerified(monday).Obj()); !ok || !got.Equal(monday.Add(48*time.Hour)) {
		t.Errorf("SoakEnd = %v, %t; want %v", got, ok, monday.Add(48*time.Hour))
	}
	if got := Soak(&request.Obj().Spec); got != 48*time.Hour {
		t.Errorf("Soak = %s, want spec.staging.soak 48h", got)
	}
	emergency := request.Emergency("outage").Obj()
	if got, ok := SoakEnd(emergency); !ok || !got.Equal(monday) {
		t.Errorf("SoakEnd of an emergency = %v, %t; want staging's verification %v", got, ok, monday)
	}
	if got := Soak(&emergency.Spec); got != 0 {
		t.Errorf("Soak of an emergency = %s, want none", got)
	}
}

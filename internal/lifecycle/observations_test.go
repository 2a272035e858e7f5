package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestObservationsNeeded(t *testing.T) {
	const currentHash = "sha256:current"
	targets := Needs{StagingTargets: true, ProductionTargets: true}
	with := func(change func(*Needs)) Needs {
		needs := targets
		change(&needs)
		return needs
	}
	volumes := func() *testfixtures.UpdateRequestWrapper {
		return testfixtures.MakeUpdateRequest("billing", "r").SnapshotVolumes(map[string]string{"app": "billing"}, "csi-snapclass")
	}
	// changed is a request in phase whose spec changed since status.specHash was recorded.
	changed := func(request *testfixtures.UpdateRequestWrapper) *testfixtures.UpdateRequestWrapper {
		return request.SpecHash("sha256:before-the-edit")
	}
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		want    Needs
	}{
		{name: "a new request looks for the lock holder",
			request: testfixtures.MakeUpdateRequest("billing", "r").Obj(), want: with(func(n *Needs) { n.LockHolder = true })},
		{name: "a pending request with volumes reads the claims",
			request: volumes().Phase(golivev1alpha1.PhasePending).Obj(), want: with(func(n *Needs) { n.LockHolder, n.BackupClaims = true, true })},
		{name: "staging reads its verification",
			request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseStaging).StagingStarted(monday).Obj(),
			want:    with(func(n *Needs) { n.StagingVerification = true })},
		{name: "soaking reads the targets only",
			request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseSoaking).StagingVerified(monday).Obj(), want: targets},
		{name: "a quiesced backup with volumes reads what stopped, the claims and the snapshots",
			request: volumes().Quiesce(golivev1alpha1.QuiesceScaleToZero).Phase(golivev1alpha1.PhaseBackingUp).ProductionStarted(monday).Obj(),
			want:    with(func(n *Needs) { n.Stopped, n.BackupClaims, n.Snapshots = true, true, true })},
		{name: "production reads its verification once backed up",
			request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseVerifying).ProductionStarted(monday).BackedUp("saved", monday).Obj(),
			want:    with(func(n *Needs) { n.ProductionVerification = true })},
		{name: "a rollback reads the restored specs and the data restore",
			request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseRollingBack).BackedUp("saved", monday).Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Backup.Snapshots = []golivev1alpha1.SnapshotStatus{{Claim: "data"}}
				r.Status.Rollback = &golivev1alpha1.RollbackStatus{}
			}).Obj(),
			want: with(func(n *Needs) { n.SavedSpecRestored, n.DataRestore = true, true })},
		{name: "staging with configuration and migrations reads the copies and the Jobs in the grey namespace",
			request: testfixtures.MakeUpdateRequest("billing", "r").ConfigMap("billing-config", map[string]string{"A": "1"}).Migration("schema", "migrate:1").
				Phase(golivev1alpha1.PhaseStaging).StagingStarted(monday).Obj(),
			want: with(func(n *Needs) { n.Config, n.StagingContent, n.StagingVerification = true, true, true })},
		{name: "production reads its copies and migrations once backed up, not before",
			request: testfixtures.MakeUpdateRequest("billing", "r").Migration("schema", "migrate:1").
				Phase(golivev1alpha1.PhaseUpdating).ProductionStarted(monday).BackedUp("saved", monday).Obj(),
			want: with(func(n *Needs) { n.Config, n.ProductionContent, n.ProductionVerification = true, true, true })},
		{name: "a backup with Jobs reads them",
			request: testfixtures.MakeUpdateRequest("billing", "r").Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Spec.Backup.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-dump"}}
			}).Phase(golivev1alpha1.PhaseBackingUp).ProductionStarted(monday).Obj(),
			want: with(func(n *Needs) { n.BackupJobs = true })},
		{name: "a rollback with restore Jobs reads them",
			request: testfixtures.MakeUpdateRequest("billing", "r").Mutate(func(r *golivev1alpha1.UpdateRequest) {
				r.Spec.Rollback.Jobs = []golivev1alpha1.ReleaseJob{{Name: "pg-restore"}}
				r.Status.Rollback = &golivev1alpha1.RollbackStatus{}
			}).Phase(golivev1alpha1.PhaseRollingBack).BackedUp("saved", monday).Obj(),
			want: with(func(n *Needs) { n.SavedSpecRestored, n.RollbackJobs = true, true })},
		{name: "an edit in staging sends the request back to Pending, which reads the claims and the lock holder",
			request: changed(volumes().Phase(golivev1alpha1.PhaseVerifyingStaging).StagingStarted(monday)).Obj(),
			want:    with(func(n *Needs) { n.LockHolder, n.BackupClaims = true, true })},
		{name: "an edit after approval sends the request back to Pending too",
			request: changed(volumes().Phase(golivev1alpha1.PhaseScheduled).StagingVerified(monday)).Obj(),
			want:    with(func(n *Needs) { n.LockHolder, n.BackupClaims = true, true })},
		{name: "an edit from BackingUp on stalls the request where it is",
			request: changed(volumes().Phase(golivev1alpha1.PhaseBackingUp).ProductionStarted(monday)).Obj(),
			want:    with(func(n *Needs) { n.BackupClaims, n.Snapshots = true, true })},
		{name: "an ended request reads its snapshots' expiry only",
			request: testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseSucceeded).Completed(monday.Add(time.Hour)).Obj(),
			want:    Needs{SnapshotExpiry: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ObservationsNeeded(tc.request, currentHash)); diff != "" {
				t.Errorf("ObservationsNeeded (-want +got):\n%s", diff)
			}
		})
	}
}

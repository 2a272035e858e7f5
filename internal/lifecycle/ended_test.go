package lifecycle

import (
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecideEnded(t *testing.T) {
	testDecide(t, []decideCase{
		// Ended.
		{
			name: "an ended request's backups are deleted once the retention passed",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseSucceeded, monday.Add(-200*time.Hour))
				r.Status.CompletedAt = at(monday.Add(-169 * time.Hour))
			},
			want: want{phase: golivev1alpha1.PhaseSucceeded, action: Action{Kind: DeleteBackups}},
		},
		{
			name: "deleted backups leave nothing to do",
			request: func(r *golivev1alpha1.UpdateRequest) {
				inProduction(r, golivev1alpha1.PhaseRolledBack, monday.Add(-200*time.Hour))
				r.Status.CompletedAt = at(monday.Add(-169 * time.Hour))
			},
			world: func(w *World) { w.BackupsDeleted = true },
			want:  want{phase: golivev1alpha1.PhaseRolledBack, stalled: string(golivev1alpha1.PhaseRolledBack)},
		},
	})
}

package lifecycle

import (
	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// ended puts the staging targets back when the release did not reach
// production (spec.staging.onFailure), keeps the backups for the retention,
// then deletes them.
func (d *decider) ended() {
	if d.status.CompletedAt == nil {
		d.status.CompletedAt = d.timestamp()
	}
	if !d.stagingRestored() {
		return
	}
	backup := d.status.Backup
	if backup == nil || (backup.SavedSpecs == "" && len(backup.Snapshots) == 0) {
		return
	}
	if backup.ExpiresAt == nil {
		backup.ExpiresAt = timePtr(retentionExpiry(d.spec, &d.status))
	}
	if d.now.Before(backup.ExpiresAt.Time) {
		d.waitUntil(backup.ExpiresAt.Time)
		if len(backup.Snapshots) > 0 && !d.world.Backup.ExpiryMarked {
			d.act(MarkExpiry, 0)
		}
		return
	}
	if !d.world.BackupsDeleted {
		d.act(DeleteBackups, 0)
	}
}

// end moves the request to a terminal phase.
func (d *decider) end(phase golivev1alpha1.Phase, reason, message, actor string) {
	d.status.CompletedAt = d.timestamp()
	d.progress(reason, message)
	d.enterAs(phase, reason, message, actor)
}

// Package backup takes and restores the volume part of an UpdateRequest's
// backup: it selects the claims, quiesces the targets, cuts a CSI
// VolumeSnapshot of every claim, deletes the snapshots when their retention
// ends, and on rollback replaces each claim with one restored from its
// snapshot, keeping the failed version's volume.
//
// Every function takes a client and keeps no state. Each observes first and
// then takes at most the next step, so that a call repeated after a crash at
// any instant never does anything twice and never loses a snapshot or a
// volume: what was done is read back from labels and annotations on the
// objects themselves (VolumeSnapshots, PersistentVolumes, claims) or from the
// counts the caller recorded in status.
//
// Snapshots are not owned by the request: deleting the request or pruning it
// from Git must not delete them early. They carry the request's labels, and
// controller.SnapshotRetentionReconciler deletes them when the expiry that MarkExpiry
// stamps on them has passed, whether the request still exists or not.
package backup

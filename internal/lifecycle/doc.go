// Package lifecycle decides what an UpdateRequest does next. It is pure: from
// the request, what the controller observed of the cluster and the instant now,
// Decide returns the status to record, at most one action to take, how long to
// wait before looking again, and the Events to tell people.
//
// The status is the record and the source of truth for progress: every step
// that changes the cluster is recorded (a timestamp, a count of targets done)
// before the controller takes it, and every later decision derives from those
// records and fresh observations, so a controller killed at any instant
// resumes without doing anything twice. Actions are idempotent (server-side
// apply, deterministic names), so repeating the one in flight is harmless.
//
// Waits are never polls: a decision that waits returns the exact time until
// the soak ends, the window opens or the acceptance times out; everything else
// (a rollout, a Job, an approval) wakes the controller through its watches.
package lifecycle

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
// A decision that waits for a time returns exactly the time until it comes:
// the soak's end, the planned start, a timeout, the next HTTP probe, the end
// of retention (Deadlines lists them). What golive watches (a rollout, a Job,
// an approval, the window's running updates) wakes the controller through its
// watches. Two waits have nothing to watch without caching every pod and
// claim of the cluster, pods stopping and claims being restored; for those
// the decision polls, looking again after PollInterval while in that step.
//
// The package is the one home of the release process's rules: the phase
// order (PhaseOrder), which phases run a production update
// (RunsProductionUpdate), the deadlines, the approval tally, which commands a
// phase allows (CommandAllowed) and what the controller must observe
// (ObservationsNeeded). The controller, the webhook, the kubectl plugin and
// the metrics ask it rather than re-derive them.
package lifecycle

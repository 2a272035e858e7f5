// Package notify posts notices of an UpdateRequest (its phase changes, its
// outcome, its window's advance notices) to the request's webhooks, in
// golive's Generic JSON, a Slack-compatible message or a CloudEvent.
//
// Sending never holds up a release: the controller hands notices to a
// Dispatcher after the status that records them was stored, and the
// Dispatcher posts them from a bounded queue with a few workers, each attempt
// bounded by a timeout, retried with backoff on server errors, throttling and
// network errors. Notices are delivered at most once: one still queued when
// golive stops is lost.
package notify

package controller

import (
	"context"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/notify"
)

// statusRecorded tells, once, what a status patch just stored: the notices
// to the request's webhooks and the metrics of what changed. It runs only
// after the patch succeeded, so a decision refused as stale tells nothing.
func (r *UpdateRequestReconciler) statusRecorded(ctx context.Context, request *golivev1alpha1.UpdateRequest,
	before *golivev1alpha1.UpdateRequestStatus, events []lifecycle.Event, now time.Time) {
	r.notifyRecorded(ctx, request, events, now)
	r.observeRecorded(ctx, request, before, now)
}

// notifyRecorded hands the decision's notices (phase changes, the outcome,
// advance notices) to the Notifier, which never blocks.
func (r *UpdateRequestReconciler) notifyRecorded(ctx context.Context, request *golivev1alpha1.UpdateRequest, events []lifecycle.Event, now time.Time) {
	if r.Notifier == nil || len(request.Spec.Notify.Webhooks) == 0 {
		return
	}
	var plannedStart *time.Time
	if schedule := request.Status.Schedule; schedule != nil && schedule.PlannedStart != nil {
		plannedStart = &schedule.PlannedStart.Time
	}
	var migrations []string
	for _, migration := range request.Spec.Migrations {
		migrations = append(migrations, migration.Name)
	}
	for _, event := range events {
		if !event.Notify {
			continue
		}
		r.Notifier.Enqueue(ctx, notify.Notice{
			Namespace: request.Namespace, Name: request.Name, UID: request.UID, Release: request.Spec.Release,
			Phase: event.Phase, PreviousPhase: event.PreviousPhase, Reason: event.Reason, Message: event.Message,
			Warning: event.Warning, Time: now, PlannedStart: plannedStart,
			Config: request.Status.Config, Migrations: migrations,
		}, request.Spec.Notify.Webhooks)
	}
}

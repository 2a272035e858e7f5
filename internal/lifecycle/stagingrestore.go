package lifecycle

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// StagingRestorePending reports whether request changed the staging targets
// (their specs from before are saved) and would put them back were it to end
// now without its release in production, or does so now that it ended: it
// keeps its targets until then (ClaimsTargets), and a deleted request is kept
// until then (MayRemoveOnDelete).
func StagingRestorePending(request *golivev1alpha1.UpdateRequest) bool {
	return stagingRestorePending(&request.Spec, &request.Status)
}

func stagingRestorePending(spec *golivev1alpha1.UpdateRequestSpec, status *golivev1alpha1.UpdateRequestStatus) bool {
	restore := status.StagingRestore
	return restore != nil && restore.SavedSpecs != "" && restore.RestoredAt == nil &&
		spec.Staging.OnFailure != golivev1alpha1.KeepStagingOnFailure && status.Phase != golivev1alpha1.PhaseSucceeded
}

// stagingSpecsSaved makes sure the staging targets' specs are saved before
// the first of them changes, and records the ConfigMap; it reports whether
// they are. They are saved whatever spec.staging.onFailure says, which may
// change before the request ends. A ConfigMap at that name that is not
// golive's is never adopted: the request stalls before staging changes.
func (d *decider) stagingSpecsSaved() bool {
	saved := d.world.StagingSavedSpecs
	if saved.NotOurs != "" {
		message := "Staging stopped before a staging target changed: " + saved.NotOurs
		if stalled := meta.FindStatusCondition(d.status.Conditions, golivev1alpha1.ConditionStalled); stalled == nil || stalled.Message != message {
			d.warn(golivev1alpha1.ReasonPlantedObject, saved.NotOurs)
		}
		d.stall(golivev1alpha1.ReasonPlantedObject, message)
		return false
	}
	if saved.Name == "" || !saved.Complete {
		d.act(SaveStagingSpecs, 0)
		d.progress(golivev1alpha1.ReasonProgressing, "Saving the staging workload specs")
		return false
	}
	if d.status.StagingRestore == nil {
		d.status.StagingRestore = &golivev1alpha1.StagingRestoreStatus{}
	}
	d.status.StagingRestore.SavedSpecs = saved.Name
	return true
}

// stagingRestored puts the staging targets of a request that ended without
// its release in production back on their saved specs, one per decision, and
// then records the restore; it reports whether nothing is left to do. The
// ended request keeps its targets meanwhile. A target that is gone, or
// whose spec golive cannot trust, is left as it is, and the record says so.
func (d *decider) stagingRestored() bool {
	if !stagingRestorePending(d.spec, &d.status) {
		return true
	}
	if !ObservationsNeeded(d.request, d.world.SpecHash).StagingRestore {
		// The request ended in this very decision: the controller did not
		// read the staging targets against their saved specs yet.
		d.observeAgain = true
		return false
	}
	restore := d.status.StagingRestore
	saved := d.world.StagingSavedSpecs
	if saved.Name == "" {
		why := saved.NotOurs
		if why == "" {
			why = fmt.Sprintf("the saved specs ConfigMap %s no longer exists", restore.SavedSpecs)
		}
		if saved.NotOurs != "" {
			d.warn(golivev1alpha1.ReasonPlantedObject, saved.NotOurs)
		}
		d.finishStagingRestore(nil, []string{"every target, as " + why})
		return true
	}
	var restored, left []string
	for i, target := range d.spec.Targets {
		t := observed(d.world.Staging.Targets, i)
		name := fmt.Sprintf("%s %q", target.Kind, target.Name)
		switch {
		case !t.Found:
			left = append(left, name+", which no longer exists")
		case !t.Saved:
			left = append(left, name+", which has no saved spec")
		case !t.Restored:
			restore.TargetsRestored = int32(i)
			d.act(RestoreStagingTarget, i)
			return false
		default:
			restored = append(restored, name)
		}
	}
	restore.TargetsRestored = int32(len(d.spec.Targets))
	d.finishStagingRestore(restored, left)
	return true
}

// finishStagingRestore records the end of the staging restore, in the
// timeline and as an Event: StagingRestored, or StagingNotRestored (a
// Warning) naming what was left as it is.
func (d *decider) finishStagingRestore(restored, left []string) {
	restore := d.status.StagingRestore
	restore.RestoredAt = d.timestamp()
	message := fmt.Sprintf("Restored %s in namespace %q to their specs from before this request", strings.Join(restored, ", "), d.spec.Staging.Namespace)
	reason, warning := golivev1alpha1.ReasonStagingRestored, false
	if len(left) > 0 {
		reason, warning = golivev1alpha1.ReasonStagingNotRestored, true
		if len(restored) == 0 {
			message = "Restored no staging target"
		}
		message += fmt.Sprintf("; left as they are in namespace %q: %s", d.spec.Staging.Namespace, strings.Join(left, "; "))
	}
	restore.Message = message
	d.note(reason, message, warning)
}

// note records something that happened without a phase change, in the
// timeline and as an Event.
func (d *decider) note(reason, message string, warning bool) {
	d.status.Timeline = append(d.status.Timeline, golivev1alpha1.TimelineEntry{
		At: metav1.NewTime(d.now), Phase: d.status.Phase, Actor: Actor, Event: reason, Message: message,
	})
	d.trimTimeline()
	d.events = append(d.events, Event{Warning: warning, Reason: reason, Message: message, Phase: d.status.Phase})
}

package lifecycle

import (
	"fmt"
	"strings"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// pending checks that the request can start as written, waits for the lock
// on its targets and for spec.suspend, then starts staging.
func (d *decider) pending() {
	var problems []string
	staging := d.spec.Staging.Namespace
	switch {
	case !d.world.StagingNamespace.Found:
		problems = append(problems, fmt.Sprintf("spec.staging.namespace: namespace %q not found", staging))
	case !d.world.StagingNamespace.OptedIn:
		problems = append(problems, fmt.Sprintf("spec.staging.namespace: namespace %q lacks the label %s=%s",
			staging, golivev1alpha1.LabelStagingFor, d.request.Namespace))
	}
	neverOpens := ""
	if !d.world.Window.Found {
		problems = append(problems, fmt.Sprintf("spec.window.name: GoLiveWindow %q not found in namespace %q", d.spec.Window.Name, d.request.Namespace))
	} else if calendar, err := window.Compile(d.world.Window.Spec); err != nil {
		problems = append(problems, fmt.Sprintf("spec.window.name: GoLiveWindow %q is invalid: %v", d.spec.Window.Name, err))
	} else if d.spec.Emergency != nil && d.world.Window.Spec.Emergency == nil {
		problems = append(problems, fmt.Sprintf("spec.emergency: GoLiveWindow %q allows no emergency updates", d.spec.Window.Name))
	} else if neverOpens = ImpossiblePlan(d.spec, d.world.Window.Spec, calendar, d.now); neverOpens != "" {
		// Found now, not after both approvals; a change of the window wakes the request.
		problems = append(problems, neverOpens)
	}
	for i, target := range d.spec.Targets {
		problems = append(problems, targetProblems(i, target, d.request.Namespace, observed(d.world.Production.Targets, i))...)
		problems = append(problems, targetProblems(i, target, staging, observed(d.world.Staging.Targets, i))...)
	}
	if backup := d.spec.Backup; backup.VolumeClaimSelector != nil {
		if !d.world.Backup.SnapshotClassFound {
			problems = append(problems, fmt.Sprintf("spec.backup.volumeSnapshotClassName: VolumeSnapshotClass %q not found", backup.VolumeSnapshotClassName))
		}
		if len(d.world.Backup.Claims) == 0 {
			problems = append(problems, fmt.Sprintf("spec.backup.volumeClaimSelector: selects no PersistentVolumeClaim in namespace %q", d.request.Namespace))
		}
	}
	problems = append(problems, d.world.Config.Problems...)
	problems = append(problems, d.world.Problems...)
	if len(problems) > 0 {
		reason := golivev1alpha1.ReasonReferenceNotFound
		switch {
		case d.world.StagingNamespace.Found && !d.world.StagingNamespace.OptedIn:
			reason = golivev1alpha1.ReasonStagingNotOptedIn
		case len(d.world.Problems) > 0:
			reason = golivev1alpha1.ReasonInvalidSpec
		case neverOpens != "" && len(problems) == 1:
			reason = golivev1alpha1.ReasonNeverOpens
		}
		d.stall(reason, strings.Join(problems, "; "))
		return
	}
	if lock := d.world.Lock; lock.Name != "" {
		d.wait(golivev1alpha1.ReasonTargetLocked, lockMessage(lock))
		return
	}
	if d.spec.Suspend {
		d.wait(golivev1alpha1.ReasonSuspended, "Suspended before staging")
		return
	}
	d.status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: d.timestamp()}
	d.enter(golivev1alpha1.PhaseStaging, golivev1alpha1.ReasonStagingStarted, "Updating the staging namespace "+staging)
}

// lockMessage says which request keeps a pending one from starting, and how.
func lockMessage(lock Lock) string {
	holds := lock.Holds || (lock.Phase != "" && lock.Phase != golivev1alpha1.PhasePending)
	switch {
	case holds && lock.Phase.IsTerminal():
		return fmt.Sprintf("UpdateRequest %q ended (%s) and puts the staging targets back; waiting until it has", lock.Name, lock.Phase)
	case holds && (lock.Phase == "" || lock.Phase == golivev1alpha1.PhasePending):
		return fmt.Sprintf("UpdateRequest %q changed the staging targets and holds them until it ends (phase %s)", lock.Name, golivev1alpha1.PhasePending)
	case holds:
		return fmt.Sprintf("UpdateRequest %q holds one of the targets (phase %s); waiting until it ends", lock.Name, lock.Phase)
	}
	message := fmt.Sprintf("Waiting behind UpdateRequest %q, older and still Pending", lock.Name)
	if lock.Waiting != "" {
		message += " (" + lock.Waiting + ")"
	}
	return message + ", which names one of the same targets"
}

func targetProblems(i int, target golivev1alpha1.Target, namespace string, observation TargetObservation) []string {
	if !observation.Found {
		return []string{fmt.Sprintf("spec.targets[%d]: %s %q not found in namespace %q", i, target.Kind, target.Name, namespace)}
	}
	var problems []string
	for _, container := range observation.MissingContainers {
		problems = append(problems, fmt.Sprintf("spec.targets[%d].images: %s %q in namespace %q has no container %q",
			i, target.Kind, target.Name, namespace, container))
	}
	return problems
}

// observed is the observation of spec.targets[i], empty when there is none.
func observed(targets []TargetObservation, i int) TargetObservation {
	if i < len(targets) {
		return targets[i]
	}
	return TargetObservation{}
}

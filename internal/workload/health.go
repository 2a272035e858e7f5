package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// State is where a workload's rollout stands.
type State string

const (
	// Progressing: the workload's controller has not finished rolling out the
	// current spec (or has not seen it yet); waiting may help.
	Progressing State = "Progressing"
	// Healthy: every replica runs the current pod template and is available.
	Healthy State = "Healthy"
	// Failed: the rollout will not finish by itself.
	Failed State = "Failed"
)

// Health is the rollout state of one workload and, in words for status and
// Events, what it waits for or why it failed.
type Health struct {
	State   State
	Message string
}

// deploymentProgressDeadlineExceeded is the reason of the Progressing
// condition that the Deployment controller sets when a rollout has made no
// progress for spec.progressDeadlineSeconds.
const deploymentProgressDeadlineExceeded = "ProgressDeadlineExceeded"

// Rollout evaluates the rollout of a Deployment, StatefulSet or DaemonSet from
// the object alone, as its controller last reported it in status. Every kind
// first needs status.observedGeneration to reach metadata.generation: until
// then the status describes an older spec and says nothing about this one.
// Anything else than these three kinds has Failed.
func Rollout(obj client.Object) Health {
	switch workload := obj.(type) {
	case *appsv1.Deployment:
		return deploymentRollout(workload)
	case *appsv1.StatefulSet:
		return statefulSetRollout(workload)
	case *appsv1.DaemonSet:
		return daemonSetRollout(workload)
	default:
		return Health{State: Failed, Message: fmt.Sprintf("%T is not a Deployment, StatefulSet or DaemonSet", obj)}
	}
}

// deploymentRollout follows `kubectl rollout status` and is stricter in
// requiring every replica ready and available, not only the updated ones.
// Pods of the old ReplicaSets that are still terminating are not waited for:
// they no longer count in status.replicas and receive no traffic.
func deploymentRollout(deployment *appsv1.Deployment) Health {
	if health, observed := generationObserved("Deployment", deployment.Generation, deployment.Status.ObservedGeneration); !observed {
		return health
	}
	// Checked only once the generation is observed: an older rollout's
	// exceeded deadline says nothing about the current spec.
	for _, condition := range deployment.Status.Conditions {
		if condition.Type == appsv1.DeploymentProgressing && condition.Reason == deploymentProgressDeadlineExceeded {
			return Health{State: Failed, Message: "Progress deadline exceeded: " + condition.Message}
		}
	}
	wanted := ptr.Deref(deployment.Spec.Replicas, 1)
	status := deployment.Status
	var waiting string
	switch {
	case status.UpdatedReplicas < wanted:
		waiting = fmt.Sprintf("%d of %d replicas updated", status.UpdatedReplicas, wanted)
	case status.Replicas > status.UpdatedReplicas:
		waiting = fmt.Sprintf("%d old replicas pending termination", status.Replicas-status.UpdatedReplicas)
	case status.ReadyReplicas < wanted:
		waiting = fmt.Sprintf("%d of %d replicas ready", status.ReadyReplicas, wanted)
	case status.AvailableReplicas < wanted:
		waiting = fmt.Sprintf("%d of %d replicas available", status.AvailableReplicas, wanted)
	default:
		return Health{State: Healthy, Message: fmt.Sprintf("%d of %d replicas updated and available", status.AvailableReplicas, wanted)}
	}
	if deployment.Spec.Paused {
		// A paused Deployment neither rolls out nor times out.
		waiting += " (the Deployment is paused)"
	}
	return Health{State: Progressing, Message: waiting}
}

// statefulSetRollout requires, for every update strategy, the replica count
// reached and every replica ready and available. Beyond that:
//   - RollingUpdate without a partition: every replica updated and
//     status.currentRevision == status.updateRevision, which the StatefulSet
//     controller sets once the whole set runs the update revision.
//   - RollingUpdate with partition p: only ordinals >= p are updated, so
//     replicas-p updated replicas suffice; currentRevision never reaches
//     updateRevision then and is not checked.
//   - OnDelete: the controller replaces a pod only when someone deletes it, so
//     the rollout waits until every replica was updated that way;
//     currentRevision is never advanced under OnDelete and is not checked.
func statefulSetRollout(statefulSet *appsv1.StatefulSet) Health {
	if health, observed := generationObserved("StatefulSet", statefulSet.Generation, statefulSet.Status.ObservedGeneration); !observed {
		return health
	}
	wanted := ptr.Deref(statefulSet.Spec.Replicas, 1)
	status := statefulSet.Status
	strategy := statefulSet.Spec.UpdateStrategy
	onDelete := strategy.Type == appsv1.OnDeleteStatefulSetStrategyType
	var partition int32
	if !onDelete && strategy.RollingUpdate != nil {
		partition = max(ptr.Deref(strategy.RollingUpdate.Partition, 0), 0)
	}
	wantedUpdated := max(wanted-partition, 0)

	switch {
	case status.UpdatedReplicas < wantedUpdated:
		message := fmt.Sprintf("%d of %d replicas updated", status.UpdatedReplicas, wantedUpdated)
		switch {
		case onDelete:
			message += " (OnDelete strategy: a pod is updated only when it is deleted)"
		case partition > 0:
			message += fmt.Sprintf(" (partition %d)", partition)
		}
		return Health{State: Progressing, Message: message}
	case status.Replicas != wanted:
		return Health{State: Progressing, Message: fmt.Sprintf("%d replicas exist, %d wanted", status.Replicas, wanted)}
	case status.ReadyReplicas < wanted:
		return Health{State: Progressing, Message: fmt.Sprintf("%d of %d replicas ready", status.ReadyReplicas, wanted)}
	case status.AvailableReplicas < wanted:
		return Health{State: Progressing, Message: fmt.Sprintf("%d of %d replicas available", status.AvailableReplicas, wanted)}
	case !onDelete && partition == 0 && status.CurrentRevision != status.UpdateRevision:
		return Health{State: Progressing, Message: fmt.Sprintf("Revision %s not yet current (current: %s)", status.UpdateRevision, status.CurrentRevision)}
	}
	if partition > 0 {
		return Health{State: Healthy, Message: fmt.Sprintf("%d of %d replicas updated (partition %d), all available", status.UpdatedReplicas, wanted, partition)}
	}
	return Health{State: Healthy, Message: fmt.Sprintf("%d of %d replicas updated and available", status.UpdatedReplicas, wanted)}
}

// daemonSetRollout requires a pod of the current template on every node that
// should run one, and all of them available. Under the OnDelete strategy the
// pods are replaced only when someone deletes them, and the rollout waits for that.
func daemonSetRollout(daemonSet *appsv1.DaemonSet) Health {
	if health, observed := generationObserved("DaemonSet", daemonSet.Generation, daemonSet.Status.ObservedGeneration); !observed {
		return health
	}
	status := daemonSet.Status
	desired := status.DesiredNumberScheduled
	switch {
	case status.UpdatedNumberScheduled < desired:
		message := fmt.Sprintf("%d of %d pods updated", status.UpdatedNumberScheduled, desired)
		if daemonSet.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
			message += " (OnDelete strategy: a pod is updated only when it is deleted)"
		}
		return Health{State: Progressing, Message: message}
	case status.NumberAvailable < desired:
		return Health{State: Progressing, Message: fmt.Sprintf("%d of %d pods available", status.NumberAvailable, desired)}
	case status.NumberUnavailable > 0:
		return Health{State: Progressing, Message: fmt.Sprintf("%d pods unavailable", status.NumberUnavailable)}
	}
	return Health{State: Healthy, Message: fmt.Sprintf("%d of %d pods updated and available", status.UpdatedNumberScheduled, desired)}
}

// generationObserved tells whether the workload's controller has seen the
// current spec, and if not, the Progressing health that says so.
func generationObserved(kind string, generation, observedGeneration int64) (Health, bool) {
	if observedGeneration >= generation && observedGeneration > 0 {
		return Health{}, true
	}
	return Health{
		State:   Progressing,
		Message: fmt.Sprintf("Waiting for the %s controller to observe generation %d (observed: %d)", kind, generation, observedGeneration),
	}, false
}

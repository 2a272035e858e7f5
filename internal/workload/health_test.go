package workload_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/internal/workload"
)

func TestRollout(t *testing.T) {
	deadlineExceeded := appsv1.DeploymentCondition{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
		Message: `ReplicaSet "api-7d9f" has timed out progressing.`,
	}
	progressing := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}
	onDelete := func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
	partition := func(p int32) func(*appsv1.StatefulSet) {
		return func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(p)}
		}
	}
	replicas := func(n int32) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To(n) }
	}
	withGeneration := func(obj client.Object, generation int64) client.Object {
		obj.SetGeneration(generation)
		return obj
	}

	tests := []struct {
		name string
		obj  client.Object
		want workload.Health
	}{
		// Deployments.
		{
			name: "Deployment spec not observed yet",
			obj:  withGeneration(newDeployment("api", "prod", deploymentStatus(1, 3, 3, 3, 3, progressing)), 2),
			want: workload.Health{State: workload.Progressing, Message: "Waiting for the Deployment controller to observe generation 2 (observed: 1)"},
		},
		{
			name: "Deployment never observed",
			obj:  newDeployment("api", "prod"),
			want: workload.Health{State: workload.Progressing, Message: "Waiting for the Deployment controller to observe generation 1 (observed: 0)"},
		},
		{
			name: "Deployment progress deadline exceeded",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 4, 1, 3, 3, deadlineExceeded)),
			want: workload.Health{State: workload.Failed, Message: `Progress deadline exceeded: ReplicaSet "api-7d9f" has timed out progressing.`},
		},
		{
			name: "Deployment deadline of an older generation is not this rollout's",
			obj:  withGeneration(newDeployment("api", "prod", deploymentStatus(1, 3, 3, 3, 3, deadlineExceeded)), 2),
			want: workload.Health{State: workload.Progressing, Message: "Waiting for the Deployment controller to observe generation 2 (observed: 1)"},
		},
		{
			name: "Deployment replicas being updated",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 4, 2, 3, 3, progressing)),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 replicas updated"},
		},
		{
			name: "Deployment old replicas left",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 4, 3, 3, 3, progressing)),
			want: workload.Health{State: workload.Progressing, Message: "1 old replicas pending termination"},
		},
		{
			name: "Deployment replicas not ready",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 3, 3, 2, 2, progressing)),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 replicas ready"},
		},
		{
			name: "Deployment replicas ready but not yet available (minReadySeconds)",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 3, 3, 3, 1, progressing)),
			want: workload.Health{State: workload.Progressing, Message: "1 of 3 replicas available"},
		},
		{
			name: "Deployment paused mid-rollout",
			obj:  newDeployment("api", "prod", func(d *appsv1.Deployment) { d.Spec.Paused = true }, deploymentStatus(1, 3, 0, 3, 3)),
			want: workload.Health{State: workload.Progressing, Message: "0 of 3 replicas updated (the Deployment is paused)"},
		},
		{
			name: "Deployment rolled out",
			obj:  newDeployment("api", "prod", deploymentStatus(1, 3, 3, 3, 3, progressing)),
			want: workload.Health{State: workload.Healthy, Message: "3 of 3 replicas updated and available"},
		},
		{
			name: "Deployment without replicas means one",
			obj:  newDeployment("api", "prod", func(d *appsv1.Deployment) { d.Spec.Replicas = nil }, deploymentStatus(1, 1, 1, 1, 1)),
			want: workload.Health{State: workload.Healthy, Message: "1 of 1 replicas updated and available"},
		},
		{
			name: "Deployment scaled to zero",
			obj:  newDeployment("api", "prod", replicas(0), deploymentStatus(1, 0, 0, 0, 0)),
			want: workload.Health{State: workload.Healthy, Message: "0 of 0 replicas updated and available"},
		},

		// StatefulSets.
		{
			name: "StatefulSet spec not observed yet",
			obj:  withGeneration(newStatefulSet("db", "prod", statefulSetStatus(1, 3, 3, 3, 3, "db-1", "db-1")), 2),
			want: workload.Health{State: workload.Progressing, Message: "Waiting for the StatefulSet controller to observe generation 2 (observed: 1)"},
		},
		{
			name: "StatefulSet scaling down",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 4, 4, 4, 4, "db-2", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "4 replicas exist, 3 wanted"},
		},
		{
			name: "StatefulSet replicas being updated",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 3, 1, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "1 of 3 replicas updated"},
		},
		{
			name: "StatefulSet updated replica not ready",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 3, 3, 2, 2, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 replicas ready"},
		},
		{
			name: "StatefulSet replica ready but not yet available",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 3, 3, 3, 2, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 replicas available"},
		},
		{
			name: "StatefulSet update revision not yet current",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 3, 3, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "Revision db-2 not yet current (current: db-1)"},
		},
		{
			name: "StatefulSet rolled out",
			obj:  newStatefulSet("db", "prod", statefulSetStatus(1, 3, 3, 3, 3, "db-2", "db-2")),
			want: workload.Health{State: workload.Healthy, Message: "3 of 3 replicas updated and available"},
		},
		{
			name: "StatefulSet partition 0 is a full rolling update",
			obj:  newStatefulSet("db", "prod", partition(0), statefulSetStatus(1, 3, 3, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "Revision db-2 not yet current (current: db-1)"},
		},
		{
			name: "StatefulSet partitioned rollout not done",
			obj:  newStatefulSet("db", "prod", partition(1), statefulSetStatus(1, 3, 1, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "1 of 2 replicas updated (partition 1)"},
		},
		{
			name: "StatefulSet partitioned rollout done, revisions differ by design",
			obj:  newStatefulSet("db", "prod", partition(1), statefulSetStatus(1, 3, 2, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Healthy, Message: "2 of 3 replicas updated (partition 1), all available"},
		},
		{
			name: "StatefulSet partition above replicas updates nothing",
			obj:  newStatefulSet("db", "prod", partition(5), statefulSetStatus(1, 3, 0, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Healthy, Message: "0 of 3 replicas updated (partition 5), all available"},
		},
		{
			name: "StatefulSet OnDelete waits for pods to be deleted",
			obj:  newStatefulSet("db", "prod", onDelete, statefulSetStatus(1, 3, 1, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Progressing, Message: "1 of 3 replicas updated (OnDelete strategy: a pod is updated only when it is deleted)"},
		},
		{
			name: "StatefulSet OnDelete all replaced, currentRevision never advances",
			obj:  newStatefulSet("db", "prod", onDelete, statefulSetStatus(1, 3, 3, 3, 3, "db-1", "db-2")),
			want: workload.Health{State: workload.Healthy, Message: "3 of 3 replicas updated and available"},
		},

		// DaemonSets.
		{
			name: "DaemonSet spec not observed yet",
			obj:  withGeneration(newDaemonSet("agent", "prod", daemonSetStatus(1, 3, 3, 3)), 2),
			want: workload.Health{State: workload.Progressing, Message: "Waiting for the DaemonSet controller to observe generation 2 (observed: 1)"},
		},
		{
			name: "DaemonSet pods being updated",
			obj:  newDaemonSet("agent", "prod", daemonSetStatus(1, 3, 1, 3)),
			want: workload.Health{State: workload.Progressing, Message: "1 of 3 pods updated"},
		},
		{
			name: "DaemonSet OnDelete waits for pods to be deleted",
			obj: newDaemonSet("agent", "prod", func(d *appsv1.DaemonSet) {
				d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
			}, daemonSetStatus(1, 3, 2, 3)),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 pods updated (OnDelete strategy: a pod is updated only when it is deleted)"},
		},
		{
			name: "DaemonSet pods not available",
			obj:  newDaemonSet("agent", "prod", daemonSetStatus(1, 3, 3, 2)),
			want: workload.Health{State: workload.Progressing, Message: "2 of 3 pods available"},
		},
		{
			name: "DaemonSet pod unavailable on a node beyond the desired ones",
			obj: newDaemonSet("agent", "prod", daemonSetStatus(1, 3, 3, 3), func(d *appsv1.DaemonSet) {
				d.Status.NumberUnavailable = 1
			}),
			want: workload.Health{State: workload.Progressing, Message: "1 pods unavailable"},
		},
		{
			name: "DaemonSet rolled out",
			obj:  newDaemonSet("agent", "prod", daemonSetStatus(1, 3, 3, 3)),
			want: workload.Health{State: workload.Healthy, Message: "3 of 3 pods updated and available"},
		},
		{
			name: "DaemonSet on no node",
			obj:  newDaemonSet("agent", "prod", daemonSetStatus(1, 0, 0, 0)),
			want: workload.Health{State: workload.Healthy, Message: "0 of 0 pods updated and available"},
		},

		{
			name: "not a workload",
			obj:  &corev1.ConfigMap{},
			want: workload.Health{State: workload.Failed, Message: "*v1.ConfigMap is not a Deployment, StatefulSet or DaemonSet"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if diff := cmp.Diff(test.want, workload.Rollout(test.obj)); diff != "" {
				t.Errorf("Rollout() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

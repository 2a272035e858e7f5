package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/test/cluster"
)

// release follows one UpdateRequest as a person would, with kubectl.
type release struct {
	t   *testing.T
	c   client.Client
	key client.ObjectKey
}

func (r *release) current() golivev1alpha1.UpdateRequest {
	r.t.Helper()
	var request golivev1alpha1.UpdateRequest
	if err := r.c.Get(context.Background(), r.key, &request); err != nil {
		r.t.Fatal(err)
	}
	return request
}

// describe says where the request stands: its phase, its Ready and Stalled
// conditions and its latest timeline entries.
func (r *release) describe() string {
	var request golivev1alpha1.UpdateRequest
	if err := r.c.Get(context.Background(), r.key, &request); err != nil {
		return "UpdateRequest " + r.key.String() + ": " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: phase %q", r.key, request.Status.Phase)
	for _, conditionType := range []string{golivev1alpha1.ConditionReady, golivev1alpha1.ConditionStalled} {
		if condition := meta.FindStatusCondition(request.Status.Conditions, conditionType); condition != nil {
			fmt.Fprintf(&b, "; %s %s (%s): %s", condition.Type, condition.Status, condition.Reason, condition.Message)
		}
	}
	entries := request.Status.Timeline
	for _, entry := range entries[max(0, len(entries)-3):] {
		fmt.Fprintf(&b, "\n  %s %s %s: %s", entry.At.UTC().Format(time.TimeOnly), entry.Phase, entry.Event, entry.Message)
	}
	b.WriteString("\n  (golive's log is printed at the end of the test's output)")
	return b.String()
}

func (r *release) waitForPhase(phase golivev1alpha1.Phase) golivev1alpha1.UpdateRequest {
	r.t.Helper()
	return r.waitForPhaseWithin(phase, timeout)
}

// waitForPhaseWithin waits for the request to reach phase; reaching another
// terminal phase fails at once.
func (r *release) waitForPhaseWithin(phase golivev1alpha1.Phase, within time.Duration) golivev1alpha1.UpdateRequest {
	r.t.Helper()
	cluster.Eventually(r.t, within, "UpdateRequest "+r.key.String()+" to be "+string(phase), func(ctx context.Context) (bool, string, error) {
		var request golivev1alpha1.UpdateRequest
		if err := r.c.Get(ctx, r.key, &request); err != nil {
			return false, "", err
		}
		if got := request.Status.Phase; got != phase && got.IsTerminal() {
			return false, "", cluster.Permanent(fmt.Errorf("the request ended %s: %s", got, r.describe()))
		}
		return request.Status.Phase == phase, r.describe(), nil
	})
	return r.current()
}

// waitForReason waits until the request's Ready condition has reason.
func (r *release) waitForReason(reason string) golivev1alpha1.UpdateRequest {
	r.t.Helper()
	cluster.Eventually(r.t, timeout, "UpdateRequest "+r.key.String()+" to say "+reason, func(ctx context.Context) (bool, string, error) {
		var request golivev1alpha1.UpdateRequest
		if err := r.c.Get(ctx, r.key, &request); err != nil {
			return false, "", err
		}
		if request.Status.Phase.IsTerminal() {
			return false, "", cluster.Permanent(fmt.Errorf("the request ended: %s", r.describe()))
		}
		ready := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionReady)
		return ready != nil && ready.Reason == reason, r.describe(), nil
	})
	return r.current()
}

// phases is the request's way through the phases, from its timeline.
func phases(request golivev1alpha1.UpdateRequest) []golivev1alpha1.Phase {
	var result []golivev1alpha1.Phase
	for _, entry := range request.Status.Timeline {
		result = append(result, entry.Phase)
	}
	return result
}

// timeline lists the request's timeline, one entry a line.
func timeline(request golivev1alpha1.UpdateRequest) string {
	var b strings.Builder
	for _, entry := range request.Status.Timeline {
		fmt.Fprintf(&b, "  %s %-18s %-20s %-10s %s\n", entry.At.UTC().Format(time.TimeOnly), entry.Phase, entry.Event, entry.Actor, entry.Message)
	}
	return b.String()
}

func findCheck(environment *golivev1alpha1.EnvironmentStatus, name string) *golivev1alpha1.CheckStatus {
	if environment == nil {
		return nil
	}
	for i := range environment.Checks {
		if environment.Checks[i].Name == name {
			return &environment.Checks[i]
		}
	}
	return nil
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(t.Context(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// waitForRollout waits until the Deployment in namespace runs image on
// every replica, rolled out and available.
func waitForRollout(t *testing.T, c client.Client, namespace, name, image string, status func() string) {
	t.Helper()
	cluster.Eventually(t, timeout, fmt.Sprintf("Deployment %s/%s to run %s", namespace, name, image), func(ctx context.Context) (bool, string, error) {
		var deployment appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &deployment); err != nil {
			return false, "", err
		}
		replicas := ptr.Deref(deployment.Spec.Replicas, 1)
		s := deployment.Status
		state := fmt.Sprintf("image %s, generation %d observed %d, %d/%d updated, %d available; %s",
			deployment.Spec.Template.Spec.Containers[0].Image, deployment.Generation, s.ObservedGeneration,
			s.UpdatedReplicas, replicas, s.AvailableReplicas, status())
		return deployment.Spec.Template.Spec.Containers[0].Image == image && s.ObservedGeneration == deployment.Generation &&
			s.UpdatedReplicas == replicas && s.AvailableReplicas == replicas && s.Replicas == replicas, state, nil
	})
}

// podReady is whether a pod's Ready condition is true.
func podReady(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}

// alwaysOpenWindow is a GoLiveWindow open at every instant.
func alwaysOpenWindow(namespace, name string) *golivev1alpha1.GoLiveWindow {
	return &golivev1alpha1.GoLiveWindow{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Spec: alwaysOpen()}
}

// alwaysOpen is open at every instant: each day's opening lasts a week.
func alwaysOpen() golivev1alpha1.GoLiveWindowSpec {
	return golivev1alpha1.GoLiveWindowSpec{TimeZone: "UTC", Schedule: []golivev1alpha1.ScheduleEntry{{
		Days:     []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
		Start:    "00:00",
		Duration: metav1.Duration{Duration: 168 * time.Hour},
	}}}
}

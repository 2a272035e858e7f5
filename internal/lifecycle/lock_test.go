package lifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestLockHolder(t *testing.T) {
	request := func(name string, created time.Time, phase golivev1alpha1.Phase, targets ...string) *testfixtures.UpdateRequestWrapper {
		r := testfixtures.MakeUpdateRequest("billing", name).Created(created).Phase(phase)
		for _, target := range targets {
			r.Target(golivev1alpha1.TargetDeployment, target, nil)
		}
		return r
	}
	others := func(requests ...*testfixtures.UpdateRequestWrapper) []golivev1alpha1.UpdateRequest {
		var list []golivev1alpha1.UpdateRequest
		for _, r := range requests {
			list = append(list, *r.Obj())
		}
		return list
	}
	// stalled is a pending request that only a person can move on, such as one naming a target that does not exist.
	stalled := func(r *testfixtures.UpdateRequestWrapper) *testfixtures.UpdateRequestWrapper {
		return r.Condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, golivev1alpha1.ReasonReferenceNotFound, `spec.targets[1]: Deployment "apu" not found`).
			Condition(golivev1alpha1.ConditionReady, metav1.ConditionFalse, golivev1alpha1.ReasonReferenceNotFound, `spec.targets[1]: Deployment "apu" not found`)
	}
	suspended := func(r *testfixtures.UpdateRequestWrapper) *testfixtures.UpdateRequestWrapper {
		return r.Condition(golivev1alpha1.ConditionReady, metav1.ConditionFalse, golivev1alpha1.ReasonSuspended, "Suspended before staging")
	}
	earlier, later := monday.Add(-time.Hour), monday
	cases := []struct {
		name    string
		request *testfixtures.UpdateRequestWrapper
		others  []golivev1alpha1.UpdateRequest
		want    Lock
	}{
		{"no other request", request("b", later, golivev1alpha1.PhasePending, "api"), nil, Lock{}},
		{"another request on other workloads", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(request("a", earlier, golivev1alpha1.PhaseUpdating, "db")), Lock{}},
		{"a request that left Pending holds the workload", request("b", earlier, golivev1alpha1.PhasePending, "api", "db"),
			others(request("a", later, golivev1alpha1.PhaseStaging, "db")), Lock{Name: "a", Phase: golivev1alpha1.PhaseStaging, Holds: true}},
		{"an ended request holds nothing", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(request("a", earlier, golivev1alpha1.PhaseRolledBack, "api")), Lock{}},
		{"between two pending requests the older goes first", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(request("a", earlier, golivev1alpha1.PhasePending, "api")), Lock{Name: "a", Phase: golivev1alpha1.PhasePending}},
		{"an older pending request is waited behind, with what it waits for", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(suspended(request("a", earlier, golivev1alpha1.PhasePending, "api"))), Lock{Name: "a", Phase: golivev1alpha1.PhasePending, Waiting: golivev1alpha1.ReasonSuspended}},
		{"an older pending request that stalled holds no one back", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(stalled(request("typo-target", earlier, golivev1alpha1.PhasePending, "api", "apu"))), Lock{}},
		{"a request that left Pending and stalled still holds its targets", request("b", later, golivev1alpha1.PhasePending, "api"),
			others(stalled(request("a", earlier, golivev1alpha1.PhaseRollingBack, "api"))), Lock{Name: "a", Phase: golivev1alpha1.PhaseRollingBack, Holds: true}},
		{"the request that holds a target is named before an older pending one", request("c", later, golivev1alpha1.PhasePending, "api"),
			others(request("a", earlier, golivev1alpha1.PhasePending, "api"), request("b", later, golivev1alpha1.PhaseSoaking, "api")),
			Lock{Name: "b", Phase: golivev1alpha1.PhaseSoaking, Holds: true}},
		{"the older of two pending requests is not held", request("a", earlier, golivev1alpha1.PhasePending, "api"),
			others(request("b", later, golivev1alpha1.PhasePending, "api")), Lock{}},
		{"created in the same second, the name decides", request("b", later, "", "api"),
			others(request("a", later, "", "api")), Lock{Name: "a"}},
		{"a request that left Pending keeps its targets", request("a", later, golivev1alpha1.PhaseSoaking, "api"),
			others(request("b", earlier, golivev1alpha1.PhaseStaging, "api")), Lock{}},
		{"the request itself is not another", request("a", later, golivev1alpha1.PhasePending, "api"),
			others(request("a", later, golivev1alpha1.PhasePending, "api")), Lock{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, LockHolder(tc.request.Obj(), tc.others)); diff != "" {
				t.Errorf("LockHolder (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClaimsTargets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		request *golivev1alpha1.UpdateRequest
		want    bool
	}{
		{"a new request queues for its targets", testfixtures.MakeUpdateRequest("billing", "r").Obj(), true},
		{"a pending request queues for its targets", testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhasePending).Obj(), true},
		{"a pending request that stalled does not", testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhasePending).
			Condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, golivev1alpha1.ReasonReferenceNotFound, "").Obj(), false},
		{"a request that left Pending holds them, stalled or not", testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseRollingBack).
			Condition(golivev1alpha1.ConditionStalled, metav1.ConditionTrue, golivev1alpha1.ReasonFailed, "").Obj(), true},
		{"an ended request does not", testfixtures.MakeUpdateRequest("billing", "r").Phase(golivev1alpha1.PhaseSucceeded).Obj(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClaimsTargets(tc.request); got != tc.want {
				t.Errorf("ClaimsTargets = %v, want %v", got, tc.want)
			}
		})
	}
}

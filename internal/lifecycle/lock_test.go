package lifecycle

import (
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

func TestLockHolder(t *testing.T) {
	request := func(name string, created time.Time, phase golivev1alpha1.Phase, targets ...string) golivev1alpha1.UpdateRequest {
		r := testfixtures.MakeUpdateRequest("billing", name).Created(created).Phase(phase)
		for _, target := range targets {
			r.Target(golivev1alpha1.TargetDeployment, target, nil)
		}
		return *r.Obj()
	}
	earlier, later := monday.Add(-time.Hour), monday
	cases := []struct {
		name    string
		request golivev1alpha1.UpdateRequest
		others  []golivev1alpha1.UpdateRequest
		want    string
	}{
		{"no other request", request("b", later, golivev1alpha1.PhasePending, "api"), nil, ""},
		{"another request on other workloads", request("b", later, golivev1alpha1.PhasePending, "api"),
			[]golivev1alpha1.UpdateRequest{request("a", earlier, golivev1alpha1.PhaseUpdating, "db")}, ""},
		{"a request in production holds the workload", request("b", earlier, golivev1alpha1.PhasePending, "api", "db"),
			[]golivev1alpha1.UpdateRequest{request("a", later, golivev1alpha1.PhaseStaging, "db")}, "a"},
		{"an ended request holds nothing", request("b", later, golivev1alpha1.PhasePending, "api"),
			[]golivev1alpha1.UpdateRequest{request("a", earlier, golivev1alpha1.PhaseRolledBack, "api")}, ""},
		{"between two pending requests the older goes first", request("b", later, golivev1alpha1.PhasePending, "api"),
			[]golivev1alpha1.UpdateRequest{request("a", earlier, golivev1alpha1.PhasePending, "api")}, "a"},
		{"the older of two pending requests is not held", request("a", earlier, golivev1alpha1.PhasePending, "api"),
			[]golivev1alpha1.UpdateRequest{request("b", later, golivev1alpha1.PhasePending, "api")}, ""},
		{"created in the same second, the name decides", request("b", later, "", "api"),
			[]golivev1alpha1.UpdateRequest{request("a", later, "", "api")}, "a"},
		{"a request that left Pending keeps its targets", request("a", later, golivev1alpha1.PhaseSoaking, "api"),
			[]golivev1alpha1.UpdateRequest{request("b", earlier, golivev1alpha1.PhaseStaging, "api")}, ""},
		{"the request itself is not another", request("a", later, golivev1alpha1.PhasePending, "api"),
			[]golivev1alpha1.UpdateRequest{request("a", later, golivev1alpha1.PhasePending, "api")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := LockHolder(&tc.request, tc.others); got != tc.want {
				t.Errorf("LockHolder = %q, want %q", got, tc.want)
			}
		})
	}
}

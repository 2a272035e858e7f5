package lifecycle

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestRunsProductionUpdate(t *testing.T) {
	var running []golivev1alpha1.Phase
	for _, phase := range PhaseOrder() {
		if RunsProductionUpdate(phase) {
			running = append(running, phase)
		}
	}
	want := []golivev1alpha1.Phase{golivev1alpha1.PhaseBackingUp, golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseRollingBack}
	if diff := cmp.Diff(want, running); diff != "" {
		t.Errorf("phases running a production update (-want +got):\n%s", diff)
	}
}

// hack/demo.sh follows a request by the phase order; its copy must not drift.
func TestDemoFollowsThePhaseOrder(t *testing.T) {
	script, err := os.ReadFile("../../hack/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	match := regexp.MustCompile(`(?s)\nphases=\(([^)]*)\)`).FindSubmatch(script)
	if match == nil {
		t.Fatal("hack/demo.sh has no phases=(...) line")
	}
	var want []string
	for _, phase := range PhaseOrder() {
		want = append(want, string(phase))
	}
	if diff := cmp.Diff(want, strings.Fields(string(match[1]))); diff != "" {
		t.Errorf("hack/demo.sh phases=(...) differs from lifecycle.PhaseOrder (-lifecycle +demo.sh):\n%s", diff)
	}
}

func TestPhaseOrderHasEveryPhaseOnce(t *testing.T) {
	order := PhaseOrder()
	seen := map[golivev1alpha1.Phase]bool{}
	for _, phase := range order {
		if seen[phase] {
			t.Errorf("%s appears twice", phase)
		}
		seen[phase] = true
	}
	if len(order) != 17 {
		t.Errorf("%d phases, want 17", len(order))
	}
	order[0] = "Mutated"
	if PhaseOrder()[0] != golivev1alpha1.PhasePending {
		t.Error("PhaseOrder returned its own slice")
	}
}

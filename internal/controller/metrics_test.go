package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/testenv"
)

// requestFigures is the exposition of golive_update_requests for namespace:
// every phase, one request in phase.
func requestFigures(namespace string, phase golivev1alpha1.Phase) string {
	var b strings.Builder
	b.WriteString("# HELP golive_update_requests Update requests by namespace and phase; every phase is reported for a namespace with requests.\n")
	b.WriteString("# TYPE golive_update_requests gauge\n")
	for _, p := range metrics.Phases {
		value := 0
		if p == phase {
			value = 1
		}
		fmt.Fprintf(&b, "golive_update_requests{namespace=%q,phase=%q} %d\n", namespace, p, value)
	}
	return b.String()
}

// The collector reads the manager's cache at scrape time: what it reports
// follows the requests and windows as they change.
func TestCollectorReportsRequestsApprovalsAndWindows(t *testing.T) {
	j := newJourney(t, withNotifierAndMetrics(notify.Options{}))
	collector := metrics.NewCollector(j.operator.manager().GetCache(), nil)
	scrape := func(want string, names ...string) {
		t.Helper()
		eventually(t, func(context.Context) string {
			if err := testutil.CollectAndCompare(collector, strings.NewReader(want), names...); err != nil {
				return err.Error()
			}
			return ""
		})
	}

	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	scrape(requestFigures(j.production, golivev1alpha1.PhaseAwaitingApproval)+fmt.Sprintf(`
# HELP golive_approvals_pending Approvals still needed by the update requests awaiting approval, by namespace and role.
# TYPE golive_approvals_pending gauge
golive_approvals_pending{namespace=%[1]q,role="rnd-lead"} 1
# HELP golive_window_open 1 while a GoLiveWindow is open, else 0.
# TYPE golive_window_open gauge
golive_window_open{namespace=%[1]q,window="always"} 1
`, j.production), "golive_update_requests", "golive_approvals_pending", "golive_window_open")

	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	// Nothing awaits approval any more: the series is gone.
	scrape(requestFigures(j.production, golivev1alpha1.PhaseSucceeded), "golive_update_requests", "golive_approvals_pending")
}

// A release that rolls back records how long it spent in each phase, from
// its timeline, and counts the rollback, each once.
func TestPhaseDurationsAndRollbacksOfARelease(t *testing.T) {
	j := newJourney(t, withNotifierAndMetrics(notify.Options{}), withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Staging.Soak.Duration = 2 * time.Hour
	}))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseSoaking)
	j.stepClockTo(journeyStart.Add(2 * time.Hour))
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.stepClockTo(journeyStart.Add(2*time.Hour + 30*time.Minute))
	j.approve("bob", "rnd-lead")
	j.waitForImage(j.production, newImage)
	j.failRollout(j.production)
	j.waitForImageAndRollOut(j.production, previousImage)
	j.waitForPhase(golivev1alpha1.PhaseRolledBack)

	want := map[string]string{
		"Pending": "1/0", "Staging": "1/0", "VerifyingStaging": "1/0",
		"Soaking":          "1/7200",
		"AwaitingApproval": "1/1800",
		"Scheduled":        "1/0", "BackingUp": "1/0", "Updating": "1/0", "RollingBack": "1/0",
	}
	eventually(t, func(context.Context) string {
		if diff := cmp.Diff(want, testenv.HistogramSamples(t, j.metrics, "golive_phase_duration_seconds")); diff != "" {
			return "golive_phase_duration_seconds, count/sum by phase (-want +got):\n" + diff
		}
		return ""
	})
	if rollbacks := testenv.CounterValue(t, j.metrics, "golive_rollbacks_total", "namespace="+j.production); rollbacks != 1 {
		t.Errorf("golive_rollbacks_total = %g, want 1", rollbacks)
	}
}

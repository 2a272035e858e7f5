package e2e

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testprometheus"
	"github.com/golive-dev/golive/test/cluster"
)

// metricsTimeout is the production verify.timeout of the metric journeys:
// far longer than they take, so that what ends them is the metrics.
const metricsTimeout = 30 * time.Minute

// errorRate is the metric check of the journeys: the share of 5xx answers in
// production under 10%, measured every 3 seconds.
func errorRate(address string, count, failureLimit, inconclusiveLimit int32) golivev1alpha1.MetricCheck {
	return golivev1alpha1.MetricCheck{
		Name:              "error-rate",
		Prometheus:        golivev1alpha1.PrometheusSource{Address: address},
		Query:             testprometheus.ErrorRateQuery,
		SuccessCondition:  "result < 0.1",
		Interval:          metav1.Duration{Duration: 3 * time.Second},
		Count:             count,
		FailureLimit:      failureLimit,
		InconclusiveLimit: ptr.To(inconclusiveLimit),
	}
}

// TestMetricVerification plays releases verified by a metric check against a
// real Prometheus (built from source, run as a local process) that scrapes
// an exporter of the test, whose error rate per namespace the test sets.
func TestMetricVerification(t *testing.T) {
	exporter := testprometheus.StartExporter(t)
	prometheus := testprometheus.Start(t, exporter)
	cl := cluster.Start(t, cluster.Options{Name: "golive-metrics", Authorization: true})
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	t.Run("journeys", func(t *testing.T) {
		t.Run("a release whose production error rate rises is rolled back at the failure limit", func(t *testing.T) {
			t.Parallel()
			errorRateRises(t, cl, exporter, prometheus)
		})
		t.Run("a release with healthy metrics goes live", func(t *testing.T) {
			t.Parallel()
			healthyMetrics(t, cl, exporter, prometheus)
		})
		t.Run("a query against an unreachable Prometheus stops for a person", func(t *testing.T) {
			t.Parallel()
			prometheusUnreachable(t, cl)
		})
	})
}

// metricRelease creates a request whose production is verified by check
// alone, approves it and waits until production verifies.
func metricRelease(t *testing.T, a *app, name string, check golivev1alpha1.MetricCheck) *release {
	t.Helper()
	request := a.request(name, "2.5.0")
	request.Spec.Verify.Timeout = metav1.Duration{Duration: metricsTimeout}
	request.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, a.cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, a.cl, carol, r.key, roleOperationsOffice, "agreed")
	r.waitForPhase(golivev1alpha1.PhaseVerifying)
	waitForRollout(t, a.c, a.production, api, apiImage("2.5.0"), r.describe)
	return r
}

func errorRateRises(t *testing.T, cl *cluster.Cluster, exporter *testprometheus.Exporter, prometheus *testprometheus.Prometheus) {
	a := newApp(t, cl, "metrics-failing", alwaysOpen(), appOptions{})
	exporter.SetErrorRate(a.production, 0)
	prometheus.WaitForValue(t, testprometheus.ErrorRate(a.production), func(v float64) bool { return v == 0 })
	r := metricRelease(t, a, "billing-2-5-0", errorRate(prometheus.URL, 20, 1, 2))

	// The new version fails half its requests.
	exporter.SetErrorRate(a.production, 0.5)
	started := time.Now()
	done := r.waitForPhase(golivev1alpha1.PhaseRolledBack)
	t.Logf("the request's timeline:\n%s", timeline(done))
	if elapsed := time.Since(started); elapsed >= metricsTimeout {
		t.Errorf("rolled back %s after the error rate rose: not before the timeout", elapsed)
	}
	check := findCheck(done.Status.Production, "error-rate")
	if check == nil || check.Result != golivev1alpha1.CheckFailed || check.Failures != 2 ||
		!strings.Contains(check.Message, "more than failureLimit failed") {
		t.Fatalf("check %+v, want Failed at its second failed measurement", check)
	}
	last := check.Measurements[len(check.Measurements)-1]
	if last.Result != golivev1alpha1.MeasurementFailed || last.Value == "" {
		t.Errorf("last measurement %+v, want Failed with the value Prometheus returned", last)
	}
	if done.Status.Rollback == nil || !strings.Contains(done.Status.Rollback.Reason, "error-rate") {
		t.Errorf("rollback %+v, want it to name the metric check", done.Status.Rollback)
	}
	waitForRollout(t, a.c, a.production, api, apiPrevious, r.describe)
}

func healthyMetrics(t *testing.T, cl *cluster.Cluster, exporter *testprometheus.Exporter, prometheus *testprometheus.Prometheus) {
	a := newApp(t, cl, "metrics-healthy", alwaysOpen(), appOptions{})
	exporter.SetErrorRate(a.production, 0.01)
	prometheus.WaitForValue(t, testprometheus.ErrorRate(a.production), func(v float64) bool { return v < 0.05 })
	r := metricRelease(t, a, "billing-2-5-0", errorRate(prometheus.URL, 3, 0, 2))

	done := r.waitForPhase(golivev1alpha1.PhaseSucceeded)
	check := findCheck(done.Status.Production, "error-rate")
	if check == nil || check.Result != golivev1alpha1.CheckPassed || check.Successes != 3 || len(check.Measurements) != 3 {
		t.Errorf("check %+v, want Passed after 3 measurements", check)
	}
}

func prometheusUnreachable(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "metrics-unreachable", alwaysOpen(), appOptions{})
	r := metricRelease(t, a, "billing-2-5-0", errorRate(testprometheus.UnreachableAddress(t), 3, 0, 1))

	request := r.waitForReason(golivev1alpha1.ReasonVerificationInconclusive)
	stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
	if stalled == nil || stalled.Status != metav1.ConditionTrue || !strings.Contains(stalled.Message, "unreachable") ||
		!strings.Contains(stalled.Message, "http_requests_total") {
		t.Errorf("Stalled = %+v, want True naming the query and the error", stalled)
	}
	if check := findCheck(request.Status.Production, "error-rate"); check == nil || check.Result != golivev1alpha1.CheckInconclusive || check.Inconclusive != 2 {
		t.Errorf("check %+v, want Inconclusive after 2 inconclusive measurements", check)
	}
	if err := command(t, cl, alice, r.key, golivev1alpha1.AnnotationAbort, "Prometheus is down; roll back"); err != nil {
		t.Fatalf("alice aborting: %v", err)
	}
	r.waitForPhase(golivev1alpha1.PhaseRolledBack)
	waitForRollout(t, a.c, a.production, api, apiPrevious, r.describe)
}

package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testprometheus"
	"github.com/golive-dev/golive/internal/verify"
)

// metricInterval is the interval of the journeys' metric checks, on the fake clock.
const metricInterval = 30 * time.Second

// errorRateCheck is the production metric check of the journeys: the error
// rate the exporter serves must stay under 10%, over 3 measurements with one
// failure tolerated and one inconclusive measurement.
func errorRateCheck(address string) golivev1alpha1.MetricCheck {
	return golivev1alpha1.MetricCheck{
		Name:              "error-rate",
		Prometheus:        golivev1alpha1.PrometheusSource{Address: address},
		Query:             testprometheus.ErrorRateQuery,
		SuccessCondition:  "result < 0.1",
		Interval:          metav1.Duration{Duration: metricInterval},
		Count:             3,
		FailureLimit:      1,
		InconclusiveLimit: ptr.To[int32](1),
	}
}

// startProduction runs a journey whose production verification is check,
// with the exporter serving errorRate in production, up to the production
// verification; prometheus, when set, has seen that traffic first.
func startProduction(t *testing.T, check golivev1alpha1.MetricCheck, exporter *testprometheus.Exporter, prometheus *testprometheus.Prometheus, errorRate float64) *journey {
	t.Helper()
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Verify.Metrics = []golivev1alpha1.MetricCheck{check}
	}), func(o *journeyOptions) {
		o.beforeRequest = func(j *journey) {
			exporter.SetErrorRate(j.production, errorRate)
			if prometheus != nil {
				prometheus.WaitForValue(t, testprometheus.ErrorRate(j.production), func(v float64) bool { return v >= errorRate-0.05 && v <= errorRate+0.05 })
			}
		}
	})
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifying)
	return j
}

// waitForMeasurements waits until the production check error-rate recorded
// n measurements, and returns it.
func (j *journey) waitForMeasurements(n int) golivev1alpha1.CheckStatus {
	j.t.Helper()
	var check golivev1alpha1.CheckStatus
	eventually(j.t, func(context.Context) string {
		request := j.current()
		if request.Status.Production == nil {
			return "no production status yet"
		}
		check = verify.FindCheck(request.Status.Production.Checks, "error-rate")
		if len(check.Measurements) < n {
			return fmt.Sprintf("%d measurements, want %d (check %+v; request: %s)", len(check.Measurements), n, check, j.describe())
		}
		return ""
	})
	return check
}

// measureNext moves the fake clock to the next measurement of check.
func (j *journey) measureNext(check golivev1alpha1.CheckStatus) {
	j.t.Helper()
	j.stepClockTo(check.LastProbeAt.Add(metricInterval))
}

func wantMeasurements(t *testing.T, check golivev1alpha1.CheckStatus, want ...golivev1alpha1.MeasurementResult) {
	t.Helper()
	var got []golivev1alpha1.MeasurementResult
	for _, m := range check.Measurements {
		got = append(got, m.Result)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("measurements %+v, want results %v", check.Measurements, want)
	}
}

// The metric journeys query a real Prometheus, which scrapes an exporter
// whose error rate each journey sets; the fake clock paces the measurements.
func TestMetricChecksAgainstPrometheus(t *testing.T) {
	exporter := testprometheus.StartExporter(t)
	prometheus := testprometheus.Start(t, exporter)

	t.Run("a rising production error rate rolls back at the failure limit, before the timeout", func(t *testing.T) {
		j := startProduction(t, errorRateCheck(prometheus.URL), exporter, prometheus, 0.5)
		first := j.waitForMeasurements(1)
		wantMeasurements(t, first, golivev1alpha1.MeasurementFailed)
		if first.Result != golivev1alpha1.CheckRunning || first.Failures != 1 {
			t.Errorf("after one failure within failureLimit 1: %+v", first)
		}
		j.measureNext(first)
		request := j.waitForPhase(golivev1alpha1.PhaseRollingBack)
		check := verify.FindCheck(request.Status.Production.Checks, "error-rate")
		wantMeasurements(t, check, golivev1alpha1.MeasurementFailed, golivev1alpha1.MeasurementFailed)
		if check.Result != golivev1alpha1.CheckFailed || !strings.Contains(check.Message, "more than failureLimit failed") {
			t.Errorf("check %+v, want Failed past failureLimit", check)
		}
		if value := check.Measurements[1].Value; !strings.HasPrefix(value, "0.") {
			t.Errorf("recorded value %q, want the error rate Prometheus returned", value)
		}
		if elapsed := j.clock.Now().Sub(request.Status.Backup.CompletedAt.Time); elapsed >= 10*time.Minute {
			t.Errorf("rolled back %s after the verification started: not before the 10m timeout", elapsed)
		}
		if request.Status.Rollback == nil || !strings.Contains(request.Status.Rollback.Reason, "error-rate") {
			t.Errorf("rollback %+v, want it to name the check", request.Status.Rollback)
		}
		j.waitForImageAndRollOut(j.production, previousImage)
		j.waitForPhase(golivev1alpha1.PhaseRolledBack)
	})

	t.Run("a healthy production goes live after count measurements", func(t *testing.T) {
		j := startProduction(t, errorRateCheck(prometheus.URL), exporter, prometheus, 0)
		for n := 1; n < 3; n++ {
			j.measureNext(j.waitForMeasurements(n))
		}
		request := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
		check := verify.FindCheck(request.Status.Production.Checks, "error-rate")
		wantMeasurements(t, check, golivev1alpha1.MeasurementPassed, golivev1alpha1.MeasurementPassed, golivev1alpha1.MeasurementPassed)
		if check.Result != golivev1alpha1.CheckPassed || check.Successes != 3 {
			t.Errorf("check %+v, want Passed with 3 successes", check)
		}
	})

	t.Run("a Prometheus that cannot be reached stops the request for a person, who retries and then aborts it", func(t *testing.T) {
		address := testprometheus.UnreachableAddress(t)
		j := startProduction(t, errorRateCheck(address), exporter, nil, 0)
		j.measureNext(j.waitForMeasurements(1))
		request := j.waitForReady(golivev1alpha1.ReasonVerificationInconclusive, "error-rate is inconclusive")
		stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled)
		if stalled == nil || stalled.Status != metav1.ConditionTrue || !strings.Contains(stalled.Message, "unreachable") ||
			!strings.Contains(stalled.Message, "http_requests_total") {
			t.Errorf("Stalled = %+v, want True naming the query and the error", stalled)
		}
		check := verify.FindCheck(request.Status.Production.Checks, "error-rate")
		wantMeasurements(t, check, golivev1alpha1.MeasurementInconclusive, golivev1alpha1.MeasurementInconclusive)

		// The timeout no longer runs: an hour later, a retry measures again
		// from scratch, with verify.timeout counting from the retry.
		j.stepClockTo(j.clock.Now().Add(time.Hour))
		retriedAt := j.clock.Now().Truncate(time.Second)
		j.command("dave", "", golivev1alpha1.LedgerRetry, "Prometheus restarted")
		var retried golivev1alpha1.CheckStatus
		eventually(t, func(context.Context) string {
			request = j.current()
			retried = verify.FindCheck(request.Status.Production.Checks, "error-rate")
			if meta.IsStatusConditionTrue(request.Status.Conditions, golivev1alpha1.ConditionStalled) || len(retried.Measurements) != 1 ||
				retried.Measurements[0].At.Before(&metav1.Time{Time: retriedAt}) {
				return fmt.Sprintf("check %+v, want one measurement since the retry and no stall (request: %s)", retried, j.describe())
			}
			return ""
		})
		if request.Status.Phase != golivev1alpha1.PhaseVerifying {
			t.Errorf("phase %s after the retry, want Verifying: the timeout counts from the retry", request.Status.Phase)
		}
		if got := request.Status.Production.RetriedAt; got == nil || !got.Time.Equal(retriedAt) {
			t.Errorf("production.retriedAt = %v, want %v", got, retriedAt)
		}
		if !slices.ContainsFunc(request.Status.Timeline, func(e golivev1alpha1.TimelineEntry) bool {
			return e.Event == golivev1alpha1.ReasonVerificationRetried && e.Actor == "dave" && strings.Contains(e.Message, "Prometheus restarted")
		}) {
			t.Errorf("timeline %+v, want dave's retry", request.Status.Timeline)
		}
		// Still unreachable: past inconclusiveLimit again, it stops again, and the abort rolls production back.
		j.measureNext(retried)
		// The controller may ask to be woken on the fake clock only after the
		// test saw the measurement and moved the clock: then the clock moves
		// on by an interval again, now and then, well within the timeout.
		stepped := time.Now()
		eventually(t, func(context.Context) string {
			request = j.current()
			if stalled := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionStalled); stalled == nil ||
				stalled.Reason != golivev1alpha1.ReasonVerificationInconclusive {
				if time.Since(stepped) > 3*time.Second {
					j.clock.Step(metricInterval)
					stepped = time.Now()
				}
				return fmt.Sprintf("Stalled = %+v, want VerificationInconclusive again (check %+v; request: %s)",
					stalled, verify.FindCheck(request.Status.Production.Checks, "error-rate"), j.describe())
			}
			return ""
		})
		wantMeasurements(t, verify.FindCheck(request.Status.Production.Checks, "error-rate"),
			golivev1alpha1.MeasurementInconclusive, golivev1alpha1.MeasurementInconclusive)
		j.command("dave", "", golivev1alpha1.LedgerAbort, "Prometheus is down; roll back")
		request = j.waitForPhase(golivev1alpha1.PhaseRollingBack)
		if request.Status.Rollback == nil || !strings.Contains(request.Status.Rollback.Reason, "Aborted by dave") {
			t.Errorf("rollback %+v, want the abort's", request.Status.Rollback)
		}
	})
}

func TestHTTPCheckFailureThresholdRollsBackBeforeTheTimeout(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	j := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: failing.URL + "/healthz", ExpectStatus: []int32{200},
			SuccessThreshold: 1, FailureThreshold: 2, Period: metav1.Duration{Duration: 10 * time.Second}}}
	}))
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	j.waitForPhase(golivev1alpha1.PhaseVerifying)

	var first golivev1alpha1.CheckStatus
	eventually(t, func(context.Context) string {
		first = verify.FindCheck(j.current().Status.Production.Checks, "health")
		if first.Failures != 1 {
			return fmt.Sprintf("check %+v, want one failure", first)
		}
		return ""
	})
	if first.Result != golivev1alpha1.CheckRunning {
		t.Errorf("after one failure of two: %+v", first)
	}
	j.stepClockTo(first.LastProbeAt.Add(10 * time.Second))
	request := j.waitForPhase(golivev1alpha1.PhaseRollingBack)
	check := verify.FindCheck(request.Status.Production.Checks, "health")
	if check.Result != golivev1alpha1.CheckFailed || check.Message != "answered 500, expected 200 (2/2 failures in a row)" {
		t.Errorf("check %+v, want Failed at two failures in a row", check)
	}
	if elapsed := j.clock.Now().Sub(request.Status.Backup.CompletedAt.Time); elapsed >= 10*time.Minute {
		t.Errorf("rolled back %s after the verification started: not before the 10m timeout", elapsed)
	}
}

package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func entry(at time.Duration, phase golivev1alpha1.Phase, event string) golivev1alpha1.TimelineEntry {
	return golivev1alpha1.TimelineEntry{At: metav1.NewTime(t0.Add(at)), Phase: phase, Actor: "golive", Event: event}
}

// observations returns "count/sum" of each labelled series of the histogram
// named name that the recorder's registry gathers.
func observations(t *testing.T, r *Recorder, name string) map[string]string {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	if err := r.Register(registry); err != nil {
		t.Fatal(err)
	}
	return testenv.HistogramSamples(t, registry, name)
}

func noSnapshots(string) (time.Time, bool) { return time.Time{}, false }

func TestPhaseDurationsAreObservedWhenPhasesAreLeft(t *testing.T) {
	created := entry(0, golivev1alpha1.PhasePending, "Created")
	staging := entry(time.Minute, golivev1alpha1.PhaseStaging, "StagingStarted")
	verifying := entry(5*time.Minute, golivev1alpha1.PhaseVerifyingStaging, "Verifying")
	soaking := entry(5*time.Minute, golivev1alpha1.PhaseSoaking, "StagingVerified")
	cases := []struct {
		name          string
		before, after []golivev1alpha1.TimelineEntry
		want          map[string]string
	}{
		{
			name:  "a new request passing through Pending",
			after: []golivev1alpha1.TimelineEntry{created, staging},
			want:  map[string]string{"Pending": "1/60"},
		},
		{
			name:   "two phases left in one decision",
			before: []golivev1alpha1.TimelineEntry{created, staging},
			after:  []golivev1alpha1.TimelineEntry{created, staging, verifying, soaking},
			want:   map[string]string{"Staging": "1/240", "VerifyingStaging": "1/0"},
		},
		{
			name:   "a patch that changes no phase",
			before: []golivev1alpha1.TimelineEntry{created, staging},
			after:  []golivev1alpha1.TimelineEntry{created, staging},
			want:   map[string]string{},
		},
		{
			name:   "the first entry of a new request",
			before: nil,
			after:  []golivev1alpha1.TimelineEntry{created},
			want:   map[string]string{},
		},
		{
			name:   "a full timeline drops its oldest entry",
			before: []golivev1alpha1.TimelineEntry{created, staging, verifying},
			after:  []golivev1alpha1.TimelineEntry{staging, verifying, soaking},
			want:   map[string]string{"VerifyingStaging": "1/0"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder()
			r.StatusRecorded("billing", &golivev1alpha1.UpdateRequestStatus{Timeline: tc.before}, &golivev1alpha1.UpdateRequestStatus{Timeline: tc.after}, t0, noSnapshots)
			if diff := cmp.Diff(tc.want, observations(t, r, "golive_phase_duration_seconds")); diff != "" {
				t.Errorf("phase durations, count/sum by phase (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRollbacksAreCountedWhenTheyStart(t *testing.T) {
	r := NewRecorder()
	rollback := &golivev1alpha1.RollbackStatus{Reason: "verification failed", StartedAt: &metav1.Time{Time: t0}}
	r.StatusRecorded("billing", &golivev1alpha1.UpdateRequestStatus{}, &golivev1alpha1.UpdateRequestStatus{Rollback: rollback}, t0, noSnapshots)
	// The rollback goes on: later patches do not count it again.
	r.StatusRecorded("billing", &golivev1alpha1.UpdateRequestStatus{Rollback: rollback}, &golivev1alpha1.UpdateRequestStatus{Rollback: rollback}, t0, noSnapshots)
	if got := testutil.ToFloat64(r.rollbacks.WithLabelValues("billing")); got != 1 {
		t.Errorf("rollbacks in billing = %g, want 1", got)
	}
}

func TestSnapshotDurationsAreObservedWhenSnapshotsBecomeReady(t *testing.T) {
	snapshot := func(name string, ready bool) golivev1alpha1.SnapshotStatus {
		return golivev1alpha1.SnapshotStatus{Claim: name, VolumeSnapshot: "billing-2-4-0-" + name, ReadyToUse: ready}
	}
	createdAt := map[string]time.Time{
		"billing-2-4-0-data": t0.Add(-90 * time.Second),
		"billing-2-4-0-logs": t0.Add(-30 * time.Second),
		"billing-2-4-0-wal":  t0.Add(-10 * time.Second),
		"billing-2-4-0-skew": t0.Add(time.Minute), // the API server's clock ahead of golive's
	}
	created := func(name string) (time.Time, bool) {
		at, ok := createdAt[name]
		return at, ok
	}
	before := &golivev1alpha1.UpdateRequestStatus{Backup: &golivev1alpha1.BackupStatus{Snapshots: []golivev1alpha1.SnapshotStatus{
		snapshot("data", false), snapshot("wal", true), snapshot("skew", false),
	}}}
	after := &golivev1alpha1.UpdateRequestStatus{Backup: &golivev1alpha1.BackupStatus{Snapshots: []golivev1alpha1.SnapshotStatus{
		snapshot("data", true),     // became ready: 90s
		snapshot("logs", true),     // recorded ready at once: 30s
		snapshot("wal", true),      // was ready already
		snapshot("skew", true),     // created "after" now: not observed
		snapshot("unknown", true),  // creation unknown: not observed
		snapshot("pending", false), // not ready
	}}}
	r := NewRecorder()
	r.StatusRecorded("billing", before, after, t0, created)
	if diff := cmp.Diff(map[string]string{"": "2/120"}, observations(t, r, "golive_snapshot_duration_seconds")); diff != "" {
		t.Errorf("snapshot durations, count/sum (-want +got):\n%s", diff)
	}
}

func TestNotificationCounters(t *testing.T) {
	r := NewRecorder()
	r.NotificationSent(golivev1alpha1.FormatSlack)
	r.NotificationSent(golivev1alpha1.FormatSlack)
	r.NotificationFailed(golivev1alpha1.FormatCloudEvents, "Timeout")
	want := `
# HELP golive_notification_failures_total Notices not delivered to a webhook, by format and the reason of the last attempt.
# TYPE golive_notification_failures_total counter
golive_notification_failures_total{format="CloudEvents",reason="Timeout"} 1
# HELP golive_notifications_sent_total Notices delivered to webhooks (answered 2xx), by format.
# TYPE golive_notifications_sent_total counter
golive_notifications_sent_total{format="Slack"} 2
`
	registry := prometheus.NewPedanticRegistry()
	if err := r.Register(registry); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want), "golive_notifications_sent_total", "golive_notification_failures_total"); err != nil {
		t.Error(err)
	}
	if err := r.Register(registry); err == nil {
		t.Error("registering the same metrics twice succeeded")
	}
}

// recordEverything makes each call a Recorder answers, each of which records
// a sample on a working Recorder.
func recordEverything(r *Recorder) {
	r.NotificationSent(golivev1alpha1.FormatGeneric)
	r.NotificationFailed(golivev1alpha1.FormatGeneric, "QueueFull")
	r.StatusRecorded("billing", &golivev1alpha1.UpdateRequestStatus{}, &golivev1alpha1.UpdateRequestStatus{Rollback: &golivev1alpha1.RollbackStatus{}}, t0, noSnapshots)
}

// golive's own series a gatherer holds.
func goliveSeries(t *testing.T, gatherer prometheus.Gatherer) []string {
	t.Helper()
	families, err := gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, family := range families {
		if strings.HasPrefix(family.GetName(), "golive_") {
			for range family.GetMetric() {
				series = append(series, family.GetName())
			}
		}
	}
	return series
}

// A nil Recorder (metrics not wired) takes every call without panicking and
// records nothing anywhere, while the same calls record on a working one.
func TestNilRecorderRecordsNothing(t *testing.T) {
	working := NewRecorder()
	registry := prometheus.NewPedanticRegistry()
	if err := working.Register(registry); err != nil {
		t.Fatal(err)
	}
	recordEverything(working)
	// The snapshot histogram has no labels: it is exposed, empty, from the start.
	want := []string{"golive_notification_failures_total", "golive_notifications_sent_total", "golive_rollbacks_total", "golive_snapshot_duration_seconds"}
	if diff := cmp.Diff(want, goliveSeries(t, registry)); diff != "" {
		t.Fatalf("series a working recorder records (-want +got):\n%s", diff)
	}

	before := goliveSeries(t, prometheus.DefaultGatherer)
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("a nil recorder panicked: %v", p)
			}
		}()
		recordEverything(nil)
	}()
	if diff := cmp.Diff(before, goliveSeries(t, prometheus.DefaultGatherer)); diff != "" {
		t.Errorf("a nil recorder recorded in the default registry (-before +after):\n%s", diff)
	}
}

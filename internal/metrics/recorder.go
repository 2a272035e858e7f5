package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// phaseDurationBuckets span a few seconds (a quick phase) to a month (a long
// wait for approvals or a window).
var phaseDurationBuckets = []float64{
	1, 10, 30, 60, 5 * 60, 15 * 60, 30 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
	24 * 3600, 2 * 24 * 3600, 4 * 24 * 3600, 7 * 24 * 3600, 14 * 24 * 3600, 30 * 24 * 3600,
}

// snapshotDurationBuckets span a second to the backup timeout of 30 minutes and beyond.
var snapshotDurationBuckets = []float64{1, 2, 5, 10, 30, 60, 2 * 60, 5 * 60, 10 * 60, 20 * 60, 30 * 60, 3600}

// Recorder holds the metrics of what happened. Its methods are safe for
// concurrent use; a nil Recorder records nothing.
type Recorder struct {
	phaseDuration       *prometheus.HistogramVec
	rollbacks           *prometheus.CounterVec
	snapshotDuration    prometheus.Histogram
	notificationsSent   *prometheus.CounterVec
	notificationFailure *prometheus.CounterVec
}

// NewRecorder makes a Recorder; Register it once with a registry.
func NewRecorder() *Recorder {
	return &Recorder{
		phaseDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "golive_phase_duration_seconds",
			Help:    "Time update requests spent in a phase, observed when they leave it.",
			Buckets: phaseDurationBuckets,
		}, []string{"phase"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "golive_rollbacks_total",
			Help: "Rollbacks of production started, by namespace.",
		}, []string{"namespace"}),
		snapshotDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "golive_snapshot_duration_seconds",
			Help:    "Time from the creation of a VolumeSnapshot to golive recording it ready to use.",
			Buckets: snapshotDurationBuckets,
		}),
		notificationsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "golive_notifications_sent_total",
			Help: "Notices delivered to webhooks (answered 2xx), by format.",
		}, []string{"format"}),
		notificationFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "golive_notification_failures_total",
			Help: "Notices not delivered to a webhook, by format and the reason of the last attempt.",
		}, []string{"format", "reason"}),
	}
}

// Register registers the Recorder's metrics with registerer, such as
// controller-runtime's metrics.Registry.
func (r *Recorder) Register(registerer prometheus.Registerer) error {
	for _, collector := range []prometheus.Collector{r.phaseDuration, r.rollbacks, r.snapshotDuration, r.notificationsSent, r.notificationFailure} {
		if err := registerer.Register(collector); err != nil {
			return err
		}
	}
	return nil
}

// NotificationSent counts a notice a webhook accepted.
func (r *Recorder) NotificationSent(format golivev1alpha1.NotificationFormat) {
	if r == nil {
		return
	}
	r.notificationsSent.WithLabelValues(string(format)).Inc()
}

// NotificationFailed counts a notice that was not delivered, and why.
func (r *Recorder) NotificationFailed(format golivev1alpha1.NotificationFormat, reason string) {
	if r == nil {
		return
	}
	r.notificationFailure.WithLabelValues(string(format), reason).Inc()
}

// SnapshotCreated tells when a VolumeSnapshot was created; false when unknown.
type SnapshotCreated func(volumeSnapshot string) (time.Time, bool)

// StatusRecorded observes what a status patch of a request in namespace
// recorded, comparing the status before and after it: the phases left (their
// durations from the timeline), a rollback started, snapshots become ready.
// Call it once per successful patch, so that each change counts once.
func (r *Recorder) StatusRecorded(namespace string, before, after *golivev1alpha1.UpdateRequestStatus, now time.Time, created SnapshotCreated) {
	if r == nil {
		return
	}
	for _, left := range phasesLeft(before.Timeline, after.Timeline) {
		r.phaseDuration.WithLabelValues(string(left.phase)).Observe(left.duration.Seconds())
	}
	if before.Rollback == nil && after.Rollback != nil {
		r.rollbacks.WithLabelValues(namespace).Inc()
	}
	for _, name := range snapshotsBecomeReady(before.Backup, after.Backup) {
		if at, ok := created(name); ok && !now.Before(at) {
			r.snapshotDuration.Observe(now.Sub(at).Seconds())
		}
	}
}

// phaseLeft is a phase a request left and how long it was in it.
type phaseLeft struct {
	phase    golivev1alpha1.Phase
	duration time.Duration
}

// phasesLeft reads from the entries after added to before's timeline the
// phases left: every entry enters a phase, so the entry before it names the
// phase left and when it was entered.
func phasesLeft(before, after []golivev1alpha1.TimelineEntry) []phaseLeft {
	first := 0
	if n := len(before); n > 0 {
		// The timeline only grows at its end (its oldest entries drop out), so
		// the new entries follow the last one recorded before.
		last := before[n-1]
		first = -1
		for i := len(after) - 1; i >= 0; i-- {
			if sameEntry(after[i], last) {
				first = i + 1
				break
			}
		}
		if first < 0 {
			return nil
		}
	}
	var left []phaseLeft
	for i := max(first, 1); i < len(after); i++ {
		previous := after[i-1]
		left = append(left, phaseLeft{phase: previous.Phase, duration: max(after[i].At.Sub(previous.At.Time), 0)})
	}
	return left
}

func sameEntry(a, b golivev1alpha1.TimelineEntry) bool {
	return a.At.Equal(&b.At) && a.Phase == b.Phase && a.Event == b.Event && a.Actor == b.Actor && a.Message == b.Message
}

// snapshotsBecomeReady names the VolumeSnapshots ready in after but not in before.
func snapshotsBecomeReady(before, after *golivev1alpha1.BackupStatus) []string {
	if after == nil {
		return nil
	}
	ready := map[string]bool{}
	if before != nil {
		for _, snapshot := range before.Snapshots {
			ready[snapshot.VolumeSnapshot] = snapshot.ReadyToUse
		}
	}
	var names []string
	for _, snapshot := range after.Snapshots {
		if snapshot.ReadyToUse && !ready[snapshot.VolumeSnapshot] {
			names = append(names, snapshot.VolumeSnapshot)
		}
	}
	return names
}

package metrics

import "github.com/prometheus/client_golang/prometheus"

// Records holds the metrics of the ReleaseRecords golive writes. Its methods
// are safe for concurrent use; a nil Records records nothing.
type Records struct {
	written  prometheus.Counter
	failures *prometheus.CounterVec
	failing  prometheus.Gauge
}

// NewRecords makes a Records; Register it once with a registry.
func NewRecords() *Records {
	return &Records{
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "golive_records_written_total",
			Help: "ReleaseRecords written.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "golive_record_failures_total",
			Help: "Attempts to write a ReleaseRecord that failed, by reason (ArchiveNamespaceMissing, RecordFailed).",
		}, []string{"reason"}),
		failing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "golive_records_failing",
			Help: "1 while the last attempt to write a ReleaseRecord failed: requests end without their record until it is 0 again.",
		}),
	}
}

// Register registers the metrics with registerer.
func (r *Records) Register(registerer prometheus.Registerer) error {
	for _, collector := range []prometheus.Collector{r.written, r.failures, r.failing} {
		if err := registerer.Register(collector); err != nil {
			return err
		}
	}
	return nil
}

// Written counts a record written (new is false when it was found written
// already, as after a restart): either way, records can be written.
func (r *Records) Written(new bool) {
	if r == nil {
		return
	}
	if new {
		r.written.Inc()
	}
	r.failing.Set(0)
}

// Failed counts a failed attempt to write a record, and why.
func (r *Records) Failed(reason string) {
	if r == nil {
		return
	}
	r.failures.WithLabelValues(reason).Inc()
	r.failing.Set(1)
}

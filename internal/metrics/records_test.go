package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRecordsMetrics(t *testing.T) {
	records := NewRecords()
	registry := prometheus.NewRegistry()
	if err := records.Register(registry); err != nil {
		t.Fatal(err)
	}
	records.Written(true)
	records.Failed("ArchiveNamespaceMissing")
	records.Failed("ArchiveNamespaceMissing")
	want := `
# HELP golive_record_failures_total Attempts to write a ReleaseRecord that failed, by reason (ArchiveNamespaceMissing, RecordFailed).
# TYPE golive_record_failures_total counter
golive_record_failures_total{reason="ArchiveNamespaceMissing"} 2
# HELP golive_records_failing 1 while the last attempt to write a ReleaseRecord failed: requests end without their record until it is 0 again.
# TYPE golive_records_failing gauge
golive_records_failing 1
# HELP golive_records_written_total ReleaseRecords written.
# TYPE golive_records_written_total counter
golive_records_written_total 1
`
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// A record found written already (after a restart) shows writes work again; it is not counted.
	records.Written(false)
	if got := testutil.ToFloat64(records.failing); got != 0 {
		t.Errorf("golive_records_failing = %v after a write, want 0", got)
	}
	if got := testutil.ToFloat64(records.written); got != 1 {
		t.Errorf("golive_records_written_total = %v, want 1", got)
	}
	var none *Records
	none.Written(true)
	none.Failed("RecordFailed")
}

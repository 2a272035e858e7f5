package testenv

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// CounterValue is the value of the counter name in gatherer whose labels are
// labels, name=value pairs in the order gathered (by name); 0 if there is none.
func CounterValue(t testing.TB, gatherer prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	for _, s := range gather(t, gatherer, name) {
		if slices.Equal(s.labels, labels) {
			return s.counter
		}
	}
	return 0
}

// HistogramSamples is "count/sum" of each series of the histogram name in
// gatherer, by its label values joined with commas.
func HistogramSamples(t testing.TB, gatherer prometheus.Gatherer, name string) map[string]string {
	t.Helper()
	samples := map[string]string{}
	for _, s := range gather(t, gatherer, name) {
		var values []string
		for _, label := range s.labels {
			_, value, _ := strings.Cut(label, "=")
			values = append(values, value)
		}
		samples[strings.Join(values, ",")] = fmt.Sprintf("%d/%g", s.count, s.sum)
	}
	return samples
}

// series is one gathered series of a counter or a histogram.
type series struct {
	labels  []string // name=value, by name
	counter float64
	count   uint64
	sum     float64
}

// gather gathers the series of the metric family name.
func gather(t testing.TB, gatherer prometheus.Gatherer, name string) []series {
	t.Helper()
	families, err := gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var gathered []series
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, metric := range family.GetMetric() {
			s := series{
				counter: metric.GetCounter().GetValue(),
				count:   metric.GetHistogram().GetSampleCount(),
				sum:     metric.GetHistogram().GetSampleSum(),
			}
			for _, label := range metric.GetLabel() {
				s.labels = append(s.labels, label.GetName()+"="+label.GetValue())
			}
			gathered = append(gathered, s)
		}
	}
	return gathered
}

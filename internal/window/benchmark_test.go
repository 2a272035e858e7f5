package window

import (
	"testing"
	"time"
)

func BenchmarkState(b *testing.B) {
	benchmarks := []struct {
		name string
		spec specFixture
	}{
		{"weekly window", fixture("Europe/Berlin", thursdayEvening, yearEnd)},
		{"always open, both edges searched to the horizon", fixture("Europe/Berlin", schedule(entry(everyDay, "00:00", 24*time.Hour)))},
		{"never opens, searched to the horizon", fixture("Europe/Berlin", thursdayEvening, freeze("2026-01-01T00:00", "2030-01-01T00:00"))},
	}
	now := utc("2026-06-01T12:00")
	for _, bm := range benchmarks {
		calendar := mustCompile(b, bm.spec.spec())
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				calendar.State(now)
			}
		})
	}
}

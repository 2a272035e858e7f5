package durationfmt

import (
	"testing"
	"time"
)

func TestRough(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Hour:                        "12h",
		10*time.Hour + 30*time.Minute:         "10h30m",
		time.Hour + 29*time.Second:            "1h",
		90 * time.Second:                      "2m",
		time.Minute:                           "1m",
		45*time.Second + 200*time.Millisecond: "45s",
		336 * time.Hour:                       "336h",
	} {
		if got := Rough(d); got != want {
			t.Errorf("Rough(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestShort(t *testing.T) {
	for duration, want := range map[time.Duration]string{
		10 * time.Minute:                        "10m",
		90 * time.Second:                        "1m30s",
		2 * time.Hour:                           "2h",
		time.Hour + 30*time.Minute:              "1h30m",
		5 * time.Second:                         "5s",
		1500 * time.Millisecond:                 "1.5s",
		time.Hour + time.Minute + 5*time.Second: "1h1m5s",
	} {
		if got := Short(duration); got != want {
			t.Errorf("Short(%v) = %q, want %q", duration, got, want)
		}
	}
}

func TestReadable(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * 366 * 24 * time.Hour:     "732 days",
		48 * time.Hour:               "2 days",
		36 * time.Hour:               "36h",
		49 * time.Hour:               "49h",
		3*time.Hour + 30*time.Second: "3h1m",
	} {
		if got := Readable(d); got != want {
			t.Errorf("Readable(%s) = %q, want %q", d, got, want)
		}
	}
}

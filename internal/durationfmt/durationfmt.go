// Package durationfmt writes durations the way people write them in a spec
// and read them in a message. It is shared by the lifecycle, the verification
// and the kubectl plugin, so that one configured timeout reads the same everywhere.
package durationfmt

import (
	"strconv"
	"strings"
	"time"
)

// Short writes d as people write it in a spec: 10m rather than 10m0s, 1h30m,
// 1.5s. Unlike apimachinery's HumanDuration it keeps every unit, for messages
// that restate a configured timeout.
func Short(d time.Duration) string {
	text := d.String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}

// Rough writes d for people: whole minutes without zero units ("12h",
// "1h30m"), seconds only under a minute.
func Rough(d time.Duration) string {
	if d < time.Minute {
		return Short(d.Round(time.Second))
	}
	return Short(d.Round(time.Minute))
}

// Readable writes d for people reading a message: whole days beyond two days
// ("732 days", not "17568h0m0s"), else as Rough does.
func Readable(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= 2*day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + " days"
	}
	return Rough(d)
}

// Package window evaluates a GoLiveWindow: from its spec and an instant it tells
// whether production may change now, when the current opening closes, when the
// next one opens, and whether a change of a given length still fits.
//
// The package is pure: it has no Kubernetes client and never reads the clock;
// every question takes the instant it is about, so controllers pass their
// injected clock's now and tests pass fixed instants.
//
// The rules, each covered by tests:
//
//   - Time zones are IANA names, resolved with the zone database compiled into
//     the binary (time/tzdata), so results do not depend on the host.
//   - A start time that falls in a daylight-saving gap begins when the gap ends;
//     an ambiguous start (the repeated hour) takes its first occurrence. Freeze
//     boundaries follow the same two rules.
//   - A schedule entry's duration is elapsed time, so a 3h window that spans a
//     clock change lasts exactly three hours.
//   - A window that crosses midnight belongs to the day it starts.
//   - Overlapping or touching openings merge into one.
//   - Freezes (local times, end exclusive) cut openings: a window open when a
//     freeze starts closes then, one that would open during a freeze opens at its
//     end if it still runs, and one entirely inside a freeze is removed.
//   - Every search looks at most [Horizon] ahead (and as far back for the start
//     of an opening that is already running); a window with no opening in that
//     time is reported as never opening.
package window

// The zone database is compiled in so that a minimal container image without
// /usr/share/zoneinfo resolves the same zones as a developer's machine.
import _ "time/tzdata"

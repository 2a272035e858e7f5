package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// defaultOpenings is how many openings of each window `windows` shows.
const defaultOpenings = 3

func newWindowsCommand(o *rootOptions) *cobra.Command {
	flags := printFlags(o.scheme)
	count := defaultOpenings
	allNamespaces := false
	cmd := &cobra.Command{
		Use:   "windows",
		Short: "List the next openings of the go-live windows, in their time zone and in UTC",
		Long: `List the next openings of every GoLiveWindow in the namespace (or in all
namespaces with -A), computed from each window's schedule and freezes with
golive's own rules, in the window's time zone and in UTC. Openings that a
freeze shortens, delays or removes are noted, and the freezes still to come are
listed. With -o the GoLiveWindow objects are printed instead.`,
		Example: `  kubectl golive windows -n billing
  kubectl golive windows -A --count 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return fmt.Errorf("--count must be at least 1, not %d", count)
			}
			printer, err := objectPrinter(flags)
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var options []client.ListOption
			if !allNamespaces {
				namespace, err := o.namespace()
				if err != nil {
					return err
				}
				options = append(options, client.InNamespace(namespace))
			}
			var windows golivev1alpha1.GoLiveWindowList
			if err := c.List(cmd.Context(), &windows, options...); err != nil {
				return err
			}
			slices.SortFunc(windows.Items, func(a, b golivev1alpha1.GoLiveWindow) int {
				return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
			})
			if printer != nil {
				return printer.PrintObj(&windows, o.streams.Out)
			}
			if len(windows.Items) == 0 {
				_, err := fmt.Fprintln(o.streams.ErrOut, "No GoLiveWindows found.")
				return err
			}
			now := o.clock.Now()
			var evaluated []windowOpenings
			for i := range windows.Items {
				evaluated = append(evaluated, nextOpenings(&windows.Items[i], now, count))
			}
			return writeWindows(o.streams.Out, evaluated, now, allNamespaces)
		},
	}
	flags.AddFlags(cmd)
	cmd.Flags().IntVar(&count, "count", count, "How many openings of each window to show.")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "List the windows of all namespaces.")
	return cmd
}

// windowOpenings is one window evaluated at an instant.
type windowOpenings struct {
	Namespace, Name string
	// Zone is the window's time zone; nil when the spec is invalid (Err).
	Zone     *time.Location
	Err      error
	Openings []opening
	// Freezes are the freezes that have not ended, in time order.
	Freezes []freeze
}

// opening is one opening of a window, cut by its freezes.
type opening struct {
	window.Interval
	// Open is true for the opening running now.
	Open bool
	// Notes say how freezes changed it: cut short, delayed, openings skipped before it.
	Notes []string
}

// freeze is a freeze of the spec resolved to instants with golive's rules.
type freeze struct {
	Name, Reason string
	window.Interval
}

// nextOpenings evaluates the next count openings of glw after now (the
// current one first, while open) and notes how freezes changed them.
func nextOpenings(glw *golivev1alpha1.GoLiveWindow, now time.Time, count int) windowOpenings {
	result := windowOpenings{Namespace: glw.Namespace, Name: glw.Name}
	calendar, err := window.Compile(glw.Spec)
	if err != nil {
		result.Err = err
		return result
	}
	result.Zone = calendar.Location()
	result.Freezes = resolveFreezes(glw.Spec, now)

	// The same schedule without freezes tells which openings the freezes removed.
	unfrozenSpec := *glw.Spec.DeepCopy()
	unfrozenSpec.Freezes = nil
	unfrozen, err := window.Compile(unfrozenSpec)
	if err != nil {
		result.Err = err
		return result
	}

	after := now // openings of the unfrozen schedule from here on may have been skipped
	for interval := range calendar.Openings(now) {
		o := opening{Interval: interval, Open: interval.Contains(now)}
		if skipped := skippedBefore(unfrozen, calendar, after, interval.Start); len(skipped) > 0 {
			o.Notes = append(o.Notes, skippedNote(skipped, result.Freezes))
		}
		// A freeze delayed the opening if the schedule alone was already open just before it.
		if !interval.Start.IsZero() {
			if justBefore := interval.Start.Add(-time.Nanosecond); scheduledAt(unfrozen, justBefore) {
				o.Notes = append(o.Notes, "opens late: freeze "+freezeNameAt(result.Freezes, justBefore)+" ends")
			}
		}
		// ...and cut it short if the schedule alone would have stayed open.
		if !interval.End.IsZero() && scheduledAt(unfrozen, interval.End) {
			o.Notes = append(o.Notes, "closes early: freeze "+freezeNameAt(result.Freezes, interval.End)+" begins")
		}
		result.Openings = append(result.Openings, o)
		if len(result.Openings) == count || interval.End.IsZero() {
			break
		}
		after = interval.End
	}
	return result
}

// skippedBefore returns the starts of the openings of the unfrozen schedule
// between after and before that lie entirely inside freezes, so that the
// frozen calendar has nothing of them.
func skippedBefore(unfrozen, frozen *window.Calendar, after, before time.Time) []time.Time {
	var skipped []time.Time
	for interval := range unfrozen.Openings(after) {
		if before.IsZero() || interval.Start.IsZero() || !interval.Start.Before(before) {
			break
		}
		if interval.End.IsZero() || interval.End.After(before) || interval.Start.Before(after) {
			continue // the opening shown, delayed by a freeze, or one already shown
		}
		if _, frozenAtStart := frozen.FrozenAt(interval.Start); frozenAtStart {
			skipped = append(skipped, interval.Start)
		}
	}
	return skipped
}

// scheduledAt reports whether a calendar is open at t.
func scheduledAt(calendar *window.Calendar, t time.Time) bool {
	for interval := range calendar.Openings(t) {
		return interval.Contains(t)
	}
	return false
}

func skippedNote(skipped []time.Time, freezes []freeze) string {
	var names []string
	for _, start := range skipped {
		if name := freezeNameAt(freezes, start); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	openings := "opening"
	if len(skipped) > 1 {
		openings = "openings"
	}
	return fmt.Sprintf("%d %s skipped for freeze %s", len(skipped), openings, strings.Join(names, ", "))
}

// freezeNameAt names the freezes that contain t ("a", or "a, b" when they overlap).
func freezeNameAt(freezes []freeze, t time.Time) string {
	var names []string
	for _, f := range freezes {
		if f.Contains(t) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return "?"
	}
	return strings.Join(names, ", ")
}

// aroundTheClock is a schedule open all the time: each day's opening
// overlaps the next even across a clock change, so a freeze is its only gap.
var aroundTheClock = []golivev1alpha1.ScheduleEntry{{
	Days:     []golivev1alpha1.Weekday{golivev1alpha1.Monday, golivev1alpha1.Tuesday, golivev1alpha1.Wednesday, golivev1alpha1.Thursday, golivev1alpha1.Friday, golivev1alpha1.Saturday, golivev1alpha1.Sunday},
	Start:    "00:00",
	Duration: metav1.Duration{Duration: 48 * time.Hour},
}}

// freezeLayout is how freezes write their local boundaries.
const freezeLayout = "2006-01-02T15:04"

// resolveFreezes resolves the freezes of spec that end after now to instants.
// internal/window resolves freezes only for its own use, so each one is put
// alone on a schedule open around the clock, where the gap it cuts is exactly
// the freeze by golive's rules (DST gaps, repeated hours).
func resolveFreezes(spec golivev1alpha1.GoLiveWindowSpec, now time.Time) []freeze {
	var out []freeze
	for _, f := range spec.Freezes {
		interval, ok := resolveFreeze(spec.TimeZone, f)
		if !ok || (!interval.End.IsZero() && !interval.End.After(now)) {
			continue
		}
		out = append(out, freeze{Name: f.Name, Reason: f.Reason, Interval: interval})
	}
	slices.SortStableFunc(out, func(a, b freeze) int { return a.Start.Compare(b.Start) })
	return out
}

// resolveFreeze is the instants a freeze spans; End is zero when it lasts
// beyond window.Horizon. ok is false for a freeze that resolves to nothing
// (both ends in one DST gap) or cannot be read.
func resolveFreeze(zone string, f golivev1alpha1.Freeze) (window.Interval, bool) {
	calendar, err := window.Compile(golivev1alpha1.GoLiveWindowSpec{
		TimeZone: zone, Schedule: aroundTheClock, Freezes: []golivev1alpha1.Freeze{f},
	})
	if err != nil {
		return window.Interval{}, false
	}
	wall, err := time.Parse(freezeLayout, f.Start)
	if err != nil {
		return window.Interval{}, false
	}
	// No zone is two days away from UTC, so this instant is before the freeze.
	from := wall.Add(-48 * time.Hour)
	var before *window.Interval
	for interval := range calendar.Openings(from) {
		if before == nil {
			before = &interval
			continue
		}
		return window.Interval{Start: before.End, End: interval.Start}, true
	}
	if before != nil && !before.End.IsZero() {
		return window.Interval{Start: before.End}, true
	}
	return window.Interval{}, false
}

// writeWindows writes the openings of every window, then the freezes to come.
func writeWindows(out io.Writer, windows []windowOpenings, now time.Time, allNamespaces bool) error {
	tw := printers.GetNewTabWriter(out)
	prefix := func(namespace string) string {
		if allNamespaces {
			return namespace + "\t"
		}
		return ""
	}
	if allNamespaces {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "WINDOW\tTIME ZONE\tOPENS (LOCAL)\tCLOSES (LOCAL)\tOPENS (UTC)\tCLOSES (UTC)\tNOTE")
	for _, w := range windows {
		if w.Err != nil {
			fmt.Fprintf(tw, "%s%s\t-\t-\t-\t-\t-\tinvalid: %s\n", prefix(w.Namespace), w.Name, oneLine(w.Err.Error()))
			continue
		}
		if len(w.Openings) == 0 {
			fmt.Fprintf(tw, "%s%s\t%s\t-\t-\t-\t-\tno opening within %s\n", prefix(w.Namespace), w.Name, w.Zone, horizonText)
			continue
		}
		for _, o := range w.Openings {
			notes := []string{relative(o.Start, now)}
			if o.Open {
				notes[0] = "open now"
			}
			notes = append(notes, o.Notes...)
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", prefix(w.Namespace), w.Name, w.Zone,
				localOrDash(o.Start, w.Zone), localOrDash(o.End, w.Zone), utcOrDash(o.Start), utcOrDash(o.End), strings.Join(notes, "; "))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if !hasFreezes(windows) {
		return nil
	}
	if _, err := fmt.Fprintln(out); err != nil {
		return err
	}
	tw = printers.GetNewTabWriter(out)
	if allNamespaces {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "FREEZE\tWINDOW\tFROM (LOCAL)\tUNTIL (LOCAL)\tFROM (UTC)\tUNTIL (UTC)\tREASON")
	for _, w := range windows {
		for _, f := range w.Freezes {
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", prefix(w.Namespace), f.Name, w.Name,
				localOrDash(f.Start, w.Zone), localOrDash(f.End, w.Zone), utcOrDash(f.Start), utcOrDash(f.End), orDash(oneLine(f.Reason)))
		}
	}
	return tw.Flush()
}

func hasFreezes(windows []windowOpenings) bool {
	for _, w := range windows {
		if len(w.Freezes) > 0 {
			return true
		}
	}
	return false
}

// horizonText is how far ahead golive looks for openings, in days.
var horizonText = fmt.Sprintf("%d days", window.Horizon/(24*time.Hour))

// localOrDash and utcOrDash show an instant, or "-" for one beyond the horizon.
func localOrDash(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return localTime(t, zone)
}

func utcOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

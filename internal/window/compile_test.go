package window

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

func TestCompileRejectsInvalidSpecs(t *testing.T) {
	thursdayEvening := schedule(entry("Thu", "20:00", 3*time.Hour))
	tests := []struct {
		name            string
		spec            v1alpha1.GoLiveWindowSpec
		wantMessage     string
		wantUnknownZone bool
	}{
		{
			name:            "unknown time zone",
			spec:            makeSpec("Mars/Olympus_Mons", thursdayEvening),
			wantMessage:     `spec.timeZone: unknown time zone "Mars/Olympus_Mons"`,
			wantUnknownZone: true,
		},
		{
			name:            "host-dependent Local zone",
			spec:            makeSpec("Local", thursdayEvening),
			wantMessage:     `spec.timeZone: unknown time zone "Local": name an IANA time zone such as Europe/Berlin`,
			wantUnknownZone: true,
		},
		{
			name:            "missing time zone",
			spec:            makeSpec("", thursdayEvening),
			wantMessage:     "spec.timeZone: must name an IANA time zone such as Europe/Berlin",
			wantUnknownZone: true,
		},
		{
			name:        "empty schedule",
			spec:        makeSpec("UTC", nil),
			wantMessage: "spec.schedule: must have at least one entry",
		},
		{
			name:        "hour out of range",
			spec:        makeSpec("UTC", schedule(entry("Mon", "24:00", time.Hour))),
			wantMessage: `spec.schedule[0].start: "24:00" is not a time of day HH:MM (00:00 to 23:59)`,
		},
		{
			name:        "single-digit hour",
			spec:        makeSpec("UTC", schedule(entry("Mon", "08:00", time.Hour), entry("Tue", "9:00", time.Hour))),
			wantMessage: `spec.schedule[1].start: "9:00" is not a time of day HH:MM (00:00 to 23:59)`,
		},
		{
			name:        "minute out of range",
			spec:        makeSpec("UTC", schedule(entry("Mon", "12:60", time.Hour))),
			wantMessage: `spec.schedule[0].start: "12:60" is not a time of day HH:MM (00:00 to 23:59)`,
		},
		{
			name:        "zero duration",
			spec:        makeSpec("UTC", schedule(entry("Mon", "12:00", 0))),
			wantMessage: "spec.schedule[0].duration: 0s is not between 1m0s and 168h0m0s",
		},
		{
			name:        "negative duration",
			spec:        makeSpec("UTC", schedule(entry("Mon", "12:00", -time.Hour))),
			wantMessage: "spec.schedule[0].duration: -1h0m0s is not between 1m0s and 168h0m0s",
		},
		{
			name:        "duration over a week",
			spec:        makeSpec("UTC", schedule(entry("Mon", "12:00", 169*time.Hour))),
			wantMessage: "spec.schedule[0].duration: 169h0m0s is not between 1m0s and 168h0m0s",
		},
		{
			name:        "unknown day",
			spec:        makeSpec("UTC", schedule(entry("Mon,Monday", "12:00", time.Hour))),
			wantMessage: `spec.schedule[0].days[1]: "Monday" is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun`,
		},
		{
			name: "no days",
			spec: makeSpec("UTC", []v1alpha1.ScheduleEntry{
				{Start: "12:00", Duration: metav1.Duration{Duration: time.Hour}},
			}),
			wantMessage: "spec.schedule[0].days: must name at least one day",
		},
		{
			name: "freeze on a day that does not exist",
			spec: makeSpec("Europe/Berlin", thursdayEvening, withFreezes(
				freeze("2026-12-20T00:00", "2027-01-06T00:00"),
				freeze("2026-02-30T00:00", "2026-03-02T00:00"),
			)),
			wantMessage: `spec.freezes[1].start: "2026-02-30T00:00" is not a valid local date and time YYYY-MM-DDTHH:MM`,
		},
		{
			name: "freeze ending before it starts",
			spec: makeSpec("Europe/Berlin", thursdayEvening, withFreezes(
				freeze("2026-12-20T00:00", "2027-01-06T00:00"),
				freeze("2026-06-02T00:00", "2026-06-01T00:00"),
			)),
			wantMessage: `spec.freezes[1].end: "2026-06-01T00:00" must be after start "2026-06-02T00:00"`,
		},
		{
			name:        "freeze ending when it starts",
			spec:        makeSpec("Europe/Berlin", thursdayEvening, withFreezes(freeze("2026-06-01T10:00", "2026-06-01T10:00"))),
			wantMessage: `spec.freezes[0].end: "2026-06-01T10:00" must be after start "2026-06-01T10:00"`,
		},
		{
			name:        "freeze with seconds",
			spec:        makeSpec("Europe/Berlin", thursdayEvening, withFreezes(freeze("2026-06-01T10:00", "2026-06-01T11:00:00"))),
			wantMessage: `spec.freezes[0].end: "2026-06-01T11:00:00" is not a valid local date and time YYYY-MM-DDTHH:MM`,
		},
		{
			name: "negative lead time",
			spec: func() v1alpha1.GoLiveWindowSpec {
				spec := makeSpec("UTC", thursdayEvening)
				spec.LeadTime = metav1.Duration{Duration: -time.Hour}
				return spec
			}(),
			wantMessage: "spec.leadTime: -1h0m0s must not be negative",
		},
		{
			name: "every problem at once",
			spec: makeSpec("Nowhere/City", schedule(entry("Thu", "20:00", 3*time.Hour), entry("Fri", "25:00", time.Hour)),
				withFreezes(freeze("2026-13-01T00:00", "2027-01-06T00:00"))),
			wantMessage: `spec.timeZone: unknown time zone "Nowhere/City"; ` +
				`spec.schedule[1].start: "25:00" is not a time of day HH:MM (00:00 to 23:59); ` +
				`spec.freezes[0].start: "2026-13-01T00:00" is not a valid local date and time YYYY-MM-DDTHH:MM`,
			wantUnknownZone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calendar, err := Compile(tt.spec)
			if err == nil {
				t.Fatalf("Compile() = %v, want an error", calendar)
			}
			if diff := cmp.Diff(tt.wantMessage, err.Error()); diff != "" {
				t.Errorf("error message mismatch (-want +got):\n%s", diff)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("errors.Is(%v, ErrInvalidSpec) = false", err)
			}
			if got := errors.Is(err, ErrUnknownTimeZone); got != tt.wantUnknownZone {
				t.Errorf("errors.Is(%v, ErrUnknownTimeZone) = %v, want %v", err, got, tt.wantUnknownZone)
			}
			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) || fieldErr.Field == "" {
				t.Errorf("errors.As(%v, *FieldError) found no field", err)
			}
		})
	}
}

func TestCompileAcceptsValidSpecs(t *testing.T) {
	tests := []struct {
		name string
		spec v1alpha1.GoLiveWindowSpec
	}{
		{"design example", makeSpec("Europe/Berlin", schedule(entry("Thu", "20:00", 3*time.Hour)),
			withFreezes(freeze("2026-12-20T00:00", "2027-01-06T00:00")))},
		{"every day, shortest and longest", makeSpec("Asia/Kolkata", schedule(
			entry("Mon,Tue,Wed,Thu,Fri,Sat,Sun", "00:00", time.Minute),
			entry("Sun", "23:59", 168*time.Hour)))},
		{"freeze inside a DST gap resolves to nothing", makeSpec("Europe/Berlin", schedule(entry("Sun", "01:00", 4*time.Hour)),
			withFreezes(freeze("2026-03-29T02:10", "2026-03-29T02:50")))},
		{"leap day freeze", makeSpec("UTC", schedule(entry("Mon", "00:00", time.Hour)),
			withFreezes(freeze("2028-02-29T00:00", "2028-03-01T00:00")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile(tt.spec); err != nil {
				t.Errorf("Compile() error = %v", err)
			}
		})
	}
}

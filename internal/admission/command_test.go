package admission

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestParseCommand(t *testing.T) {
	const (
		approve = golivev1alpha1.LedgerApprove
		reject  = golivev1alpha1.LedgerReject
		accept  = golivev1alpha1.LedgerAccept
		abort   = golivev1alpha1.LedgerAbort
	)
	for _, tc := range []struct {
		action  golivev1alpha1.LedgerAction
		value   string
		want    Command
		wantErr string
	}{
		{action: approve, value: "rnd-lead", want: Command{Action: approve, Role: "rnd-lead"}},
		{action: approve, value: "rnd-lead; looks good", want: Command{Action: approve, Role: "rnd-lead", Comment: "looks good"}},
		{action: approve, value: "  rnd-lead ;  tested; twice  ", want: Command{Action: approve, Role: "rnd-lead", Comment: "tested; twice"}},
		{action: approve, value: "rnd-lead;", want: Command{Action: approve, Role: "rnd-lead"}},
		{action: approve, value: "", wantErr: "golive.dev/approve needs a role"},
		{action: approve, value: "  ; looks good", wantErr: "golive.dev/approve needs a role"},
		{action: approve, value: "R&D Lead", wantErr: `"R&D Lead" is not a role name`},
		{action: approve, value: "-lead", wantErr: "is not a role name"},
		{action: approve, value: strings.Repeat("a", 64), wantErr: "is not a role name"},
		{action: approve, value: "rnd-lead; " + strings.Repeat("x", 513), wantErr: "the comment has 513 characters; at most 512"},
		{action: approve, value: "rnd-lead; " + strings.Repeat("ü", 512), want: Command{Action: approve, Role: "rnd-lead", Comment: strings.Repeat("ü", 512)}},
		{action: reject, value: "operations-office; the backup is untested", want: Command{Action: reject, Role: "operations-office", Comment: "the backup is untested"}},
		{action: reject, value: "", wantErr: "golive.dev/reject needs a role"},
		{action: accept, value: "", want: Command{Action: accept}},
		{action: accept, value: " all functional tests passed ", want: Command{Action: accept, Comment: "all functional tests passed"}},
		{action: accept, value: "business-owner; fine", want: Command{Action: accept, Comment: "business-owner; fine"}},
		{action: abort, value: "the vendor withdrew 2.4.0", want: Command{Action: abort, Comment: "the vendor withdrew 2.4.0"}},
		{action: abort, value: "  ", wantErr: "golive.dev/abort needs a reason"},
		{action: approve, value: "rnd-lead; ok\x1b[2J", wantErr: "the comment contains the control character U+001B at character 3"},
		{action: accept, value: "fine \u2066hidden\u2069", wantErr: "control character U+2066 at character 6"},
		{action: abort, value: "bro\u0085ken", wantErr: "control character U+0085 at character 4"},
		{action: abort, value: "line one\nline two\tand a tab", want: Command{Action: abort, Comment: "line one\nline two\tand a tab"}},
		{action: "deploy", value: "now", wantErr: `unknown command "deploy"`},
	} {
		t.Run(string(tc.action)+" "+tc.value, func(t *testing.T) {
			got, err := ParseCommand(tc.action, tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseCommand (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCommands(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		annotations, before  map[string]string
		wantGiven, wantStale []string
	}{
		{name: "none"},
		{
			name:        "an approval given now",
			annotations: map[string]string{golivev1alpha1.AnnotationApprove: "rnd-lead", "team": "billing"},
			before:      map[string]string{"team": "billing"},
			wantGiven:   []string{golivev1alpha1.AnnotationApprove},
		},
		{
			name:        "two commands at once",
			annotations: map[string]string{golivev1alpha1.AnnotationAbort: "outage", golivev1alpha1.AnnotationApprove: "rnd-lead"},
			wantGiven:   []string{golivev1alpha1.AnnotationApprove, golivev1alpha1.AnnotationAbort},
		},
		{
			name:        "a changed value is given now",
			annotations: map[string]string{golivev1alpha1.AnnotationApprove: "rnd-lead; second look"},
			before:      map[string]string{golivev1alpha1.AnnotationApprove: "rnd-lead"},
			wantGiven:   []string{golivev1alpha1.AnnotationApprove},
		},
		{
			name:        "a value carried over unchanged was not given by this user",
			annotations: map[string]string{golivev1alpha1.AnnotationApprove: "rnd-lead", golivev1alpha1.AnnotationAccept: ""},
			before:      map[string]string{golivev1alpha1.AnnotationApprove: "rnd-lead"},
			wantGiven:   []string{golivev1alpha1.AnnotationAccept},
			wantStale:   []string{golivev1alpha1.AnnotationApprove},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given, stale := newCommands(tc.annotations, tc.before)
			if diff := cmp.Diff(tc.wantGiven, given); diff != "" {
				t.Errorf("given (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStale, stale); diff != "" {
				t.Errorf("stale (-want +got):\n%s", diff)
			}
		})
	}
}

package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	clocktesting "k8s.io/utils/clock/testing"
)

func testStreams(out, errOut io.Writer) genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
}

func TestCommandValues(t *testing.T) {
	for _, tc := range []struct {
		role, text, want, wantErr string
	}{
		{role: "rnd-lead", want: "rnd-lead"},
		{role: " rnd-lead ", text: " looks good ", want: "rnd-lead; looks good"},
		{role: "rnd-lead", text: "fine; really", want: "rnd-lead; fine; really"},
		{role: "", wantErr: "--role is required"},
		{role: "rnd-lead;ops", wantErr: `--role "rnd-lead;ops": a role name has no ';'`},
	} {
		got, err := roleAndText(tc.role, tc.text)
		switch {
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("roleAndText(%q, %q) = %q, %v; want error %q", tc.role, tc.text, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("roleAndText(%q, %q) = %q, %v; want %q", tc.role, tc.text, got, err, tc.want)
		}
	}
}

// Flags are checked before anything is sent: no API server is needed to refuse them.
func TestCommandFlagsAreCheckedFirst(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"approve", "billing-2-4-0"}, "error: --role is required\n"},
		{[]string{"abort", "billing-2-4-0"}, "error: --reason is required: say why the request is aborted\n"},
		{[]string{"approve", "billing-2-4-0", "--role", "rnd-lead", "--dry-run=client"},
			"error: --dry-run=client cannot check a command: only golive's webhook can; use --dry-run=server\n"},
		{[]string{"approve"}, "error: accepts 1 arg(s), received 0\n"},
		{[]string{"windows", "--count", "0"}, "error: --count must be at least 1, not 0\n"},
	} {
		var out, errOut bytes.Buffer
		streams := testStreams(&out, &errOut)
		// A kubeconfig that does not exist: any attempt to connect would fail differently.
		args := append([]string{"--kubeconfig", "does-not-exist"}, tc.args...)
		if code := run(t.Context(), args, streams, clocktesting.NewFakePassiveClock(monday)); code != 1 || errOut.String() != tc.want {
			t.Errorf("%s: exit %d, stderr %q; want 1, %q", strings.Join(tc.args, " "), code, errOut.String(), tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("%s wrote %q", strings.Join(tc.args, " "), out.String())
		}
	}
}

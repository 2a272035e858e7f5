package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// The plugin's status shows the deadlines the lifecycle waits for, and asks
// for the missing approvals exactly while the lifecycle would count one
// (now or once staging is verified). internal/admission's
// TestWebhookAnswersAsTheLifecycle feeds the webhook the same states;
// together they fail if a reader of a request re-derives the rule
// differently (docs/development.md, "One rule, every reader").
func TestPluginAnswersAsTheLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	for _, state := range testfixtures.States(now) {
		t.Run(state.Name, func(t *testing.T) {
			request := state.Request
			var out bytes.Buffer
			if err := writeStatus(&out, statusInput{Request: request, Now: now}); err != nil {
				t.Fatal(err)
			}
			text := out.String()

			want := lifecycle.Deadlines(request)
			if got := strings.Count(text, "Until:"); got != len(want) {
				t.Errorf("the status shows %d deadlines, the lifecycle waits for %d:\n%s", got, len(want), text)
			}
			for _, d := range want {
				if line := instant(d.At, now) + ": " + d.What; !strings.Contains(text, line) {
					t.Errorf("the status does not show the lifecycle's deadline %q:\n%s", line, text)
				}
			}

			err := lifecycle.CommandAllowed(request, lifecycle.ActionApprove, "", request.Status.SpecHash)
			var refusal *lifecycle.CommandRefusal
			open := err == nil || (errors.As(err, &refusal) && refusal.Later)
			if approvalsOpen(request) != open {
				t.Errorf("the plugin says approvals are open: %t, the lifecycle: %t", approvalsOpen(request), open)
			}
			asks := open && hasMissing(lifecycle.ShareApprovals(request, nil))
			if got := strings.Contains(text, "needs 1 more"); got != asks {
				t.Errorf("the status asks for approvals: %t, want %t (approvals open: %t):\n%s", got, asks, open, text)
			}
		})
	}
}

package console

import (
	"testing"

	"github.com/golive-dev/golive/internal/lifecycle"
)

func TestCommandValue(t *testing.T) {
	for _, tc := range []struct {
		action     lifecycle.CommandAction
		role, text string
		want       string
		wantError  bool
	}{
		{lifecycle.ActionApprove, "rnd-lead", "", "rnd-lead", false},
		{lifecycle.ActionApprove, "rnd-lead", "  looks\n good ", "rnd-lead; looks good", false},
		{lifecycle.ActionApprove, "", "ok", "", true},
		{lifecycle.ActionReject, "rnd;lead", "", "", true},
		{lifecycle.ActionReject, "business-owner", "broken checkout", "business-owner; broken checkout", false},
		{lifecycle.ActionAccept, "", "fine", "fine", false},
		{lifecycle.ActionGo, "", "", "", false},
		{lifecycle.ActionAbort, "", "", "", true},
		{lifecycle.ActionAbort, "", "wrong image", "wrong image", false},
		{lifecycle.ActionRetry, "", " Prometheus is back ", "Prometheus is back", false},
		{"delete", "", "", "", true},
	} {
		got, err := commandValue(tc.action, tc.role, tc.text)
		if (err != nil) != tc.wantError || got != tc.want {
			t.Errorf("commandValue(%s, %q, %q) = %q, %v; want %q (error %v)", tc.action, tc.role, tc.text, got, err, tc.want, tc.wantError)
		}
	}
}

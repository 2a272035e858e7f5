package controller

import (
	"testing"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/workload"
)

func TestHealthOf(t *testing.T) {
	tests := []struct {
		state   workload.State
		want    lifecycle.Health
		wantErr bool
	}{
		{workload.Progressing, lifecycle.Progressing, false},
		{workload.Healthy, lifecycle.Healthy, false},
		{workload.Failed, lifecycle.Failed, false},
		{"", "", true},
		{"Degraded", "", true},
	}
	for _, test := range tests {
		got, err := healthOf(test.state)
		if got != test.want || (err != nil) != test.wantErr {
			t.Errorf("healthOf(%q) = %q, %v; want %q, error %t", test.state, got, err, test.want, test.wantErr)
		}
	}
}

func TestDataRestoreStateOf(t *testing.T) {
	tests := []struct {
		state   backup.RestoreState
		want    lifecycle.DataRestoreState
		wantErr bool
	}{
		{backup.RestoreInProgress, lifecycle.DataRestoreInProgress, false},
		{backup.Restored, lifecycle.DataRestored, false},
		{backup.RestoreFailed, lifecycle.DataRestoreFailed, false},
		{"", "", true},
		{"Paused", "", true},
	}
	for _, test := range tests {
		got, err := dataRestoreStateOf(test.state)
		if got != test.want || (err != nil) != test.wantErr {
			t.Errorf("dataRestoreStateOf(%q) = %q, %v; want %q, error %t", test.state, got, err, test.want, test.wantErr)
		}
	}
}

func TestCommandActionOf(t *testing.T) {
	tests := []struct {
		action  golivev1alpha1.LedgerAction
		want    lifecycle.CommandAction
		wantErr bool
	}{
		{golivev1alpha1.LedgerApprove, lifecycle.ActionApprove, false},
		{golivev1alpha1.LedgerReject, lifecycle.ActionReject, false},
		{golivev1alpha1.LedgerAccept, lifecycle.ActionAccept, false},
		{golivev1alpha1.LedgerAbort, lifecycle.ActionAbort, false},
		{"", "", true},
		{"veto", "", true},
	}
	for _, test := range tests {
		got, err := commandActionOf(test.action)
		if got != test.want || (err != nil) != test.wantErr {
			t.Errorf("commandActionOf(%q) = %q, %v; want %q, error %t", test.action, got, err, test.want, test.wantErr)
		}
	}
}

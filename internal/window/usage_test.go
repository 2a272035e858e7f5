package window

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// request is an UpdateRequest named name in phase; with startedAt it went to
// production then, and emergency makes it an emergency update.
func request(name string, phase v1alpha1.Phase, emergency bool, startedAt time.Time) v1alpha1.UpdateRequest {
	r := testfixtures.MakeUpdateRequest("", name).Phase(phase)
	if emergency {
		r.Emergency("Payment outage")
	}
	if !startedAt.IsZero() {
		r.ProductionStarted(startedAt)
	}
	obj := r.Obj()
	obj.UID = types.UID("uid-" + name)
	return *obj
}

// started is the durable record of the emergency start of the request named name.
func started(name string, at time.Time) v1alpha1.EmergencyStart {
	return v1alpha1.EmergencyStart{Request: name, UID: "uid-" + name, At: metav1.NewTime(at)}
}

// runsProduction stands in for lifecycle.RunsProductionUpdate, which this
// package cannot import (lifecycle imports window).
func runsProduction(phase v1alpha1.Phase) bool {
	switch phase {
	case v1alpha1.PhaseBackingUp, v1alpha1.PhaseUpdating, v1alpha1.PhaseVerifying, v1alpha1.PhaseRollingBack:
		return true
	}
	return false
}

func TestEmergencyPeriod(t *testing.T) {
	tests := []struct {
		name      string
		emergency *v1alpha1.EmergencyPolicy
		want      time.Duration
	}{
		{"no policy", nil, DefaultEmergencyPeriod},
		{"no period", &v1alpha1.EmergencyPolicy{Roles: []string{"cto"}}, DefaultEmergencyPeriod},
		{"a week", &v1alpha1.EmergencyPolicy{Roles: []string{"cto"}, Period: metav1.Duration{Duration: 168 * time.Hour}}, 168 * time.Hour},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := EmergencyPeriod(v1alpha1.GoLiveWindowSpec{Emergency: test.emergency}); got != test.want {
				t.Errorf("EmergencyPeriod() = %v, want %v", got, test.want)
			}
		})
	}
}

func TestUsageAt(t *testing.T) {
	now := utc("2026-07-09T20:30")
	period := 24 * time.Hour
	tests := []struct {
		name     string
		requests []v1alpha1.UpdateRequest
		want     Usage
	}{
		{"none", nil, Usage{}},
		{"running updates, sorted", []v1alpha1.UpdateRequest{
			request("c", v1alpha1.PhaseVerifying, false, now.Add(-time.Hour)),
			request("a", v1alpha1.PhaseBackingUp, false, time.Time{}),
			request("b", v1alpha1.PhaseAwaitingAcceptance, false, now.Add(-time.Hour)),
			request("d", v1alpha1.PhaseScheduled, false, time.Time{}),
			request("e", v1alpha1.PhaseRollingBack, false, now.Add(-time.Hour)),
		}, Usage{ActiveUpdates: []string{"a", "c", "e"}}},
		{"emergency within the period counts until it leaves it", []v1alpha1.UpdateRequest{
			request("urgent", v1alpha1.PhaseSucceeded, true, now.Add(-2*time.Hour)),
		}, Usage{EmergencyUsed: 1, ChangesAt: now.Add(22 * time.Hour)}},
		{"a rolled-back emergency still counts", []v1alpha1.UpdateRequest{
			request("urgent", v1alpha1.PhaseRolledBack, true, now.Add(-time.Hour)),
		}, Usage{EmergencyUsed: 1, ChangesAt: now.Add(23 * time.Hour)}},
		{"emergency that left the period", []v1alpha1.UpdateRequest{
			request("old", v1alpha1.PhaseSucceeded, true, now.Add(-period)),
		}, Usage{}},
		{"emergency not started", []v1alpha1.UpdateRequest{
			request("waiting", v1alpha1.PhaseScheduled, true, time.Time{}),
		}, Usage{}},
		{"emergency started in the future (clock skew) counts from then", []v1alpha1.UpdateRequest{
			request("skewed", v1alpha1.PhaseUpdating, true, now.Add(time.Minute)),
		}, Usage{ActiveUpdates: []string{"skewed"}, ChangesAt: now.Add(time.Minute)}},
		{"the earliest change wins", []v1alpha1.UpdateRequest{
			request("later", v1alpha1.PhaseSucceeded, true, now.Add(-time.Hour)),
			request("sooner", v1alpha1.PhaseUpdating, true, now.Add(-23*time.Hour)),
			request("normal", v1alpha1.PhaseSucceeded, false, now.Add(-23*time.Hour-30*time.Minute)),
		}, Usage{ActiveUpdates: []string{"sooner"}, EmergencyUsed: 2, ChangesAt: now.Add(time.Hour)}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if diff := cmp.Diff(test.want, UsageAt(test.requests, nil, runsProduction, period, now)); diff != "" {
				t.Errorf("UsageAt() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsageAtCountsRecordedStarts(t *testing.T) {
	now := utc("2026-07-09T20:30")
	period := 24 * time.Hour
	tests := []struct {
		name     string
		requests []v1alpha1.UpdateRequest
		starts   []v1alpha1.EmergencyStart
		want     Usage
	}{
		{"a deleted request still counts", nil,
			[]v1alpha1.EmergencyStart{started("gone", now.Add(-time.Hour))},
			Usage{EmergencyUsed: 1, ChangesAt: now.Add(23 * time.Hour)}},
		{"a request and its record count once", []v1alpha1.UpdateRequest{
			request("urgent", v1alpha1.PhaseSucceeded, true, now.Add(-2*time.Hour)),
		}, []v1alpha1.EmergencyStart{started("urgent", now.Add(-2*time.Hour))},
			Usage{EmergencyUsed: 1, ChangesAt: now.Add(22 * time.Hour)}},
		{"a record listed twice counts once", nil,
			[]v1alpha1.EmergencyStart{started("gone", now.Add(-time.Hour)), started("gone", now.Add(-time.Hour))},
			Usage{EmergencyUsed: 1, ChangesAt: now.Add(23 * time.Hour)}},
		{"a live request and another's record", []v1alpha1.UpdateRequest{
			request("urgent", v1alpha1.PhaseUpdating, true, now.Add(-time.Hour)),
		}, []v1alpha1.EmergencyStart{started("gone", now.Add(-3*time.Hour))},
			Usage{ActiveUpdates: []string{"urgent"}, EmergencyUsed: 2, ChangesAt: now.Add(21 * time.Hour)}},
		{"an expired record", nil,
			[]v1alpha1.EmergencyStart{started("old", now.Add(-period))},
			Usage{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if diff := cmp.Diff(test.want, UsageAt(test.requests, test.starts, runsProduction, period, now)); diff != "" {
				t.Errorf("UsageAt() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordEmergencyStart(t *testing.T) {
	now := utc("2026-07-09T20:30")
	period := 24 * time.Hour
	urgent := request("urgent", v1alpha1.PhaseScheduled, true, time.Time{})

	got, changed := RecordEmergencyStart([]v1alpha1.EmergencyStart{started("old", now.Add(-period)), started("recent", now.Add(-time.Hour))}, &urgent, now, period)
	want := []v1alpha1.EmergencyStart{started("recent", now.Add(-time.Hour)), started("urgent", now)}
	if diff := cmp.Diff(want, got); diff != "" || !changed {
		t.Errorf("RecordEmergencyStart() changed=%v, mismatch (-want +got):\n%s", changed, diff)
	}

	// A retry after a crash finds the request listed: nothing changes.
	again, changed := RecordEmergencyStart(got, &urgent, now.Add(time.Minute), period)
	if diff := cmp.Diff(want, again); diff != "" || changed {
		t.Errorf("RecordEmergencyStart() again changed=%v, mismatch (-want +got):\n%s", changed, diff)
	}

	full := make([]v1alpha1.EmergencyStart, 0, MaxEmergencyStarts)
	for i := range MaxEmergencyStarts {
		full = append(full, v1alpha1.EmergencyStart{Request: "r", UID: fmt.Sprintf("uid-%d", i), At: metav1.NewTime(now.Add(-time.Hour + time.Duration(i)*time.Second))})
	}
	capped, _ := RecordEmergencyStart(full, &urgent, now, period)
	if len(capped) != MaxEmergencyStarts || capped[0].UID != full[1].UID || capped[len(capped)-1].UID != "uid-urgent" {
		t.Errorf("RecordEmergencyStart() on a full list kept %d entries from %q to %q, want %d without the oldest", len(capped), capped[0].UID, capped[len(capped)-1].UID, MaxEmergencyStarts)
	}
}

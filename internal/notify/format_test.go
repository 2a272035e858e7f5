package notify_test

import (
	"testing"
	"time"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
)

const testUID = "d6c9f3a4-5b1e-4c1a-9d6e-2f7a8b9c0d1e"

// succeeded is the outcome notice of a release, in namespace.
func succeeded(namespace string) notify.Notice {
	plannedStart := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	return notify.Notice{
		Namespace: namespace, Name: "billing-2-4-0", UID: testUID, Release: "2.4.0",
		Phase: golivev1alpha1.PhaseSucceeded, PreviousPhase: golivev1alpha1.PhaseVerifying,
		Reason: "Succeeded", Message: "Production passed its verification",
		Time:         time.Date(2026, 11, 23, 21, 15, 0, 0, time.FixedZone("CET", 3600)),
		PlannedStart: &plannedStart,
	}
}

func TestEncode(t *testing.T) {
	// The id hashes the request's UID, the reason, the phase and the time.
	const id = "d80869bac828b34c4dc6b4da6e223cc6"
	const document = `{"id":"` + id + `","request":{"namespace":"billing","name":"billing-2-4-0","uid":"` + testUID + `"},` +
		`"release":"2.4.0","phase":"Succeeded","previousPhase":"Verifying","reason":"Succeeded",` +
		`"message":"Production passed its verification","warning":false,"outcome":true,` +
		`"time":"2026-11-23T20:15:00Z","plannedStart":"2026-11-23T20:00:00Z"}`
	notice := succeeded("billing")

	rolledBack := notice
	rolledBack.Phase, rolledBack.PreviousPhase, rolledBack.Reason = golivev1alpha1.PhaseRolledBack, golivev1alpha1.PhaseRollingBack, "Failed"
	rolledBack.Warning, rolledBack.PlannedStart = true, nil
	rolledBack.Message = `Rolled back: Deployment "billing-api" failed to roll out: <1 of 2> & more`

	notice12h := notice
	notice12h.Phase, notice12h.PreviousPhase, notice12h.Reason = golivev1alpha1.PhaseScheduled, "", "GoLiveNotice"
	notice12h.Message = `Release 2.4.0 goes live at 2026-11-23T20:00:00Z, in 12h (GoLiveWindow "thursday-evening")`

	cases := []struct {
		name        string
		format      golivev1alpha1.NotificationFormat
		notice      notify.Notice
		body        string
		contentType string
	}{
		{
			name: "Generic", format: golivev1alpha1.FormatGeneric, notice: notice,
			body: document, contentType: "application/json",
		},
		{
			name: "Generic by default", format: "", notice: notice,
			body: document, contentType: "application/json",
		},
		{
			name: "Generic without a planned start, not an outcome", format: golivev1alpha1.FormatGeneric, notice: func() notify.Notice {
				n := notice
				n.Phase, n.PreviousPhase, n.Reason, n.Message, n.PlannedStart = golivev1alpha1.PhasePending, "", "Created", "Update request for release 2.4.0 created", nil
				return n
			}(),
			body: `{"id":"c148fa2ec8113ef72c68b2eb4e113649","request":{"namespace":"billing","name":"billing-2-4-0","uid":"` + testUID + `"},` +
				`"release":"2.4.0","phase":"Pending","reason":"Created","message":"Update request for release 2.4.0 created",` +
				`"warning":false,"outcome":false,"time":"2026-11-23T20:15:00Z"}`,
			contentType: "application/json",
		},
		{
			name: "Generic, a release that carries configuration and a migration: a Secret by its keys", format: golivev1alpha1.FormatGeneric, notice: func() notify.Notice {
				n := notice
				n.Phase, n.PreviousPhase, n.Reason, n.Message, n.PlannedStart = golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.PhaseStaging, "Verifying", "Verifying", nil
				n.Config = []golivev1alpha1.ConfigCopyStatus{
					{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Copy: "billing-config-0123456789", Keys: []string{"LOG_LEVEL"}},
					{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: "billing-credentials-abcdef0123", Keys: []string{"password"}},
				}
				n.Migrations = []string{"schema"}
				return n
			}(),
			body: `{"id":"30460090a1220e5e5e6cbaa936267855","request":{"namespace":"billing","name":"billing-2-4-0","uid":"` + testUID + `"},` +
				`"release":"2.4.0","phase":"VerifyingStaging","previousPhase":"Staging","reason":"Verifying","message":"Verifying",` +
				`"warning":false,"outcome":false,"time":"2026-11-23T20:15:00Z",` +
				`"config":[{"kind":"ConfigMap","name":"billing-config","copy":"billing-config-0123456789","keys":["LOG_LEVEL"]},` +
				`{"kind":"Secret","name":"billing-credentials","copy":"billing-credentials-abcdef0123","keys":["password"]}],"migrations":["schema"]}`,
			contentType: "application/json",
		},
		{
			name: "Slack, success", format: golivev1alpha1.FormatSlack, notice: notice,
			body:        `{"text":":white_check_mark: *billing/billing-2-4-0* release *2.4.0*: Verifying → Succeeded\nProduction passed its verification"}`,
			contentType: "application/json",
		},
		{
			name: "Slack, a failed outcome with the characters Slack reserves", format: golivev1alpha1.FormatSlack, notice: rolledBack,
			body:        `{"text":":x: *billing/billing-2-4-0* release *2.4.0*: RollingBack → RolledBack\nRolled back: Deployment \"billing-api\" failed to roll out: &lt;1 of 2&gt; &amp; more"}`,
			contentType: "application/json",
		},
		{
			name: "Slack, an advance notice", format: golivev1alpha1.FormatSlack, notice: notice12h,
			body:        `{"text":":information_source: *billing/billing-2-4-0* release *2.4.0*: Scheduled\nRelease 2.4.0 goes live at 2026-11-23T20:00:00Z, in 12h (GoLiveWindow \"thursday-evening\")"}`,
			contentType: "application/json",
		},
		{
			// A notice about an ended request that changes no phase is no outcome.
			name: "Slack, a policy breach after the release", format: golivev1alpha1.FormatSlack, notice: func() notify.Notice {
				n := notice
				n.PreviousPhase, n.Reason, n.Warning, n.PlannedStart = "", "PolicyBreach", true, nil
				n.Message = "The pod template or replicas of Deployment billing/billing-api were changed by field manager \"kubectl-edit\""
				return n
			}(),
			body:        `{"text":":warning: *billing/billing-2-4-0* release *2.4.0*: Succeeded\nThe pod template or replicas of Deployment billing/billing-api were changed by field manager \"kubectl-edit\""}`,
			contentType: "application/json",
		},
		{
			name: "Slack, a release that carries configuration and a migration: a Secret by its keys", format: golivev1alpha1.FormatSlack, notice: func() notify.Notice {
				n := notice
				n.Phase, n.PreviousPhase, n.Reason, n.Message, n.PlannedStart = golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.PhaseStaging, "Verifying", "Verifying", nil
				n.Config = []golivev1alpha1.ConfigCopyStatus{
					{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Copy: "billing-config-0123456789", Keys: []string{"LOG_LEVEL", "SCHEMA"}},
					{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: "billing-credentials-abcdef0123", Keys: []string{"password"}},
				}
				n.Migrations = []string{"schema", "seed<1>"}
				return n
			}(),
			body: `{"text":":information_source: *billing/billing-2-4-0* release *2.4.0*: Staging → VerifyingStaging\nVerifying` +
				`\nConfiguration: ConfigMap billing-config → billing-config-0123456789 (LOG_LEVEL, SCHEMA); Secret billing-credentials → billing-credentials-abcdef0123 (password)` +
				`\nMigrations: schema, seed&lt;1&gt;"}`,
			contentType: "application/json",
		},
		{
			name: "CloudEvents, structured mode", format: golivev1alpha1.FormatCloudEvents, notice: notice,
			body: `{"specversion":"1.0","id":"` + id + `","source":"/apis/golive.dev/v1alpha1/namespaces/billing/updaterequests/billing-2-4-0",` +
				`"type":"dev.golive.updaterequest.Succeeded","datacontenttype":"application/json","time":"2026-11-23T20:15:00Z","data":` + document + `}`,
			contentType: "application/cloudevents+json; charset=utf-8",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, contentType, err := notify.Encode(tc.format, tc.notice)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.body {
				t.Errorf("body\n got %s\nwant %s", body, tc.body)
			}
			if contentType != tc.contentType {
				t.Errorf("content type %q, want %q", contentType, tc.contentType)
			}
		})
	}
	if _, _, err := notify.Encode("Teams", notice); err == nil {
		t.Error("an unknown format was encoded")
	}
}

// The id is the same for the same notice, wherever and whenever it is made,
// and differs between notices.
func TestNoticeID(t *testing.T) {
	notice := succeeded("billing")
	again := succeeded("billing")
	again.Time = again.Time.UTC()
	if notice.ID() != again.ID() {
		t.Errorf("the same instant in two zones has ids %s and %s", notice.ID(), again.ID())
	}
	variants := map[string]func(*notify.Notice){
		"another request": func(n *notify.Notice) { n.UID = "another" },
		"another reason":  func(n *notify.Notice) { n.Reason = "Verifying" },
		"another phase":   func(n *notify.Notice) { n.Phase = golivev1alpha1.PhaseVerifying },
		"another time":    func(n *notify.Notice) { n.Time = n.Time.Add(time.Nanosecond) },
	}
	for name, change := range variants {
		other := succeeded("billing")
		change(&other)
		if other.ID() == notice.ID() {
			t.Errorf("%s has the same id %s", name, notice.ID())
		}
	}
}

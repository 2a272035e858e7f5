package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Content types of the payloads.
const (
	ContentTypeJSON        = "application/json"
	ContentTypeCloudEvents = "application/cloudevents+json; charset=utf-8"
)

// CloudEventTypePrefix precedes the notice's reason in a CloudEvent's type.
const CloudEventTypePrefix = "dev.golive.updaterequest."

// Notice is one thing to tell a request's webhooks.
type Notice struct {
	Namespace string
	Name      string
	UID       types.UID
	Release   string
	// Phase is the request's phase after the notice; PreviousPhase the phase
	// a phase change left (empty for the first phase and for advance notices).
	Phase         golivev1alpha1.Phase
	PreviousPhase golivev1alpha1.Phase
	// Reason is the PascalCase name of what happened, as in the Kubernetes Event.
	Reason  string
	Message string
	Warning bool
	Time    time.Time
	// PlannedStart is when production is planned to start, once scheduled.
	PlannedStart *time.Time
	// Config are the copies of the release's configuration (status.config):
	// kind, name, copy and keys, never a value.
	Config []golivev1alpha1.ConfigCopyStatus
	// Migrations names the release's migrations, in order.
	Migrations []string
}

// ID identifies the notice, the same for every attempt and every golive
// replica, so that receivers can drop duplicates.
func (n Notice) ID() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{string(n.UID), n.Reason, string(n.Phase), n.Time.UTC().Format(time.RFC3339Nano)}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// Outcome is true when the notice tells how the request ended: the change
// into a terminal phase. A notice about an ended request that changes no
// phase (a window changed, a policy breach) is not one.
func (n Notice) Outcome() bool { return n.PreviousPhase != "" && n.Phase.IsTerminal() }

// Source is the request's API path, the CloudEvents source.
func (n Notice) Source() string {
	return fmt.Sprintf("/apis/%s/namespaces/%s/updaterequests/%s", golivev1alpha1.GroupVersion.String(), n.Namespace, n.Name)
}

// Document is golive's own JSON notice, the Generic payload and the data of a CloudEvent.
type Document struct {
	ID            string          `json:"id"`
	Request       RequestIdentity `json:"request"`
	Release       string          `json:"release"`
	Phase         string          `json:"phase"`
	PreviousPhase string          `json:"previousPhase,omitempty"`
	Reason        string          `json:"reason"`
	Message       string          `json:"message"`
	Warning       bool            `json:"warning"`
	Outcome       bool            `json:"outcome"`
	Time          time.Time       `json:"time"`
	PlannedStart  *time.Time      `json:"plannedStart,omitempty"`
	// Config and Migrations say what the release carries besides images
	// (docs/release-content.md): the configuration's copies by keys, never values.
	Config     []ConfigCopy `json:"config,omitempty"`
	Migrations []string     `json:"migrations,omitempty"`
}

// ConfigCopy is one ConfigMap or Secret of the release and the copy golive made of it.
type ConfigCopy struct {
	Kind string   `json:"kind"`
	Name string   `json:"name"`
	Copy string   `json:"copy"`
	Keys []string `json:"keys,omitempty"`
}

// RequestIdentity names the UpdateRequest a notice is about.
type RequestIdentity struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid"`
}

// Document returns the notice as golive's JSON document.
func (n Notice) Document() Document {
	document := Document{
		ID:            n.ID(),
		Request:       RequestIdentity{Namespace: n.Namespace, Name: n.Name, UID: n.UID},
		Release:       n.Release,
		Phase:         string(n.Phase),
		PreviousPhase: string(n.PreviousPhase),
		Reason:        n.Reason,
		Message:       n.Message,
		Warning:       n.Warning,
		Outcome:       n.Outcome(),
		Time:          n.Time.UTC(),
	}
	if n.PlannedStart != nil {
		plannedStart := n.PlannedStart.UTC()
		document.PlannedStart = &plannedStart
	}
	for _, copy := range n.Config {
		document.Config = append(document.Config, ConfigCopy{Kind: string(copy.Kind), Name: copy.Name, Copy: copy.Copy, Keys: copy.Keys})
	}
	document.Migrations = n.Migrations
	return document
}

// SlackMessage is a Slack-compatible incoming-webhook message.
type SlackMessage struct {
	Text string `json:"text"`
}

// Slack returns the notice as a message people read, in Slack's mrkdwn.
func (n Notice) Slack() SlackMessage {
	icon := ":information_source:"
	switch {
	case n.Outcome() && n.Phase == golivev1alpha1.PhaseSucceeded:
		icon = ":white_check_mark:"
	case n.Outcome():
		icon = ":x:"
	case n.Warning:
		icon = ":warning:"
	}
	what := string(n.Phase)
	if n.PreviousPhase != "" {
		what = string(n.PreviousPhase) + " → " + what
	}
	text := fmt.Sprintf("%s *%s/%s* release *%s*: %s\n%s",
		icon, slackEscape(n.Namespace), slackEscape(n.Name), slackEscape(n.Release), what, slackEscape(n.Message))
	// What the release carries besides images, as the Generic document says
	// it: each copy by its keys, never a value.
	if len(n.Config) > 0 {
		copies := make([]string, len(n.Config))
		for i, copy := range n.Config {
			copies[i] = fmt.Sprintf("%s %s → %s (%s)", copy.Kind, copy.Name, copy.Copy, strings.Join(copy.Keys, ", "))
		}
		text += "\nConfiguration: " + slackEscape(strings.Join(copies, "; "))
	}
	if len(n.Migrations) > 0 {
		text += "\nMigrations: " + slackEscape(strings.Join(n.Migrations, ", "))
	}
	return SlackMessage{Text: text}
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// CloudEvent returns the notice as a CloudEvent, its data the Document.
func (n Notice) CloudEvent() (cloudevents.Event, error) {
	event := cloudevents.New()
	event.SetID(n.ID())
	event.SetSource(n.Source())
	event.SetType(CloudEventTypePrefix + n.Reason)
	event.SetTime(n.Time.UTC())
	data, err := marshal(n.Document())
	if err != nil {
		return event, err
	}
	// Already JSON: carried as the data member itself, not base64.
	event.SetDataContentType(ContentTypeJSON)
	event.DataEncoded, event.DataBase64 = data, false
	return event, event.Validate()
}

// Encode returns the body and content type of the notice in format.
func Encode(format golivev1alpha1.NotificationFormat, n Notice) ([]byte, string, error) {
	switch format {
	case golivev1alpha1.FormatGeneric, "":
		body, err := marshal(n.Document())
		return body, ContentTypeJSON, err
	case golivev1alpha1.FormatSlack:
		body, err := marshal(n.Slack())
		return body, ContentTypeJSON, err
	case golivev1alpha1.FormatCloudEvents:
		event, err := n.CloudEvent()
		if err != nil {
			return nil, "", fmt.Errorf("making the CloudEvent: %w", err)
		}
		// Structured mode: the whole event is the body.
		body, err := json.Marshal(event)
		return body, ContentTypeCloudEvents, err
	}
	return nil, "", fmt.Errorf("unknown notification format %q", format)
}

// marshal writes JSON without escaping <, > and &, which people read in messages.
func marshal(value any) ([]byte, error) {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buffer.Bytes(), []byte("\n")), nil
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Weekday is a day of the week in a window's time zone.
// +kubebuilder:validation:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
type Weekday string

// The days of the week.
const (
	Monday    Weekday = "Mon"
	Tuesday   Weekday = "Tue"
	Wednesday Weekday = "Wed"
	Thursday  Weekday = "Thu"
	Friday    Weekday = "Fri"
	Saturday  Weekday = "Sat"
	Sunday    Weekday = "Sun"
)

// GoLiveWindowSpec says when production may change: recurring openings in a
// time zone, minus freeze periods, with lead time, notices, a concurrency cap
// and an emergency budget.
type GoLiveWindowSpec struct {
	// timeZone is the IANA name of the zone the schedule and freezes are written
	// in, such as Europe/Berlin or UTC. The zone database is compiled into golive.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`
	TimeZone string `json:"timeZone"`

	// schedule lists when go-live is allowed; overlapping entries merge.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	Schedule []ScheduleEntry `json:"schedule"`

	// freezes are periods in which production never changes, whatever the
	// schedule says. A window open when a freeze starts closes then.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Freezes []Freeze `json:"freezes,omitempty"`

	// leadTime is how long before a window opens the last approval must come for
	// a request to use that window.
	// Defaults to 0s.
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) <= duration('2160h')",message="must be a duration such as 90m or 48h, at most 2160h (90 days)"
	// +optional
	LeadTime metav1.Duration `json:"leadTime,omitzero"`

	// notifyBefore lists how long before the planned start notices are sent to
	// the request's webhooks.
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	// +optional
	NotifyBefore []NoticeLead `json:"notifyBefore,omitempty"`

	// maxConcurrent is how many production updates may run at once under this window.
	// Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxConcurrent int32 `json:"maxConcurrent,omitempty"`

	// emergency allows emergency requests under this window. Without it, an
	// emergency request cannot use the window.
	// +optional
	Emergency *EmergencyPolicy `json:"emergency,omitempty"`
}

// NoticeLead is how long before the planned start a notice is sent, a Go
// duration such as 12h. It marshals as a string, like metav1.Duration.
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:MaxLength=20
// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="must be a duration such as 12h, between 1m and 720h"
type NoticeLead struct {
	metav1.Duration `json:",inline"`
}

// ScheduleEntry is a recurring opening.
type ScheduleEntry struct {
	// days on which the window opens, in the window's time zone. A window that
	// crosses midnight belongs to the day it starts.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	// +listType=set
	Days []Weekday `json:"days"`

	// start is the local wall-clock opening time, HH:MM (24h). A start inside a
	// daylight-saving gap begins when the gap ends; an ambiguous start takes its
	// first occurrence.
	// +required
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')",messageExpression="'must be HH:MM, 24-hour, e.g. 19:00 for 7pm (got ' + self + ')'"
	Start string `json:"start"`

	// duration is how long the window stays open, in elapsed time; it may cross midnight.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('168h')",message="must be a duration such as 90m or 48h, between 1m and 168h"
	Duration metav1.Duration `json:"duration"`
}

// Freeze is a period without production changes.
// +kubebuilder:validation:XValidation:rule="self.end > self.start",message="end must be after start"
type Freeze struct {
	// name of the freeze, such as year-end.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// start of the freeze, local time in the window's zone: YYYY-MM-DDTHH:MM.
	// +required
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]$')",messageExpression="'must be YYYY-MM-DDTHH:MM, 24-hour, local time in spec.timeZone, e.g. 2026-12-24T00:00 (got ' + self + ')'"
	Start string `json:"start"`

	// end of the freeze (exclusive), local time in the window's zone: YYYY-MM-DDTHH:MM.
	// +required
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]$')",messageExpression="'must be YYYY-MM-DDTHH:MM, 24-hour, local time in spec.timeZone, e.g. 2026-12-24T00:00 (got ' + self + ')'"
	End string `json:"end"`

	// reason for the freeze, for the record.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides (line breaks and tabs are allowed)"
	// +optional
	Reason string `json:"reason,omitempty"`
}

// EmergencyPolicy limits emergency updates under a window.
type EmergencyPolicy struct {
	// roles of which one approval is needed, on top of the request's required
	// approvals, for an emergency update.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +listType=set
	Roles []string `json:"roles"`

	// maxPerPeriod is how many emergency updates may start production per period.
	// Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxPerPeriod int32 `json:"maxPerPeriod,omitempty"`

	// period over which emergency updates are counted, a sliding interval ending now.
	// Defaults to 720h.
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1h') && duration(self) <= duration('8760h')",message="must be a duration such as 90m or 48h, between 1h and 8760h"
	// +optional
	Period metav1.Duration `json:"period,omitzero"`
}

// GoLiveWindowStatus is the evaluated state of a window, written by the controller.
type GoLiveWindowStatus struct {
	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// open is true while production may change under this window.
	// +kubebuilder:default=false
	// +optional
	Open bool `json:"open"`

	// nextOpen is the next opening, or the current one's start while open.
	// +optional
	NextOpen *metav1.Time `json:"nextOpen,omitempty"`

	// nextClose is when the current or next opening closes.
	// +optional
	NextClose *metav1.Time `json:"nextClose,omitempty"`

	// activeUpdates names the requests whose production update runs under this window.
	// +listType=set
	// +optional
	ActiveUpdates []string `json:"activeUpdates,omitempty"`

	// emergencyUsed counts emergency updates started within the current period.
	// +optional
	EmergencyUsed int32 `json:"emergencyUsed,omitempty"`

	// emergencyStarts records the emergency updates that started production
	// under this window within the period, written when golive admits each
	// start. The budget counts them, so deleting a request does not refill it.
	// +kubebuilder:validation:MaxItems=128
	// +listType=atomic
	// +optional
	EmergencyStarts []EmergencyStart `json:"emergencyStarts,omitempty"`

	// changes records who changed the spec, when and what, newest last; the
	// oldest are dropped beyond 20.
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	Changes []WindowChange `json:"changes,omitempty"`

	// specDigests holds a digest of each field of the spec as last recorded,
	// keyed by the field's JSON name, so that the next change can name the
	// fields it changed.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	SpecDigests map[string]string `json:"specDigests,omitempty"`

	// conditions: Ready is false, with a message, for an unknown time zone or a
	// schedule that never opens.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EmergencyStart is one emergency update admitted into production under a window.
type EmergencyStart struct {
	// request is the name of the UpdateRequest.
	// +kubebuilder:validation:MaxLength=253
	// +required
	Request string `json:"request"`

	// uid is the UID of the UpdateRequest; a request is counted once.
	// +kubebuilder:validation:MaxLength=64
	// +required
	UID string `json:"uid"`

	// at is when its production started.
	// +required
	At metav1.Time `json:"at"`
}

// WindowChange is one recorded change of a window's spec.
type WindowChange struct {
	// at is when the change was made, as the admission webhook stamped it.
	At metav1.Time `json:"at"`

	// by is the user who made the change.
	// +kubebuilder:validation:MaxLength=512
	By string `json:"by"`

	// generation is the window's generation after the change.
	Generation int64 `json:"generation"`

	// summary names the spec fields that changed, such as "freezes, leadTime", or "created".
	// +kubebuilder:validation:MaxLength=256
	Summary string `json:"summary"`
}

// GoLiveWindow says when production may change in its namespace: the agreed
// go-live windows, freeze periods, lead time, notices, a concurrency cap and the
// emergency budget.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=glw,categories=golive
// +kubebuilder:printcolumn:name="Time zone",type=string,JSONPath=`.spec.timeZone`
// +kubebuilder:printcolumn:name="Open",type=boolean,JSONPath=`.status.open`
// +kubebuilder:printcolumn:name="Next open",type=string,JSONPath=`.status.nextOpen`
// +kubebuilder:printcolumn:name="Next close",type=string,JSONPath=`.status.nextClose`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeUpdates`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GoLiveWindow struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says when production may change.
	// +required
	Spec GoLiveWindowSpec `json:"spec"`

	// status is the evaluated state of the window.
	// +optional
	Status GoLiveWindowStatus `json:"status,omitempty"`
}

// GoLiveWindowList is a list of GoLiveWindows.
//
// +kubebuilder:object:root=true
type GoLiveWindowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GoLiveWindow `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GoLiveWindow{}, &GoLiveWindowList{})
}

package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TargetKind is a kind of workload that golive can update.
// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet
type TargetKind string

// The workload kinds golive updates.
const (
	TargetDeployment  TargetKind = "Deployment"
	TargetStatefulSet TargetKind = "StatefulSet"
	TargetDaemonSet   TargetKind = "DaemonSet"
)

// QuiesceMode says whether the targets are stopped while volumes are snapshotted.
// +kubebuilder:validation:Enum=None;ScaleToZero
type QuiesceMode string

const (
	// QuiesceNone snapshots volumes while the workloads keep running.
	QuiesceNone QuiesceMode = "None"
	// QuiesceScaleToZero scales the targets to zero, waits until their pods are
	// gone, snapshots, and scales them back (users out of the system).
	QuiesceScaleToZero QuiesceMode = "ScaleToZero"
)

// AcceptanceTimeoutAction says what happens when nobody accepts or rejects in time.
// +kubebuilder:validation:Enum=Accept;RollBack
type AcceptanceTimeoutAction string

const (
	// AcceptOnTimeout ends the request Succeeded when acceptance times out.
	AcceptOnTimeout AcceptanceTimeoutAction = "Accept"
	// RollBackOnTimeout rolls production back when acceptance times out.
	RollBackOnTimeout AcceptanceTimeoutAction = "RollBack"
)

// RestoreDataMode says whether volumes are restored from snapshots on rollback.
// +kubebuilder:validation:Enum=Auto;BeforeAcceptance;Never
type RestoreDataMode string

const (
	// RestoreDataAuto restores every snapshotted claim on any rollback, also one
	// after production passed its verification and served traffic (a
	// rejection, abort or timeout in AwaitingAcceptance): what production wrote
	// since the snapshot is then no longer in production, but stays on the
	// failed version's volume, which is retained.
	RestoreDataAuto RestoreDataMode = "Auto"
	// RestoreDataBeforeAcceptance restores the claims on a rollback before
	// production passed its verification; a rollback after it rolls back the
	// workloads only and keeps what production wrote.
	RestoreDataBeforeAcceptance RestoreDataMode = "BeforeAcceptance"
	// RestoreDataNever rolls back workloads only and leaves volumes as they are.
	RestoreDataNever RestoreDataMode = "Never"
)

// StagingFailureAction says what becomes of the grey environment when a
// request ends without its release in production.
// +kubebuilder:validation:Enum=Restore;Keep
type StagingFailureAction string

const (
	// RestoreStagingOnFailure puts every staging target back on the spec it had
	// before the request first changed it, so that the next run starts from
	// what the grey environment ran before.
	RestoreStagingOnFailure StagingFailureAction = "Restore"
	// KeepStagingOnFailure leaves the staging targets on the request's images,
	// to look into the failure there.
	KeepStagingOnFailure StagingFailureAction = "Keep"
)

// RetainedVolumesAction says what becomes, at the end of the backup's
// retention, of the volumes a data restore replaced.
// +kubebuilder:validation:Enum=Delete;Keep
type RetainedVolumesAction string

const (
	// DeleteRetainedVolumes gives each retained volume its previous reclaim
	// policy back when the retention ends: one that was Delete is then deleted
	// with its storage by Kubernetes; one that was Retain stays, released, as
	// Kubernetes keeps any released volume of that policy.
	DeleteRetainedVolumes RetainedVolumesAction = "Delete"
	// KeepRetainedVolumes keeps the retained volumes, with reclaim policy
	// Retain, after the retention: deleting them is left to a person.
	KeepRetainedVolumes RetainedVolumesAction = "Keep"
)

// NotificationFormat is the payload format of a notification webhook.
// +kubebuilder:validation:Enum=Generic;Slack;CloudEvents
type NotificationFormat string

const (
	// FormatGeneric posts golive's own JSON document.
	FormatGeneric NotificationFormat = "Generic"
	// FormatSlack posts a Slack-compatible message ({"text": ...}).
	FormatSlack NotificationFormat = "Slack"
	// FormatCloudEvents posts a CloudEvent in structured mode.
	FormatCloudEvents NotificationFormat = "CloudEvents"
)

// UpdateRequestSpec is the update that is asked for: which images go to which
// workloads, and the gates they pass on the way to production.
// +kubebuilder:validation:XValidation:rule="!has(self.backup) || !has(self.backup.quiesce) || self.backup.quiesce != 'ScaleToZero' || self.targets.all(t, t.kind != 'DaemonSet')",message="ScaleToZero cannot stop a DaemonSet target; use None",fieldPath=".backup.quiesce"
type UpdateRequestSpec struct {
	// release is the version being rolled out, shown in columns and notices.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^\s]+$`
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides"
	Release string `json:"release"`

	// description of the update, for approvers and the record.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides (line breaks and tabs are allowed)"
	// +optional
	Description string `json:"description,omitempty"`

	// references are the documents and tickets the release comes with (a
	// change request, a test report, an upgrade plan); a GoLivePolicy may
	// require some types. Part of the spec, so approvals are given for them.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=type
	// +optional
	References []Reference `json:"references,omitempty"`

	// targets are the workloads to update, in this namespace and, with the same
	// kind and name, in the staging namespace. They are updated in this order and
	// rolled back in reverse.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	Targets []Target `json:"targets"`

	// config is the configuration that changes with the release: ConfigMaps
	// with the release's full data, and Secrets copied from a Secret of the
	// request's namespace. golive never edits them in place: it creates an
	// immutable copy <name>-<content hash> in each environment and points the
	// targets' pod templates at it wherever they reference <name>
	// (docs/release-content.md).
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +optional
	Config []ConfigEntry `json:"config,omitempty"`

	// migrations are Jobs run in each environment before its targets change:
	// in staging before the first grey target changes, in production after
	// the backup. Each must complete, in order; a failure in staging ends the
	// request Failed, in production it rolls back, data included.
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	// +optional
	Migrations []ReleaseJob `json:"migrations,omitempty"`

	// staging is the grey environment that is updated and verified first.
	// +required
	Staging Staging `json:"staging"`

	// approvals says which roles must approve before production changes.
	// +required
	Approvals Approvals `json:"approvals"`

	// window is the go-live window production changes wait for.
	// +required
	Window WindowReference `json:"window"`

	// backup says what is saved before production changes. Workload specs are
	// always saved; volumes only when volumeClaimSelector is set.
	// +kubebuilder:default={}
	// +optional
	Backup Backup `json:"backup,omitzero"`

	// verify is the verification of production after the update.
	// +kubebuilder:default={}
	// +optional
	Verify Verification `json:"verify,omitzero"`

	// acceptance is the functional test by the business side after production
	// verified. Without it, a verified production ends the request Succeeded.
	// +optional
	Acceptance *Acceptance `json:"acceptance,omitempty"`

	// rollback says how a failed production update is undone.
	// +kubebuilder:default={}
	// +optional
	Rollback Rollback `json:"rollback,omitzero"`

	// emergency, when present, makes this an emergency update: no soak, no
	// window, no lead time; staging, the required approvals and one approval
	// from a role in the window's emergency.roles still apply, and the window's
	// emergency budget is charged.
	// +optional
	Emergency *Emergency `json:"emergency,omitempty"`

	// notify lists where notices of phase changes and outcomes are sent.
	// +optional
	Notify Notify `json:"notify,omitzero"`

	// suspend stops the request at the next gate; nothing more is changed until
	// it is false again. Work already started (a rollout, a rollback) is finished.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Target is one workload to update.
type Target struct {
	// kind of the workload.
	// +required
	Kind TargetKind `json:"kind"`

	// name of the workload, in the request's namespace and in the staging namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// images maps a container name (init containers included) to its new image.
	// Only these containers change.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && c.size() <= 63)",message="container names must be DNS labels"
	Images map[string]Image `json:"images"`
}

// ConfigKind is the kind of a configuration object a release carries.
// +kubebuilder:validation:Enum=ConfigMap;Secret
type ConfigKind string

// The kinds of configuration a release carries.
const (
	ConfigKindConfigMap ConfigKind = "ConfigMap"
	ConfigKindSecret    ConfigKind = "Secret"
)

// ConfigEntry is one ConfigMap or Secret that changes with the release.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ConfigMap' ? !has(self.fromSecret) : (has(self.fromSecret) && !has(self.data))",message="a ConfigMap carries data and no fromSecret; a Secret carries fromSecret and no data"
type ConfigEntry struct {
	// kind of the object: ConfigMap or Secret.
	// +required
	Kind ConfigKind `json:"kind"`

	// name of the object the targets reference (envFrom, env valueFrom,
	// volumes, projected volumes). At least one target must reference it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=242
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// data is a ConfigMap's full content with the release.
	// +kubebuilder:validation:MaxProperties=256
	// +optional
	Data map[string]string `json:"data,omitempty"`

	// fromSecret names the Secret, in the request's namespace, whose content
	// the release's Secret takes. golive reads it only where the namespace's
	// owners granted it (docs/release-content.md).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	FromSecret string `json:"fromSecret,omitempty"`
}

// ReleaseJob is a Job that a release runs: a migration.
type ReleaseJob struct {
	// name of the Job in the request, a DNS label; it names the Job golive creates.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=24
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// template of the Job. Its pods must not restart forever: restartPolicy is
	// Never or OnFailure. Where it references a ConfigMap or Secret of
	// spec.config, it gets the release's copy, as the targets do.
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.spec.template.spec.restartPolicy) && self.spec.template.spec.restartPolicy in ['Never', 'OnFailure']",message="spec.template.spec.restartPolicy must be Never or OnFailure"
	Template batchv1.JobTemplateSpec `json:"template"`
}

// Image is a container image reference, such as registry.example.com/api:2.4.0
// or one pinned by digest.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=512
// +kubebuilder:validation:Pattern=`^[^\s]+$`
type Image string

// Staging is the grey environment.
type Staging struct {
	// namespace of the grey environment. It must differ from the request's
	// namespace and carry the label golive.dev/staging-for=<request namespace>.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// verify is the verification of the grey environment.
	// +kubebuilder:default={}
	// +optional
	Verify Verification `json:"verify,omitzero"`

	// soak is the minimum time from staging verified to the start of production.
	// Defaults to 0s.
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) <= duration('2160h')",message="must be a duration such as 90m or 48h, at most 2160h (90 days)"
	// +optional
	Soak metav1.Duration `json:"soak,omitzero"`

	// onFailure is what becomes of the staging targets when the request ends
	// without its release in production: Failed, Rejected, Aborted or
	// RolledBack. Restore puts each target back on the spec it had before the
	// request first changed it (saved in the ConfigMap
	// <request>-staging-saved-specs); Keep leaves them on the request's
	// images. Defaults to Restore.
	// +kubebuilder:default=Restore
	// +optional
	OnFailure StagingFailureAction `json:"onFailure,omitempty"`
}

// AppliedPolicy names a GoLivePolicy and the generation of it that applied.
type AppliedPolicy struct {
	// name of the GoLivePolicy.
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// generation of its spec.
	Generation int64 `json:"generation"`
}

// Reference is a document or ticket a release comes with.
// +kubebuilder:validation:XValidation:rule="has(self.id) || has(self.url)",message="a reference needs an id, a url, or both"
type Reference struct {
	// type of the reference, such as change, test-report or upgrade-plan.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Type string `json:"type"`

	// id of the document or ticket, such as CHG0012345.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides"
	// +optional
	ID string `json:"id,omitempty"`

	// url where people read it, http or https.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="must be an absolute http or https URL"
	// +optional
	URL string `json:"url,omitempty"`

	// digest of the document as approved, such as sha256:<64 hex digits>.
	// +kubebuilder:validation:MaxLength=135
	// +kubebuilder:validation:Pattern=`^sha(256|384|512):[a-f0-9]{64,128}$`
	// +optional
	Digest string `json:"digest,omitempty"`
}

// Approvals is the quorum that must approve before production changes.
type Approvals struct {
	// required lists each role and how many distinct people of that role must approve.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=role
	Required []RoleQuorum `json:"required"`

	// allowSelfApproval lets the requester approve their own request.
	// +optional
	AllowSelfApproval bool `json:"allowSelfApproval,omitempty"`
}

// RoleQuorum is one role's share of the approvals.
type RoleQuorum struct {
	// role is the name RBAC grants "approve" on approvalroles.golive.dev for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Role string `json:"role"`

	// count of distinct people of this role who must approve.
	// Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	// +optional
	Count int32 `json:"count,omitempty"`
}

// WindowReference names the go-live window of a request.
type WindowReference struct {
	// name of a GoLiveWindow in the request's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// expectedDuration is how long the production update is expected to take.
	// Production starts only if the open window has at least this much left.
	// Defaults to the production verify.timeout plus 15m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('168h')",message="must be a duration such as 90m or 48h, between 1m and 168h"
	// +optional
	ExpectedDuration *metav1.Duration `json:"expectedDuration,omitempty"`
}

// Backup says what is saved before production changes.
// +kubebuilder:validation:XValidation:rule="!has(self.volumeClaimSelector) || has(self.volumeSnapshotClassName)",message="volumeSnapshotClassName is required when volumeClaimSelector is set"
type Backup struct {
	// volumeClaimSelector selects the PersistentVolumeClaims in the production
	// namespace to snapshot. Without it, no volume is snapshotted.
	// +optional
	VolumeClaimSelector *metav1.LabelSelector `json:"volumeClaimSelector,omitempty"`

	// volumeSnapshotClassName is the VolumeSnapshotClass of the snapshots.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	VolumeSnapshotClassName string `json:"volumeSnapshotClassName,omitempty"`

	// quiesce says whether the targets are stopped while volumes are snapshotted.
	// Defaults to None.
	// +kubebuilder:default=None
	// +optional
	Quiesce QuiesceMode `json:"quiesce,omitempty"`

	// retention is how long snapshots and saved specs are kept after the request ends.
	// Defaults to 168h.
	// +kubebuilder:default="168h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) <= duration('8760h')",message="must be a duration such as 90m or 48h, at most 8760h (365 days)"
	// +optional
	Retention metav1.Duration `json:"retention,omitzero"`

	// jobs save data that is not on a PersistentVolume (an external
	// database: a dump) before production changes: run in the production
	// namespace in order, after the quiesce and before the snapshots. Each must
	// complete; a failure rolls back before any target changed. Their results
	// are in status.backup.jobs; spec.rollback.jobs restore what they saved.
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	// +optional
	Jobs []ReleaseJob `json:"jobs,omitempty"`
}

// Acceptance is the functional test by the business side.
type Acceptance struct {
	// role that may accept or reject production.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Role string `json:"role"`

	// timeout is how long production waits for acceptance once verified.
	// Defaults to 24h.
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:XValidation:rule="self.matches('^(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="must be a duration such as 90m or 48h, between 1m and 720h"
	// +optional
	Timeout metav1.Duration `json:"timeout,omitzero"`

	// onTimeout is what happens when nobody accepts or rejects within timeout.
	// Defaults to Accept.
	// +kubebuilder:default=Accept
	// +optional
	OnTimeout AcceptanceTimeoutAction `json:"onTimeout,omitempty"`
}

// Rollback says how a failed production update is undone.
type Rollback struct {
	// restoreData restores the snapshotted claims from their snapshots on
	// rollback: Auto on every rollback, BeforeAcceptance only on a rollback
	// before production passed its verification (after it, production may
	// have written data worth keeping), Never on none. Defaults to Auto.
	// +kubebuilder:default=Auto
	// +optional
	RestoreData RestoreDataMode `json:"restoreData,omitempty"`

	// retainedVolumes is what becomes of the volumes a data restore replaced
	// (the failed version's data, kept with reclaim policy Retain) when
	// spec.backup.retention ends: Delete gives each its previous reclaim policy
	// back, so that a volume that was Delete goes with its storage; Keep keeps
	// them for a person to delete. Defaults to Delete.
	// +kubebuilder:default=Delete
	// +optional
	RetainedVolumes RetainedVolumesAction `json:"retainedVolumes,omitempty"`

	// jobs restore what spec.backup.jobs saved: run in the production
	// namespace in order, on a rollback after a completed backup (as
	// restoreData allows), after the volumes are restored and before the
	// targets are rolled back. A failure stops the rollback for a person.
	// Their results are in status.rollback.jobs.
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	// +optional
	Jobs []ReleaseJob `json:"jobs,omitempty"`
}

// EmergencyApprovalStatus says whose approval an emergency request needs.
type EmergencyApprovalStatus struct {
	// roles of which the emergency needs one approval; empty when none
	// applies (the window allows no emergencies, or the policies name no
	// common role).
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=atomic
	// +optional
	Roles []string `json:"roles,omitempty"`
	// policy names the GoLivePolicy whose emergency rules replace the
	// window's; empty when they are the window's own.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Policy string `json:"policy,omitempty"`
}

// Emergency marks an urgent update.
type Emergency struct {
	// justification says why this cannot wait for the normal process.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides (line breaks and tabs are allowed)"
	Justification string `json:"justification"`

	// incident is the identifier of the incident this update answers.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x1f\\x7f-\\x9f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]')`,message="must not contain control characters, terminal escapes or bidirectional overrides"
	// +optional
	Incident string `json:"incident,omitempty"`
}

// Notify lists notification targets.
type Notify struct {
	// webhooks receive a notice on every phase change, before the planned start
	// (the window's notifyBefore) and on the outcome. A failing webhook never
	// blocks the update.
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	// +optional
	Webhooks []NotificationWebhook `json:"webhooks,omitempty"`
}

// NotificationWebhook is one place notices are posted to.
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !isURL(self.url) || url(self.url).getScheme() == 'https'",fieldPath=".url",message="must be an https URL when secretRef is set: golive sends the secret over https only"
type NotificationWebhook struct {
	// url to POST to, http or https; https when secretRef is set. golive's
	// egress policy (--egress-allow) decides which addresses it may reach.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",message="must be an absolute http or https URL"
	URL string `json:"url"`

	// format of the payload.
	// Defaults to Generic.
	// +kubebuilder:default=Generic
	// +optional
	Format NotificationFormat `json:"format,omitempty"`

	// secretRef names a Secret key in the request's namespace holding a bearer
	// token (Generic, Slack) or the HMAC signing key (CloudEvents). Only with
	// an https url.
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`
}

// Phase is where a request stands in the release process.
// +kubebuilder:validation:Enum=Pending;Staging;VerifyingStaging;Soaking;AwaitingApproval;Scheduled;AwaitingGo;BackingUp;Updating;Verifying;AwaitingAcceptance;Succeeded;Failed;RollingBack;RolledBack;Rejected;Aborted
type Phase string

// The phases of a request, in the order of the release process. AwaitingGo
// comes only where a GoLivePolicy asks for supervision: the window is open,
// every other gate passed, and a person holding the supervision role says go.
const (
	PhasePending            Phase = "Pending"
	PhaseStaging            Phase = "Staging"
	PhaseVerifyingStaging   Phase = "VerifyingStaging"
	PhaseSoaking            Phase = "Soaking"
	PhaseAwaitingApproval   Phase = "AwaitingApproval"
	PhaseScheduled          Phase = "Scheduled"
	PhaseAwaitingGo         Phase = "AwaitingGo"
	PhaseBackingUp          Phase = "BackingUp"
	PhaseUpdating           Phase = "Updating"
	PhaseVerifying          Phase = "Verifying"
	PhaseAwaitingAcceptance Phase = "AwaitingAcceptance"
	PhaseSucceeded          Phase = "Succeeded"
	PhaseFailed             Phase = "Failed"
	PhaseRollingBack        Phase = "RollingBack"
	PhaseRolledBack         Phase = "RolledBack"
	PhaseRejected           Phase = "Rejected"
	PhaseAborted            Phase = "Aborted"
)

// IsTerminal reports whether the request has ended.
func (p Phase) IsTerminal() bool {
	switch p {
	case PhaseSucceeded, PhaseFailed, PhaseRolledBack, PhaseRejected, PhaseAborted:
		return true
	}
	return false
}

// TouchesProduction reports whether production may already have changed in
// this phase: from BackingUp on, the spec is immutable and a failure rolls back.
func (p Phase) TouchesProduction() bool {
	switch p {
	case PhaseBackingUp, PhaseUpdating, PhaseVerifying, PhaseAwaitingAcceptance,
		PhaseSucceeded, PhaseRollingBack, PhaseRolledBack:
		return true
	}
	return false
}

// CheckResult is the outcome of one verification check.
// +kubebuilder:validation:Enum=Pending;Running;Passed;Failed;Inconclusive
type CheckResult string

// The outcomes of a check.
const (
	CheckPending CheckResult = "Pending"
	CheckRunning CheckResult = "Running"
	CheckPassed  CheckResult = "Passed"
	CheckFailed  CheckResult = "Failed"
	// CheckInconclusive: a metric check had more inconclusive measurements
	// than its inconclusiveLimit; only a person moves the request on.
	CheckInconclusive CheckResult = "Inconclusive"
)

// UpdateRequestStatus is the record of a request, written by the controller only.
type UpdateRequestStatus struct {
	// phase is where the request stands.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// specHash is the hash of the spec that approvals are bound to.
	// +optional
	SpecHash string `json:"specHash,omitempty"`

	// policies are the GoLivePolicies, with their generations, whose rules the
	// request met when production started; it finishes under them.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Policies []AppliedPolicy `json:"policies,omitempty"`

	// requestedBy is the user who created the request, as the admission webhook saw them.
	// +optional
	RequestedBy string `json:"requestedBy,omitempty"`

	// submittedBy is the trusted submitter (a GoLivePolicy's
	// trustedSubmitters) that created the request on requestedBy's behalf;
	// empty when requestedBy created it.
	// +optional
	SubmittedBy string `json:"submittedBy,omitempty"`

	// approvalSummary counts approvals against the quorum, such as "1/2".
	// +optional
	ApprovalSummary string `json:"approvalSummary,omitempty"`

	// emergencyApproval names, for an emergency request, the roles of which
	// it needs one approval and where they come from: the window's emergency
	// rules, or a GoLivePolicy's that replace them.
	// +optional
	EmergencyApproval *EmergencyApprovalStatus `json:"emergencyApproval,omitempty"`

	// approvals are the verified approvals for the current spec.
	// +listType=atomic
	// +optional
	Approvals []ApprovalRecord `json:"approvals,omitempty"`

	// config records the copies of spec.config golive made for the release,
	// the same in both environments.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Config []ConfigCopyStatus `json:"config,omitempty"`

	// staging records the grey environment's update and verification.
	// +optional
	Staging *EnvironmentStatus `json:"staging,omitempty"`

	// stagingRestore records the saving of the staging targets' specs before
	// the request first changed them, and their restore when it ended without
	// its release in production (spec.staging.onFailure).
	// +optional
	StagingRestore *StagingRestoreStatus `json:"stagingRestore,omitempty"`

	// schedule records the chosen window and planned start.
	// +optional
	Schedule *ScheduleStatus `json:"schedule,omitempty"`

	// supervision records who must say go before production starts (the
	// supervision roles of the namespace's GoLivePolicies), until when, and
	// the go commands counted for the current opening of the window.
	// +optional
	Supervision *SupervisionStatus `json:"supervision,omitempty"`

	// backup records what was saved before production changed.
	// +optional
	Backup *BackupStatus `json:"backup,omitempty"`

	// production records production's update and verification.
	// +optional
	Production *EnvironmentStatus `json:"production,omitempty"`

	// rollback records a rollback.
	// +optional
	Rollback *RollbackStatus `json:"rollback,omitempty"`

	// completedAt is when the request ended.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// conditions: Ready, Reconciling, Stalled and one per gate.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// timeline is the audit trail of the request, its last 64 entries.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Timeline []TimelineEntry `json:"timeline,omitempty"`

	// gateRecords are the facts golive recorded, and signed, that a later gate
	// relies on (staging verified, production started), its last 16. golive
	// believes only those whose signature it verifies, never status.phase.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	GateRecords []GateRecord `json:"gateRecords,omitempty"`
}

// ApprovalRecord is one verified approval.
type ApprovalRecord struct {
	// role approved for.
	Role string `json:"role"`
	// user who approved, as authenticated by the API server.
	User string `json:"user"`
	// at is when the approval was recorded.
	At metav1.Time `json:"at"`
	// comment given with the approval.
	// +optional
	Comment string `json:"comment,omitempty"`
}

// EnvironmentStatus records the update and verification of one environment.
type EnvironmentStatus struct {
	// startedAt is when the environment's targets began to change.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// updatedAt is when every target ran the new images.
	// +optional
	UpdatedAt *metav1.Time `json:"updatedAt,omitempty"`
	// verifiedAt is when the verification passed. A staging soak counts
	// from it, also after staging was verified again.
	// +optional
	VerifiedAt *metav1.Time `json:"verifiedAt,omitempty"`
	// reverifications counts the times staging was verified again because
	// production had not started within a GoLivePolicy's staging.maxAge of
	// the last verification. Staging only.
	// +optional
	Reverifications int32 `json:"reverifications,omitempty"`
	// reverificationStartedAt is when the latest of those verifications
	// began: the checks run again from then. Staging only.
	// +optional
	ReverificationStartedAt *metav1.Time `json:"reverificationStartedAt,omitempty"`
	// reverifiedAt is when staging last passed a verification again.
	// Staging only.
	// +optional
	ReverifiedAt *metav1.Time `json:"reverifiedAt,omitempty"`
	// retriedAt is when the golive.dev/retry command that golive last acted
	// on in the environment was signed: the verification runs again from
	// then, and no command at or before it counts again.
	// +optional
	RetriedAt *metav1.Time `json:"retriedAt,omitempty"`
	// targetsApplied counts the targets, in spec order, whose new images were applied.
	// +optional
	TargetsApplied int32 `json:"targetsApplied,omitempty"`
	// migrations are the results of spec.migrations in the environment, run
	// before its targets changed.
	// +listType=map
	// +listMapKey=name
	// +optional
	Migrations []CheckStatus `json:"migrations,omitempty"`
	// checks are the verification results.
	// +listType=map
	// +listMapKey=name
	// +optional
	Checks []CheckStatus `json:"checks,omitempty"`
}

// ConfigCopyStatus is the copy golive made of one entry of spec.config.
type ConfigCopyStatus struct {
	// kind of the object: ConfigMap or Secret.
	Kind ConfigKind `json:"kind"`
	// name the targets referenced.
	Name string `json:"name"`
	// copy is the immutable object the targets reference with the release:
	// <name>-<content hash>.
	Copy string `json:"copy"`
	// keys are the copy's keys, sorted; a Secret's values are never recorded.
	// +listType=atomic
	// +optional
	Keys []string `json:"keys,omitempty"`
}

// StagingRestoreStatus records the staging targets' saved specs and their restore.
type StagingRestoreStatus struct {
	// savedSpecs is the ConfigMap, in the request's namespace, that holds the
	// staging targets' specs from before the request first changed them.
	// +optional
	SavedSpecs string `json:"savedSpecs,omitempty"`
	// targetsRestored counts the targets, in spec order, that were restored.
	// +optional
	TargetsRestored int32 `json:"targetsRestored,omitempty"`
	// restoredAt is when the restore ended: every staging target runs its
	// saved spec again, but those message names.
	// +optional
	RestoredAt *metav1.Time `json:"restoredAt,omitempty"`
	// message says what was restored, and names any target left as it is and why.
	// +optional
	Message string `json:"message,omitempty"`
}

// CheckStatus is the result of one check.
type CheckStatus struct {
	// name of the check: "rollout", a Job's, an HTTP check's or a metric check's name.
	Name string `json:"name"`
	// result of the check.
	Result CheckResult `json:"result"`
	// message explains the result.
	// +optional
	Message string `json:"message,omitempty"`
	// successes counts an HTTP check's expected answers in a row, or a
	// metric check's passed measurements.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Successes int32 `json:"successes,omitempty"`
	// failures counts an HTTP check's failed probes in a row, or a metric
	// check's failed measurements.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Failures int32 `json:"failures,omitempty"`
	// inconclusive counts a metric check's inconclusive measurements.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Inconclusive int32 `json:"inconclusive,omitempty"`
	// lastProbeAt is when an HTTP check was last probed, or a metric check
	// last measured; the next is due a period (interval) later.
	// +optional
	LastProbeAt *metav1.Time `json:"lastProbeAt,omitempty"`
	// measurements are a metric check's latest measurements, oldest first;
	// the counts above cover all of them.
	// +kubebuilder:validation:MaxItems=10
	// +optional
	Measurements []Measurement `json:"measurements,omitempty"`
}

// MeasurementResult is the outcome of one measurement of a metric check.
// +kubebuilder:validation:Enum=Passed;Failed;Inconclusive
type MeasurementResult string

// Measurement results.
const (
	MeasurementPassed       MeasurementResult = "Passed"
	MeasurementFailed       MeasurementResult = "Failed"
	MeasurementInconclusive MeasurementResult = "Inconclusive"
)

// Measurement is one query of a metric check and its judgement.
type Measurement struct {
	// at is when the measurement was taken.
	At metav1.Time `json:"at"`
	// result of the measurement.
	Result MeasurementResult `json:"result"`
	// value the query returned, as text: a number, or a list of numbers.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Value string `json:"value,omitempty"`
	// message says why a measurement failed or was inconclusive.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Message string `json:"message,omitempty"`
}

// ScheduleStatus records when production is planned to change.
type ScheduleStatus struct {
	// window is the GoLiveWindow used.
	// +optional
	Window string `json:"window,omitempty"`
	// notBefore is the earliest start allowed by soak and lead time.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`
	// plannedStart is when production is planned to start.
	// +optional
	PlannedStart *metav1.Time `json:"plannedStart,omitempty"`
	// noticeSentAt is when the last advance notice was sent.
	// +optional
	NoticeSentAt *metav1.Time `json:"noticeSentAt,omitempty"`
}

// SupervisionStatus is where the go of the supervision roles stands.
type SupervisionStatus struct {
	// roles must each say go, each by a person who is not the requester.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Roles []string `json:"roles,omitempty"`
	// until is, in AwaitingGo, the last instant of the window's current
	// opening at which production still fits; without a go by then the
	// request waits for the next opening, where a go is needed again.
	// +optional
	Until *metav1.Time `json:"until,omitempty"`
	// given are the go commands counted for the current opening, one per role.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Given []ApprovalRecord `json:"given,omitempty"`
}

// BackupStatus records what was saved before production changed.
type BackupStatus struct {
	// completedAt is when every snapshot was ready and the specs were saved.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// expiresAt is when snapshots and saved specs are deleted.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// snapshots taken, one per selected claim.
	// +listType=map
	// +listMapKey=claim
	// +optional
	Snapshots []SnapshotStatus `json:"snapshots,omitempty"`
	// savedSpecs is the ConfigMap holding the previous workload specs.
	// +optional
	SavedSpecs string `json:"savedSpecs,omitempty"`
	// quiescedReplicas records the replica counts before quiesce, by target "Kind/name".
	// +optional
	QuiescedReplicas map[string]int32 `json:"quiescedReplicas,omitempty"`
	// jobs are the results of spec.backup.jobs.
	// +listType=map
	// +listMapKey=name
	// +optional
	Jobs []CheckStatus `json:"jobs,omitempty"`
}

// SnapshotStatus records one volume snapshot.
type SnapshotStatus struct {
	// claim is the PersistentVolumeClaim snapshotted.
	Claim string `json:"claim"`
	// volumeSnapshot is the VolumeSnapshot's name.
	VolumeSnapshot string `json:"volumeSnapshot"`
	// readyToUse mirrors the snapshot's readiness.
	// +optional
	ReadyToUse bool `json:"readyToUse,omitempty"`
	// restoreSize is the minimum size of a volume restored from it.
	// +optional
	RestoreSize string `json:"restoreSize,omitempty"`
}

// RollbackStatus records a rollback.
type RollbackStatus struct {
	// reason the rollback started.
	// +optional
	Reason string `json:"reason,omitempty"`
	// startedAt is when the rollback started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// completedAt is when the rolled-back workloads were verified healthy.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// targetsRestored counts the targets, in reverse spec order, whose saved specs were re-applied.
	// +optional
	TargetsRestored int32 `json:"targetsRestored,omitempty"`
	// dataRestored is true once every snapshotted claim was restored.
	// +optional
	DataRestored bool `json:"dataRestored,omitempty"`
	// jobs are the results of spec.rollback.jobs.
	// +listType=map
	// +listMapKey=name
	// +optional
	Jobs []CheckStatus `json:"jobs,omitempty"`
}

// TimelineEntry is one entry of the audit trail.
type TimelineEntry struct {
	// at is when it happened.
	At metav1.Time `json:"at"`
	// phase the request was in afterwards.
	Phase Phase `json:"phase"`
	// actor is who caused it: a user, or "golive".
	// +optional
	Actor string `json:"actor,omitempty"`
	// event is a PascalCase name of what happened.
	Event string `json:"event"`
	// message says what happened.
	// +optional
	Message string `json:"message,omitempty"`
}

// UpdateRequest takes an application update from the grey environment to
// production: staging and its verification, soak, approvals, the go-live
// window, backup, production and its verification, and rollback of workloads
// and data when verification fails.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ur,categories=golive
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="metadata.name: at most 63 characters, since it labels the objects golive creates for the request"
// +kubebuilder:printcolumn:name="Release",type=string,JSONPath=`.spec.release`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,description="What the request is doing or waiting for: the reason of its Ready condition"
// +kubebuilder:printcolumn:name="Stalled",type=string,JSONPath=`.status.conditions[?(@.type=="Stalled")].status`,description="True when only a person can move the request on"
// +kubebuilder:printcolumn:name="Approvals",type=string,JSONPath=`.status.approvalSummary`
// +kubebuilder:printcolumn:name="Planned start",type=string,JSONPath=`.status.schedule.plannedStart`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UpdateRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the update asked for.
	// +required
	Spec UpdateRequestSpec `json:"spec"`

	// status is the record of the request.
	// +optional
	Status UpdateRequestStatus `json:"status,omitempty"`
}

// UpdateRequestList is a list of UpdateRequests.
//
// +kubebuilder:object:root=true
type UpdateRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UpdateRequest `json:"items"`
}

func init() {
	SchemeBuilder.Register(&UpdateRequest{}, &UpdateRequestList{})
}

// Gate is a fact golive records, signed, for a later gate to rely on.
// +kubebuilder:validation:Enum=StagingVerified;ProductionStarted
type Gate string

// The gates golive records.
const (
	// GateStagingVerified: staging passed its verification for the spec hash.
	GateStagingVerified Gate = "StagingVerified"
	// GateProductionStarted: golive admitted production for the spec hash, every gate met.
	GateProductionStarted Gate = "ProductionStarted"
)

// GateRecord is one fact golive recorded: gate passed for specHash at at.
type GateRecord struct {
	// gate is the fact recorded.
	Gate Gate `json:"gate"`

	// specHash is the hash of the spec the fact holds for.
	// +kubebuilder:validation:MaxLength=128
	SpecHash string `json:"specHash"`

	// at is when golive recorded the fact.
	At metav1.Time `json:"at"`

	// signature is golive's HMAC-SHA256 over the request's UID, the gate, the
	// spec hash and the time, keyed with the ledger key; empty only in golive's
	// own decision before it is recorded.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Signature string `json:"signature,omitempty"`
}

// Package testfixtures builds the objects golive's tests start from, in
// Kueue's style: MakeX(namespace, name) starts from a minimal valid object,
// each method sets one thing and returns the builder, Obj returns a copy.
//
//	request := testfixtures.MakeUpdateRequest("billing", "billing-2-4-0").
//		Release("2.4.0").
//		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "api:2.4.0"}).
//		Staging("billing-grey").Approval("rnd-lead", 1).Window("thursday-evening").Obj()
//
// States and CommandTries are a request in every phase and the commands to
// try on it, which the tests that compare golive's readers of a request (the
// webhook, the plugin, the lifecycle) share. It is imported by tests only.
package testfixtures

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Duration is d as an API duration.
func Duration(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

// Time is t as an API time, by reference as status fields hold it.
func Time(t time.Time) *metav1.Time { return &metav1.Time{Time: t} }

// UpdateRequestWrapper builds an UpdateRequest.
type UpdateRequestWrapper struct {
	golivev1alpha1.UpdateRequest
}

// MakeUpdateRequest starts a request with the API's defaults: generation 1,
// a 10m verify timeout in both environments, backups without quiesce kept
// for 168h, restoreData Auto, and no status.
func MakeUpdateRequest(namespace, name string) *UpdateRequestWrapper {
	return &UpdateRequestWrapper{golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Generation: 1},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Staging:  golivev1alpha1.Staging{Verify: golivev1alpha1.Verification{Timeout: Duration(10 * time.Minute)}},
			Backup:   golivev1alpha1.Backup{Quiesce: golivev1alpha1.QuiesceNone, Retention: Duration(168 * time.Hour)},
			Verify:   golivev1alpha1.Verification{Timeout: Duration(10 * time.Minute)},
			Rollback: golivev1alpha1.Rollback{RestoreData: golivev1alpha1.RestoreDataAuto},
		},
	}}
}

// MakeAlicesRequest is a request of alice@example.com (stamped as the
// requester) in namespace that asks rnd-lead and operations-office to approve
// and stages into <namespace>-grey: the request the webhook's and the ledger's
// tests give commands on.
func MakeAlicesRequest(namespace, name string) *UpdateRequestWrapper {
	return MakeUpdateRequest(namespace, name).
		UID("uid-"+namespace+"-"+name).
		Annotation(golivev1alpha1.AnnotationRequestedBy, "alice@example.com").
		Release("2.4.0").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
		Staging(namespace+"-grey").
		Approval("rnd-lead", 1).Approval("operations-office", 1).
		Window("evening")
}

// Obj returns a copy of the request built so far.
func (w *UpdateRequestWrapper) Obj() *golivev1alpha1.UpdateRequest { return w.UpdateRequest.DeepCopy() }

// UID sets metadata.uid.
func (w *UpdateRequestWrapper) UID(uid string) *UpdateRequestWrapper {
	w.ObjectMeta.UID = types.UID(uid)
	return w
}

// Generation sets metadata.generation.
func (w *UpdateRequestWrapper) Generation(generation int64) *UpdateRequestWrapper {
	w.ObjectMeta.Generation = generation
	return w
}

// Created sets metadata.creationTimestamp.
func (w *UpdateRequestWrapper) Created(at time.Time) *UpdateRequestWrapper {
	w.CreationTimestamp = metav1.NewTime(at)
	return w
}

// Annotation sets one annotation.
func (w *UpdateRequestWrapper) Annotation(key, value string) *UpdateRequestWrapper {
	if w.Annotations == nil {
		w.Annotations = map[string]string{}
	}
	w.Annotations[key] = value
	return w
}

// RequestedBy stamps the requester as the admission webhook does (the
// annotation) and as the controller records it (status.requestedBy).
func (w *UpdateRequestWrapper) RequestedBy(user string) *UpdateRequestWrapper {
	w.Status.RequestedBy = user
	return w.Annotation(golivev1alpha1.AnnotationRequestedBy, user)
}

// Release sets spec.release.
func (w *UpdateRequestWrapper) Release(release string) *UpdateRequestWrapper {
	w.Spec.Release = release
	return w
}

// Target appends a target with images by container.
func (w *UpdateRequestWrapper) Target(kind golivev1alpha1.TargetKind, name string, images map[string]string) *UpdateRequestWrapper {
	target := golivev1alpha1.Target{Kind: kind, Name: name, Images: map[string]golivev1alpha1.Image{}}
	for container, image := range images {
		target.Images[container] = golivev1alpha1.Image(image)
	}
	w.Spec.Targets = append(w.Spec.Targets, target)
	return w
}

// Staging sets spec.staging.namespace.
func (w *UpdateRequestWrapper) Staging(namespace string) *UpdateRequestWrapper {
	w.Spec.Staging.Namespace = namespace
	return w
}

// Soak sets spec.staging.soak.
func (w *UpdateRequestWrapper) Soak(d time.Duration) *UpdateRequestWrapper {
	w.Spec.Staging.Soak = Duration(d)
	return w
}

// StagingVerifyTimeout sets spec.staging.verify.timeout.
func (w *UpdateRequestWrapper) StagingVerifyTimeout(d time.Duration) *UpdateRequestWrapper {
	w.Spec.Staging.Verify.Timeout = Duration(d)
	return w
}

// VerifyTimeout sets spec.verify.timeout, production's.
func (w *UpdateRequestWrapper) VerifyTimeout(d time.Duration) *UpdateRequestWrapper {
	w.Spec.Verify.Timeout = Duration(d)
	return w
}

// VerifyJob appends a verification Job to an environment: staging or production.
func (w *UpdateRequestWrapper) VerifyJob(production bool, job golivev1alpha1.VerificationJob) *UpdateRequestWrapper {
	verification := &w.Spec.Staging.Verify
	if production {
		verification = &w.Spec.Verify
	}
	verification.Jobs = append(verification.Jobs, job)
	return w
}

// ConfigMap appends a ConfigMap of spec.config: the release's full data for name.
func (w *UpdateRequestWrapper) ConfigMap(name string, data map[string]string) *UpdateRequestWrapper {
	w.Spec.Config = append(w.Spec.Config, golivev1alpha1.ConfigEntry{Kind: golivev1alpha1.ConfigKindConfigMap, Name: name, Data: data})
	return w
}

// Secret appends a Secret of spec.config: name takes the content of fromSecret.
func (w *UpdateRequestWrapper) Secret(name, fromSecret string) *UpdateRequestWrapper {
	w.Spec.Config = append(w.Spec.Config, golivev1alpha1.ConfigEntry{Kind: golivev1alpha1.ConfigKindSecret, Name: name, FromSecret: fromSecret})
	return w
}

// Migration appends a Job of spec.migrations running image with args, never restarted.
func (w *UpdateRequestWrapper) Migration(name, image string, args ...string) *UpdateRequestWrapper {
	w.Spec.Migrations = append(w.Spec.Migrations, golivev1alpha1.ReleaseJob{Name: name, Template: batchv1.JobTemplateSpec{
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: name, Image: image, Args: args}},
		}}},
	}})
	return w
}

// Approval appends a required quorum of count people of role.
func (w *UpdateRequestWrapper) Approval(role string, count int32) *UpdateRequestWrapper {
	w.Spec.Approvals.Required = append(w.Spec.Approvals.Required, golivev1alpha1.RoleQuorum{Role: role, Count: count})
	return w
}

// AllowSelfApproval lets the requester's approval count.
func (w *UpdateRequestWrapper) AllowSelfApproval() *UpdateRequestWrapper {
	w.Spec.Approvals.AllowSelfApproval = true
	return w
}

// Window sets spec.window.name.
func (w *UpdateRequestWrapper) Window(name string) *UpdateRequestWrapper {
	w.Spec.Window.Name = name
	return w
}

// ExpectedDuration sets spec.window.expectedDuration.
func (w *UpdateRequestWrapper) ExpectedDuration(d time.Duration) *UpdateRequestWrapper {
	expected := Duration(d)
	w.Spec.Window.ExpectedDuration = &expected
	return w
}

// Emergency makes the request an emergency, with justification.
func (w *UpdateRequestWrapper) Emergency(justification string) *UpdateRequestWrapper {
	w.Spec.Emergency = &golivev1alpha1.Emergency{Justification: justification}
	return w
}

// Acceptance asks role to accept production within timeout.
func (w *UpdateRequestWrapper) Acceptance(role string, timeout time.Duration, onTimeout golivev1alpha1.AcceptanceTimeoutAction) *UpdateRequestWrapper {
	w.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: role, Timeout: Duration(timeout), OnTimeout: onTimeout}
	return w
}

// SnapshotVolumes backs up the claims labelled selector with snapshot class.
func (w *UpdateRequestWrapper) SnapshotVolumes(selector map[string]string, class string) *UpdateRequestWrapper {
	w.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: selector}
	w.Spec.Backup.VolumeSnapshotClassName = class
	return w
}

// Quiesce sets spec.backup.quiesce.
func (w *UpdateRequestWrapper) Quiesce(quiesce golivev1alpha1.QuiesceMode) *UpdateRequestWrapper {
	w.Spec.Backup.Quiesce = quiesce
	return w
}

// Retention sets spec.backup.retention.
func (w *UpdateRequestWrapper) Retention(d time.Duration) *UpdateRequestWrapper {
	w.Spec.Backup.Retention = Duration(d)
	return w
}

// RestoreData sets spec.rollback.restoreData.
func (w *UpdateRequestWrapper) RestoreData(restore golivev1alpha1.RestoreDataMode) *UpdateRequestWrapper {
	w.Spec.Rollback.RestoreData = restore
	return w
}

// OnStagingFailure sets spec.staging.onFailure.
func (w *UpdateRequestWrapper) OnStagingFailure(action golivev1alpha1.StagingFailureAction) *UpdateRequestWrapper {
	w.Spec.Staging.OnFailure = action
	return w
}

// RetainedVolumes sets spec.rollback.retainedVolumes.
func (w *UpdateRequestWrapper) RetainedVolumes(action golivev1alpha1.RetainedVolumesAction) *UpdateRequestWrapper {
	w.Spec.Rollback.RetainedVolumes = action
	return w
}

// Suspend sets spec.suspend.
func (w *UpdateRequestWrapper) Suspend() *UpdateRequestWrapper {
	w.Spec.Suspend = true
	return w
}

// SpecHash sets status.specHash, the hash approvals are bound to.
func (w *UpdateRequestWrapper) SpecHash(hash string) *UpdateRequestWrapper {
	w.Status.SpecHash = hash
	return w
}

// Phase sets status.phase.
func (w *UpdateRequestWrapper) Phase(phase golivev1alpha1.Phase) *UpdateRequestWrapper {
	w.Status.Phase = phase
	return w
}

// Condition sets a status condition, stamped with the request's generation.
func (w *UpdateRequestWrapper) Condition(conditionType string, status metav1.ConditionStatus, reason, message string) *UpdateRequestWrapper {
	meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{
		Type: conditionType, Status: status, Reason: reason, Message: message, ObservedGeneration: w.ObjectMeta.Generation,
	})
	return w
}

// StagingStarted records staging as started at started.
func (w *UpdateRequestWrapper) StagingStarted(started time.Time) *UpdateRequestWrapper {
	w.Status.Staging = &golivev1alpha1.EnvironmentStatus{StartedAt: Time(started)}
	return w
}

// StagingVerified records staging as verified at verified for every target
// (started five minutes and updated three minutes before), with the
// StagingVerified condition.
func (w *UpdateRequestWrapper) StagingVerified(verified time.Time) *UpdateRequestWrapper {
	w.Status.Staging = &golivev1alpha1.EnvironmentStatus{
		StartedAt: Time(verified.Add(-5 * time.Minute)), UpdatedAt: Time(verified.Add(-3 * time.Minute)),
		VerifiedAt: Time(verified), TargetsApplied: int32(len(w.Spec.Targets)),
	}
	return w.Condition(golivev1alpha1.ConditionStagingVerified, metav1.ConditionTrue, golivev1alpha1.ReasonSucceeded, "Staging passed its verification")
}

// StagingSaved records the staging targets' specs as saved in the ConfigMap
// savedSpecs, before the request first changed them.
func (w *UpdateRequestWrapper) StagingSaved(savedSpecs string) *UpdateRequestWrapper {
	if w.Status.StagingRestore == nil {
		w.Status.StagingRestore = &golivev1alpha1.StagingRestoreStatus{}
	}
	w.Status.StagingRestore.SavedSpecs = savedSpecs
	return w
}

// StagingRestoredAt records the staging targets' restore as ended at restored.
func (w *UpdateRequestWrapper) StagingRestoredAt(restored time.Time) *UpdateRequestWrapper {
	if w.Status.StagingRestore == nil {
		w.Status.StagingRestore = &golivev1alpha1.StagingRestoreStatus{}
	}
	w.Status.StagingRestore.RestoredAt = Time(restored)
	return w
}

// ProductionStarted records production as started at started.
func (w *UpdateRequestWrapper) ProductionStarted(started time.Time) *UpdateRequestWrapper {
	w.Status.Production = &golivev1alpha1.EnvironmentStatus{StartedAt: Time(started)}
	return w
}

// BackedUp records the backup as completed at completed, the specs saved in savedSpecs.
func (w *UpdateRequestWrapper) BackedUp(savedSpecs string, completed time.Time) *UpdateRequestWrapper {
	if w.Status.Backup == nil {
		w.Status.Backup = &golivev1alpha1.BackupStatus{}
	}
	w.Status.Backup.SavedSpecs, w.Status.Backup.CompletedAt = savedSpecs, Time(completed)
	return w
}

// Approved appends an approval golive counted to status.approvals.
func (w *UpdateRequestWrapper) Approved(role, user string, at time.Time, comment string) *UpdateRequestWrapper {
	w.Status.Approvals = append(w.Status.Approvals, golivev1alpha1.ApprovalRecord{Role: role, User: user, At: metav1.NewTime(at), Comment: comment})
	return w
}

// ApprovalSummary sets status.approvalSummary.
func (w *UpdateRequestWrapper) ApprovalSummary(summary string) *UpdateRequestWrapper {
	w.Status.ApprovalSummary = summary
	return w
}

// Timeline appends entries to status.timeline.
func (w *UpdateRequestWrapper) Timeline(entries ...golivev1alpha1.TimelineEntry) *UpdateRequestWrapper {
	w.Status.Timeline = append(w.Status.Timeline, entries...)
	return w
}

// Completed sets status.completedAt.
func (w *UpdateRequestWrapper) Completed(at time.Time) *UpdateRequestWrapper {
	w.Status.CompletedAt = Time(at)
	return w
}

// Mutate applies change, for what no method says.
func (w *UpdateRequestWrapper) Mutate(change func(*golivev1alpha1.UpdateRequest)) *UpdateRequestWrapper {
	change(&w.UpdateRequest)
	return w
}

// Incident sets spec.emergency.incident; call it after Emergency.
func (w *UpdateRequestWrapper) Incident(incident string) *UpdateRequestWrapper {
	w.Spec.Emergency.Incident = incident
	return w
}

// Description sets spec.description.
func (w *UpdateRequestWrapper) Description(description string) *UpdateRequestWrapper {
	w.Spec.Description = description
	return w
}

// Targets appends targets as they are.
func (w *UpdateRequestWrapper) Targets(targets ...golivev1alpha1.Target) *UpdateRequestWrapper {
	w.Spec.Targets = append(w.Spec.Targets, targets...)
	return w
}

// Typed sets apiVersion and kind, as a request read from YAML or sent to a client carries them.
func (w *UpdateRequestWrapper) Typed() *UpdateRequestWrapper {
	w.TypeMeta = metav1.TypeMeta{APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest"}
	return w
}

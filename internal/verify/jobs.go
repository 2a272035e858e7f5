package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// The environments a request verifies; they are part of Job names and labels.
const (
	EnvironmentStaging    = "staging"
	EnvironmentProduction = "production"
)

// Errors of EnsureJob, for errors.Is.
var (
	// ErrForeignJob: the Job's name is taken by a Job that is not this
	// request's. golive never adopts it; a person has to remove it.
	ErrForeignJob = errors.New("a Job with this name belongs to something else")

	// ErrStaleJob: the Job was made by golive for a request of this name, but
	// for an earlier request of that name or an earlier spec, or it is being
	// deleted. DeleteJobs removes it; EnsureJob creates the new one once it is gone.
	ErrStaleJob = errors.New("the Job with this name is left over from an earlier verification")
)

// maxLabelValueLength is also the limit for Job names: the Job controller
// copies the name into the job-name label of its pods.
const maxLabelValueLength = 63

// shortHashLength keeps truncated names readable; 8 hex digits make a clash
// between two long names of one namespace very unlikely.
const shortHashLength = 8

// jobSpecHashLength is how many digits of the spec hash a Job name carries:
// enough that each spec gets its own Job; the label and signature carry more.
const jobSpecHashLength = 8

// JobName is the deterministic name of a verification Job,
// <request>-<env>-<check>-<spec>, where <spec> is the first 8 digits of the
// spec hash: a spec change gives every check a new Job, so a Job that ran for
// the old spec is never read for the new one. A name longer than 63
// characters keeps env, check and spec, shortens the request's name and
// appends a hash of the whole name, so it stays unique and the same on every call.
func JobName(requestName, env, checkName, specHash string) string {
	return AttemptJobName(requestName, env, checkName, specHash, 0)
}

// AttemptJobName is JobName for a verification attempt: attempt n > 0 (staging
// verified again under a policy's staging.maxAge) appends "-r<n>" to the spec
// digits, so the Jobs of an earlier attempt, passed long ago, are never
// counted for this one.
func AttemptJobName(requestName, env, checkName, specHash string, attempt int32) string {
	spec := ledger.ShortSpecHash(specHash)
	if len(spec) > jobSpecHashLength {
		spec = spec[:jobSpecHashLength]
	}
	if attempt > 0 {
		spec += fmt.Sprintf("-r%d", attempt)
	}
	name := requestName + "-" + env + "-" + checkName + "-" + spec
	if len(name) <= maxLabelValueLength {
		return name
	}
	suffix := "-" + env + "-" + checkName + "-" + shortHash(name) + "-" + spec
	if room := maxLabelValueLength - len(suffix); room > 0 {
		if prefix := trimSeparators(requestName[:min(room, len(requestName))]); prefix != "" {
			return prefix + suffix
		}
	}
	// Only reached with check names longer than the API allows.
	return shortenWithHash(name, maxLabelValueLength)
}

// shortenWithHash cuts s to at most limit characters, replacing its end by a
// hash of all of s.
func shortenWithHash(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	hash := shortHash(s)
	prefix := trimSeparators(s[:limit-len(hash)-1])
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:shortHashLength]
}

// trimSeparators drops what a cut may leave dangling: names and label values
// must end with a letter or digit.
func trimSeparators(s string) string {
	return strings.TrimRight(s, "-._")
}

// Seal is what golive signs its Jobs with and checks them against: the
// ledger key and the hash of the request's current spec (ledger.SpecHash).
type Seal struct {
	Key      []byte
	SpecHash string
	// Attempt numbers the verification (lifecycle.VerificationAttempt): it
	// names the Jobs (AttemptJobName).
	Attempt int32
}

// EnsureJob creates the verification Job of check in namespace from its
// template, or returns it when it exists and is golive's; calling it again is safe.
//
// The Job is labelled with the request, its namespace and UID, the
// environment, the check and the short spec hash, on top of the template's own
// labels (golive's win), and its pods carry the same labels. It carries the
// hash of the check's template as written in the request (AnnotationTemplateHash)
// and golive's signature over all of that (AnnotationSignature), set at
// creation, so a Job read back after a crash verifies like any other.
// In the request's own namespace the request owns the Job, so garbage
// collection removes it with the request. Owner references cannot cross
// namespaces, so a Job in the staging namespace has labels only: the
// controller removes it with DeleteJobs when the request ends (its finalizer).
//
// A Job of that name that is not golive's for this request, spec and check
// (CheckJob) is never adopted: EnsureJob returns an error wrapping
// ErrForeignJob, or ErrStaleJob for one golive made for an earlier request of
// the same name or an earlier spec, which DeleteJob may remove.
func EnsureJob(ctx context.Context, c client.Client, scheme *runtime.Scheme, seal Seal, owner *v1alpha1.UpdateRequest,
	env string, namespace string, check v1alpha1.VerificationJob) (*batchv1.Job, error) {
	if env != EnvironmentStaging && env != EnvironmentProduction {
		return nil, fmt.Errorf("environment %q is neither %q nor %q", env, EnvironmentStaging, EnvironmentProduction)
	}
	if owner.UID == "" {
		return nil, fmt.Errorf("UpdateRequest %s/%s has no UID: pass it as read from the API server", owner.Namespace, owner.Name)
	}
	want, err := newJob(seal, owner, env, namespace, check)
	if err != nil {
		return nil, err
	}
	if namespace == owner.Namespace {
		if err := controllerutil.SetControllerReference(owner, want, scheme); err != nil {
			return nil, fmt.Errorf("making UpdateRequest %s the owner of Job %s: %w", owner.Name, want.Name, err)
		}
	}

	existing := &batchv1.Job{}
	err = c.Get(ctx, client.ObjectKeyFromObject(want), existing)
	if err == nil {
		return ours(seal, existing, want)
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("getting Job %s/%s: %w", namespace, want.Name, err)
	}
	err = c.Create(ctx, want)
	if err == nil {
		return want, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating Job %s/%s: %w", namespace, want.Name, err)
	}
	// Created meanwhile, or a cached client that has not seen it yet.
	if err := c.Get(ctx, client.ObjectKeyFromObject(want), existing); err != nil {
		return nil, fmt.Errorf("getting Job %s/%s, which exists: %w", namespace, want.Name, err)
	}
	return ours(seal, existing, want)
}

// ours returns existing when it is the Job EnsureJob would have created.
func ours(seal Seal, existing, want *batchv1.Job) (*batchv1.Job, error) {
	if err := checkJobIsOurs(seal, existing, want); err != nil {
		return nil, err
	}
	return existing, nil
}

// CheckJob tells whether job, read back from the cluster, is the Job golive
// made for check of owner in env with the current spec: nil when it is, an
// error wrapping ErrForeignJob when golive did not make it (no valid
// signature, or a pod template other than the check's), or ErrStaleJob when
// golive made it for an earlier request of the same name or an earlier spec.
// The message names the Job and says why, for the check's message and an Event.
func CheckJob(seal Seal, owner *v1alpha1.UpdateRequest, env string, check v1alpha1.VerificationJob, job *batchv1.Job) error {
	want, err := newJob(seal, owner, env, job.Namespace, check)
	if err != nil {
		return err
	}
	return checkJobIsOurs(seal, job, want)
}

// newJob builds the Job that check's template describes, for owner in env.
func newJob(seal Seal, owner *v1alpha1.UpdateRequest, env, namespace string, check v1alpha1.VerificationJob) (*batchv1.Job, error) {
	templateHash, err := hashTemplate(check.Template)
	if err != nil {
		return nil, err
	}
	goliveLabels := jobLabels(owner, env, check.Name, ledger.ShortSpecHash(seal.SpecHash))
	template := check.Template.DeepCopy()

	labels := maps.Clone(template.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, goliveLabels)
	annotations := maps.Clone(template.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	name := AttemptJobName(owner.Name, env, check.Name, seal.SpecHash, seal.Attempt)
	annotations[v1alpha1.AnnotationTemplateHash] = templateHash
	annotations[v1alpha1.AnnotationSignature] = ledger.SignObject(seal.Key, signedJob(namespace, name, labels, annotations))

	if template.Spec.Template.Labels == nil {
		template.Spec.Template.Labels = map[string]string{}
	}
	maps.Copy(template.Spec.Template.Labels, goliveLabels)

	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: template.Spec,
	}, nil
}

// signedJob is what golive's signature on a Job covers, read from its labels
// and annotations: checking it against the Job's own labels tells whether
// golive wrote them; comparing them with the request tells for what.
func signedJob(namespace, name string, labels, annotations map[string]string) ledger.SignedObject {
	return ledger.SignedObject{
		RequestUID: labels[v1alpha1.LabelRequestUID],
		SpecHash:   labels[v1alpha1.LabelSpecHash],
		Kind:       "Job",
		Namespace:  namespace,
		Name:       name,
		// The name binds environment and check; the template hash what it runs.
		ContentDigest: annotations[v1alpha1.AnnotationTemplateHash],
	}
}

// jobLabels: the API keeps request names within a label value's 63 characters.
func jobLabels(owner *v1alpha1.UpdateRequest, env, checkName, shortSpecHash string) map[string]string {
	return map[string]string{
		v1alpha1.LabelRequest:          owner.Name,
		v1alpha1.LabelRequestNamespace: owner.Namespace,
		v1alpha1.LabelRequestUID:       string(owner.UID),
		v1alpha1.LabelEnvironment:      env,
		v1alpha1.LabelCheck:            checkName,
		v1alpha1.LabelSpecHash:         shortSpecHash,
	}
}

// hashTemplate identifies a template by its JSON form, which encoding/json
// writes deterministically (struct order, sorted map keys).
func hashTemplate(template batchv1.JobTemplateSpec) (string, error) {
	data, err := json.Marshal(template)
	if err != nil {
		return "", fmt.Errorf("encoding a Job template: %w", err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// checkJobIsOurs compares an existing Job with the one EnsureJob would create.
// Only golive's signature makes a Job golive's: labels and names anyone may
// copy. The signature covers labels and annotations, not the pod template the
// API server defaults, so the containers golive set are compared as well.
func checkJobIsOurs(seal Seal, existing, want *batchv1.Job) error {
	notOurs := func(why string) error {
		return fmt.Errorf("Job %s/%s is not golive's (%s); golive will not count it — delete it: %w",
			existing.Namespace, existing.Name, why, ErrForeignJob)
	}
	stale := func(why string) error {
		return fmt.Errorf("Job %s/%s %s: %w", existing.Namespace, existing.Name, why, ErrStaleJob)
	}
	signed := signedJob(existing.Namespace, existing.Name, existing.Labels, existing.Annotations)
	if !ledger.VerifyObject(seal.Key, signed, existing.Annotations[v1alpha1.AnnotationSignature]) {
		return notOurs("signature does not match")
	}
	for _, key := range []string{v1alpha1.LabelRequest, v1alpha1.LabelRequestNamespace, v1alpha1.LabelEnvironment, v1alpha1.LabelCheck} {
		if existing.Labels[key] != want.Labels[key] {
			return fmt.Errorf("Job %s/%s has label %s=%q, not %q: %w", existing.Namespace, existing.Name,
				key, existing.Labels[key], want.Labels[key], ErrForeignJob)
		}
	}
	switch {
	case existing.Labels[v1alpha1.LabelRequestUID] != want.Labels[v1alpha1.LabelRequestUID]:
		return stale("was created for an earlier UpdateRequest of the same name")
	case existing.Labels[v1alpha1.LabelSpecHash] != want.Labels[v1alpha1.LabelSpecHash]:
		return stale("was created for an earlier spec")
	case existing.Annotations[v1alpha1.AnnotationTemplateHash] != want.Annotations[v1alpha1.AnnotationTemplateHash]:
		return stale("was created from another template (the spec changed)")
	case existing.DeletionTimestamp != nil:
		return stale("is being deleted")
	case !sameContainers(existing.Spec.Template.Spec, want.Spec.Template.Spec):
		// Signed for this very template, yet running something else.
		return notOurs("its containers are not the check's")
	}
	return nil
}

// sameContainers compares what golive set of the containers (name, image,
// command, args): the API server adds defaults to the rest.
func sameContainers(live, want corev1.PodSpec) bool {
	type container struct {
		Name, Image   string
		Command, Args []string
	}
	essentials := func(containers []corev1.Container) []container {
		out := make([]container, len(containers))
		for i, c := range containers {
			out[i] = container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args}
		}
		return out
	}
	return equality.Semantic.DeepEqual(essentials(live.Containers), essentials(want.Containers)) &&
		equality.Semantic.DeepEqual(essentials(live.InitContainers), essentials(want.InitContainers))
}

// DeleteJob deletes job, a Job golive made (CheckJob returned ErrStaleJob),
// with its pods; only the very object read, not one created since.
func DeleteJob(ctx context.Context, c client.Client, job *batchv1.Job) error {
	if job.DeletionTimestamp != nil {
		return nil
	}
	err := c.Delete(ctx, job, client.Preconditions{UID: ptr.To(job.UID)},
		client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting the stale Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return nil
}

// DeleteStaleJobs deletes the Jobs golive made for owner in env and namespace
// for an earlier spec or an earlier verification attempt: they are never read again. Jobs not golive's are left
// alone (the policy keeps others from planting them; break-glass may).
func DeleteStaleJobs(ctx context.Context, c client.Client, seal Seal, owner *v1alpha1.UpdateRequest, env, namespace string) error {
	var jobs batchv1.JobList
	if err := c.List(ctx, &jobs, client.InNamespace(namespace), client.MatchingLabels{
		v1alpha1.LabelRequestUID:  string(owner.UID),
		v1alpha1.LabelEnvironment: env,
	}); err != nil {
		return fmt.Errorf("listing the verification Jobs of UpdateRequest %s/%s in namespace %s: %w", owner.Namespace, owner.Name, namespace, err)
	}
	current := ledger.ShortSpecHash(seal.SpecHash)
	for i := range jobs.Items {
		job := &jobs.Items[i]
		signed := signedJob(job.Namespace, job.Name, job.Labels, job.Annotations)
		thisAttempt := job.Name == AttemptJobName(owner.Name, env, job.Labels[v1alpha1.LabelCheck], seal.SpecHash, seal.Attempt)
		if (job.Labels[v1alpha1.LabelSpecHash] == current && thisAttempt) || !ledger.VerifyObject(seal.Key, signed, job.Annotations[v1alpha1.AnnotationSignature]) {
			continue
		}
		if err := DeleteJob(ctx, c, job); err != nil {
			return err
		}
	}
	return nil
}

// DeleteJobs deletes every verification Job of owner in namespace, with its
// pods: at the end of a request for the Jobs in the staging namespace, which
// the request cannot own, and before a verification runs again. It is safe to
// call again; it never touches Jobs of other requests.
func DeleteJobs(ctx context.Context, c client.Client, owner *v1alpha1.UpdateRequest, namespace string) error {
	err := c.DeleteAllOf(ctx, &batchv1.Job{},
		client.InNamespace(namespace),
		client.MatchingLabels{
			v1alpha1.LabelRequest:          owner.Name,
			v1alpha1.LabelRequestNamespace: owner.Namespace,
		},
		// The API's default for Jobs orphans their pods.
		client.PropagationPolicy(metav1.DeletePropagationBackground),
	)
	if err != nil {
		return fmt.Errorf("deleting the verification Jobs of UpdateRequest %s/%s in namespace %s: %w",
			owner.Namespace, owner.Name, namespace, err)
	}
	return nil
}

// JobResult reads a verification Job's result: Passed once its Complete
// condition is True, Failed with the condition's reason and message once its
// Failed condition is True, Running until then.
func JobResult(job *batchv1.Job) CheckState {
	state := CheckState{Name: job.Labels[v1alpha1.LabelCheck], Result: v1alpha1.CheckRunning}
	if state.Name == "" {
		state.Name = job.Name
	}
	for _, condition := range job.Status.Conditions {
		if condition.Status != corev1.ConditionTrue {
			continue
		}
		switch condition.Type {
		case batchv1.JobComplete:
			state.Result = v1alpha1.CheckPassed
			state.Message = fmt.Sprintf("Job %s completed", job.Name)
			return state
		case batchv1.JobFailed:
			state.Result = v1alpha1.CheckFailed
			state.Message = fmt.Sprintf("Job %s failed", job.Name)
			if reason := joinNonEmpty(": ", condition.Reason, condition.Message); reason != "" {
				state.Message += ": " + reason
			}
			return state
		}
	}
	state.Message = runningJobMessage(job)
	return state
}

func runningJobMessage(job *batchv1.Job) string {
	if job.Spec.Suspend != nil && *job.Spec.Suspend {
		return "Job suspended"
	}
	var parts []string
	if job.Status.Active > 0 {
		parts = append(parts, countPods(job.Status.Active, "active"))
	}
	if job.Status.Failed > 0 {
		parts = append(parts, countPods(job.Status.Failed, "failed"))
	}
	if len(parts) == 0 {
		return "no active pod yet"
	}
	return strings.Join(parts, ", ")
}

func countPods(n int32, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s pod", what)
	}
	return fmt.Sprintf("%d %s pods", n, what)
}

func joinNonEmpty(separator string, parts ...string) string {
	var kept []string
	for _, part := range parts {
		if part != "" {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, separator)
}

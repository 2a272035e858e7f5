package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// fixture is a request in its own namespace with a staging namespace of its own.
type fixture struct {
	env        *testenv.Env
	namespace  string
	staging    string
	request    *v1alpha1.UpdateRequest
	smokeCheck v1alpha1.VerificationJob
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{env: startAPIServer(t)}
	f.namespace = f.newNamespace(t)
	f.staging = f.newNamespace(t)
	f.smokeCheck = smokeCheck("registry.example.com/billing-smoke:2.4.0")
	f.request = f.createRequest(t, "billing-2-4-0")
	return f
}

// newNamespace creates a namespace for one test. envtest runs no namespace
// controller, so it is not deleted afterwards; its name is unique.
func (f *fixture) newNamespace(t *testing.T) string {
	t.Helper()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "golive-verify-"}}
	if err := f.env.Client.Create(t.Context(), namespace); err != nil {
		t.Fatalf("Creating a namespace: %v", err)
	}
	return namespace.Name
}

func (f *fixture) createRequest(t *testing.T, name string) *v1alpha1.UpdateRequest {
	t.Helper()
	request := testfixtures.MakeUpdateRequest(f.namespace, name).
		Release("2.4.0").
		Target(v1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2.4.0"}).
		Staging(f.staging).VerifyJob(false, f.smokeCheck).
		Approval("rnd-lead", 1).Window("thursday-evening").
		VerifyJob(true, f.smokeCheck).Obj()
	if err := f.env.Client.Create(t.Context(), request); err != nil {
		t.Fatalf("Creating UpdateRequest %s: %v", name, err)
	}
	return request
}

// testKey signs the Jobs of these tests, as the ledger key signs golive's.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// sealOf is the seal golive uses for request's current spec.
func sealOf(request *v1alpha1.UpdateRequest) Seal {
	return Seal{Key: testKey, SpecHash: ledger.SpecHash(&request.Spec)}
}

func smokeCheck(image string) v1alpha1.VerificationJob {
	return v1alpha1.VerificationJob{
		Name: "smoke",
		Template: batchv1.JobTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{
				// golive's own labels win over a template's.
				Labels:      map[string]string{"team": "billing", v1alpha1.LabelCheck: "spoofed"},
				Annotations: map[string]string{"owner": "billing-team"},
			},
			Spec: batchv1.JobSpec{
				BackoffLimit: ptr.To[int32](2),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "billing-smoke"}},
					Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever,
						Containers:    []corev1.Container{{Name: "smoke", Image: image, Args: []string{"--target", "billing-api"}}},
					},
				},
			},
		},
	}
}

func (f *fixture) getJob(t *testing.T, namespace, name string) *batchv1.Job {
	t.Helper()
	job := &batchv1.Job{}
	if err := f.env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, job); err != nil {
		t.Fatalf("Getting Job %s/%s: %v", namespace, name, err)
	}
	return job
}

// jobView is what a user reads from a verification Job.
type jobView struct {
	Name            string
	Labels          map[string]string
	Annotations     map[string]string
	OwnerReferences []metav1.OwnerReference
	PodLabels       map[string]string
	Image           string
	BackoffLimit    *int32
}

func viewJob(job *batchv1.Job) jobView {
	podLabels := map[string]string{}
	// The API server adds its own selector labels to the pods; keep the others.
	for key, value := range job.Spec.Template.Labels {
		if key != "controller-uid" && key != "job-name" && key != batchv1.ControllerUidLabel && key != batchv1.JobNameLabel {
			podLabels[key] = value
		}
	}
	return jobView{
		Name:            job.Name,
		Labels:          job.Labels,
		Annotations:     job.Annotations,
		OwnerReferences: job.OwnerReferences,
		PodLabels:       podLabels,
		Image:           job.Spec.Template.Spec.Containers[0].Image,
		BackoffLimit:    job.Spec.BackoffLimit,
	}
}

func (f *fixture) wantJobView(env string, owners []metav1.OwnerReference) jobView {
	ours := map[string]string{
		v1alpha1.LabelRequest:          f.request.Name,
		v1alpha1.LabelRequestNamespace: f.namespace,
		v1alpha1.LabelRequestUID:       string(f.request.UID),
		v1alpha1.LabelEnvironment:      env,
		v1alpha1.LabelCheck:            "smoke",
		v1alpha1.LabelSpecHash:         ledger.ShortSpecHash(ledger.SpecHash(&f.request.Spec)),
	}
	withOurs := func(labels map[string]string) map[string]string {
		merged := map[string]string{}
		for key, value := range labels {
			merged[key] = value
		}
		for key, value := range ours {
			merged[key] = value
		}
		return merged
	}
	templateHash, err := hashTemplate(f.smokeCheck.Template)
	if err != nil {
		panic(err)
	}
	name := f.request.Name + "-" + env + "-smoke-" + ledger.ShortSpecHash(ledger.SpecHash(&f.request.Spec))[:8]
	signature := ledger.SignObject(testKey, ledger.SignedObject{
		RequestUID: string(f.request.UID), SpecHash: ours[v1alpha1.LabelSpecHash], Kind: "Job",
		Namespace: map[string]string{EnvironmentStaging: f.staging, EnvironmentProduction: f.namespace}[env], Name: name, ContentDigest: templateHash,
	})
	return jobView{
		Name:   name,
		Labels: withOurs(map[string]string{"team": "billing"}),
		Annotations: map[string]string{"owner": "billing-team", v1alpha1.AnnotationTemplateHash: templateHash,
			v1alpha1.AnnotationSignature: signature},
		OwnerReferences: owners,
		PodLabels:       withOurs(map[string]string{"app": "billing-smoke"}),
		Image:           f.smokeCheck.Template.Spec.Template.Spec.Containers[0].Image,
		BackoffLimit:    ptr.To[int32](2),
	}
}

func TestEnsureJobInTheRequestsNamespace(t *testing.T) {
	f := newFixture(t)
	job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentProduction, f.namespace, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}

	want := f.wantJobView(EnvironmentProduction, []metav1.OwnerReference{{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               "UpdateRequest",
		Name:               f.request.Name,
		UID:                f.request.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}})
	if diff := cmp.Diff(want, viewJob(f.getJob(t, f.namespace, job.Name))); diff != "" {
		t.Errorf("stored Job mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, viewJob(job)); diff != "" {
		t.Errorf("returned Job mismatch (-want +got):\n%s", diff)
	}
}

func TestEnsureJobInTheStagingNamespace(t *testing.T) {
	f := newFixture(t)
	job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}
	// Owner references cannot cross namespaces: labels only.
	if diff := cmp.Diff(f.wantJobView(EnvironmentStaging, nil), viewJob(f.getJob(t, f.staging, job.Name))); diff != "" {
		t.Errorf("stored Job mismatch (-want +got):\n%s", diff)
	}
}

func TestEnsureJobIsIdempotent(t *testing.T) {
	f := newFixture(t)
	first, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}
	second, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() again: error = %v", err)
	}
	if first.UID != second.UID {
		t.Errorf("EnsureJob() again returned Job %s, want the first one, %s", second.UID, first.UID)
	}
	jobs := &batchv1.JobList{}
	if err := f.env.Client.List(t.Context(), jobs, client.InNamespace(f.staging)); err != nil {
		t.Fatalf("Listing Jobs: %v", err)
	}
	if len(jobs.Items) != 1 {
		t.Errorf("the staging namespace has %d Jobs, want 1", len(jobs.Items))
	}
}

// Labels, not names, say whose a Job is: names of two requests can meet
// (request a with check staging-x, request a-staging with check x, both in
// staging, give a-staging-staging-x).
func TestEnsureJobRefusesAForeignJob(t *testing.T) {
	tests := []struct {
		name   string
		labels func(f *fixture) map[string]string
	}{
		{name: "a Job not made by golive", labels: func(*fixture) map[string]string { return nil }},
		{
			name: "another request's Job",
			labels: func(f *fixture) map[string]string {
				return map[string]string{
					v1alpha1.LabelRequest: "billing-2-4-1", v1alpha1.LabelRequestNamespace: f.namespace,
					v1alpha1.LabelEnvironment: EnvironmentStaging, v1alpha1.LabelCheck: "smoke",
				}
			},
		},
		{
			name: "the request's Job for another check",
			labels: func(f *fixture) map[string]string {
				return map[string]string{
					v1alpha1.LabelRequest: f.request.Name, v1alpha1.LabelRequestNamespace: f.namespace,
					v1alpha1.LabelRequestUID: string(f.request.UID), v1alpha1.LabelEnvironment: EnvironmentStaging, v1alpha1.LabelCheck: "staging-smoke",
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			foreign := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{
					Name:      JobName(f.request.Name, EnvironmentStaging, "smoke", ledger.SpecHash(&f.request.Spec)),
					Namespace: f.staging,
					Labels:    tt.labels(f),
				},
				Spec: smokeCheck("registry.example.com/other:1").Template.Spec,
			}
			if err := f.env.Client.Create(t.Context(), foreign); err != nil {
				t.Fatalf("Creating the foreign Job: %v", err)
			}

			_, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
			if !errors.Is(err, ErrForeignJob) {
				t.Fatalf("EnsureJob() error = %v, want ErrForeignJob", err)
			}
			stored := f.getJob(t, f.staging, foreign.Name)
			if diff := cmp.Diff(foreign.Labels, stored.Labels); diff != "" || stored.ResourceVersion != foreign.ResourceVersion {
				t.Errorf("EnsureJob() touched the foreign Job (labels -want +got):\n%s", diff)
			}
		})
	}
}

func TestEnsureJobWaitsForADeletedJobToGo(t *testing.T) {
	f := newFixture(t)
	job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}
	// A finalizer keeps the deleted Job around, as a slow cleanup would.
	job.Finalizers = []string{"example.com/hold"}
	if err := f.env.Client.Update(t.Context(), job); err != nil {
		t.Fatalf("Adding a finalizer: %v", err)
	}
	if err := DeleteJobs(t.Context(), f.env.Client, f.request, f.staging); err != nil {
		t.Fatalf("DeleteJobs() error = %v", err)
	}

	if _, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck); !errors.Is(err, ErrStaleJob) {
		t.Errorf("EnsureJob() of a Job being deleted: error = %v, want ErrStaleJob", err)
	}

	held := f.getJob(t, f.staging, job.Name)
	held.Finalizers = nil
	if err := f.env.Client.Update(t.Context(), held); err != nil {
		t.Fatalf("Removing the finalizer: %v", err)
	}
	f.waitUntilGone(t, job)
	created, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() once the Job is gone: error = %v", err)
	}
	if created.UID == job.UID {
		t.Errorf("EnsureJob() once the Job is gone returned the deleted Job")
	}
}

func TestEnsureJobRefusesAJobOfAnEarlierRequestOfTheSameName(t *testing.T) {
	f := newFixture(t)
	if _, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck); err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}
	if err := f.env.Client.Delete(t.Context(), f.request); err != nil {
		t.Fatalf("Deleting the request: %v", err)
	}
	f.waitUntilGone(t, f.request)
	f.request = f.createRequest(t, f.request.Name)

	f.wantStaleUntilDeleted(t)
}

func TestEnsureJobRefusesAJobOfAnEarlierSpec(t *testing.T) {
	f := newFixture(t)
	if _, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck); err != nil {
		t.Fatalf("EnsureJob() error = %v", err)
	}
	f.smokeCheck = smokeCheck("registry.example.com/billing-smoke:2.4.1")

	f.wantStaleUntilDeleted(t)
}

// wantStaleUntilDeleted expects EnsureJob to refuse the Job in the staging
// namespace as stale, and to create a new one once DeleteJobs removed it.
func (f *fixture) wantStaleUntilDeleted(t *testing.T) {
	t.Helper()
	name := JobName(f.request.Name, EnvironmentStaging, "smoke", ledger.SpecHash(&f.request.Spec))
	old := f.getJob(t, f.staging, name)
	_, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if !errors.Is(err, ErrStaleJob) {
		t.Fatalf("EnsureJob() error = %v, want ErrStaleJob", err)
	}

	if err := DeleteJobs(t.Context(), f.env.Client, f.request, f.staging); err != nil {
		t.Fatalf("DeleteJobs() error = %v", err)
	}
	f.waitUntilGone(t, old)
	job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() after DeleteJobs: error = %v", err)
	}
	if job.UID == old.UID {
		t.Errorf("EnsureJob() after DeleteJobs returned the old Job")
	}
	if diff := cmp.Diff(f.wantJobView(EnvironmentStaging, nil), viewJob(job)); diff != "" {
		t.Errorf("new Job mismatch (-want +got):\n%s", diff)
	}
}

func TestDeleteJobsDeletesOnlyTheRequestsJobs(t *testing.T) {
	f := newFixture(t)
	other := f.createRequest(t, "billing-2-5-0")
	health := f.smokeCheck
	health.Name = "health"
	var ours []*batchv1.Job
	for _, check := range []v1alpha1.VerificationJob{f.smokeCheck, health} {
		job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, check)
		if err != nil {
			t.Fatalf("EnsureJob(%s) error = %v", check.Name, err)
		}
		ours = append(ours, job)
	}
	theirs, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(other), other, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatalf("EnsureJob() for the other request: error = %v", err)
	}

	if err := DeleteJobs(t.Context(), f.env.Client, f.request, f.staging); err != nil {
		t.Fatalf("DeleteJobs() error = %v", err)
	}
	for _, job := range ours {
		f.waitUntilGone(t, job)
	}
	f.getJob(t, f.staging, theirs.Name)
	if err := DeleteJobs(t.Context(), f.env.Client, f.request, f.staging); err != nil {
		t.Errorf("DeleteJobs() again: error = %v", err)
	}
}

func TestJobResultOfAStoredJob(t *testing.T) {
	started := metav1.NewTime(time.Date(2026, 7, 9, 18, 0, 0, 0, time.UTC))
	finished := metav1.NewTime(started.Add(time.Minute))
	tests := []struct {
		name   string
		status batchv1.JobStatus
		want   CheckState
	}{
		{
			name:   "running",
			status: batchv1.JobStatus{StartTime: &started, Active: 1},
			want:   CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "1 active pod"},
		},
		{
			name: "complete",
			status: batchv1.JobStatus{StartTime: &started, CompletionTime: &finished, Succeeded: 1, Conditions: []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue},
			}},
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckPassed, Message: "Job billing-2-4-0-staging-smoke completed"},
		},
		{
			name: "failed",
			status: batchv1.JobStatus{StartTime: &started, Failed: 3, Conditions: []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
			}},
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckFailed,
				Message: "Job billing-2-4-0-staging-smoke failed: BackoffLimitExceeded: Job has reached the specified backoff limit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
			if err != nil {
				t.Fatalf("EnsureJob() error = %v", err)
			}
			// No Job controller runs in envtest: the test plays it.
			job.Status = tt.status
			if err := f.env.Client.Status().Update(t.Context(), job); err != nil {
				t.Fatalf("Setting the Job's status: %v", err)
			}
			// The name carries the spec hash, which depends on the namespaces.
			want := tt.want
			want.Message = strings.Replace(want.Message, "billing-2-4-0-staging-smoke", job.Name, 1)
			if diff := cmp.Diff(want, JobResult(f.getJob(t, f.staging, job.Name))); diff != "" {
				t.Errorf("JobResult() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// waitUntilGone polls until object no longer exists.
func (f *fixture) waitUntilGone(t *testing.T, object client.Object) {
	t.Helper()
	key := client.ObjectKeyFromObject(object)
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 20*time.Second, true,
		func(ctx context.Context) (bool, error) {
			last = f.env.Client.Get(ctx, key, object.DeepCopyObject().(client.Object))
			return apierrors.IsNotFound(last), nil
		})
	if err != nil {
		t.Fatalf("%s still exists (last read: %v)", key, last)
	}
}

// Attack: the requester plants, in the staging namespace, a Job with the
// deterministic name and the request's labels, running true. The admission
// policy refuses it to anyone but golive and the break-glass group, cluster
// admins included; planted by break-glass, golive does not count it.
func TestPlantedJobIsRefusedAndNeverCounted(t *testing.T) {
	f := newFixture(t)
	planted := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      JobName(f.request.Name, EnvironmentStaging, "smoke", ledger.SpecHash(&f.request.Spec)),
			Namespace: f.staging,
			Labels: map[string]string{
				v1alpha1.LabelRequest: f.request.Name, v1alpha1.LabelRequestNamespace: f.namespace,
				v1alpha1.LabelRequestUID: string(f.request.UID), v1alpha1.LabelEnvironment: EnvironmentStaging,
				v1alpha1.LabelCheck: "smoke", v1alpha1.LabelSpecHash: ledger.ShortSpecHash(ledger.SpecHash(&f.request.Spec)),
			},
		},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "smoke", Image: "busybox", Command: []string{"true"}}},
		}}},
	}
	mallory, err := f.env.ClientAs("mallory", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	err = mallory.Create(t.Context(), planted.DeepCopy())
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Fatalf("Creating the planted Job as a cluster admin = %v, want the owned-objects policy's refusal", err)
	}

	if err := f.env.Client.Create(t.Context(), planted); err != nil {
		t.Fatalf("Creating the planted Job as break-glass: %v", err)
	}
	planted.Status = batchv1.JobStatus{Succeeded: 1, StartTime: ptr.To(metav1.Now()), CompletionTime: ptr.To(metav1.Now()), Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue},
	}}
	if err := f.env.Client.Status().Update(t.Context(), planted); err != nil {
		t.Fatalf("Completing the planted Job: %v", err)
	}
	_, err = EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if !errors.Is(err, ErrForeignJob) {
		t.Fatalf("EnsureJob() = %v, want ErrForeignJob", err)
	}
	err = CheckJob(sealOf(f.request), f.request, EnvironmentStaging, f.smokeCheck, f.getJob(t, f.staging, planted.Name))
	want := "Job " + f.staging + "/" + planted.Name + " is not golive's (signature does not match); golive will not count it — delete it"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckJob() of the planted Job = %v, want %q", err, want)
	}
}

// The owned-objects policy lets anyone keep a Job of golive's going (a
// finalizer, an annotation of their own: the Job controller's bookkeeping)
// but refuses changing golive's labels or annotations, or deleting it.
func TestOwnedObjectsPolicyOnGolivesJob(t *testing.T) {
	f := newFixture(t)
	job, err := EnsureJob(t.Context(), f.env.Client, f.env.Scheme, sealOf(f.request), f.request, EnvironmentStaging, f.staging, f.smokeCheck)
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := f.env.ClientAs("mallory", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	patch := func(change func(*batchv1.Job)) error {
		current := f.getJob(t, f.staging, job.Name)
		base := current.DeepCopy()
		change(current)
		return mallory.Patch(t.Context(), current, client.MergeFrom(base))
	}
	if err := patch(func(j *batchv1.Job) { j.Finalizers = append(j.Finalizers, "example.com/hold") }); err != nil {
		t.Errorf("Adding a finalizer as a cluster admin = %v, want it allowed", err)
	}
	if err := patch(func(j *batchv1.Job) { j.Annotations["example.com/note"] = "seen" }); err != nil {
		t.Errorf("Adding an annotation of one's own = %v, want it allowed", err)
	}
	if err := patch(func(j *batchv1.Job) { j.Labels[v1alpha1.LabelSpecHash] = "0000000000000000" }); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Errorf("Changing golive's spec-hash label = %v, want the policy's refusal", err)
	}
	if err := patch(func(j *batchv1.Job) { delete(j.Annotations, v1alpha1.AnnotationSignature) }); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Errorf("Removing golive's signature = %v, want the policy's refusal", err)
	}
	if err := mallory.Delete(t.Context(), f.getJob(t, f.staging, job.Name)); err == nil || !strings.Contains(err.Error(), testenv.OwnedObjectsRefusal) {
		t.Errorf("Deleting golive's Job as a cluster admin = %v, want the policy's refusal", err)
	}
	held := f.getJob(t, f.staging, job.Name)
	held.Finalizers = nil
	if err := f.env.Client.Update(t.Context(), held); err != nil {
		t.Fatal(err)
	}
}

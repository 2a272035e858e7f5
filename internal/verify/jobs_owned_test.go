package verify

import (
	"errors"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

func TestJobNameDiffersBySpec(t *testing.T) {
	a := JobName("billing-2-4-0", EnvironmentStaging, "smoke", "sha256:aaaaaaaa11")
	b := JobName("billing-2-4-0", EnvironmentStaging, "smoke", "sha256:bbbbbbbb11")
	if a == b {
		t.Errorf("JobName() of two specs is the same: %q", a)
	}
	long := strings.Repeat("r", 60)
	c := JobName(long, EnvironmentProduction, "smoke", "sha256:aaaaaaaa11")
	d := JobName(long, EnvironmentProduction, "smoke", "sha256:bbbbbbbb11")
	if c == d || len(c) > 63 || len(d) > 63 {
		t.Errorf("JobName() of a long name: %q and %q, want two names of at most 63 characters", c, d)
	}
}

func TestAttemptJobNameDiffersByAttempt(t *testing.T) {
	first := AttemptJobName("billing-2-4-0", EnvironmentStaging, "smoke", "sha256:aaaaaaaa11", 0)
	if first != JobName("billing-2-4-0", EnvironmentStaging, "smoke", "sha256:aaaaaaaa11") {
		t.Errorf("attempt 0 is named %q, want JobName's", first)
	}
	again := AttemptJobName("billing-2-4-0", EnvironmentStaging, "smoke", "sha256:aaaaaaaa11", 1)
	if again != "billing-2-4-0-staging-smoke-aaaaaaaa-r1" {
		t.Errorf("attempt 1 is named %q", again)
	}
	long := strings.Repeat("r", 60)
	a := AttemptJobName(long, EnvironmentStaging, "smoke", "sha256:aaaaaaaa11", 1)
	b := AttemptJobName(long, EnvironmentStaging, "smoke", "sha256:aaaaaaaa11", 2)
	if a == b || len(a) > 63 || len(b) > 63 {
		t.Errorf("attempts of a long name: %q and %q, want two names of at most 63 characters", a, b)
	}
}

// ownedRequest is a stored request with a smoke check in staging.
func ownedRequest() *v1alpha1.UpdateRequest {
	check := smokeCheck("registry.example.com/billing-smoke:2.4.0")
	return &v1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: "billing", Name: "billing-2-4-0", UID: types.UID("uid-1")},
		Spec: v1alpha1.UpdateRequestSpec{
			Release: "2.4.0",
			Staging: v1alpha1.Staging{Namespace: "billing-grey", Verify: v1alpha1.Verification{Jobs: []v1alpha1.VerificationJob{check}}},
		},
	}
}

// goliveJob is the Job golive creates for the request's smoke check in staging.
func goliveJob(t *testing.T, request *v1alpha1.UpdateRequest) *batchv1.Job {
	t.Helper()
	job, err := newJob(sealOf(request), request, EnvironmentStaging, "billing-grey", request.Spec.Staging.Verify.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestCheckJob(t *testing.T) {
	request := ownedRequest()
	check := request.Spec.Staging.Verify.Jobs[0]
	if err := CheckJob(sealOf(request), request, EnvironmentStaging, check, goliveJob(t, request)); err != nil {
		t.Fatalf("CheckJob() of golive's Job: %v", err)
	}

	changedSpec := request.DeepCopy()
	changedSpec.Spec.Release = "2.4.1"
	tests := []struct {
		name    string
		job     func() *batchv1.Job
		want    error
		message string
	}{
		{
			name: "planted with golive's name and labels, no signature",
			job: func() *batchv1.Job {
				job := goliveJob(t, request)
				delete(job.Annotations, v1alpha1.AnnotationSignature)
				job.Spec.Template.Spec.Containers[0].Image, job.Spec.Template.Spec.Containers[0].Args = "busybox", []string{"true"}
				return job
			},
			want:    ErrForeignJob,
			message: "is not golive's (signature does not match); golive will not count it — delete it",
		},
		{
			name: "signed by another key",
			job: func() *batchv1.Job {
				job, err := newJob(Seal{Key: []byte("another key"), SpecHash: ledger.SpecHash(&request.Spec)}, request, EnvironmentStaging, "billing-grey", check)
				if err != nil {
					t.Fatal(err)
				}
				return job
			},
			want:    ErrForeignJob,
			message: "signature does not match",
		},
		{
			name: "golive's signature copied onto a Job that runs true",
			job: func() *batchv1.Job {
				job := goliveJob(t, request)
				job.Spec.Template.Spec.Containers[0].Command = []string{"true"}
				return job
			},
			want:    ErrForeignJob,
			message: "its containers are not the check's",
		},
		{
			name: "relabelled for another request",
			job: func() *batchv1.Job {
				job := goliveJob(t, request)
				job.Labels[v1alpha1.LabelRequestUID] = "uid-other"
				return job
			},
			want:    ErrForeignJob,
			message: "signature does not match",
		},
		{
			name: "made by golive for an earlier spec",
			job: func() *batchv1.Job {
				job := goliveJob(t, request)
				job.Name = JobName(request.Name, EnvironmentStaging, "smoke", ledger.SpecHash(&changedSpec.Spec))
				job.Annotations[v1alpha1.AnnotationSignature] = ledger.SignObject(testKey,
					signedJob(job.Namespace, job.Name, job.Labels, job.Annotations))
				return job
			},
			want:    ErrStaleJob,
			message: "was created for an earlier spec",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seal := sealOf(request)
			if tt.want == ErrStaleJob {
				seal = sealOf(changedSpec)
			}
			err := CheckJob(seal, request, EnvironmentStaging, check, tt.job())
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckJob() = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "Job billing-grey/") {
				t.Errorf("CheckJob() = %q, want it to name the Job and say %q", err, tt.message)
			}
		})
	}
}

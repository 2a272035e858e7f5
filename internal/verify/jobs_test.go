package verify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/golive-dev/golive/api/v1alpha1"
)

const testSpecHash = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// The exact names are part of golive's contract with running clusters: a
// changed name would make an upgraded operator create a second Job for a
// verification in flight.
func TestJobName(t *testing.T) {
	tests := []struct {
		name    string
		request string
		env     string
		check   string
		want    string
	}{
		{
			name:    "short names are joined",
			request: "billing-2-4-0", env: EnvironmentStaging, check: "smoke",
			want: "billing-2-4-0-staging-smoke-01234567",
		},
		{
			name:    "63 characters are kept",
			request: strings.Repeat("r", 37), env: EnvironmentProduction, check: "smoke",
			want: strings.Repeat("r", 37) + "-production-smoke-01234567",
		},
		{
			name:    "64 characters shorten the request and keep env and check",
			request: strings.Repeat("r", 38), env: EnvironmentProduction, check: "smoke",
			want: strings.Repeat("r", 28) + "-production-smoke-569b871f-01234567",
		},
		{
			name:    "a request name of 253 characters",
			request: strings.Repeat("a", 253), env: EnvironmentStaging, check: "database-migration-check",
			want: strings.Repeat("a", 12) + "-staging-database-migration-check-02314eff-01234567",
		},
		{
			name:    "a cut never leaves a dash or dot at the end",
			request: strings.Repeat("r", 27) + "-.abcdefghij", env: EnvironmentProduction, check: "smoke",
			want: strings.Repeat("r", 27) + "-production-smoke-b28d4712-01234567",
		},
		{
			name:    "a check name longer than the API allows still gives a valid name",
			request: "billing", env: EnvironmentStaging, check: strings.Repeat("c", 60),
			want: "billing-staging-" + strings.Repeat("c", 38) + "-e773978a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JobName(tt.request, tt.env, tt.check, testSpecHash)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JobName() mismatch (-want +got):\n%s", diff)
			}
			if problems := validation.IsValidLabelValue(got); len(problems) > 0 {
				t.Errorf("JobName() = %q is no valid label value: %v", got, problems)
			}
			if problems := validation.IsDNS1123Subdomain(got); len(problems) > 0 {
				t.Errorf("JobName() = %q is no valid object name: %v", got, problems)
			}
			if len(got) > 63 {
				t.Errorf("JobName() = %q has %d characters, more than 63", got, len(got))
			}
			if again := JobName(tt.request, tt.env, tt.check, testSpecHash); again != got {
				t.Errorf("JobName() is not deterministic: %q, then %q", got, again)
			}
		})
	}
}

func TestJobNameKeepsLongNamesApart(t *testing.T) {
	prefix := strings.Repeat("billing-release-", 4)
	names := map[string]string{}
	for _, request := range []string{prefix + "2-4-0", prefix + "2-4-1", prefix + "2-5-0"} {
		for _, env := range []string{EnvironmentStaging, EnvironmentProduction} {
			for _, check := range []string{"smoke", "smoke-2"} {
				name := JobName(request, env, check, testSpecHash)
				key := request + "/" + env + "/" + check
				if other, taken := names[name]; taken {
					t.Errorf("JobName gives %q to both %s and %s", name, other, key)
				}
				names[name] = key
			}
		}
	}
}

func TestJobResult(t *testing.T) {
	tests := []struct {
		name string
		job  *batchv1.Job
		want CheckState
	}{
		{
			name: "a new Job without pods",
			job:  makeJob(),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "no active pod yet"},
		},
		{
			name: "one active pod",
			job:  makeJob(withActive(1)),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "1 active pod"},
		},
		{
			name: "retrying after failed pods",
			job:  makeJob(withActive(2), withFailed(3)),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "2 active pods, 3 failed pods"},
		},
		{
			name: "suspended",
			job:  makeJob(func(job *batchv1.Job) { job.Spec.Suspend = ptr.To(true) }),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "Job suspended"},
		},
		{
			name: "success criteria met but not yet complete",
			job:  makeJob(withActive(1), withCondition(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, "", "")),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "1 active pod"},
		},
		{
			name: "complete",
			job:  makeJob(withCondition(batchv1.JobComplete, corev1.ConditionTrue, "", "")),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckPassed, Message: "Job billing-staging-smoke completed"},
		},
		{
			name: "a Complete condition that is not True",
			job:  makeJob(withActive(1), withCondition(batchv1.JobComplete, corev1.ConditionFalse, "", "")),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckRunning, Message: "1 active pod"},
		},
		{
			name: "failed, with the condition's reason and message",
			job: makeJob(withFailed(7), withCondition(batchv1.JobFailed, corev1.ConditionTrue,
				"BackoffLimitExceeded", "Job has reached the specified backoff limit")),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckFailed,
				Message: "Job billing-staging-smoke failed: BackoffLimitExceeded: Job has reached the specified backoff limit"},
		},
		{
			name: "failed without a message",
			job:  makeJob(withCondition(batchv1.JobFailed, corev1.ConditionTrue, "", "")),
			want: CheckState{Name: "smoke", Result: v1alpha1.CheckFailed, Message: "Job billing-staging-smoke failed"},
		},
		{
			name: "a Job without golive's check label is named after itself",
			job:  makeJob(func(job *batchv1.Job) { job.Labels = nil }),
			want: CheckState{Name: "billing-staging-smoke", Result: v1alpha1.CheckRunning, Message: "no active pod yet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, JobResult(tt.job)); diff != "" {
				t.Errorf("JobResult() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

type jobOption func(*batchv1.Job)

func makeJob(options ...jobOption) *batchv1.Job {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Name:   "billing-staging-smoke",
		Labels: map[string]string{v1alpha1.LabelCheck: "smoke"},
	}}
	for _, option := range options {
		option(job)
	}
	return job
}

func withActive(n int32) jobOption { return func(job *batchv1.Job) { job.Status.Active = n } }

func withFailed(n int32) jobOption { return func(job *batchv1.Job) { job.Status.Failed = n } }

func withCondition(kind batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string) jobOption {
	return func(job *batchv1.Job) {
		job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
			Type: kind, Status: status, Reason: reason, Message: message,
		})
	}
}

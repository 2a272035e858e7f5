package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testenv"
)

const (
	production = "billing"
	grey       = "billing-grey"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var err error
	env, err = testenv.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// validRequest is the smallest request the API accepts; cases break one thing each.
func validRequest(name string) *golivev1alpha1.UpdateRequest {
	return &golivev1alpha1.UpdateRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: production},
		Spec: golivev1alpha1.UpdateRequestSpec{
			Release: "2.4.0",
			Targets: []golivev1alpha1.Target{
				{Kind: golivev1alpha1.TargetDeployment, Name: "billing-api", Images: map[string]golivev1alpha1.Image{"api": "registry.example.com/billing-api:2.4.0"}},
				{Kind: golivev1alpha1.TargetStatefulSet, Name: "billing-db", Images: map[string]golivev1alpha1.Image{"postgres": "postgres:16.4"}},
			},
			Staging: golivev1alpha1.Staging{Namespace: grey},
			Approvals: golivev1alpha1.Approvals{Required: []golivev1alpha1.RoleQuorum{
				{Role: "rnd-lead", Count: 1},
				{Role: "operations-office", Count: 1},
			}},
			Window: golivev1alpha1.WindowReference{Name: "thursday-evening"},
		},
	}
}

func validWindow(name string) *golivev1alpha1.GoLiveWindow {
	return &golivev1alpha1.GoLiveWindow{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: production},
		Spec: golivev1alpha1.GoLiveWindowSpec{
			TimeZone: "Europe/Berlin",
			Schedule: []golivev1alpha1.ScheduleEntry{{
				Days:     []golivev1alpha1.Weekday{golivev1alpha1.Thursday},
				Start:    "20:00",
				Duration: duration("3h"),
			}},
		},
	}
}

func duration(s string) metav1.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return metav1.Duration{Duration: d}
}

func smokeJob(name string, restart corev1.RestartPolicy) golivev1alpha1.VerificationJob {
	return golivev1alpha1.VerificationJob{
		Name: name,
		Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "smoke", Image: "smoke:1"}},
		}}}},
	}
}

func setupNamespaces(t *testing.T) {
	t.Helper()
	for _, object := range mustReadObjects(t, "namespaces.yaml") {
		if err := testenv.IgnoreAlreadyExists(env.Client.Create(context.Background(), object)); err != nil {
			t.Fatalf("creating namespace %s: %v", object.GetName(), err)
		}
	}
}

func mustReadObjects(t *testing.T, sample string) []client.Object {
	t.Helper()
	objects, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "samples", sample))
	if err != nil {
		t.Fatal(err)
	}
	var out []client.Object
	for _, object := range objects {
		out = append(out, object)
	}
	return out
}

type invalidCase struct {
	name string
	// object to create; built from a valid one with one thing broken.
	object client.Object
	// field that the rejection must name, as the API server prints it.
	field string
	// reason that the message must carry as well.
	reason string
}

func TestInvalidObjectsAreRejectedNamingTheField(t *testing.T) {
	setupNamespaces(t)
	request := func(mutate func(*golivev1alpha1.UpdateRequest)) client.Object {
		r := validRequest("")
		mutate(r)
		return r
	}
	window := func(mutate func(*golivev1alpha1.GoLiveWindow)) client.Object {
		w := validWindow("")
		mutate(w)
		return w
	}
	manyTargets := func() []golivev1alpha1.Target {
		var targets []golivev1alpha1.Target
		for i := range 33 {
			targets = append(targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetDeployment, Name: fmt.Sprintf("app-%d", i), Images: map[string]golivev1alpha1.Image{"app": "app:1"}})
		}
		return targets
	}

	cases := []invalidCase{
		// UpdateRequest: release and targets.
		{"empty release", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Release = "" }), "spec.release", "at least 1 chars"},
		{"release with a space", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Release = "2.4 final" }), "spec.release", "should match"},
		{"no targets", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets = []golivev1alpha1.Target{} }), "spec.targets", "at least 1 items"},
		{"33 targets", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets = manyTargets() }), "spec.targets", "must have at most 32 items"},
		{"duplicate target", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets[1] = r.Spec.Targets[0] }), "spec.targets[1]", "Duplicate value"},
		{"unsupported kind", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets[0].Kind = "CronJob" }), "spec.targets[0].kind", "Unsupported value"},
		{"invalid target name", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets[0].Name = "Billing_API" }), "spec.targets[0].name", "should match"},
		{"no images", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Targets[0].Images = map[string]golivev1alpha1.Image{} }), "spec.targets[0].images", "at least 1 properties"},
		{"invalid container name", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Targets[0].Images = map[string]golivev1alpha1.Image{"API": "a:1"}
		}), "spec.targets[0].images", "container names must be DNS labels"},
		{"image with a space", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Targets[0].Images = map[string]golivev1alpha1.Image{"api": "api: 2.4"}
		}), "spec.targets[0].images.api", "should match"},
		{"empty image", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Targets[1].Images = map[string]golivev1alpha1.Image{"postgres": ""}
		}), "spec.targets[1].images.postgres", "at least 1 chars"},

		// What a release carries besides images.
		{"a ConfigMap with fromSecret", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", FromSecret: "other"}}
		}), "spec.config[0]", "a ConfigMap carries data and no fromSecret"},
		{"a Secret without fromSecret", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Data: map[string]string{"password": "x"}}}
		}), "spec.config[0]", "a Secret carries fromSecret and no data"},
		{"a config kind golive does not copy", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Config = []golivev1alpha1.ConfigEntry{{Kind: "Service", Name: "billing"}}
		}), "spec.config[0].kind", "Unsupported value"},
		{"a migration that restarts forever", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Migrations = []golivev1alpha1.ReleaseJob{{Name: "schema", Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "m", Image: "m:1"}}}}}}}}
		}), "spec.migrations[0].template", "restartPolicy must be Never or OnFailure"},

		{"description with a terminal escape", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Description = "fix\x1b[2J" }), "spec.description", "must not contain control characters"},
		{"justification with a bidi override", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage \u202eevil"}
		}), "spec.emergency.justification", "must not contain control characters"},
		{"release with a terminal escape", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Release = "2.4.0\x1b]0;owned\x07" }), "spec.release", "must not contain control characters"},
		{"incident with a terminal escape", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage", Incident: "INC-4711\x1b[2J"}
		}), "spec.emergency.incident", "must not contain control characters"},

		// UpdateRequest: staging.
		{"staging in the request's namespace", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Namespace = production }), "spec.staging.namespace", "must differ from the request's own namespace"},
		{"invalid staging namespace", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Namespace = "Billing Grey" }), "spec.staging.namespace", "should match"},
		{"soak of 100 days", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Soak = duration("2400h") }), "spec.staging.soak", "at most 2160h"},
		{"verify timeout of eight days", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Staging.Verify.Timeout = duration("192h") }), "spec.staging.verify.timeout", "between 1s and 168h"},
		{"job restarting forever", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("smoke", corev1.RestartPolicyAlways)}
		}), "spec.staging.verify.jobs[0].template", "restartPolicy must be Never or OnFailure"},
		{"invalid job name", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("Smoke Test", corev1.RestartPolicyNever)}
		}), "spec.staging.verify.jobs[0].name", "should match"},
		{"duplicate job names", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("smoke", corev1.RestartPolicyNever), smokeJob("smoke", corev1.RestartPolicyNever)}
		}), "spec.staging.verify.jobs[1]", "Duplicate value"},
		{"job and http check share a name", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("health", corev1.RestartPolicyNever)}
			r.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "http://api.billing-grey.svc/healthz"}}
		}), "spec.staging.verify", "jobs and http checks must have distinct names"},
		{"a check named rollout", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("rollout", corev1.RestartPolicyNever)}
		}), "spec.verify", "the check name rollout is reserved"},
		{"http check with ftp url", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "ftp://api.billing-grey.svc/healthz"}}
		}), "spec.staging.verify.http[0].url", "absolute http or https URL"},
		{"http check with relative url", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "/healthz"}}
		}), "spec.staging.verify.http[0].url", "absolute http or https URL"},
		{"http status 700", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "http://api/healthz", ExpectStatus: []int32{700}}}
		}), "spec.staging.verify.http[0].expectStatus[0]", "less than or equal to 599"},
		{"http success threshold zero", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "http://api/healthz", SuccessThreshold: -1}}
		}), "spec.verify.http[0].successThreshold", "greater than or equal to 1"},
		{"http period of two hours", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "http://api/healthz", Period: duration("2h")}}
		}), "spec.verify.http[0].period", "between 1s and 1h"},

		// UpdateRequest: approvals, window, backup, acceptance, rollback, emergency, notify.
		{"no required approvals", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required = []golivev1alpha1.RoleQuorum{} }), "spec.approvals.required", "at least 1 items"},
		{"role with spaces", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required[0].Role = "RnD Lead" }), "spec.approvals.required[0].role", "should match"},
		{"duplicate role", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required[1].Role = "rnd-lead" }), "spec.approvals.required[1]", "Duplicate value"},
		{"count below one", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Approvals.Required[0].Count = -2 }), "spec.approvals.required[0].count", "greater than or equal to 1"},
		{"no window name", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Window.Name = "" }), "spec.window.name", "at least 1 chars"},
		{"expected duration of 30s", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Window.ExpectedDuration = ptr.To(duration("30s")) }), "spec.window.expectedDuration", "between 1m and 168h"},
		{"unknown quiesce mode", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Backup.Quiesce = "Pause" }), "spec.backup.quiesce", "Unsupported value"},
		{"quiesce a DaemonSet", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
			r.Spec.Targets = append(r.Spec.Targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetDaemonSet, Name: "log-agent", Images: map[string]golivev1alpha1.Image{"agent": "agent:1.2"}})
		}), "spec.backup.quiesce", "ScaleToZero cannot stop a DaemonSet target"},
		{"claim selector without snapshot class", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
		}), "spec.backup", "volumeSnapshotClassName is required when volumeClaimSelector is set"},
		{"retention of two years", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Backup.Retention = duration("17520h") }), "spec.backup.retention", "at most 8760h"},
		{"acceptance without role", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Acceptance = &golivev1alpha1.Acceptance{} }), "spec.acceptance.role", "at least 1 chars"},
		{"unknown acceptance timeout action", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business-owner", OnTimeout: "Ignore"}
		}), "spec.acceptance.onTimeout", "Unsupported value"},
		{"unknown restore mode", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Rollback.RestoreData = "Sometimes" }), "spec.rollback.restoreData", "Unsupported value"},
		{"emergency without justification", request(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Emergency = &golivev1alpha1.Emergency{Incident: "INC-1"} }), "spec.emergency.justification", "at least 1 chars"},
		{"unknown notification format", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: "https://hooks.example.com/x", Format: "Teams"}}
		}), "spec.notify.webhooks[0].format", "Unsupported value"},
		{"notification url without host", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: "https://"}}
		}), "spec.notify.webhooks[0].url", "absolute http or https URL"},
		{"notification secret without key", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{{URL: "https://hooks.example.com/x", SecretRef: &golivev1alpha1.SecretKeySelector{Name: "hook"}}}
		}), "spec.notify.webhooks[0].secretRef.key", "at least 1 chars"},
		{"notification secret over plain http", request(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Notify.Webhooks = []golivev1alpha1.NotificationWebhook{
				{URL: "https://hooks.example.com/x", SecretRef: &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}},
				{URL: "http://hooks.example.com/x", SecretRef: &golivev1alpha1.SecretKeySelector{Name: "hook", Key: "token"}},
			}
		}), "spec.notify.webhooks[1].url", "must be an https URL when secretRef is set"},

		// GoLiveWindow.
		{"no time zone", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.TimeZone = "" }), "spec.timeZone", "at least 1 chars"},
		{"time zone with spaces", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.TimeZone = "Central European Time" }), "spec.timeZone", "should match"},
		{"empty schedule", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule = []golivev1alpha1.ScheduleEntry{} }), "spec.schedule", "at least 1 items"},
		{"no days", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Days = []golivev1alpha1.Weekday{} }), "spec.schedule[0].days", "at least 1 items"},
		{"day spelled out", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Days = []golivev1alpha1.Weekday{"Thursday"} }), "spec.schedule[0].days[0]", "Unsupported value"},
		{"day twice", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Schedule[0].Days = []golivev1alpha1.Weekday{golivev1alpha1.Monday, golivev1alpha1.Monday}
		}), "spec.schedule[0].days[1]", "Duplicate value"},
		{"start as 8pm", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Start = "8pm" }), "spec.schedule[0].start", "must be HH:MM, 24-hour, e.g. 19:00 for 7pm (got 8pm)"},
		{"start at 24:00", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Start = "24:00" }), "spec.schedule[0].start", "must be HH:MM, 24-hour"},
		{"zero duration", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Duration = duration("0s") }), "spec.schedule[0].duration", "between 1m and 168h"},
		{"duration of eight days", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.Schedule[0].Duration = duration("192h") }), "spec.schedule[0].duration", "between 1m and 168h"},
		{"freeze reason with a bidi override", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-20T00:00", End: "2027-01-06T00:00", Reason: "closing \u202eevil"}}
		}), "spec.freezes[0].reason", "must not contain control characters"},
		{"freeze ending before it starts", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2027-01-06T00:00", End: "2026-12-20T00:00"}}
		}), "spec.freezes[0]", "end must be after start"},
		{"freeze start as a date only", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-20", End: "2027-01-06T00:00"}}
		}), "spec.freezes[0].start", "must be YYYY-MM-DDTHH:MM, 24-hour, local time in spec.timeZone, e.g. 2026-12-24T00:00"},
		{"freeze in month 13", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-20T00:00", End: "2026-13-06T00:00"}}
		}), "spec.freezes[0].end", "must be YYYY-MM-DDTHH:MM"},
		{"duplicate freeze names", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Freezes = []golivev1alpha1.Freeze{
				{Name: "audit", Start: "2026-12-01T00:00", End: "2026-12-02T00:00"},
				{Name: "audit", Start: "2026-12-05T00:00", End: "2026-12-06T00:00"},
			}
		}), "spec.freezes[1]", "Duplicate value"},
		{"lead time over 90 days", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.LeadTime = duration("2200h") }), "spec.leadTime", "at most 2160h"},
		{"notice of 30 seconds", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.NotifyBefore = []golivev1alpha1.NoticeLead{{Duration: duration("30s")}}
		}), "spec.notifyBefore[0]", "between 1m and 720h"},
		{"max concurrent below one", window(func(w *golivev1alpha1.GoLiveWindow) { w.Spec.MaxConcurrent = -1 }), "spec.maxConcurrent", "greater than or equal to 1"},
		{"emergency without roles", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{}}
		}), "spec.emergency.roles", "at least 1 items"},
		{"emergency role with capitals", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"CTO"}}
		}), "spec.emergency.roles[0]", "should match"},
		{"negative emergency budget", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: -1}
		}), "spec.emergency.maxPerPeriod", "greater than or equal to 0"},
		{"emergency period of a minute", window(func(w *golivev1alpha1.GoLiveWindow) {
			w.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, Period: duration("1m")}
		}), "spec.emergency.period", "between 1h and 8760h"},
	}
	longName := validRequest("")
	longName.Name = strings.Repeat("r", 64)
	cases = append(cases, invalidCase{"name longer than a label value", longName, "metadata.name", "at most 63 characters"})
	if len(cases) < 30 {
		t.Fatalf("the table must hold at least 30 cases, has %d", len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := tc.object.GetName()
			if name == "" {
				name = fmt.Sprintf("invalid-%d", i)
				tc.object.SetName(name)
			}
			err := env.Client.Create(ctx, tc.object)
			if err == nil {
				t.Fatalf("the API server accepted the object; want a rejection naming %s", tc.field)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("the rejection does not name the field %q:\n%v", tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("the rejection does not say %q:\n%v", tc.reason, err)
			}
			// Nothing was stored.
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: production, Name: name}, tc.object); !apierrors.IsNotFound(err) {
				t.Errorf("want the rejected object not to exist, got %v", err)
			}
		})
	}
}

// Durations the Go client cannot marshal wrongly are sent as raw JSON, so that
// what a person would type in YAML is what the API server sees.
func TestDurationsThatAreNotGoDurationsAreRejected(t *testing.T) {
	setupNamespaces(t)
	for i, tc := range []struct {
		field, value string
	}{
		{"soak", "2d"},
		{"soak", "-1h"},
		{"soak", "48 h"},
		{"soak", "1h30"},
		{"soak", ""},
		{"soak", "99999999999999h"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			patch := fmt.Sprintf(`{"apiVersion":"golive.dev/v1alpha1","kind":"UpdateRequest","metadata":{"name":"raw-duration-%d","namespace":%q},
				"spec":{"release":"1","targets":[{"kind":"Deployment","name":"api","images":{"api":"api:1"}}],
				"staging":{"namespace":%q,"%s":%q},"approvals":{"required":[{"role":"rnd-lead"}]},"window":{"name":"w"}}}`,
				i, production, grey, tc.field, tc.value)
			request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-duration-%d", i), Namespace: production}}
			err := env.Client.Patch(context.Background(), request, client.RawPatch("application/apply-patch+yaml", []byte(patch)),
				client.FieldOwner("test"), client.ForceOwnership)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.staging.soak:") || !strings.Contains(err.Error(), "must be a duration") {
				t.Fatalf("want a rejection naming spec.staging.soak as not a duration, got %v", err)
			}
		})
	}
}

func TestSamplesAreAccepted(t *testing.T) {
	setupNamespaces(t)
	ctx := context.Background()
	for _, sample := range []string{"golive_v1alpha1_golivewindow.yaml", "golive_v1alpha1_updaterequest.yaml"} {
		for _, object := range mustReadObjects(t, sample) {
			if err := env.Client.Create(ctx, object); err != nil {
				t.Fatalf("%s: the API server refused the sample %s: %v", sample, object.GetName(), err)
			}
		}
	}
	// The typed client decodes what was stored: every duration is a Go duration.
	var request golivev1alpha1.UpdateRequest
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: production, Name: "billing-2-4-0"}, &request); err != nil {
		t.Fatal(err)
	}
	if got, want := request.Spec.Staging.Soak.Duration, 48*time.Hour; got != want {
		t.Errorf("spec.staging.soak = %v, want %v", got, want)
	}
	var window golivev1alpha1.GoLiveWindow
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: production, Name: "thursday-evening"}, &window); err != nil {
		t.Fatal(err)
	}
	if got, want := window.Spec.LeadTime.Duration, 336*time.Hour; got != want {
		t.Errorf("spec.leadTime = %v, want %v", got, want)
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	setupNamespaces(t)
	ctx := context.Background()
	request := validRequest("defaults")
	request.Spec.Approvals.Required = []golivev1alpha1.RoleQuorum{{Role: "rnd-lead"}}
	request.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: "https://billing.example.com/healthz"}}
	request.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: "business-owner"}
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatal(err)
	}
	window := validWindow("defaults")
	window.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}}
	if err := env.Client.Create(ctx, window); err != nil {
		t.Fatal(err)
	}

	var got golivev1alpha1.UpdateRequest
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(request), &got); err != nil {
		t.Fatal(err)
	}
	wantVerify := golivev1alpha1.Verification{Timeout: duration("10m"), HTTP: []golivev1alpha1.HTTPCheck{{
		Name: "health", URL: "https://billing.example.com/healthz", ExpectStatus: []int32{200}, SuccessThreshold: 1, Period: duration("10s"),
	}}}
	for _, check := range []struct {
		field     string
		got, want any
	}{
		{"spec.staging.verify", got.Spec.Staging.Verify, golivev1alpha1.Verification{Timeout: duration("10m")}},
		{"spec.staging.soak", got.Spec.Staging.Soak, duration("0s")},
		{"spec.approvals.required[0].count", got.Spec.Approvals.Required[0].Count, int32(1)},
		{"spec.verify", got.Spec.Verify, wantVerify},
		{"spec.backup", got.Spec.Backup, golivev1alpha1.Backup{Quiesce: golivev1alpha1.QuiesceNone, Retention: duration("168h")}},
		{"spec.acceptance", *got.Spec.Acceptance, golivev1alpha1.Acceptance{Role: "business-owner", Timeout: duration("24h"), OnTimeout: golivev1alpha1.AcceptOnTimeout}},
		{"spec.staging.onFailure", got.Spec.Staging.OnFailure, golivev1alpha1.RestoreStagingOnFailure},
		{"spec.rollback", got.Spec.Rollback, golivev1alpha1.Rollback{RestoreData: golivev1alpha1.RestoreDataAuto, RetainedVolumes: golivev1alpha1.DeleteRetainedVolumes}},
	} {
		if diff := cmp.Diff(check.want, check.got); diff != "" {
			t.Errorf("%s defaults (-want +got):\n%s", check.field, diff)
		}
	}

	var gotWindow golivev1alpha1.GoLiveWindow
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(window), &gotWindow); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(golivev1alpha1.GoLiveWindowSpec{
		TimeZone:      "Europe/Berlin",
		Schedule:      window.Spec.Schedule,
		LeadTime:      duration("0s"),
		MaxConcurrent: 1,
		Emergency:     &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 1, Period: duration("720h")},
	}, gotWindow.Spec); diff != "" {
		t.Errorf("GoLiveWindow defaults (-want +got):\n%s", diff)
	}
}

// Values at the edges of what is allowed must pass, so that validation is not
// stricter than the documentation.
func TestEdgeValuesAreAccepted(t *testing.T) {
	setupNamespaces(t)
	ctx := context.Background()
	request := validRequest("edges")
	var targets []golivev1alpha1.Target
	for i := range 32 {
		// StatefulSets: ScaleToZero below cannot stop a DaemonSet.
		targets = append(targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetStatefulSet, Name: fmt.Sprintf("agent-%d.v2", i), Images: map[string]golivev1alpha1.Image{"agent": "registry.example.com:5000/agent@sha256:0123"}})
	}
	request.Spec.Targets = targets
	request.Spec.Staging.Soak = duration("1h30m")
	request.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{smokeJob("smoke", corev1.RestartPolicyOnFailure)}
	request.Spec.Window.ExpectedDuration = ptr.To(duration("1m"))
	request.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "Payment outage", Incident: "INC-4711"}
	request.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
	request.Spec.Backup.VolumeSnapshotClassName = "csi-hostpath-snapclass"
	request.Spec.Backup.Quiesce = golivev1alpha1.QuiesceScaleToZero
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatalf("the API server refused a request at the edges of validation: %v", err)
	}

	window := validWindow("edges")
	window.Spec.TimeZone = "America/Argentina/Buenos_Aires"
	window.Spec.Schedule = []golivev1alpha1.ScheduleEntry{
		{Days: []golivev1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, Start: "00:00", Duration: duration("168h")},
		{Days: []golivev1alpha1.Weekday{"Sun"}, Start: "23:59", Duration: duration("1m")},
	}
	window.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-31T23:59", End: "2027-01-01T00:00"}}
	window.Spec.LeadTime = duration("2160h")
	window.Spec.NotifyBefore = []golivev1alpha1.NoticeLead{{Duration: duration("1m")}, {Duration: duration("720h")}}
	window.Spec.Emergency = &golivev1alpha1.EmergencyPolicy{Roles: []string{"cto"}, MaxPerPeriod: 0, Period: duration("1h")}
	if err := env.Client.Create(ctx, window); err != nil {
		t.Fatalf("the API server refused a window at the edges of validation: %v", err)
	}
}

// The labels and annotations of a verification Job's templates are kept, not
// pruned as unknown fields: the Job's pods carry them (a service mesh's
// sidecar opt-out, a NetworkPolicy's selector).
func TestJobTemplateMetadataIsKept(t *testing.T) {
	setupNamespaces(t)
	ctx := context.Background()
	request := validRequest("job-metadata")
	job := smokeJob("smoke", corev1.RestartPolicyNever)
	job.Template.Labels = map[string]string{"team": "billing"}
	job.Template.Spec.Template.Labels = map[string]string{"app": "billing-smoke"}
	job.Template.Spec.Template.Annotations = map[string]string{"sidecar.istio.io/inject": "false"}
	request.Spec.Staging.Verify.Jobs = []golivev1alpha1.VerificationJob{job}
	if err := env.Client.Create(ctx, request); err != nil {
		t.Fatal(err)
	}
	var got golivev1alpha1.UpdateRequest
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(request), &got); err != nil {
		t.Fatal(err)
	}
	stored := got.Spec.Staging.Verify.Jobs[0].Template
	if diff := cmp.Diff(job.Template.ObjectMeta, stored.ObjectMeta); diff != "" {
		t.Errorf("the Job template's metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(job.Template.Spec.Template.ObjectMeta, stored.Spec.Template.ObjectMeta); diff != "" {
		t.Errorf("the pod template's metadata (-want +got):\n%s", diff)
	}
}

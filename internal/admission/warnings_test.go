package admission

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// warningsCollector keeps the warnings the API server sends.
type warningsCollector struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningsCollector) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningsCollector) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	taken := w.warnings
	w.warnings = nil
	return taken
}

// asWithWarnings is a client acting as user that collects the warnings.
func (f *fixture) asWithWarnings(user string) (client.Client, *warningsCollector) {
	f.t.Helper()
	collector := &warningsCollector{}
	config := rest.CopyConfig(f.env.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"golive-test-users"}}
	config.WarningHandlerWithContext = collector
	c, err := client.New(config, client.Options{Scheme: f.env.Scheme})
	if err != nil {
		f.t.Fatal(err)
	}
	return c, collector
}

func (f *fixture) createDeployment(namespace, name string, containers ...string) {
	f.t.Helper()
	labels := map[string]string{"app": name}
	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}},
		},
	}
	for _, container := range containers {
		deployment.Spec.Template.Spec.Containers = append(deployment.Spec.Template.Spec.Containers, corev1.Container{Name: container, Image: container + ":1"})
	}
	if err := f.env.Client.Create(f.t.Context(), deployment); err != nil {
		f.t.Fatal(err)
	}
}

// A request that names what does not exist is admitted (GitOps applies in
// any order) with warnings that name the field and what exists instead.
func TestCreateWarnsAboutWhatDoesNotExist(t *testing.T) {
	f := newFixture(t)
	grey := f.namespace + "-grey"
	f.createDeployment(f.namespace, "billing-api", "api", "proxy")
	f.createDeployment(grey, "billing-api", "app")
	evenings := testfixtures.MakeGoLiveWindow(f.namespace, "evenings").TimeZone("UTC").
		Opening([]golivev1alpha1.Weekday{golivev1alpha1.Thursday}, "20:00", 3*time.Hour).Obj()
	if err := f.env.Client.Create(t.Context(), evenings); err != nil {
		t.Fatal(err)
	}
	alice, collected := f.asWithWarnings(alice)

	request := f.request("typos").Obj()
	request.Spec.Targets = append(request.Spec.Targets, golivev1alpha1.Target{
		Kind: golivev1alpha1.TargetDeployment, Name: "billing-apii", Images: request.Spec.Targets[0].Images,
	})
	request.Spec.Approvals.Required[1].Role = "operations-ofice"
	if err := alice.Create(t.Context(), request); err != nil {
		t.Fatalf("creating the request: %v", err)
	}
	warnings := collected.take()
	want := []string{
		`spec.targets[0].images.api: Deployment "billing-api" in namespace ` + grey + ` has no container "api"; its containers: app`,
		`spec.targets[1]: Deployment "billing-apii" not found in namespace ` + f.namespace + ` (did you mean "billing-api"?); golive waits until it exists`,
		`spec.window.name: GoLiveWindow "evening" not found in namespace ` + f.namespace + ` (did you mean "evenings"?)`,
		`spec.approvals.required[1].role: nobody may act as "operations-ofice" in namespace ` + f.namespace,
		`(did you mean "operations-office"?)`,
	}
	for _, part := range want {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, part) }) {
			t.Errorf("no warning says %q; the warnings:\n%s", part, strings.Join(warnings, "\n"))
		}
	}
	for _, unwanted := range []string{`Deployment "billing-api" not found`, `"rnd-lead"`, `in namespace ` + f.namespace + ` has no container`} {
		if slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, unwanted) }) {
			t.Errorf("a warning says %q, which is not so; the warnings:\n%s", unwanted, strings.Join(warnings, "\n"))
		}
	}

	// Every reference fine: no warning; the window of 3h fits the default 25m.
	clean := f.request("clean").Window("evenings").Obj()
	clean.Spec.Targets[0].Images = map[string]golivev1alpha1.Image{"api": clean.Spec.Targets[0].Images["api"]}
	f.createDeployment(f.namespace+"-grey", "billing-web", "api")
	f.createDeployment(f.namespace, "billing-web", "api")
	clean.Spec.Targets[0].Name = "billing-web"
	if err := alice.Create(t.Context(), clean); err != nil {
		t.Fatal(err)
	}
	if warnings := collected.take(); len(warnings) > 0 {
		t.Errorf("warnings for a request whose references exist:\n%s", strings.Join(warnings, "\n"))
	}

	// A plan no opening fits is told at creation.
	long := f.request("long").Window("evenings").Obj()
	long.Spec.Targets[0].Name = "billing-web"
	need := testfixtures.Duration(4 * time.Hour)
	long.Spec.Window.ExpectedDuration = &need
	if err := alice.Create(t.Context(), long); err != nil {
		t.Fatal(err)
	}
	want = []string{`spec.window.expectedDuration: production needs 4h of an opening, but the openings of GoLiveWindow "evenings" last at most 3h`}
	if warnings := collected.take(); len(warnings) != 1 || !strings.Contains(warnings[0], want[0]) {
		t.Errorf("warnings = %q, want one saying %q", warnings, want[0])
	}
}

func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"billing-apii", []string{"billing-api", "billing-web"}, ` (did you mean "billing-api"?)`},
		{"frontend", []string{"billing-api"}, ` (there are ["billing-api"])`},
		{"x", nil, ""},
		{"zzz", []string{"a1", "a2", "a3", "a4", "a5", "a6"}, ` (there are 6, such as ["a1" "a2" "a3" "a4" "a5"])`},
	} {
		if got := didYouMean(tc.name, tc.names); got != tc.want {
			t.Errorf("didYouMean(%q, %q) = %q, want %q", tc.name, tc.names, got, tc.want)
		}
	}
}

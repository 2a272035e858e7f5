package workload_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

func TestProtectedKey(t *testing.T) {
	for _, tt := range []struct {
		kind v1alpha1.TargetKind
		want string
		ok   bool
	}{
		{v1alpha1.TargetDeployment, "deployments.api", true},
		{v1alpha1.TargetStatefulSet, "statefulsets.api", true},
		{v1alpha1.TargetDaemonSet, "", false},
	} {
		got, ok := workload.ProtectedKey(tt.kind, "api")
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProtectedKey(%s) = %q, %v; want %q, %v", tt.kind, got, ok, tt.want, tt.ok)
		}
		if ok && workload.IsObservedKey(got) {
			t.Errorf("the key %q of a workload reads as an observed key", got)
		}
	}
	for key, want := range map[string]struct {
		kind v1alpha1.TargetKind
		name string
		ok   bool
	}{
		"deployments.api.v2":       {v1alpha1.TargetDeployment, "api.v2", true},
		"statefulsets.db":          {v1alpha1.TargetStatefulSet, "db", true},
		"daemonsets.agent":         {},
		"observed.deployments.api": {},
		"deployments.":             {},
	} {
		kind, name, ok := workload.ParseProtectedKey(key)
		if kind != want.kind || name != want.name || ok != want.ok {
			t.Errorf("ParseProtectedKey(%q) = %s, %q, %v; want %s, %q, %v", key, kind, name, ok, want.kind, want.name, want.ok)
		}
	}
	if !workload.IsObservedKey(workload.ObservedKey("deployments.api")) {
		t.Error("ObservedKey is not an observed key")
	}
}

func TestProtectedSpecHashCoversTemplateAndReplicas(t *testing.T) {
	deployment := func(image string, replicas int32, label string) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Labels: map[string]string{"team": label}}}
		d.Spec.Replicas = ptr.To(replicas)
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "api", Image: image}}
		return d
	}
	hash := func(d *appsv1.Deployment) string {
		h, err := workload.ProtectedSpecHash(d)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(deployment("api:1", 2, "a"))
	if hash(deployment("api:1", 2, "b")) != base {
		t.Error("a label of the workload changed the hash")
	}
	if hash(deployment("api:2", 2, "a")) == base {
		t.Error("the image did not change the hash")
	}
	if hash(deployment("api:1", 3, "a")) == base {
		t.Error("the replicas did not change the hash")
	}
}

func TestLastSpecChange(t *testing.T) {
	at := func(second int) *metav1.Time {
		return &metav1.Time{Time: time.Date(2026, 12, 7, 12, 0, second, 0, time.UTC)}
	}
	template := &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:template":{"f:spec":{}}}}`)}
	replicas := &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}
	labels := &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{}}}`)}
	golive := workload.FieldManagerOf{Manager: "golive"}
	for _, tt := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    workload.SpecChange
		ok      bool
		golive  bool
	}{
		{name: "nobody owns the spec", entries: []metav1.ManagedFieldsEntry{{Manager: "kubectl-label", Time: at(9), FieldsV1: labels}}},
		{
			name: "golive changed it last",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "kubectl-client-side-apply", Time: at(1), FieldsV1: template},
				{Manager: "golive", Operation: metav1.ManagedFieldsOperationApply, Time: at(5), FieldsV1: template},
				{Manager: "golive", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(5), FieldsV1: template},
				{Manager: "kubectl-label", Time: at(9), FieldsV1: labels},
			},
			want: workload.SpecChange{Managers: []workload.FieldManagerOf{golive}, Time: at(5).Time}, ok: true, golive: true,
		},
		{
			name: "kubectl scale after golive",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "golive", Time: at(5), FieldsV1: template},
				{Manager: "kubectl", Subresource: "scale", Time: at(7), FieldsV1: replicas},
			},
			want: workload.SpecChange{Managers: []workload.FieldManagerOf{{Manager: "kubectl", Subresource: "scale"}}, Time: at(7).Time}, ok: true,
		},
		{
			name: "the same second: both are named",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "kubectl-edit", Time: at(5), FieldsV1: template},
				{Manager: "golive", Time: at(5), FieldsV1: template},
			},
			want: workload.SpecChange{Managers: []workload.FieldManagerOf{golive, {Manager: "kubectl-edit"}}, Time: at(5).Time}, ok: true,
		},
		{
			name: "the autoscaler",
			entries: []metav1.ManagedFieldsEntry{
				{Manager: "golive", Time: at(5), FieldsV1: template},
				{Manager: "kube-controller-manager", Subresource: "scale", Time: at(8), FieldsV1: replicas},
				{Manager: "kube-controller-manager", Subresource: "status", Time: at(9), FieldsV1: replicas},
			},
			want: workload.SpecChange{Managers: []workload.FieldManagerOf{{Manager: "kube-controller-manager", Subresource: "scale"}}, Time: at(8).Time},
			ok:   true, golive: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := workload.LastSpecChange(tt.entries)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LastSpecChange (-want +got):\n%s", diff)
			}
			if got.ByGolive() != tt.golive {
				t.Errorf("ByGolive() = %v, want %v", got.ByGolive(), tt.golive)
			}
		})
	}
}

func TestFieldManagerOfString(t *testing.T) {
	if got := (workload.FieldManagerOf{Manager: "kubectl", Subresource: "scale"}).String(); got != `"kubectl" (scale)` {
		t.Errorf("String() = %s", got)
	}
}

// A manager that did not change the object since the last look is not named,
// even when it changed it in the same second as the one that did.
func TestChangeSince(t *testing.T) {
	at := func(second int) *metav1.Time {
		return &metav1.Time{Time: time.Date(2026, 12, 7, 12, 0, second, 0, time.UTC)}
	}
	template := &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:template":{"f:spec":{}}}}`)}
	created := metav1.ManagedFieldsEntry{Manager: "kubectl-create", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(5), FieldsV1: template}
	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", ManagedFields: []metav1.ManagedFieldsEntry{created}}}
	deployment.Spec.Replicas = ptr.To(int32(1))
	previous, err := workload.ObserveProtected(deployment)
	if err != nil {
		t.Fatal(err)
	}
	again, ok := workload.ParseProtectedState(previous.String())
	if !ok || !cmp.Equal(previous, again) {
		t.Fatalf("the state does not survive the list: %+v, %+v", previous, again)
	}
	for _, tt := range []struct {
		name  string
		entry metav1.ManagedFieldsEntry
		want  []workload.FieldManagerOf
	}{
		{"golive in the same second", metav1.ManagedFieldsEntry{Manager: "golive", Operation: metav1.ManagedFieldsOperationApply, Time: at(5), FieldsV1: template},
			[]workload.FieldManagerOf{{Manager: "golive"}}},
		{"kubectl edit in the same second", metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(5), FieldsV1: template},
			[]workload.FieldManagerOf{{Manager: "kubectl-edit"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			change, ok := workload.ChangeSince([]metav1.ManagedFieldsEntry{created, tt.entry}, previous)
			if !ok {
				t.Fatal("no change found")
			}
			if diff := cmp.Diff(tt.want, change.Managers); diff != "" {
				t.Errorf("managers (-want +got):\n%s", diff)
			}
		})
	}
	// Scales are undated: a new scaler is named, and one that scales again is
	// the owner of the scale entry.
	replicas := &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}
	scaled := metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale", FieldsV1: replicas}
	kubectlScale := []workload.FieldManagerOf{{Manager: "kubectl", Subresource: "scale"}}
	change, _ := workload.ChangeSince([]metav1.ManagedFieldsEntry{created, scaled}, previous)
	if diff := cmp.Diff(kubectlScale, change.Managers); diff != "" {
		t.Errorf("a new scaler (-want +got):\n%s", diff)
	}
	deployment.ManagedFields = []metav1.ManagedFieldsEntry{created, scaled}
	afterScale, err := workload.ObserveProtected(deployment)
	if err != nil {
		t.Fatal(err)
	}
	change, _ = workload.ChangeSince([]metav1.ManagedFieldsEntry{created, scaled}, afterScale)
	if diff := cmp.Diff(kubectlScale, change.Managers); diff != "" {
		t.Errorf("scaling again (-want +got):\n%s", diff)
	}
	goliveScaled := scaled
	goliveScaled.Manager = "golive"
	if change, _ := workload.ChangeSince([]metav1.ManagedFieldsEntry{created, goliveScaled}, afterScale); !change.ByGolive() {
		t.Errorf("golive's scale after kubectl's: %+v", change)
	}

	// Nothing changed since: the latest managers are named.
	if change, _ := workload.ChangeSince([]metav1.ManagedFieldsEntry{created}, previous); len(change.Managers) != 1 || change.Managers[0].Manager != "kubectl-create" {
		t.Errorf("without a changed entry: %+v", change)
	}
	if _, ok := workload.ParseProtectedState("not json"); ok {
		t.Error("a state that does not parse was read")
	}
}

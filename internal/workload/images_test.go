package workload_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

func TestImagesApplied(t *testing.T) {
	tests := []struct {
		name   string
		obj    client.Object
		images map[string]v1alpha1.Image
		want   bool
	}{
		{
			name:   "container runs the image",
			obj:    newDeployment("api", "prod"),
			images: map[string]v1alpha1.Image{"api": "registry.example.com/billing-api:2.3.0"},
			want:   true,
		},
		{
			name:   "container runs another image",
			obj:    newDeployment("api", "prod"),
			images: map[string]v1alpha1.Image{"api": "registry.example.com/billing-api:2.4.0"},
			want:   false,
		},
		{
			name:   "init container counts",
			obj:    newStatefulSet("db", "prod"),
			images: map[string]v1alpha1.Image{"migrate": "registry.example.com/billing-migrate:2.3.0", "api": "registry.example.com/billing-api:2.3.0"},
			want:   true,
		},
		{
			name:   "init container runs another image",
			obj:    newDaemonSet("agent", "prod"),
			images: map[string]v1alpha1.Image{"migrate": "registry.example.com/billing-migrate:2.4.0", "api": "registry.example.com/billing-api:2.3.0"},
			want:   false,
		},
		{
			name:   "a missing container has not got its image",
			obj:    newDeployment("api", "prod"),
			images: map[string]v1alpha1.Image{"worker": "registry.example.com/billing-worker:2.4.0"},
			want:   false,
		},
		{
			name:   "tag and digest are different references",
			obj:    newDeployment("api", "prod"),
			images: map[string]v1alpha1.Image{"api": "registry.example.com/billing-api@sha256:0123"},
			want:   false,
		},
		{
			name:   "not a workload",
			obj:    &corev1.Pod{},
			images: map[string]v1alpha1.Image{"api": "registry.example.com/billing-api:2.3.0"},
			want:   false,
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := workload.ImagesApplied(test.obj, test.images); got != test.want {
				t.Errorf("ImagesApplied() = %v, want %v", got, test.want)
			}
		})
	}
}

func TestMissingContainers(t *testing.T) {
	tests := []struct {
		name   string
		obj    client.Object
		images map[string]v1alpha1.Image
		want   []string
	}{
		{
			name:   "containers and init containers found",
			obj:    newDeployment("api", "prod"),
			images: map[string]v1alpha1.Image{"api": "a:1", "proxy": "p:1", "migrate": "m:1"},
		},
		{
			name:   "missing names sorted",
			obj:    newStatefulSet("db", "prod"),
			images: map[string]v1alpha1.Image{"worker": "w:1", "api": "a:1", "cron": "c:1"},
			want:   []string{"cron", "worker"},
		},
		{
			name:   "a DaemonSet's containers",
			obj:    newDaemonSet("agent", "prod"),
			images: map[string]v1alpha1.Image{"migrate": "m:1", "agent": "a:1"},
			want:   []string{"agent"},
		},
		{
			name:   "not a workload misses everything",
			obj:    &corev1.ConfigMap{},
			images: map[string]v1alpha1.Image{"api": "a:1", "proxy": "p:1"},
			want:   []string{"api", "proxy"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if diff := cmp.Diff(test.want, workload.MissingContainers(test.obj, test.images)); diff != "" {
				t.Errorf("MissingContainers() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

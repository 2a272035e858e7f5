package workload

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// ImagesApplied tells whether the pod template of obj runs every image of
// images, looked up by container name among the containers and the init
// containers. A named container that does not exist has not got its image.
func ImagesApplied(obj client.Object, images map[string]v1alpha1.Image) bool {
	template := PodTemplate(obj)
	if template == nil {
		return false
	}
	for name, image := range images {
		container := findContainer(&template.Spec, name)
		if container == nil || container.Image != string(image) {
			return false
		}
	}
	return true
}

// MissingContainers lists, sorted, the container names of images that the pod
// template of obj has neither among its containers nor its init containers.
// An object that is not a workload misses them all.
func MissingContainers(obj client.Object, images map[string]v1alpha1.Image) []string {
	template := PodTemplate(obj)
	var missing []string
	for name := range images {
		if template == nil || findContainer(&template.Spec, name) == nil {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	return missing
}

// findContainer returns the container or init container called name. Names
// are unique across both lists (the API server validates it).
func findContainer(spec *corev1.PodSpec, name string) *corev1.Container {
	for _, containers := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for i := range containers {
			if containers[i].Name == name {
				return &containers[i]
			}
		}
	}
	return nil
}

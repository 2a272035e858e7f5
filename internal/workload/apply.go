package workload

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// ApplyImages sets the images of the target's named containers (init
// containers included) on the workload in namespace, by server-side apply as
// field manager "golive". The apply configuration holds nothing but each named
// container's name and image: containers are a list keyed by name, so the API
// server merges them by name and every other field, container and manager's
// ownership stays as it was. Applying the same images again changes nothing
// (no new generation, no rollout).
//
// Ownership is forced: a GitOps tool that applied the image field before (Argo
// CD, Flux) loses it to golive instead of making the apply fail. Such a tool
// will then see drift on that field and, with self-heal or a forced apply of
// its own, put its image back; the release should be committed to Git as well,
// or the field excluded from the tool's comparison.
//
// The workload must exist and contain every named container: an apply of a
// missing one would create a container with nothing but a name and an image.
func ApplyImages(ctx context.Context, c client.Client, target v1alpha1.Target, namespace string) error {
	obj, err := Get(ctx, c, target, namespace)
	if err != nil {
		return err
	}
	if missing := MissingContainers(obj, target.Images); len(missing) > 0 {
		return fmt.Errorf("%s has no container named %s", describe(obj), strings.Join(missing, ", "))
	}
	template := imagesTemplate(&PodTemplate(obj).Spec, target.Images)
	var config runtime.ApplyConfiguration
	switch target.Kind {
	case v1alpha1.TargetDeployment:
		config = appsv1ac.Deployment(target.Name, namespace).WithSpec(appsv1ac.DeploymentSpec().WithTemplate(template))
	case v1alpha1.TargetStatefulSet:
		config = appsv1ac.StatefulSet(target.Name, namespace).WithSpec(appsv1ac.StatefulSetSpec().WithTemplate(template))
	case v1alpha1.TargetDaemonSet:
		config = appsv1ac.DaemonSet(target.Name, namespace).WithSpec(appsv1ac.DaemonSetSpec().WithTemplate(template))
	default:
		return fmt.Errorf("unsupported workload kind %q", target.Kind)
	}
	if err := c.Apply(ctx, config, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying images to %s: %w", describe(obj), err)
	}
	return nil
}

// imagesTemplate is the part of a pod template that sets images: each named
// container in the list it belongs to, with its name and image only, in name
// order so that the same images always make the same request.
func imagesTemplate(spec *corev1.PodSpec, images map[string]v1alpha1.Image) *corev1ac.PodTemplateSpecApplyConfiguration {
	podSpec := corev1ac.PodSpec()
	for _, name := range slices.Sorted(maps.Keys(images)) {
		container := corev1ac.Container().WithName(name).WithImage(string(images[name]))
		if slices.ContainsFunc(spec.InitContainers, func(init corev1.Container) bool { return init.Name == name }) {
			podSpec.WithInitContainers(container)
		} else {
			podSpec.WithContainers(container)
		}
	}
	return corev1ac.PodTemplateSpec().WithSpec(podSpec)
}

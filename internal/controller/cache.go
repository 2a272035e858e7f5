package controller

import (
	"maps"
	"slices"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// requestLabelExists selects the objects golive created for a request.
var requestLabelExists = func() labels.Selector {
	requirement, err := labels.NewRequirement(golivev1alpha1.LabelRequest, selection.Exists, nil)
	utilruntime.Must(err)
	return labels.NewSelector().Add(*requirement)
}()

// CacheOptions are the manager's cache: what golive reads often, and no more.
// Only golive's own ConfigMaps, Jobs and VolumeSnapshots are cached, not every
// one in the cluster (VolumeSnapshots only when the cluster serves them), and
// of the PersistentVolumes only those a data restore retained (labelled with
// the request), for their retention;
// pods and claims are not cached at all (UncachedObjects), and namespaces only
// as metadata (namespaces.CheckStaging reads them so). Workloads are
// cached trimmed (TrimWorkload), and RBAC objects too (TrimRBAC). No cached object keeps its managedFields:
// golive never reads them, and they are often the larger part of an object.
func CacheOptions(volumeSnapshots bool) cache.Options {
	byObject := map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {Label: requestLabelExists},
		&batchv1.Job{}:      {Label: requestLabelExists},
	}
	if volumeSnapshots {
		byObject[&snapshotv1.VolumeSnapshot{}] = cache.ByObject{Label: requestLabelExists}
		// Watched for the retained volumes' retention; read from the API server (UncachedObjects).
		byObject[&corev1.PersistentVolume{}] = cache.ByObject{Label: requestLabelExists}
	}
	// Every workload of the cluster is cached (any may become a target), so
	// each keeps only what golive reads from the cache.
	for _, kind := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.DaemonSet{}} {
		byObject[kind] = cache.ByObject{Transform: TrimWorkload}
	}
	byObject[&golivev1alpha1.UpdateRequest{}] = cache.ByObject{Transform: TrimUpdateRequest}
	// The webhooks' role warnings read the cluster's RBAC from the cache.
	for _, kind := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.Role{}, &rbacv1.ClusterRoleBinding{}, &rbacv1.RoleBinding{}} {
		byObject[kind] = cache.ByObject{Transform: TrimRBAC}
	}
	return cache.Options{ByObject: byObject, DefaultTransform: cache.TransformStripManagedFields()}
}

// lastAppliedAnnotation is where client-side kubectl apply (and GitOps tools
// that apply so) keep a copy of the whole object as applied.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// TrimUpdateRequest drops of a cached UpdateRequest what golive never reads:
// its managedFields and the copy of the applied object client-side apply
// keeps in an annotation, which doubles a request in the cache (its spec may
// carry whole Job templates). golive only patches requests, so a patch made
// from a trimmed copy leaves both as they are.
func TrimUpdateRequest(in any) (any, error) {
	object, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	object.SetManagedFields(nil)
	if annotations := object.GetAnnotations(); annotations[lastAppliedAnnotation] != "" {
		kept := maps.Clone(annotations)
		delete(kept, lastAppliedAnnotation)
		object.SetAnnotations(kept)
	}
	return in, nil
}

// TrimRBAC keeps of a role what the role warnings read, the rules that name
// approval roles, and of a binding its role and subjects; every annotation
// goes (the default roles' are large). golive reads RBAC for warnings only.
func TrimRBAC(in any) (any, error) {
	object, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	object.SetAnnotations(nil)
	object.SetManagedFields(nil)
	switch role := in.(type) {
	case *rbacv1.ClusterRole:
		role.Rules = approvalRules(role.Rules)
		role.AggregationRule = nil
	case *rbacv1.Role:
		role.Rules = approvalRules(role.Rules)
	}
	return in, nil
}

func approvalRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var kept []rbacv1.PolicyRule
	for _, rule := range rules {
		if slices.Contains(rule.Resources, golivev1alpha1.ApprovalRoleResource) {
			kept = append(kept, rule)
		}
	}
	return kept
}

// TrimWorkload keeps of a Deployment, StatefulSet or DaemonSet what golive
// reads from its cache: its identity and labels, its spec but for the pod
// template, of which only each container's name and image and the ConfigMaps
// and Secrets it references, and its status. That is enough to tell its
// rollout, its images, its configuration (spec.config), its replicas and its
// selector. Whatever needs the whole pod template (saving it, restoring it,
// comparing with it) reads the workload from the API server.
func TrimWorkload(in any) (any, error) {
	object, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	template := workload.PodTemplate(object)
	if template == nil {
		return in, nil
	}
	// Annotations such as kubectl's last-applied-configuration can be the largest part.
	object.SetAnnotations(nil)
	object.SetManagedFields(nil)
	*template = corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: namesAndImages(template.Spec.InitContainers),
		Containers:     namesAndImages(template.Spec.Containers),
		Volumes:        configVolumes(template.Spec.Volumes),
	}}
	if statefulSet, ok := in.(*appsv1.StatefulSet); ok {
		statefulSet.Spec.VolumeClaimTemplates = nil
	}
	return in, nil
}

func namesAndImages(containers []corev1.Container) []corev1.Container {
	if containers == nil {
		return nil
	}
	kept := make([]corev1.Container, len(containers))
	for i, container := range containers {
		kept[i] = corev1.Container{Name: container.Name, Image: container.Image, EnvFrom: container.EnvFrom}
		for _, env := range container.Env {
			if env.ValueFrom != nil && (env.ValueFrom.ConfigMapKeyRef != nil || env.ValueFrom.SecretKeyRef != nil) {
				kept[i].Env = append(kept[i].Env, corev1.EnvVar{Name: env.Name, ValueFrom: &corev1.EnvVarSource{
					ConfigMapKeyRef: env.ValueFrom.ConfigMapKeyRef, SecretKeyRef: env.ValueFrom.SecretKeyRef}})
			}
		}
	}
	return kept
}

// configVolumes keeps the volumes that reference ConfigMaps or Secrets.
func configVolumes(volumes []corev1.Volume) []corev1.Volume {
	var kept []corev1.Volume
	for _, volume := range volumes {
		source := volume.VolumeSource
		if source.ConfigMap != nil || source.Secret != nil || source.Projected != nil {
			kept = append(kept, corev1.Volume{Name: volume.Name, VolumeSource: corev1.VolumeSource{
				ConfigMap: source.ConfigMap, Secret: source.Secret, Projected: source.Projected}})
		}
	}
	return kept
}

package workload

import (
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClaimsMounted returns the sorted names of the PersistentVolumeClaims the
// pods of obj mount, as its spec says: the claims its pod template names,
// and for a StatefulSet the claim of each volumeClaimTemplate for each
// ordinal it runs (<template>-<statefulset>-<ordinal>). Generic ephemeral
// volumes are left out: they live and go with their pods, so nothing of
// them outlives a rollback. obj must be read whole (not from golive's cache,
// which drops volumes).
func ClaimsMounted(obj client.Object) []string {
	var claims []string
	if template := PodTemplate(obj); template != nil {
		for _, volume := range template.Spec.Volumes {
			if volume.PersistentVolumeClaim != nil {
				claims = append(claims, volume.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	if statefulSet, ok := obj.(*appsv1.StatefulSet); ok {
		start := int32(0)
		if statefulSet.Spec.Ordinals != nil {
			start = statefulSet.Spec.Ordinals.Start
		}
		for _, template := range statefulSet.Spec.VolumeClaimTemplates {
			for ordinal := start; ordinal < start+DesiredReplicas(statefulSet); ordinal++ {
				claims = append(claims, template.Name+"-"+statefulSet.Name+"-"+strconv.Itoa(int(ordinal)))
			}
		}
	}
	slices.Sort(claims)
	return slices.Compact(claims)
}

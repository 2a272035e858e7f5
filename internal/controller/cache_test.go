package controller

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/workload"
)

// A trimmed workload answers every question golive asks of a cached one as
// the whole workload does, and holds nothing else of its pod template.
func TestTrimWorkloadKeepsWhatGoliveReads(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "billing-api", Namespace: "billing", Generation: 3, Labels: map[string]string{"app": "billing"},
		Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"a":"large document"}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
	// The references to configuration stay, for spec.config.
	secretEnv := corev1.EnvVar{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "billing-credentials"}, Key: "password"}}}
	configEnvFrom := corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}
	configVolume := corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "billing-config"}}}}
	renames := workload.Renames([]golivev1alpha1.ConfigCopyStatus{
		{Kind: golivev1alpha1.ConfigKindConfigMap, Name: "billing-config", Copy: "billing-config-0123456789"},
		{Kind: golivev1alpha1.ConfigKindSecret, Name: "billing-credentials", Copy: "billing-credentials-0123456789"},
	})
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "billing"}, Annotations: map[string]string{"checksum": "abc"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: "billing-migrate:2.4.0", Args: []string{"up"}}},
			Containers: []corev1.Container{{Name: "api", Image: "billing-api:2.4.0", Env: []corev1.EnvVar{{Name: "LOG", Value: "debug"}, secretEnv},
				EnvFrom: []corev1.EnvFromSource{configEnvFrom},
				Ports:   []corev1.ContainerPort{{ContainerPort: 8080}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, configVolume},
		},
	}
	images := map[string]golivev1alpha1.Image{"api": "billing-api:2.4.0", "migrate": "billing-migrate:2.4.0"}
	for _, original := range []client.Object{
		&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(3)), Selector: selector, Template: template, Paused: true},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3}},
		&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(3)), Selector: selector, Template: template,
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(int32(1))}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 3, Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3}},
		&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: selector, Template: template,
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 3, DesiredNumberScheduled: 4, UpdatedNumberScheduled: 2, NumberAvailable: 4}},
	} {
		t.Run(fmt.Sprintf("%T", original), func(t *testing.T) {
			trimmedObject, err := TrimWorkload(original.DeepCopyObject())
			if err != nil {
				t.Fatal(err)
			}
			trimmed := trimmedObject.(client.Object)
			if diff := cmp.Diff(workload.Rollout(original), workload.Rollout(trimmed)); diff != "" {
				t.Errorf("rollout health (-whole +trimmed):\n%s", diff)
			}
			if workload.ImagesApplied(original, images) != workload.ImagesApplied(trimmed, images) ||
				!cmp.Equal(workload.MissingContainers(original, images), workload.MissingContainers(trimmed, images)) ||
				workload.DesiredReplicas(original) != workload.DesiredReplicas(trimmed) ||
				workload.ConfigApplied(original, renames) != workload.ConfigApplied(trimmed, renames) {
				t.Errorf("images or replicas differ once trimmed")
			}
			if trimmed.GetAnnotations() != nil || trimmed.GetManagedFields() != nil || trimmed.GetLabels()["app"] != "billing" {
				t.Errorf("metadata once trimmed: annotations %v, managedFields %v, labels %v", trimmed.GetAnnotations(), trimmed.GetManagedFields(), trimmed.GetLabels())
			}
			want := corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "migrate", Image: "billing-migrate:2.4.0"}},
				Containers: []corev1.Container{{Name: "api", Image: "billing-api:2.4.0", Env: []corev1.EnvVar{secretEnv},
					EnvFrom: []corev1.EnvFromSource{configEnvFrom}}},
				Volumes: []corev1.Volume{configVolume},
			}}
			if diff := cmp.Diff(want, *workload.PodTemplate(trimmed)); diff != "" {
				t.Errorf("pod template once trimmed (-want +got):\n%s", diff)
			}
		})
	}
}

// A cached request keeps everything golive reads, its ledger among its
// annotations, and loses only client-side apply's copy and managedFields.
func TestTrimUpdateRequestKeepsWhatGoliveReads(t *testing.T) {
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Name: "billing-2-4-0", Namespace: "billing",
		Annotations: map[string]string{
			golivev1alpha1.AnnotationLedger:                    `[{"user":"bob"}]`,
			golivev1alpha1.AnnotationRequestedBy:               "alice",
			"kubectl.kubernetes.io/last-applied-configuration": `{"spec":"a large document"}`,
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec:   golivev1alpha1.UpdateRequestSpec{Release: "2.4.0"},
		Status: golivev1alpha1.UpdateRequestStatus{Phase: golivev1alpha1.PhaseAwaitingApproval},
	}
	want := request.DeepCopy()
	want.ManagedFields = nil
	delete(want.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	trimmed, err := TrimUpdateRequest(request)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, trimmed); diff != "" {
		t.Errorf("trimmed request (-want +got):\n%s", diff)
	}
}

// A trimmed role keeps only the rules that name approval roles, which is
// all the role warnings read; a binding keeps its role and subjects.
func TestTrimRBACKeepsTheApprovalRules(t *testing.T) {
	approve := rbacv1.PolicyRule{APIGroups: []string{golivev1alpha1.GroupVersion.Group}, Resources: []string{golivev1alpha1.ApprovalRoleResource},
		ResourceNames: []string{"rnd-lead"}, Verbs: []string{golivev1alpha1.ApproveVerb}}
	other := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}
	meta := metav1.ObjectMeta{Name: "approver", Annotations: map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}
	trimmedMeta := metav1.ObjectMeta{Name: "approver"}
	for _, tc := range []struct{ original, want client.Object }{
		{&rbacv1.ClusterRole{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{other, approve},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{}}}},
			&rbacv1.ClusterRole{ObjectMeta: trimmedMeta, Rules: []rbacv1.PolicyRule{approve}}},
		{&rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{other}}, &rbacv1.Role{ObjectMeta: trimmedMeta}},
		{&rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "approver"}, Subjects: []rbacv1.Subject{{Kind: "User", Name: "bob"}}},
			&rbacv1.RoleBinding{ObjectMeta: trimmedMeta, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "approver"}, Subjects: []rbacv1.Subject{{Kind: "User", Name: "bob"}}}},
	} {
		trimmed, err := TrimRBAC(tc.original.DeepCopyObject())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, trimmed); diff != "" {
			t.Errorf("TrimRBAC(%T) (-want +got):\n%s", tc.original, diff)
		}
	}
}

package releasecontent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

const (
	oldCopy = "billing-config-0123456789"
	newCopy = "billing-config-abcdef0123"
)

// podSpec references billing-config (or name) from every place a pod template can.
func podSpec(name, secret string) corev1.PodSpec {
	cm := corev1.LocalObjectReference{Name: name}
	return corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: cm}}}}},
		Containers: []corev1.Container{{
			Name:    "app",
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}}},
			Env: []corev1.EnvVar{
				{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: cm, Key: "LOG_LEVEL"}}},
				{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "password"}}},
				{Name: "PLAIN", Value: "billing-config"},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: cm}}},
			{Name: "credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}},
			{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: cm}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}},
			}}}},
		},
	}
}

func TestRewrite(t *testing.T) {
	configOnly := Renames{{Kind: v1alpha1.ConfigKindConfigMap, Name: "billing-config"}: newCopy}
	both := Renames{
		{Kind: v1alpha1.ConfigKindConfigMap, Name: "billing-config"}: newCopy,
		{Kind: v1alpha1.ConfigKindSecret, Name: "creds"}:             "creds-1111111111",
	}
	tests := []struct {
		name        string
		spec        corev1.PodSpec
		renames     Renames
		want        corev1.PodSpec
		wantChanged bool
	}{
		{"the object GitOps manages is replaced by the copy everywhere", podSpec("billing-config", "creds"), configOnly, podSpec(newCopy, "creds"), true},
		{"an earlier release's copy is replaced too", podSpec(oldCopy, "creds"), configOnly, podSpec(newCopy, "creds"), true},
		{"ConfigMaps and Secrets each by their kind", podSpec("billing-config", "creds"), both, podSpec(newCopy, "creds-1111111111"), true},
		{"the copy already referenced: nothing changes", podSpec(newCopy, "creds"), configOnly, podSpec(newCopy, "creds"), false},
		{"a Secret of the same name as a ConfigMap is not a ConfigMap", podSpec("other", "billing-config"), configOnly, podSpec("other", "billing-config"), false},
		{"a longer name is another object", podSpec("billing-config-extra", "creds"), configOnly, podSpec("billing-config-extra", "creds"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := *tt.spec.DeepCopy()
			changed := Rewrite(&got, tt.renames)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Rewrite() (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("Rewrite() changed = %v, want %v", changed, tt.wantChanged)
			}
			if applied := Applied(&got, tt.renames); !applied {
				t.Errorf("Applied() after Rewrite = false, want true")
			}
		})
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name      string
		spec      corev1.PodSpec
		kind      v1alpha1.ConfigKind
		reference string
		want      bool
	}{
		{"envFrom, env, volumes", podSpec("billing-config", "creds"), v1alpha1.ConfigKindConfigMap, "billing-config", true},
		{"an earlier copy", podSpec(oldCopy, "creds"), v1alpha1.ConfigKindConfigMap, "billing-config", true},
		{"a Secret", podSpec("billing-config", "creds"), v1alpha1.ConfigKindSecret, "creds", true},
		{"a ConfigMap name asked as a Secret", podSpec("billing-config", "creds"), v1alpha1.ConfigKindSecret, "billing-config", false},
		{"an env value is no reference", corev1.PodSpec{Containers: []corev1.Container{{Env: []corev1.EnvVar{{Name: "X", Value: "billing-config"}}}}}, v1alpha1.ConfigKindConfigMap, "billing-config", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := References(&tt.spec, tt.kind, tt.reference); got != tt.want {
				t.Errorf("References() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsCopyOf(t *testing.T) {
	tests := []struct {
		reference, name string
		want            bool
	}{
		{"billing-config", "billing-config", true},
		{"billing-config-0123456789", "billing-config", true},
		{"billing-config-012345678", "billing-config", false},
		{"billing-config-0123456789a", "billing-config", false},
		{"billing-config-ABCDEF0123", "billing-config", false},
		{"billing-configs", "billing-config", false},
		{"billing", "billing-config", false},
	}
	for _, tt := range tests {
		if got := IsCopyOf(tt.reference, tt.name); got != tt.want {
			t.Errorf("IsCopyOf(%q, %q) = %v, want %v", tt.reference, tt.name, got, tt.want)
		}
	}
}

func TestContentHash(t *testing.T) {
	a := ContentHash(map[string]string{"A": "1", "B": "2"}, nil)
	if b := ContentHash(map[string]string{"B": "2", "A": "1"}, nil); a != b {
		t.Errorf("equal content hashed differently: %s, %s", a, b)
	}
	if c := ContentHash(map[string]string{"A": "1", "B": "3"}, nil); a == c {
		t.Errorf("different content hashed the same: %s", a)
	}
	if d := ContentHash(nil, map[string][]byte{"A": []byte("1"), "B": []byte("2")}); a == d {
		t.Errorf("data and binary data hashed the same: %s", a)
	}
	if len(a) != contentHashLength || !IsCopyOf(CopyName("x", a), "x") {
		t.Errorf("CopyName(x, %s) is no copy of x", a)
	}
}

func TestNames(t *testing.T) {
	spec := podSpec(oldCopy, "creds")
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "extra", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "another"}}}})
	if diff := cmp.Diff([]string{"another", oldCopy}, Names(&spec, v1alpha1.ConfigKindConfigMap)); diff != "" {
		t.Errorf("Names(ConfigMap) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"creds"}, Names(&spec, v1alpha1.ConfigKindSecret)); diff != "" {
		t.Errorf("Names(Secret) (-want +got):\n%s", diff)
	}
}

// Package releasecontent is what a release carries besides images, as values:
// the names of the immutable copies of its configuration, and the pod
// template references that point at them. It has no client.
package releasecontent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/golive-dev/golive/api/v1alpha1"
)

// contentHashLength is how many hex digits of the content hash a copy's name carries.
const contentHashLength = 10

// copySuffix matches what CopyName appends to a name.
var copySuffix = regexp.MustCompile(`^-[0-9a-f]{10}$`)

// ContentHash identifies the content of a ConfigMap or Secret: its data and
// binary data, which encoding/json writes with sorted keys.
func ContentHash(data map[string]string, binaryData map[string][]byte) string {
	encoded, err := json.Marshal(struct {
		Data       map[string]string `json:"data,omitempty"`
		BinaryData map[string][]byte `json:"binaryData,omitempty"`
	}{data, binaryData})
	if err != nil {
		panic("marshalling string maps: " + err.Error())
	}
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:])[:contentHashLength]
}

// CopyName is the name of the immutable copy of name with content hash hash:
// <name>-<hash>.
func CopyName(name, hash string) string {
	return name + "-" + hash
}

// IsCopyOf tells whether reference names name itself or a copy golive made of
// it (CopyName): a target still on the object GitOps manages, or on the copy
// an earlier release made.
func IsCopyOf(reference, name string) bool {
	if reference == name {
		return true
	}
	return len(reference) > len(name) && reference[:len(name)] == name && copySuffix.MatchString(reference[len(name):])
}

// Ref is a configuration object by kind and the name the request gives it.
type Ref struct {
	Kind v1alpha1.ConfigKind
	Name string
}

// Renames says, for each configuration object of a release, which copy the
// pod templates reference instead.
type Renames map[Ref]string

// Rewrite points every reference of spec to an object of renames (or to an
// earlier copy of it) at the object's copy; it reports whether it changed anything.
func Rewrite(spec *corev1.PodSpec, renames Renames) bool {
	changed := false
	visit(spec, func(kind v1alpha1.ConfigKind, name *string) {
		for ref, copyName := range renames {
			if ref.Kind == kind && IsCopyOf(*name, ref.Name) && *name != copyName {
				*name = copyName
				changed = true
			}
		}
	})
	return changed
}

// Applied tells whether spec references only the copies of renames, and no
// other version of those objects.
func Applied(spec *corev1.PodSpec, renames Renames) bool {
	return !Rewrite(spec.DeepCopy(), renames)
}

// References tells whether spec references the object of kind called name,
// or a copy of it.
func References(spec *corev1.PodSpec, kind v1alpha1.ConfigKind, name string) bool {
	found := false
	visit(spec, func(k v1alpha1.ConfigKind, reference *string) {
		if k == kind && IsCopyOf(*reference, name) {
			found = true
		}
	})
	return found
}

// visit calls f with every ConfigMap and Secret name that spec references:
// in envFrom and env valueFrom of containers and init containers, in volumes
// and projected volumes (pod templates have no ephemeral containers).
func visit(spec *corev1.PodSpec, f func(kind v1alpha1.ConfigKind, name *string)) {
	containers := func(each func(*corev1.Container)) {
		for i := range spec.InitContainers {
			each(&spec.InitContainers[i])
		}
		for i := range spec.Containers {
			each(&spec.Containers[i])
		}
	}
	containers(func(c *corev1.Container) {
		for i := range c.EnvFrom {
			if ref := c.EnvFrom[i].ConfigMapRef; ref != nil {
				f(v1alpha1.ConfigKindConfigMap, &ref.Name)
			}
			if ref := c.EnvFrom[i].SecretRef; ref != nil {
				f(v1alpha1.ConfigKindSecret, &ref.Name)
			}
		}
		for i := range c.Env {
			from := c.Env[i].ValueFrom
			if from == nil {
				continue
			}
			if ref := from.ConfigMapKeyRef; ref != nil {
				f(v1alpha1.ConfigKindConfigMap, &ref.Name)
			}
			if ref := from.SecretKeyRef; ref != nil {
				f(v1alpha1.ConfigKindSecret, &ref.Name)
			}
		}
	})
	for i := range spec.Volumes {
		source := &spec.Volumes[i].VolumeSource
		if source.ConfigMap != nil {
			f(v1alpha1.ConfigKindConfigMap, &source.ConfigMap.Name)
		}
		if source.Secret != nil {
			f(v1alpha1.ConfigKindSecret, &source.Secret.SecretName)
		}
		if source.Projected == nil {
			continue
		}
		for j := range source.Projected.Sources {
			projection := &source.Projected.Sources[j]
			if projection.ConfigMap != nil {
				f(v1alpha1.ConfigKindConfigMap, &projection.ConfigMap.Name)
			}
			if projection.Secret != nil {
				f(v1alpha1.ConfigKindSecret, &projection.Secret.Name)
			}
		}
	}
}

// Names lists the names of the objects of kind that spec references, sorted, each once.
func Names(spec *corev1.PodSpec, kind v1alpha1.ConfigKind) []string {
	seen := map[string]bool{}
	visit(spec, func(k v1alpha1.ConfigKind, name *string) {
		if k == kind {
			seen[*name] = true
		}
	})
	return slices.Sorted(maps.Keys(seen))
}

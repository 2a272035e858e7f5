package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/releasecontent"
)

// ResolveConfig names the copies of request's spec.config, in spec order:
// those recorded in status.config when it records them all, otherwise a
// ConfigMap's from its data and a Secret's from the content of its
// fromSecret, which is read with live (a direct get: golive never lists or
// watches Secrets). problems name, with the field, each Secret source that
// does not exist or that golive may not read; such an entry has no copy.
func ResolveConfig(ctx context.Context, live client.Reader, request *v1alpha1.UpdateRequest) (copies []v1alpha1.ConfigCopyStatus, problems []string, err error) {
	if recorded := request.Status.Config; recordsAll(recorded, request.Spec.Config) {
		return recorded, nil, nil
	}
	for i, entry := range request.Spec.Config {
		if entry.Kind == v1alpha1.ConfigKindConfigMap {
			copies = append(copies, v1alpha1.ConfigCopyStatus{Kind: entry.Kind, Name: entry.Name,
				Copy: releasecontent.CopyName(entry.Name, releasecontent.ContentHash(entry.Data, nil)), Keys: slices.Sorted(maps.Keys(entry.Data))})
			continue
		}
		source, problem, err := readSecretSource(ctx, live, request.Namespace, entry.FromSecret, fmt.Sprintf("spec.config[%d].fromSecret", i))
		if err != nil {
			return nil, nil, err
		}
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		copies = append(copies, v1alpha1.ConfigCopyStatus{Kind: entry.Kind, Name: entry.Name,
			Copy: releasecontent.CopyName(entry.Name, releasecontent.ContentHash(nil, source.Data)), Keys: slices.Sorted(maps.Keys(source.Data))})
	}
	return copies, problems, nil
}

// recordsAll reports whether recorded holds a copy of every entry, and no other.
func recordsAll(recorded []v1alpha1.ConfigCopyStatus, entries []v1alpha1.ConfigEntry) bool {
	if len(recorded) != len(entries) {
		return false
	}
	for i, entry := range entries {
		if recorded[i].Kind != entry.Kind || recorded[i].Name != entry.Name {
			return false
		}
	}
	return true
}

// readSecretSource gets the Secret name of namespace; a problem, naming field,
// says why it cannot be copied when it does not exist or golive may not read it.
func readSecretSource(ctx context.Context, live client.Reader, namespace, name, field string) (*corev1.Secret, string, error) {
	secret := &corev1.Secret{}
	err := live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	switch {
	case err == nil:
		return secret, "", nil
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("%s: Secret %q not found in namespace %q", field, name, namespace), nil
	case apierrors.IsForbidden(err):
		return nil, fmt.Sprintf("%s: golive may not read Secret %q in namespace %q: grant its ServiceAccount get on secrets "+
			"with resourceNames [%s] and create on secrets there, as docs/release-content.md shows", field, name, namespace, name), nil
	}
	return nil, "", fmt.Errorf("getting Secret %s/%s: %w", namespace, name, err)
}

// ErrNotACopy: an object at a copy's name does not hold the content its name
// says; golive never uses or overwrites it.
var ErrNotACopy = errors.New("not a copy golive can use")

// ObserveConfigCopies tells whether every copy exists in namespace with the
// content its name says. notOurs says why an object at a copy's name cannot
// be used. A ConfigMap copy is looked up in cached first (golive's cache
// holds the ConfigMaps labelled with a request, and a copy is immutable, so
// what it holds is what is stored); one the cache lacks or finds wrong is
// read with live, which also sees a copy created a moment ago and an object
// planted at its name. Secrets are read with live only: golive never
// watches them.
func ObserveConfigCopies(ctx context.Context, cached, live client.Reader, namespace string, copies []v1alpha1.ConfigCopyStatus) (copied bool, notOurs string, err error) {
	copied = true
	for _, copy := range copies {
		fromCache := copy.Kind == v1alpha1.ConfigKindConfigMap
		reader := live
		if fromCache {
			reader = cached
		}
		object, err := getCopy(ctx, reader, namespace, copy)
		if fromCache && err != nil {
			object, err = getCopy(ctx, live, namespace, copy)
		}
		switch {
		case apierrors.IsNotFound(err):
			copied = false
		case errors.Is(err, ErrNotACopy):
			return false, err.Error(), nil
		case err != nil:
			return false, "", err
		case object == nil:
			copied = false
		}
	}
	return copied, "", nil
}

// getCopy reads the copy in namespace and checks that it is immutable and
// holds the content its name says: whoever made it, such an object is the copy.
func getCopy(ctx context.Context, live client.Reader, namespace string, copy v1alpha1.ConfigCopyStatus) (client.Object, error) {
	var (
		object    client.Object
		immutable func() *bool
		hash      func() string
	)
	switch copy.Kind {
	case v1alpha1.ConfigKindSecret:
		secret := &corev1.Secret{}
		object, immutable, hash = secret, func() *bool { return secret.Immutable },
			func() string { return releasecontent.ContentHash(nil, secret.Data) }
	default:
		configMap := &corev1.ConfigMap{}
		object, immutable, hash = configMap, func() *bool { return configMap.Immutable },
			func() string { return releasecontent.ContentHash(configMap.Data, configMap.BinaryData) }
	}
	if err := live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: copy.Copy}, object); err != nil {
		return nil, err
	}
	if !ptr.Deref(immutable(), false) || releasecontent.CopyName(copy.Name, hash()) != copy.Copy {
		return nil, fmt.Errorf("%s %q in namespace %q is not immutable or holds other content than its name says; delete it: %w",
			copy.Kind, copy.Copy, namespace, ErrNotACopy)
	}
	return object, nil
}

// EnsureConfigCopies creates, in each namespace, the copies recorded in
// request's status.config that do not exist yet: immutable, labelled with the
// request and with LabelConfigOf, and owned by nothing (production runs them
// after the request is gone; GitOps tools prune only what they applied). A
// ConfigMap takes the data of its spec.config entry; a Secret the content and
// type of its fromSecret, which must still hash to the recorded copy (what
// staging verified is what production gets). Calling it again is safe.
func EnsureConfigCopies(ctx context.Context, c client.Client, live client.Reader, request *v1alpha1.UpdateRequest, namespaces ...string) error {
	for i, copy := range request.Status.Config {
		if i >= len(request.Spec.Config) || request.Spec.Config[i].Name != copy.Name || request.Spec.Config[i].Kind != copy.Kind {
			return fmt.Errorf("status.config[%d] records %s %q, which is not spec.config[%d]", i, copy.Kind, copy.Name, i)
		}
		entry := request.Spec.Config[i]
		for _, namespace := range namespaces {
			_, err := getCopy(ctx, live, namespace, copy)
			if err == nil {
				continue
			}
			if !apierrors.IsNotFound(err) {
				return err
			}
			want, err := newCopy(ctx, live, request, entry, copy, namespace)
			if err != nil {
				return err
			}
			if err := c.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating %s %s/%s: %w", copy.Kind, namespace, copy.Copy, err)
			}
		}
	}
	return nil
}

// newCopy builds the copy of entry in namespace.
func newCopy(ctx context.Context, live client.Reader, request *v1alpha1.UpdateRequest, entry v1alpha1.ConfigEntry,
	copy v1alpha1.ConfigCopyStatus, namespace string) (client.Object, error) {
	meta := metav1.ObjectMeta{Name: copy.Copy, Namespace: namespace, Labels: map[string]string{
		v1alpha1.LabelRequest:          request.Name,
		v1alpha1.LabelRequestNamespace: request.Namespace,
		v1alpha1.LabelRequestUID:       string(request.UID),
		v1alpha1.LabelConfigOf:         ShortName(entry.Name, 63),
	}}
	if entry.Kind == v1alpha1.ConfigKindConfigMap {
		return &corev1.ConfigMap{ObjectMeta: meta, Immutable: ptr.To(true), Data: entry.Data}, nil
	}
	field := "spec.config[" + entry.Name + "].fromSecret"
	source, problem, err := readSecretSource(ctx, live, request.Namespace, entry.FromSecret, field)
	if err != nil {
		return nil, err
	}
	if problem != "" {
		return nil, errors.New(problem)
	}
	if got := releasecontent.CopyName(entry.Name, releasecontent.ContentHash(nil, source.Data)); got != copy.Copy {
		return nil, fmt.Errorf("Secret %s/%s changed since golive recorded its copy %s (staging ran that content); "+
			"restore it, or change the request to run staging again", request.Namespace, entry.FromSecret, copy.Copy)
	}
	return &corev1.Secret{ObjectMeta: meta, Immutable: ptr.To(true), Type: source.Type, Data: source.Data}, nil
}

// Renames are the copies the targets reference with the release.
func Renames(copies []v1alpha1.ConfigCopyStatus) releasecontent.Renames {
	renames := releasecontent.Renames{}
	for _, copy := range copies {
		renames[releasecontent.Ref{Kind: copy.Kind, Name: copy.Name}] = copy.Copy
	}
	return renames
}

// ConfigApplied tells whether the pod template of obj references only the
// copies of renames, where it references those objects at all.
func ConfigApplied(obj client.Object, renames releasecontent.Renames) bool {
	template := PodTemplate(obj)
	return template != nil && releasecontent.Applied(&template.Spec, renames)
}

// ApplyConfig points the target's pod template in namespace at the copies of
// renames wherever it references those objects (or an earlier copy of them),
// by a JSON merge patch guarded by the resourceVersion read (retried on a
// conflict), as field manager "golive". A template that references the copies
// already is left alone. The workload is read with live: the patch is
// computed from the whole pod template.
func ApplyConfig(ctx context.Context, c client.Client, live client.Reader, target v1alpha1.Target, namespace string, renames releasecontent.Renames) error {
	if len(renames) == 0 {
		return nil
	}
	obj, err := Get(ctx, live, target, namespace)
	if err != nil {
		return err
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	if !releasecontent.Rewrite(&PodTemplate(obj).Spec, renames) {
		return nil
	}
	if err := c.Patch(ctx, obj, patch, client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("pointing %s at the release's configuration: %w", describe(obj), err)
	}
	return nil
}

// DeleteConfigCopies deletes, at the end of the backup's retention, the
// copies of configuration that nothing references any more, in the request's
// namespace and its staging namespace: the request's own copies (status.config,
// and the ConfigMaps it made for an earlier spec) and those it replaced (the
// copies its saved specs point at, which the release before made). Only objects golive made as copies (LabelConfigOf)
// are deleted; one still referenced by a workload of its namespace, or by the
// saved specs of another request of the request's namespace, is kept.
func DeleteConfigCopies(ctx context.Context, c client.Client, live client.Reader, request *v1alpha1.UpdateRequest) error {
	copies := request.Status.Config
	if len(copies) == 0 {
		return nil
	}
	savedSpecs := map[string]string{
		request.Namespace:              SavedSpecsName(request.Name),
		request.Spec.Staging.Namespace: StagingSavedSpecsName(request.Name),
	}
	for _, namespace := range []string{request.Namespace, request.Spec.Staging.Namespace} {
		candidates := map[releasecontent.Ref]bool{}
		for _, copy := range copies {
			candidates[releasecontent.Ref{Kind: copy.Kind, Name: copy.Copy}] = true
		}
		// ConfigMaps it made for an earlier spec of the request, which status.config no longer names.
		var own corev1.ConfigMapList
		if err := c.List(ctx, &own, client.InNamespace(namespace), client.MatchingLabels{v1alpha1.LabelRequestUID: string(request.UID)},
			client.HasLabels{v1alpha1.LabelConfigOf}); err != nil {
			return fmt.Errorf("listing the configuration copies of UpdateRequest %s/%s in namespace %s: %w", request.Namespace, request.Name, namespace, err)
		}
		for _, configMap := range own.Items {
			candidates[releasecontent.Ref{Kind: v1alpha1.ConfigKindConfigMap, Name: configMap.Name}] = true
		}
		templates, err := savedTemplates(ctx, c, request.Namespace, savedSpecs[namespace])
		if err != nil {
			return err
		}
		for _, template := range templates {
			maps.Copy(candidates, copyNamesIn(&template.Spec, copies))
		}
		for _, candidate := range slices.SortedFunc(maps.Keys(candidates), func(a, b releasecontent.Ref) int {
			return strings.Compare(string(a.Kind)+a.Name, string(b.Kind)+b.Name)
		}) {
			if err := deleteUnreferencedCopy(ctx, c, live, request, namespace, candidate); err != nil {
				return err
			}
		}
	}
	return nil
}

// savedTemplates reads the pod templates of the saved specs ConfigMap name; none when it is gone.
func savedTemplates(ctx context.Context, c client.Reader, namespace, name string) ([]corev1.PodTemplateSpec, error) {
	configMap := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, configMap); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	var templates []corev1.PodTemplateSpec
	for _, key := range slices.Sorted(maps.Keys(configMap.Data)) {
		var saved SavedSpec
		if err := json.Unmarshal([]byte(configMap.Data[key]), &saved); err == nil {
			templates = append(templates, saved.PodTemplate)
		}
	}
	return templates, nil
}

// deleteUnreferencedCopy deletes the copy ref in namespace when golive made
// it as a copy and nothing references it.
func deleteUnreferencedCopy(ctx context.Context, c client.Client, live client.Reader, request *v1alpha1.UpdateRequest, namespace string, ref releasecontent.Ref) error {
	var object client.Object = &corev1.ConfigMap{}
	if ref.Kind == v1alpha1.ConfigKindSecret {
		object = &corev1.Secret{}
	}
	if err := live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, object); err != nil {
		return client.IgnoreNotFound(err)
	}
	if _, isCopy := object.GetLabels()[v1alpha1.LabelConfigOf]; !isCopy {
		return nil
	}
	referenced, err := copyReferenced(ctx, c, request, namespace, ref)
	if err != nil || referenced {
		return err
	}
	err = c.Delete(ctx, object, client.Preconditions{UID: ptr.To(object.GetUID())})
	if apierrors.IsConflict(err) {
		return nil
	}
	if err = client.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("deleting the copy %s %s/%s: %w", ref.Kind, namespace, ref.Name, err)
	}
	return nil
}

// copyReferenced tells whether a workload of namespace references ref, or the
// saved specs of another request of request's namespace do.
func copyReferenced(ctx context.Context, c client.Client, request *v1alpha1.UpdateRequest, namespace string, ref releasecontent.Ref) (bool, error) {
	lists := []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}}
	for _, list := range lists {
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return false, fmt.Errorf("listing the workloads of namespace %s: %w", namespace, err)
		}
		items, err := apimeta.ExtractList(list)
		if err != nil {
			return false, err
		}
		for _, item := range items {
			if template := PodTemplate(item.(client.Object)); template != nil && slices.Contains(releasecontent.Names(&template.Spec, ref.Kind), ref.Name) {
				return true, nil
			}
		}
	}
	var configMaps corev1.ConfigMapList
	if err := c.List(ctx, &configMaps, client.InNamespace(request.Namespace), client.HasLabels{v1alpha1.LabelRequestUID}); err != nil {
		return false, fmt.Errorf("listing golive's ConfigMaps of namespace %s: %w", request.Namespace, err)
	}
	quoted := `"` + ref.Name + `"`
	for _, configMap := range configMaps.Items {
		if configMap.Labels[v1alpha1.LabelRequestUID] == string(request.UID) || configMap.Labels[v1alpha1.LabelConfigOf] != "" {
			continue
		}
		for _, value := range configMap.Data {
			if strings.Contains(value, quoted) {
				return true, nil
			}
		}
	}
	return false, nil
}

// copyNamesIn lists the names of the copies of copies' objects that spec
// references, by kind, other than those copies themselves: the copies the
// release replaced.
func copyNamesIn(spec *corev1.PodSpec, copies []v1alpha1.ConfigCopyStatus) map[releasecontent.Ref]bool {
	replaced := map[releasecontent.Ref]bool{}
	for _, copy := range copies {
		for _, name := range releasecontent.Names(spec, copy.Kind) {
			if name != copy.Name && name != copy.Copy && releasecontent.IsCopyOf(name, copy.Name) {
				replaced[releasecontent.Ref{Kind: copy.Kind, Name: name}] = true
			}
		}
	}
	return replaced
}

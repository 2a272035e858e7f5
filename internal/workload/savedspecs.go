package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// SavedSpec is what SaveSpecs records of one target before production
// changes: what it takes to put the workload back as it was. It is stored as
// JSON under the key "<Kind>.<name>" of the saved-specs ConfigMap.
type SavedSpec struct {
	Kind v1alpha1.TargetKind `json:"kind"`
	Name string              `json:"name"`
	// ResourceVersion and Generation of the workload when it was saved, for
	// the record: they tell whether anything changed it since.
	ResourceVersion string `json:"resourceVersion"`
	Generation      int64  `json:"generation"`
	// Replicas is spec.replicas of a Deployment or StatefulSet (a DaemonSet has none).
	Replicas *int32 `json:"replicas,omitempty"`
	// PodTemplate is the whole spec.template.
	PodTemplate corev1.PodTemplateSpec `json:"podTemplate"`
}

// SaveSpecs saves the pod template and replica count of every target in
// namespace into the ConfigMap SavedSpecsName(owner.Name), and returns its name.
// It must run before production changes, and before a quiesce scales the
// targets to zero: RestoreTarget brings back exactly what was saved.
//
// The ConfigMap is immutable and saved once. When it exists already, SaveSpecs
// checks that it belongs to owner and holds every target and changes nothing:
// a retry after a crash, when production may already run the new images, must
// never replace the previous specs with the new ones.
//
// The ConfigMap is labelled with the request and controlled by it, so it is
// deleted with the request. (Keeping saved specs beyond the request, for the
// backup's retention, would drop the owner reference here.)
//
// The workloads are read with live, never from a cache that may hold them
// trimmed (as golive's does): what is saved is what is restored.
//
// golive signs the ConfigMap (AnnotationSignature, with the ledger key) over
// the request's UID, the spec hash, its name and its data, at creation. One
// at that name that golive did not sign for owner is never adopted: SaveSpecs
// returns an error wrapping ErrNotGolives and leaves it alone.
func SaveSpecs(ctx context.Context, c client.Client, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, namespace string, targets []v1alpha1.Target, scheme *runtime.Scheme) (string, error) {
	name := SavedSpecsName(owner.Name)
	key := client.ObjectKey{Namespace: namespace, Name: name}
	if err := checkExistingSavedSpecs(ctx, c, signingKey, key, owner, targets); !apierrors.IsNotFound(err) {
		if err != nil {
			return "", err
		}
		return name, nil
	}

	data, err := savedSpecsData(ctx, live, namespace, targets)
	if err != nil {
		return "", err
	}
	configMap, err := newSavedSpecs(owner, key, data, scheme)
	if err != nil {
		return "", err
	}
	configMap.Immutable = ptr.To(true)
	if err := signSavedSpecs(signingKey, configMap); err != nil {
		return "", err
	}
	err = c.Create(ctx, configMap, client.FieldOwner(FieldManager))
	if apierrors.IsAlreadyExists(err) {
		// Saved concurrently: keep what the other save stored, as after a crash.
		err = checkExistingSavedSpecs(ctx, c, signingKey, key, owner, targets)
	} else if err != nil {
		err = fmt.Errorf("creating the saved specs ConfigMap %s: %w", key, err)
	}
	if err != nil {
		return "", err
	}
	return name, nil
}

// savedSpecsData reads each target in namespace with live and encodes what
// SavedSpec records of it, by its key in a saved specs ConfigMap.
func savedSpecsData(ctx context.Context, live client.Reader, namespace string, targets []v1alpha1.Target) (map[string]string, error) {
	data := make(map[string]string, len(targets))
	for _, target := range targets {
		obj, err := Get(ctx, live, target, namespace)
		if err != nil {
			return nil, err
		}
		saved := SavedSpec{
			Kind:            target.Kind,
			Name:            target.Name,
			ResourceVersion: obj.GetResourceVersion(),
			Generation:      obj.GetGeneration(),
			PodTemplate:     *PodTemplate(obj),
		}
		if replicas := specReplicas(obj); replicas != nil {
			saved.Replicas = *replicas
		}
		encoded, err := json.Marshal(saved)
		if err != nil {
			return nil, fmt.Errorf("encoding the spec of %s: %w", describe(obj), err)
		}
		data[savedSpecKey(target)] = string(encoded)
	}
	return data, nil
}

// newSavedSpecs is a saved specs ConfigMap at key holding data, labelled with
// owner and its spec hash and controlled by owner; signSavedSpecs signs it.
func newSavedSpecs(owner *v1alpha1.UpdateRequest, key client.ObjectKey, data map[string]string, scheme *runtime.Scheme) (*corev1.ConfigMap, error) {
	configMap := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      key.Name,
			Namespace: key.Namespace,
			// The API keeps request names within a label value's 63 characters.
			Labels: map[string]string{
				v1alpha1.LabelRequest:          owner.Name,
				v1alpha1.LabelRequestNamespace: owner.Namespace,
				v1alpha1.LabelRequestUID:       string(owner.UID),
				v1alpha1.LabelSpecHash:         ledger.ShortSpecHash(ledger.SpecHash(&owner.Spec)),
			},
		},
		Data: data,
	}
	if err := controllerutil.SetControllerReference(owner, configMap, scheme); err != nil {
		return nil, fmt.Errorf("making UpdateRequest %s the owner of ConfigMap %s: %w", owner.Name, key, err)
	}
	return configMap, nil
}

// signSavedSpecs (re)writes golive's signature on configMap over its request,
// spec hash, name and data.
func signSavedSpecs(signingKey []byte, configMap *corev1.ConfigMap) error {
	signed, err := signedSavedSpecs(configMap)
	if err != nil {
		return err
	}
	metav1.SetMetaDataAnnotation(&configMap.ObjectMeta, v1alpha1.AnnotationSignature, ledger.SignObject(signingKey, signed))
	return nil
}

// ErrNotGolives: the saved specs ConfigMap at the request's name was not
// made by golive for this request (no valid signature); it is never used.
var ErrNotGolives = errors.New("not golive's")

// signedSavedSpecs is what golive's signature on a saved specs ConfigMap
// covers: the request and spec from its labels, its name and all its data.
func signedSavedSpecs(configMap *corev1.ConfigMap) (ledger.SignedObject, error) {
	digest, err := ledger.ContentDigest(configMap.Data)
	if err != nil {
		return ledger.SignedObject{}, err
	}
	return ledger.SignedObject{
		RequestUID: configMap.Labels[v1alpha1.LabelRequestUID], SpecHash: configMap.Labels[v1alpha1.LabelSpecHash],
		Kind: "ConfigMap", Namespace: configMap.Namespace, Name: configMap.Name, ContentDigest: digest,
	}, nil
}

// CheckSavedSpecsAreGolives tells whether configMap is saved specs golive
// made for owner: signed with signingKey over owner's UID, its name and its
// data. The error names the ConfigMap and says why, and wraps ErrNotGolives.
func CheckSavedSpecsAreGolives(signingKey []byte, configMap *corev1.ConfigMap, owner *v1alpha1.UpdateRequest) error {
	notOurs := func(why string) error {
		return fmt.Errorf("ConfigMap %s/%s is not golive's (%s); golive will not use it as the saved specs — delete it: %w",
			configMap.Namespace, configMap.Name, why, ErrNotGolives)
	}
	signed, err := signedSavedSpecs(configMap)
	if err != nil {
		return err
	}
	if !ledger.VerifyObject(signingKey, signed, configMap.Annotations[v1alpha1.AnnotationSignature]) {
		return notOurs("signature does not match")
	}
	if signed.RequestUID != string(owner.UID) {
		return notOurs(fmt.Sprintf("saved for another UpdateRequest (uid %s)", signed.RequestUID))
	}
	return nil
}

// checkExistingSavedSpecs reads the saved specs ConfigMap and tells why it
// cannot serve owner: it does not exist (an error for which
// apierrors.IsNotFound is true), it is not golive's for owner (ErrNotGolives),
// or it lacks targets.
func checkExistingSavedSpecs(ctx context.Context, c client.Reader, signingKey []byte, key client.ObjectKey, owner *v1alpha1.UpdateRequest, targets []v1alpha1.Target) error {
	configMap := &corev1.ConfigMap{}
	if err := c.Get(ctx, key, configMap); err != nil {
		return fmt.Errorf("getting the saved specs ConfigMap %s: %w", key, err)
	}
	return checkSavedSpecs(signingKey, configMap, owner, targets)
}

// checkSavedSpecs tells why an existing saved specs ConfigMap cannot serve owner.
func checkSavedSpecs(signingKey []byte, configMap *corev1.ConfigMap, owner *v1alpha1.UpdateRequest, targets []v1alpha1.Target) error {
	if err := CheckSavedSpecsAreGolives(signingKey, configMap, owner); err != nil {
		return err
	}
	controller := metav1.GetControllerOf(configMap)
	if controller == nil || controller.UID != owner.UID {
		return fmt.Errorf("the saved specs ConfigMap %s/%s exists but is not controlled by UpdateRequest %s (uid %s)",
			configMap.Namespace, configMap.Name, owner.Name, owner.UID)
	}
	var missing []string
	for _, target := range targets {
		if _, saved := configMap.Data[savedSpecKey(target)]; !saved {
			missing = append(missing, string(target.Kind)+" "+target.Name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("the saved specs ConfigMap %s/%s has no spec of %s", configMap.Namespace, configMap.Name, strings.Join(missing, ", "))
	}
	return nil
}

// ErrNotSaved: the saved specs hold no spec of the target.
var ErrNotSaved = errors.New("not saved")

// LoadSavedSpec reads the saved spec of target from the ConfigMap
// configMapName in namespace, once it proved golive's for owner
// (CheckSavedSpecsAreGolives): a planted template is never restored.
func LoadSavedSpec(ctx context.Context, c client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, configMapName, namespace string, target v1alpha1.Target) (SavedSpec, error) {
	configMap := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: configMapName}, configMap); err != nil {
		return SavedSpec{}, fmt.Errorf("getting the saved specs ConfigMap %s/%s: %w", namespace, configMapName, err)
	}
	if err := CheckSavedSpecsAreGolives(signingKey, configMap, owner); err != nil {
		return SavedSpec{}, err
	}
	key := savedSpecKey(target)
	encoded, found := configMap.Data[key]
	if !found {
		return SavedSpec{}, fmt.Errorf("the saved specs ConfigMap %s/%s has no spec of %s %s: %w", namespace, configMapName, target.Kind, target.Name, ErrNotSaved)
	}
	var saved SavedSpec
	if err := json.Unmarshal([]byte(encoded), &saved); err != nil {
		return SavedSpec{}, fmt.Errorf("decoding key %s of the saved specs ConfigMap %s/%s: %w", key, namespace, configMapName, err)
	}
	if saved.Kind != target.Kind || saved.Name != target.Name {
		return SavedSpec{}, fmt.Errorf("key %s of the saved specs ConfigMap %s/%s holds %s %s, not %s %s",
			key, namespace, configMapName, saved.Kind, saved.Name, target.Kind, target.Name)
	}
	return saved, nil
}

// Restored tells whether obj runs the saved pod template and replica count.
func Restored(obj client.Object, saved SavedSpec) bool {
	template := PodTemplate(obj)
	if template == nil || !equality.Semantic.DeepEqual(*template, saved.PodTemplate) {
		return false
	}
	replicas := specReplicas(obj)
	return saved.Replicas == nil || replicas == nil || ptr.Equal(*replicas, saved.Replicas)
}

// RestoreTarget puts the target's saved pod template and replica count back on
// the workload in namespace, as field manager "golive". Afterwards the pod
// template equals the saved one exactly, whoever changed what since: every
// container's image and every other field is back. A workload that already
// equals it is left alone, so RestoreTarget can be repeated.
//
// It patches with a JSON merge patch guarded by the resourceVersion it read
// (retried on a conflict) rather than a server-side apply of the saved
// template: an apply would leave fields that others added since in place, and
// make golive a co-owner of every field of the template, so that a GitOps tool
// could no longer remove any of them later. The patch makes golive the owner of
// the fields it changed back, nothing more.
//
// The workload is read with live, never from a cache that may hold it trimmed:
// the patch is computed from the whole object.
func RestoreTarget(ctx context.Context, c client.Client, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, configMapName, namespace string, target v1alpha1.Target) error {
	return RestoreTargetFrom(ctx, c, live, signingKey, owner, client.ObjectKey{Namespace: namespace, Name: configMapName}, namespace, target)
}

// RestoreTargetFrom is RestoreTarget with saved specs kept in another
// namespace than the workload's, as the staging targets' are.
func RestoreTargetFrom(ctx context.Context, c client.Client, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, savedSpecs client.ObjectKey, namespace string, target v1alpha1.Target) error {
	configMapName := savedSpecs.Name
	saved, err := LoadSavedSpec(ctx, c, signingKey, owner, configMapName, savedSpecs.Namespace, target)
	if err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := Get(ctx, live, target, namespace)
		if err != nil {
			return err
		}
		if Restored(obj, saved) {
			return nil
		}
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		*PodTemplate(obj) = *saved.PodTemplate.DeepCopy()
		if replicas := specReplicas(obj); replicas != nil && saved.Replicas != nil {
			*replicas = ptr.To(*saved.Replicas)
		}
		return c.Patch(ctx, obj, patch, client.FieldOwner(FieldManager))
	})
	if err != nil {
		return fmt.Errorf("restoring %s %s/%s from ConfigMap %s: %w", target.Kind, namespace, target.Name, configMapName, err)
	}
	return nil
}

// ObserveSavedSpecs reads the saved specs ConfigMap of request: name is its
// name when it exists and is golive's for request; notOurs says why one at
// that name is not (CheckSavedSpecsAreGolives), and it is then never used.
func ObserveSavedSpecs(ctx context.Context, reader client.Reader, signingKey []byte, request *v1alpha1.UpdateRequest) (name, notOurs string, err error) {
	name, notOurs, _, err = observeSavedSpecs(ctx, reader, signingKey, request, SavedSpecsName(request.Name))
	return name, notOurs, err
}

func observeSavedSpecs(ctx context.Context, reader client.Reader, signingKey []byte, request *v1alpha1.UpdateRequest, name string) (string, string, *corev1.ConfigMap, error) {
	configMap := &corev1.ConfigMap{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: name}, configMap); {
	case apierrors.IsNotFound(err):
		return "", "", nil, nil
	case err != nil:
		return "", "", nil, fmt.Errorf("getting the saved specs %s: %w", name, err)
	}
	switch err := CheckSavedSpecsAreGolives(signingKey, configMap, request); {
	case errors.Is(err, ErrNotGolives):
		return "", err.Error(), nil, nil
	case err != nil:
		return "", "", nil, err
	}
	return name, "", configMap, nil
}

// DeleteSavedSpecs deletes the saved specs ConfigMap of request when it is
// golive's; one that is gone already is no error, and one that is not golive's
// is left to the person who made it.
func DeleteSavedSpecs(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest) error {
	return deleteSavedSpecs(ctx, c, signingKey, request, SavedSpecsName(request.Name))
}

// DeleteStagingSavedSpecs is DeleteSavedSpecs for the staging targets' saved specs.
func DeleteStagingSavedSpecs(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest) error {
	return deleteSavedSpecs(ctx, c, signingKey, request, StagingSavedSpecsName(request.Name))
}

func deleteSavedSpecs(ctx context.Context, c client.Client, signingKey []byte, request *v1alpha1.UpdateRequest, name string) error {
	configMap := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: name}, configMap); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := CheckSavedSpecsAreGolives(signingKey, configMap, request); err != nil {
		return nil
	}
	err := c.Delete(ctx, configMap, client.Preconditions{UID: ptr.To(configMap.UID)})
	if apierrors.IsConflict(err) {
		return nil
	}
	return client.IgnoreNotFound(err)
}

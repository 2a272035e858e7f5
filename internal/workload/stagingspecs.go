package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
)

// SaveStagingSpecs saves the pod template and replica count of every target
// in the staging namespace into the ConfigMap StagingSavedSpecsName(owner.Name)
// in owner's namespace (an owner reference cannot cross namespaces), and
// returns its name. It must run before the request first changes a staging
// target: RestoreTargetFrom brings back exactly what was saved.
//
// Unlike production's saved specs, written once before the one change of
// production, the staging targets may change again after a spec change, and
// the new spec may name a target the ConfigMap lacks. So a spec once saved is
// never replaced, and the specs of the targets it lacks are added, read
// before the request changes them: the ConfigMap is not immutable, and is
// patched with an optimistic lock and signed again over all its data.
//
// As for SaveSpecs, one at that name that golive did not sign for owner is
// never adopted nor changed: SaveStagingSpecs returns an error wrapping ErrNotGolives.
func SaveStagingSpecs(ctx context.Context, c client.Client, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, targets []v1alpha1.Target, scheme *runtime.Scheme) (string, error) {
	namespace := owner.Spec.Staging.Namespace
	key := client.ObjectKey{Namespace: owner.Namespace, Name: StagingSavedSpecsName(owner.Name)}
	existing := &corev1.ConfigMap{}
	switch err := live.Get(ctx, key, existing); {
	case apierrors.IsNotFound(err):
		data, err := savedSpecsData(ctx, live, namespace, targets)
		if err != nil {
			return "", err
		}
		configMap, err := newSavedSpecs(owner, key, data, scheme)
		if err != nil {
			return "", err
		}
		if err := signSavedSpecs(signingKey, configMap); err != nil {
			return "", err
		}
		// Saved concurrently: the next call reads what the other save stored.
		if err := c.Create(ctx, configMap, client.FieldOwner(FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("creating the staging saved specs ConfigMap %s: %w", key, err)
		}
		return key.Name, nil
	case err != nil:
		return "", fmt.Errorf("getting the staging saved specs ConfigMap %s: %w", key, err)
	}
	if err := CheckSavedSpecsAreGolives(signingKey, existing, owner); err != nil {
		return "", err
	}
	missing := unsavedTargets(existing, targets)
	if len(missing) == 0 {
		return key.Name, nil
	}
	added, err := savedSpecsData(ctx, live, namespace, missing)
	if err != nil {
		return "", err
	}
	patch := client.MergeFromWithOptions(existing.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if existing.Data == nil {
		existing.Data = map[string]string{}
	}
	maps.Copy(existing.Data, added)
	metav1.SetMetaDataLabel(&existing.ObjectMeta, v1alpha1.LabelSpecHash, ledger.ShortSpecHash(ledger.SpecHash(&owner.Spec)))
	if err := signSavedSpecs(signingKey, existing); err != nil {
		return "", err
	}
	if err := c.Patch(ctx, existing, patch, client.FieldOwner(FieldManager)); err != nil {
		return "", fmt.Errorf("adding %d targets to the staging saved specs ConfigMap %s: %w", len(missing), key, err)
	}
	return key.Name, nil
}

// unsavedTargets are the targets configMap holds no spec of.
func unsavedTargets(configMap *corev1.ConfigMap, targets []v1alpha1.Target) []v1alpha1.Target {
	var missing []v1alpha1.Target
	for _, target := range targets {
		if _, saved := configMap.Data[savedSpecKey(target)]; !saved {
			missing = append(missing, target)
		}
	}
	return missing
}

// ObserveStagingSavedSpecs reads the staging saved specs ConfigMap of
// request: name is its name when it exists and is golive's for request, and
// complete tells whether it holds a spec of every target of request's spec;
// notOurs says why one at that name is not golive's, and it is then never used.
func ObserveStagingSavedSpecs(ctx context.Context, reader client.Reader, signingKey []byte, request *v1alpha1.UpdateRequest) (name, notOurs string, complete bool, err error) {
	name, notOurs, configMap, err := observeSavedSpecs(ctx, reader, signingKey, request, StagingSavedSpecsName(request.Name))
	if err != nil || configMap == nil {
		return name, notOurs, false, err
	}
	return name, "", len(unsavedTargets(configMap, request.Spec.Targets)) == 0, nil
}

// StagingRestored tells whether target in the staging namespace runs its spec
// saved in the staging saved specs of owner again. saved is false when the
// ConfigMap holds no spec of target (ErrNotSaved); an error wrapping
// ErrNotGolives says the ConfigMap is not golive's.
func StagingRestored(ctx context.Context, c, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, target v1alpha1.Target) (restored, saved bool, err error) {
	spec, err := LoadSavedSpec(ctx, c, signingKey, owner, StagingSavedSpecsName(owner.Name), owner.Namespace, target)
	switch {
	case errors.Is(err, ErrNotSaved):
		return false, false, nil
	case err != nil:
		return false, false, err
	}
	// The whole pod template, which a cache may not hold.
	obj, err := Get(ctx, live, target, owner.Spec.Staging.Namespace)
	if err != nil {
		return false, true, err
	}
	return Restored(obj, spec), true, nil
}

// RestoreStagingTarget puts target in the staging namespace back on its spec
// saved by SaveStagingSpecs; a target that runs it already is left alone.
func RestoreStagingTarget(ctx context.Context, c client.Client, live client.Reader, signingKey []byte, owner *v1alpha1.UpdateRequest, target v1alpha1.Target) error {
	key := client.ObjectKey{Namespace: owner.Namespace, Name: StagingSavedSpecsName(owner.Name)}
	return RestoreTargetFrom(ctx, c, live, signingKey, owner, key, owner.Spec.Staging.Namespace, target)
}

package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// WindowNameIndex is the cache index of UpdateRequests by spec.window.name, so
// a window lists only the requests that name it.
const WindowNameIndex = "spec.window.name"

// TargetIndex is the cache index of UpdateRequests by the workloads they name,
// as "<namespace>/<kind>/<name>" in production and in staging, so a workload's
// change wakes exactly the requests that update it.
const TargetIndex = "spec.targets"

// SetupIndexes registers the cache indexes the controllers share; call it once
// per manager, before the controllers' SetupWithManager.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &golivev1alpha1.UpdateRequest{}, WindowNameIndex, indexRequestByWindow); err != nil {
		return fmt.Errorf("indexing UpdateRequests by %s: %w", WindowNameIndex, err)
	}
	if err := indexer.IndexField(ctx, &golivev1alpha1.UpdateRequest{}, TargetIndex, indexRequestByTargets); err != nil {
		return fmt.Errorf("indexing UpdateRequests by %s: %w", TargetIndex, err)
	}
	return nil
}

// indexRequestByWindow is the WindowNameIndex extractor.
func indexRequestByWindow(object client.Object) []string {
	request, ok := object.(*golivev1alpha1.UpdateRequest)
	if !ok || request.Spec.Window.Name == "" {
		return nil
	}
	return []string{request.Spec.Window.Name}
}

// indexRequestByTargets is the TargetIndex extractor.
func indexRequestByTargets(object client.Object) []string {
	request, ok := object.(*golivev1alpha1.UpdateRequest)
	if !ok {
		return nil
	}
	keys := make([]string, 0, 2*len(request.Spec.Targets))
	for _, target := range request.Spec.Targets {
		keys = append(keys,
			targetKey(request.Namespace, string(target.Kind), target.Name),
			targetKey(request.Spec.Staging.Namespace, string(target.Kind), target.Name))
	}
	return keys
}

func targetKey(namespace, kind, name string) string {
	return namespace + "/" + kind + "/" + name
}

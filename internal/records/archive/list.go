// Package archive reads the ReleaseRecords of an archive namespace, for the
// plugin and the console alike, with the reader's own rights.
package archive

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/records"
)

// List reads the records of archive, of source's requests (all when empty),
// in chain order per source namespace.
func List(ctx context.Context, c client.Reader, archive, source string) ([]records.Archived, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecordList"))
	options := []client.ListOption{client.InNamespace(archive)}
	if source != "" {
		options = append(options, client.MatchingLabels{golivev1alpha1.LabelSourceNamespace: source})
	}
	if err := c.List(ctx, list, options...); err != nil {
		return nil, err
	}
	var out []records.Archived
	for i := range list.Items {
		a, err := records.ReadArchived(&list.Items[i])
		if err != nil {
			return nil, err
		}
		// The label is not signed; the record's own content is.
		if source != "" && a.Record.Spec.Request.Namespace != source {
			continue
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, records.ChainOrder)
	return out, nil
}

package controller

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/metrics"
	"github.com/golive-dev/golive/internal/records"
	"github.com/golive-dev/golive/internal/records/recordkey"
)

// ChainConfigMap is the ConfigMap, in the archive namespace, that keeps the
// last record of each source namespace's chain, so that the next record links
// to it even when someone deleted it.
const ChainConfigMap = "golive-record-chain"

// journalKey is the data key of a request's timeline journal.
const journalKey = "timeline"

// ErrArchiveNamespaceMissing: the archive namespace does not exist, so no record can be written.
var ErrArchiveNamespaceMissing = errors.New("the archive namespace does not exist")

// RecordWriter writes the ReleaseRecord of a request once, signed and chained
// after the last record of its namespace. Its writes are serialised, so that
// two records never claim the same place in a chain.
type RecordWriter struct {
	// Client creates records and the chain's ConfigMap.
	Client client.Client
	// Reader reads records and ConfigMaps from the API server, never a cache:
	// a lagging cache would fork the chain or write a record twice.
	Reader client.Reader
	// Key signs the records.
	Key ed25519.PrivateKey
	// Namespace is the archive namespace.
	Namespace string
	// Version is golive's version, written into each record.
	Version string
	Clock   clock.PassiveClock
	// Metrics counts records written and failures; nil counts none.
	Metrics *metrics.Records

	mu sync.Mutex
	// published: the key's public half is in ConfigMap golive-record-key.
	published bool
}

// PublishKey publishes the public half of the signing key in the archive
// namespace (recordkey.Publish); Write does before it writes the first record.
func (w *RecordWriter) PublishKey(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.publishKey(ctx)
}

func (w *RecordWriter) publishKey(ctx context.Context) error {
	if w.published {
		return nil
	}
	if err := recordkey.Publish(ctx, w.Reader, w.Client, w.Namespace, w.Key); err != nil {
		return err
	}
	w.published = true
	return nil
}

// chainHead is the last record of a chain.
type chainHead struct {
	Sequence int64  `json:"sequence"`
	Digest   string `json:"digest"`
	Record   string `json:"record"`
}

// Write writes request's record unless it exists and returns its name. A
// record written before a crash is found by its name and not written again.
func (w *RecordWriter) Write(ctx context.Context, request *golivev1alpha1.UpdateRequest) (string, error) {
	name := records.Name(request.Namespace, request.Name, string(request.UID))
	err := w.write(ctx, request, name)
	if err != nil {
		reason := golivev1alpha1.ReasonRecordFailed
		if errors.Is(err, ErrArchiveNamespaceMissing) {
			reason = golivev1alpha1.ReasonArchiveNamespaceMissing
		}
		w.Metrics.Failed(reason)
	}
	return name, err
}

func (w *RecordWriter) write(ctx context.Context, request *golivev1alpha1.UpdateRequest, name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var existing golivev1alpha1.ReleaseRecord
	err := w.Reader.Get(ctx, client.ObjectKey{Namespace: w.Namespace, Name: name}, &existing)
	if err == nil {
		w.Metrics.Written(false)
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading ReleaseRecord %s: %w", name, err)
	}
	if err := w.archiveExists(ctx); err != nil {
		return err
	}
	// An auditor must find the key that verifies the record.
	if err := w.publishKey(ctx); err != nil {
		return err
	}
	head, err := w.head(ctx, request.Namespace)
	if err != nil {
		return err
	}
	journal, err := readJournal(ctx, w.Reader, request)
	if err != nil {
		return err
	}
	spec, err := records.Build(request, records.FullTimeline(journal, request.Status.Timeline), w.Version, w.Clock.Now())
	if err != nil {
		return err
	}
	records.Chain(&spec, head.Sequence+1, head.Digest)
	digest, err := records.Sign(w.Key, &spec)
	if err != nil {
		return err
	}
	record := &golivev1alpha1.ReleaseRecord{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: w.Namespace,
			Labels: map[string]string{
				golivev1alpha1.LabelSourceNamespace: request.Namespace,
				golivev1alpha1.LabelRequest:         request.Name,
			},
		},
		Spec: spec,
	}
	if err := w.Client.Create(ctx, record); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return fmt.Errorf("creating ReleaseRecord %s: %w", name, err)
	}
	log.FromContext(ctx).Info("Wrote the request's record", "releaseRecord", name, "archive", w.Namespace, "sequence", spec.Chain.Sequence)
	w.Metrics.Written(true)
	// The record is written: a stale chain ConfigMap is repaired by the next
	// write, which also reads the records themselves.
	if err := w.setHead(ctx, request.Namespace, chainHead{Sequence: spec.Chain.Sequence, Digest: digest, Record: name}); err != nil {
		log.FromContext(ctx).Error(err, "Failed to record the head of the chain", "namespace", request.Namespace)
	}
	return nil
}

// archiveExists fails with ErrArchiveNamespaceMissing when the archive namespace does not exist.
func (w *RecordWriter) archiveExists(ctx context.Context) error {
	var namespace metav1.PartialObjectMetadata
	namespace.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := w.Reader.Get(ctx, client.ObjectKey{Name: w.Namespace}, &namespace)
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %s", ErrArchiveNamespaceMissing, w.Namespace)
	}
	if err != nil {
		return fmt.Errorf("reading the archive namespace %s: %w", w.Namespace, err)
	}
	return nil
}

// head is the last record of the chain of namespace: the later of the one
// the chain ConfigMap names (it stays when that record is deleted, so the
// next record shows the gap) and the last one stored (written before a crash
// kept the ConfigMap from being updated).
func (w *RecordWriter) head(ctx context.Context, namespace string) (chainHead, error) {
	var head chainHead
	var chain corev1.ConfigMap
	err := w.Reader.Get(ctx, client.ObjectKey{Namespace: w.Namespace, Name: ChainConfigMap}, &chain)
	switch {
	case err == nil:
		if value, ok := chain.Data[namespace]; ok {
			if err := json.Unmarshal([]byte(value), &head); err != nil {
				return chainHead{}, fmt.Errorf("reading the head of %s in ConfigMap %s: %w", namespace, ChainConfigMap, err)
			}
		}
	case !apierrors.IsNotFound(err):
		return chainHead{}, fmt.Errorf("reading ConfigMap %s: %w", ChainConfigMap, err)
	}
	var list golivev1alpha1.ReleaseRecordList
	if err := w.Reader.List(ctx, &list, client.InNamespace(w.Namespace), client.MatchingLabels{golivev1alpha1.LabelSourceNamespace: namespace}); err != nil {
		return chainHead{}, fmt.Errorf("listing the records of %s: %w", namespace, err)
	}
	for i := range list.Items {
		record := &list.Items[i]
		if record.Spec.Request.Namespace != namespace || record.Spec.Chain.Sequence <= head.Sequence {
			continue
		}
		digest, err := records.Digest(&record.Spec)
		if err != nil {
			return chainHead{}, err
		}
		head = chainHead{Sequence: record.Spec.Chain.Sequence, Digest: digest, Record: record.Name}
	}
	return head, nil
}

// setHead records head as the last record of namespace's chain.
func (w *RecordWriter) setHead(ctx context.Context, namespace string, head chainHead) error {
	value, err := json.Marshal(head)
	if err != nil {
		return err
	}
	var chain corev1.ConfigMap
	err = w.Reader.Get(ctx, client.ObjectKey{Namespace: w.Namespace, Name: ChainConfigMap}, &chain)
	if apierrors.IsNotFound(err) {
		return w.Client.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ChainConfigMap, Namespace: w.Namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "golive", "app.kubernetes.io/component": "record-chain"}},
			Data: map[string]string{namespace: string(value)},
		})
	}
	if err != nil {
		return err
	}
	base := chain.DeepCopy()
	if chain.Data == nil {
		chain.Data = map[string]string{}
	}
	chain.Data[namespace] = string(value)
	return w.Client.Patch(ctx, &chain, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// journalName is the name of request's timeline journal, a ConfigMap in its namespace.
func journalName(request *golivev1alpha1.UpdateRequest) string {
	return request.Name + ".timeline"
}

// readJournal reads the timeline entries that dropped out of request's status; none without a journal.
func readJournal(ctx context.Context, reader client.Reader, request *golivev1alpha1.UpdateRequest) ([]golivev1alpha1.TimelineEntry, error) {
	var journal corev1.ConfigMap
	err := reader.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: journalName(request)}, &journal)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the timeline journal: %w", err)
	}
	if journal.Labels[golivev1alpha1.LabelRequestUID] != string(request.UID) {
		// Left by an earlier request of the same name, until the garbage collector removes it.
		return nil, fmt.Errorf("the timeline journal %s belongs to an earlier request of the same name; waiting for it to go", journal.Name)
	}
	var entries []golivev1alpha1.TimelineEntry
	if err := json.Unmarshal([]byte(journal.Data[journalKey]), &entries); err != nil {
		return nil, fmt.Errorf("reading the timeline journal %s: %w", journal.Name, err)
	}
	return entries, nil
}

// keepDroppedTimeline appends to request's timeline journal the entries of its
// stored timeline that the status about to be stored drops: the record holds
// the whole timeline, and the status only its last entries.
func keepDroppedTimeline(ctx context.Context, c client.Client, reader client.Reader, request *golivev1alpha1.UpdateRequest, before, after []golivev1alpha1.TimelineEntry) error {
	dropped := records.Dropped(before, after)
	if len(dropped) == 0 {
		return nil
	}
	journal, err := readJournal(ctx, reader, request)
	if err != nil {
		return err
	}
	full := records.FullTimeline(journal, dropped)
	if journal != nil && len(full) == len(journal) {
		// Decided on a stale copy: what it drops is kept already.
		return nil
	}
	value, err := json.Marshal(full)
	if err != nil {
		return err
	}
	key := types.NamespacedName{Namespace: request.Namespace, Name: journalName(request)}
	var existing corev1.ConfigMap
	err = reader.Get(ctx, key, &existing)
	if apierrors.IsNotFound(err) {
		created := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{
				Name: key.Name, Namespace: key.Namespace,
				Labels: map[string]string{
					golivev1alpha1.LabelRequest:    request.Name,
					golivev1alpha1.LabelRequestUID: string(request.UID),
				},
				// Goes with the request, once its record holds the whole timeline.
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: golivev1alpha1.GroupVersion.String(), Kind: "UpdateRequest",
					Name: request.Name, UID: request.UID, BlockOwnerDeletion: ptr.To(false),
				}},
			},
			Data: map[string]string{journalKey: string(value)},
		}
		if err := c.Create(ctx, created); err != nil {
			return fmt.Errorf("creating the timeline journal %s: %w", key.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the timeline journal %s: %w", key.Name, err)
	}
	base := existing.DeepCopy()
	existing.Data = map[string]string{journalKey: string(value)}
	if err := c.Patch(ctx, &existing, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("appending to the timeline journal %s: %w", key.Name, err)
	}
	return nil
}

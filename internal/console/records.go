package console

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/configdiff"
	"github.com/golive-dev/golive/internal/records"
	recordarchive "github.com/golive-dev/golive/internal/records/archive"
	"github.com/golive-dev/golive/internal/report"
)

// recordKeyConfigMap publishes the public keys that verify golive's records.
const recordKeyConfigMap = "golive-record-key"

// serveRequestReport downloads a request's report as Markdown, read with the
// person's own rights. A request that ended and has its ReleaseRecord gets
// the record's report, as `kubectl golive report --record` writes it.
func (s *Server) serveRequestReport(w http.ResponseWriter, r *http.Request) {
	_, ctx, key, ok := s.personAndName(w, r, "notFound")
	if !ok {
		return
	}
	now := s.clock.Now()
	var out bytes.Buffer
	request := &golivev1alpha1.UpdateRequest{}
	if err := s.client.Get(ctx, key, request); err != nil {
		// A deleted request keeps its record.
		if record := s.lastRecordOf(ctx, key); apierrors.IsNotFound(err) && record != nil {
			if err := report.WriteRecord(&out, record, now); err != nil {
				s.apiError(w, r, err)
				return
			}
			s.sendMarkdown(w, key.Namespace+"-"+key.Name+".md", out.Bytes())
			return
		}
		s.readError(w, r, err, "notFound")
		return
	}
	if request.Status.Phase.IsTerminal() {
		record := &golivev1alpha1.ReleaseRecord{}
		name := records.Name(request.Namespace, request.Name, string(request.UID))
		err := s.client.Get(ctx, client.ObjectKey{Namespace: s.opts.ArchiveNamespace, Name: name}, record)
		switch {
		case err == nil:
			if err := report.WriteRecord(&out, record, now); err != nil {
				s.apiError(w, r, err)
				return
			}
			s.sendMarkdown(w, key.Namespace+"-"+key.Name+".md", out.Bytes())
			return
		case !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
			s.apiError(w, r, err)
			return
		}
		// Not written yet, or not the person's to read: the request's own report.
	}
	var current []configdiff.Production
	if len(request.Spec.Config) > 0 && !request.Status.Phase.IsTerminal() {
		current = configdiff.ReadProduction(ctx, s.client, request)
	}
	if err := report.Write(&out, request, now, current); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.sendMarkdown(w, key.Namespace+"-"+key.Name+".md", out.Bytes())
}

// lastRecordOf is the latest record of the requests named key (a name may
// be used again after a deletion), nil when the person may read none.
func (s *Server) lastRecordOf(ctx context.Context, key client.ObjectKey) *golivev1alpha1.ReleaseRecord {
	archived, err := s.listRecords(ctx, key.Namespace)
	if err != nil {
		return nil
	}
	var last *golivev1alpha1.ReleaseRecord
	for _, a := range archived {
		if a.Record.Spec.Request.Name == key.Name && (last == nil || !a.Record.Spec.RecordedAt.Before(&last.Spec.RecordedAt)) {
			last = a.Record
		}
	}
	return last
}

// serveRecordReport downloads the report of a ReleaseRecord.
func (s *Server) serveRecordReport(w http.ResponseWriter, r *http.Request) {
	_, ctx, key, ok := s.personAndName(w, r, "recordNotFound")
	if !ok {
		return
	}
	record := &golivev1alpha1.ReleaseRecord{}
	if err := s.client.Get(ctx, key, record); err != nil {
		s.readError(w, r, err, "recordNotFound")
		return
	}
	var out bytes.Buffer
	if err := report.WriteRecord(&out, record, s.clock.Now()); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.sendMarkdown(w, key.Name+".md", out.Bytes())
}

// personAndName opens a handler of one named object: the person, as person
// does, and the object's key from the path; a key that cannot name one is
// answered 404 with the message notFound names.
func (s *Server) personAndName(w http.ResponseWriter, r *http.Request, notFound string) (*session, context.Context, client.ObjectKey, bool) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return nil, nil, client.ObjectKey{}, false
	}
	key, valid := requestKey(r)
	if !valid {
		s.renderError(w, r, http.StatusNotFound, translate(languageOf(r), notFound))
		return nil, nil, client.ObjectKey{}, false
	}
	return sess, ctx, key, true
}

// sendMarkdown sends a report as a download named filename (made of
// Kubernetes names only, which need no quoting, quoted all the same).
func (s *Server) sendMarkdown(w http.ResponseWriter, filename string, markdown []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(markdown)
}

// readError answers a failed read: not found says so (missing key), a
// refusal shows the API server's own words, anything else is the API's failure.
func (s *Server) readError(w http.ResponseWriter, r *http.Request, err error, missing string) {
	lang := languageOf(r)
	switch {
	case apierrors.IsNotFound(err):
		s.renderError(w, r, http.StatusNotFound, translate(lang, missing))
	case apierrors.IsForbidden(err):
		s.renderError(w, r, http.StatusForbidden, translate(lang, "apiRefused")+" "+apiMessage(err))
	default:
		s.apiError(w, r, err)
	}
}

// apiMessage is the API server's message of a refusal.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errorAs(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// recordRow is one record on the records page.
type recordRow struct {
	Name, SourceNamespace, Request, Release string
	// Outcome is the phase the request ended in, or was deleted in (Deleted).
	Outcome  golivev1alpha1.Phase
	Deleted  bool
	Sequence int64
	Ended    time.Time
	// Verified: its signature and its link to the record before it hold.
	Verified bool
	// Problems are what verification found wrong with it.
	Problems []string
}

// verification is what the page says of the records' signatures and chains.
type verification struct {
	// KeysUnreadable is why the public keys could not be read; nothing is
	// verified then.
	KeysUnreadable string
	// Summary is records.Report's one line.
	Summary string
	// ChainProblems name no single record (a record missing from a chain).
	ChainProblems []string
}

type recordsPage struct {
	Archive, Namespace string
	Records            []recordRow
	Verification       verification
	// Refused is the API server's refusal to list the archive.
	Refused string
}

// serveRecords lists the ReleaseRecords the person may read, with whether
// each verifies against golive's published keys.
func (s *Server) serveRecords(w http.ResponseWriter, r *http.Request) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return
	}
	page := &recordsPage{Archive: s.opts.ArchiveNamespace, Namespace: r.URL.Query().Get("namespace")}
	if page.Namespace != "" && len(validation.IsDNS1123Label(page.Namespace)) > 0 {
		page.Namespace = ""
	}
	archived, err := s.listRecords(ctx, page.Namespace)
	switch {
	case apierrors.IsForbidden(err):
		page.Refused = apiMessage(err)
		s.render(w, r, http.StatusForbidden, "records", pageData{User: sess.User, CSRF: sess.CSRF, Page: page})
		return
	case err != nil:
		s.apiError(w, r, err)
		return
	}
	page.Records, page.Verification = s.verifyRecords(ctx, archived)
	// Newest first: people look for a recent release.
	slices.SortStableFunc(page.Records, func(a, b recordRow) int { return b.Ended.Compare(a.Ended) })
	s.render(w, r, http.StatusOK, "records", pageData{User: sess.User, CSRF: sess.CSRF, Page: page})
}

type recordPage struct {
	Archive      string
	Row          recordRow
	Record       *golivev1alpha1.ReleaseRecord
	Verification verification
	// RequestLink is the recorded request's page while the request exists.
	RequestLink string
	// Given are the approvals and go commands the recorded status holds;
	// StatusUnreadable says why they cannot be shown.
	Given            approvalsGiven
	StatusUnreadable string
}

// serveRecord shows one record with whether it verifies, checked within
// its source namespace's chain.
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request) {
	sess, ctx, key, ok := s.personAndName(w, r, "recordNotFound")
	if !ok {
		return
	}
	object := &unstructured.Unstructured{}
	object.SetGroupVersionKind(golivev1alpha1.GroupVersion.WithKind("ReleaseRecord"))
	if err := s.client.Get(ctx, key, object); err != nil {
		s.readError(w, r, err, "recordNotFound")
		return
	}
	this, err := records.ReadArchived(object)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	// The chain of its source namespace, as the person may list it.
	chain := []records.Archived{this}
	if listed, err := recordarchive.List(ctx, s.client, key.Namespace, this.Record.Spec.Request.Namespace); err == nil {
		chain = listed
	}
	rows, verified := s.verifyRecords(ctx, chain)
	page := &recordPage{Archive: key.Namespace, Record: this.Record, Verification: verified}
	for _, row := range rows {
		if row.Name == this.Record.Name {
			page.Row = row
		}
	}
	if page.Row.Name == "" { // not in the list the person could read
		page.Row = rowOf(this)
	}
	if recorded, err := report.RequestOfRecord(this.Record); err != nil {
		page.StatusUnreadable = err.Error()
	} else {
		page.Given = approvalsGivenIn(&recorded.Status)
	}
	source := client.ObjectKey{Namespace: this.Record.Spec.Request.Namespace, Name: this.Record.Spec.Request.Name}
	if request := (&golivev1alpha1.UpdateRequest{}); s.client.Get(ctx, source, request) == nil &&
		string(request.UID) == this.Record.Spec.Request.UID {
		page.RequestLink = "/requests/" + source.Namespace + "/" + source.Name
	}
	s.render(w, r, http.StatusOK, "record", pageData{User: sess.User, CSRF: sess.CSRF, Page: page})
}

// listRecords reads the records of the archive namespace, of source's
// requests (all when empty), in chain order per source namespace.
func (s *Server) listRecords(ctx context.Context, source string) ([]records.Archived, error) {
	return recordarchive.List(ctx, s.client, s.opts.ArchiveNamespace, source)
}

// verifyRecords checks the records (whole chains, in chain order) with the
// public keys golive publishes in the archive, as verify-records does, and
// says of each record whether it verifies.
func (s *Server) verifyRecords(ctx context.Context, archived []records.Archived) ([]recordRow, verification) {
	rows := make([]recordRow, len(archived))
	for i, a := range archived {
		rows[i] = rowOf(a)
	}
	var verified verification
	keys, err := s.recordKeys(ctx, archived)
	if err != nil {
		verified.KeysUnreadable = err.Error()
		return rows, verified
	}
	stored := make([]records.Stored, len(archived))
	for i, a := range archived {
		var err error
		if stored[i], err = a.Stored(); err != nil {
			// Verify finds the record's spec missing and says so.
			stored[i] = records.Stored{Name: a.Object.GetName()}
		}
	}
	result := records.Verify(stored, keys)
	verified.Summary = result.Summary()
	problems := map[string][]string{}
	for _, problem := range result.Problems {
		if problem.Record == "" {
			verified.ChainProblems = append(verified.ChainProblems, problem.Message)
			continue
		}
		problems[problem.Record] = append(problems[problem.Record], problem.Message)
	}
	for i := range rows {
		rows[i].Problems = problems[rows[i].Name]
		rows[i].Verified = len(rows[i].Problems) == 0
	}
	return rows, verified
}

// recordKeys reads the public keys of the archives the records are in, as the person.
func (s *Server) recordKeys(ctx context.Context, archived []records.Archived) (map[string]ed25519.PublicKey, error) {
	keys := map[string]ed25519.PublicKey{}
	archives := map[string]bool{}
	for _, a := range archived {
		archives[a.Record.Namespace] = true
	}
	for _, archive := range slices.Sorted(maps.Keys(archives)) {
		var configMap corev1.ConfigMap
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: archive, Name: recordKeyConfigMap}, &configMap); err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s: %s", archive, recordKeyConfigMap, apiMessage(err))
		}
		var pems strings.Builder
		for _, name := range slices.Sorted(maps.Keys(configMap.Data)) {
			pems.WriteString(configMap.Data[name])
		}
		found, err := records.ParsePublicKeys([]byte(pems.String()))
		if err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s: %w", archive, recordKeyConfigMap, err)
		}
		maps.Copy(keys, found)
	}
	return keys, nil
}

func rowOf(a records.Archived) recordRow {
	spec := &a.Record.Spec
	return recordRow{
		Name: a.Record.Name, SourceNamespace: spec.Request.Namespace, Request: spec.Request.Name,
		Release: spec.Request.Release, Outcome: spec.Outcome.Phase, Deleted: spec.Outcome.Deleted && !spec.Outcome.Ended,
		Sequence: spec.Chain.Sequence, Ended: a.EndedAt(),
	}
}

package controller

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/records"
	"github.com/golive-dev/golive/internal/records/recordkey"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// goliveUser is the user the record writers policy lets create records:
// golive's ServiceAccount, as config/admission names it.
const goliveUser = "system:serviceaccount:golive-system:golive"

// recordKey signs the records of every test; fixed, so failures reproduce.
var recordKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// goliveClient acts as golive's ServiceAccount with every right, so that the
// record writers policy admits its records.
func goliveClient(t *testing.T) client.Client {
	t.Helper()
	c, err := env.ClientAs(goliveUser, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newRecordWriter is the writer a manager gets, writing as golive's ServiceAccount into archive.
func newRecordWriter(mgr ctrl.Manager, archive string, clk clock.PassiveClock) (*RecordWriter, error) {
	c, err := env.ClientAs(goliveUser, "system:masters")
	if err != nil {
		return nil, err
	}
	return &RecordWriter{Client: c, Reader: mgr.GetAPIReader(), Key: recordKey, Namespace: archive, Version: "test", Clock: clk}, nil
}

// startRecorder starts a manager that runs the ReleaseRecord reconciler
// alone for namespace, and returns how to stop it (also done when the test ends).
func startRecorder(t *testing.T, namespace, archive string, clk clock.PassiveClock) (stop func()) {
	t.Helper()
	mgr, err := newManager([]string{namespace})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := newRecordWriter(mgr, archive, clk)
	if err != nil {
		t.Fatal(err)
	}
	reconciler := &ReleaseRecordReconciler{Client: mgr.GetClient(), Writer: writer, Clock: clk, Recorder: mgr.GetEventRecorder("golive")}
	if err := reconciler.SetupWithManager(mgr, controller.Options{}); err != nil {
		t.Fatal(err)
	}
	stopManager, err := runManager(mgr)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := stopManager(); err != nil {
				t.Errorf("The manager stopped with an error: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// createEnded creates a request that ended in phase, as golive leaves it
// when it is killed right after recording the end.
func createEnded(t *testing.T, namespace, name string, phase golivev1alpha1.Phase, at time.Time) *golivev1alpha1.UpdateRequest {
	t.Helper()
	request := testfixtures.MakeUpdateRequest(namespace, name).Release("2.4.0").
		Annotation(golivev1alpha1.AnnotationRequestedBy, "alice").
		Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "billing-api:2.4.0"}).
		Staging(namespace+"-grey").Approval("rnd-lead", 1).Window("always").Obj()
	if err := env.Client.Create(t.Context(), request); err != nil {
		t.Fatal(err)
	}
	request.Status.Phase = phase
	request.Status.CompletedAt = &metav1.Time{Time: at}
	request.Status.Timeline = []golivev1alpha1.TimelineEntry{
		{At: metav1.NewTime(at.Add(-time.Hour)), Phase: golivev1alpha1.PhasePending, Actor: "golive", Event: golivev1alpha1.ReasonCreated, Message: "Created"},
		{At: metav1.NewTime(at), Phase: phase, Actor: "golive", Event: string(phase), Message: "Ended"},
	}
	if err := env.Client.Status().Update(t.Context(), request); err != nil {
		t.Fatal(err)
	}
	return request
}

// archiveRecords lists the records in archive, in chain order per namespace.
func archiveRecords(ctx context.Context, archive string) ([]golivev1alpha1.ReleaseRecord, error) {
	var list golivev1alpha1.ReleaseRecordList
	if err := env.Client.List(ctx, &list, client.InNamespace(archive)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// verifyArchive checks the records of archive as an auditor would: from
// their JSON as the API server returns it and the published public keys.
func verifyArchive(t *testing.T, archive string) records.Report {
	t.Helper()
	items, err := archiveRecords(t.Context(), archive)
	if err != nil {
		t.Fatal(err)
	}
	var keyMap corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: archive, Name: recordkey.PublicConfigMap}, &keyMap); err != nil {
		t.Fatalf("Reading the published public keys: %v", err)
	}
	data, err := json.Marshal(keyMap)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := records.ParsePublicKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	stored := make([]records.Stored, 0, len(items))
	for _, item := range items {
		spec, err := json.Marshal(item.Spec)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, records.Stored{Name: item.Name, Spec: spec})
	}
	// Listed by name; put them in chain order as an export does.
	sortStored(stored)
	return records.Verify(stored, keys)
}

func sortStored(stored []records.Stored) {
	sequence := func(s records.Stored) int64 {
		var spec struct {
			Chain struct{ Sequence int64 } `json:"chain"`
		}
		_ = json.Unmarshal(s.Spec, &spec)
		return spec.Chain.Sequence
	}
	slices.SortStableFunc(stored, func(a, b records.Stored) int { return int(sequence(a) - sequence(b)) })
}

// waitRecorded waits until request's Recorded condition is True and returns its record.
func waitRecorded(t *testing.T, request *golivev1alpha1.UpdateRequest, archive string) golivev1alpha1.ReleaseRecord {
	t.Helper()
	eventually(t, func(ctx context.Context) string {
		var current golivev1alpha1.UpdateRequest
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(request), &current); err != nil {
			return err.Error()
		}
		if !meta.IsStatusConditionTrue(current.Status.Conditions, golivev1alpha1.ConditionRecorded) {
			return fmt.Sprintf("conditions %+v, want Recorded True", current.Status.Conditions)
		}
		return ""
	})
	var record golivev1alpha1.ReleaseRecord
	name := records.Name(request.Namespace, request.Name, string(request.UID))
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: archive, Name: name}, &record); err != nil {
		t.Fatalf("Reading the record %s: %v", name, err)
	}
	return record
}

// TestRecordWrittenOnceAcrossRestarts: golive killed after a request ended
// (before its record) writes the record when it starts again; killed after
// writing a record (before saying so in the request) does not write it
// again; and a later restart writes nothing more. The chain stays whole.
func TestRecordWrittenOnceAcrossRestarts(t *testing.T) {
	namespace, archive := newNamespace(t), newNamespace(t)
	clk := clocktesting.NewFakeClock(journeyStart)
	first := createEnded(t, namespace, "billing-2-4-0", golivev1alpha1.PhaseSucceeded, journeyStart.Add(-2*time.Hour))
	second := createEnded(t, namespace, "billing-2-5-0", golivev1alpha1.PhaseRolledBack, journeyStart.Add(-time.Hour))
	// Killed right after writing the first record, before its Recorded condition.
	writer := &RecordWriter{Client: goliveClient(t), Reader: env.Client, Key: recordKey, Namespace: archive, Version: "test", Clock: clk}
	if _, err := writer.Write(t.Context(), first); err != nil {
		t.Fatal(err)
	}

	stop := startRecorder(t, namespace, archive, clk)
	firstRecord, secondRecord := waitRecorded(t, first, archive), waitRecorded(t, second, archive)
	if firstRecord.Spec.Chain.Sequence != 1 || secondRecord.Spec.Chain.Sequence != 2 {
		t.Errorf("sequences %d and %d, want 1 and 2", firstRecord.Spec.Chain.Sequence, secondRecord.Spec.Chain.Sequence)
	}
	if got := secondRecord.Spec.Outcome; got.Phase != golivev1alpha1.PhaseRolledBack || !got.Ended || got.Deleted {
		t.Errorf("outcome %+v, want an ended RolledBack", got)
	}
	if len(secondRecord.Spec.Timeline) != 2 || secondRecord.Spec.GoliveVersion != "test" {
		t.Errorf("timeline %+v, version %q", secondRecord.Spec.Timeline, secondRecord.Spec.GoliveVersion)
	}

	// Started again: everything is recorded, nothing is written twice.
	stop()
	startRecorder(t, namespace, archive, clk)
	third := createEnded(t, namespace, "billing-2-6-0", golivev1alpha1.PhaseAborted, journeyStart)
	if record := waitRecorded(t, third, archive); record.Spec.Chain.Sequence != 3 {
		t.Errorf("the third record is #%d of its chain, want #3", record.Spec.Chain.Sequence)
	}
	items, err := archiveRecords(t.Context(), archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Errorf("%d records in the archive, want 3", len(items))
	}
	if report := verifyArchive(t, archive); len(report.Problems) > 0 || report.Records != 3 {
		t.Errorf("verifying the archive: %s %+v", report.Summary(), report.Problems)
	}
}

// TestRecordsCannotBeChanged: nobody but golive creates a record, nobody
// changes one (cluster admins and the break-glass group included), and
// only golive-record-admin deletes one.
func TestRecordsCannotBeChanged(t *testing.T) {
	namespace, archive := newNamespace(t), newNamespace(t)
	clk := clocktesting.NewFakeClock(journeyStart)
	request := createEnded(t, namespace, "billing-2-4-0", golivev1alpha1.PhaseSucceeded, journeyStart)
	writer := &RecordWriter{Client: goliveClient(t), Reader: env.Client, Key: recordKey, Namespace: archive, Version: "test", Clock: clk}
	name, err := writer.Write(t.Context(), request)
	if err != nil {
		t.Fatal(err)
	}
	var record golivev1alpha1.ReleaseRecord
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: archive, Name: name}, &record); err != nil {
		t.Fatal(err)
	}

	// The content: refused by the CRD's rule, whoever asks.
	for _, c := range []client.Client{env.Client, goliveClient(t)} {
		altered := record.DeepCopy()
		altered.Spec.Outcome.Phase = golivev1alpha1.PhaseFailed
		if err := c.Update(t.Context(), altered); err == nil || !strings.Contains(err.Error(), "a ReleaseRecord never changes") {
			t.Errorf("altering the outcome: %v, want refused as immutable", err)
		}
	}
	// A forged record, and a label change: refused by the policy, also for
	// the break-glass administrator (it takes effect once compiled, so polled).
	forged := &golivev1alpha1.ReleaseRecord{
		ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: archive},
		Spec:       *record.Spec.DeepCopy(),
	}
	eventually(t, func(ctx context.Context) string {
		err := env.Client.Create(ctx, forged.DeepCopy(), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "ReleaseRecords are written by golive alone") {
			return fmt.Sprintf("creating a record as the administrator: %v, want refused by the record writers policy", err)
		}
		return ""
	})
	relabelled := record.DeepCopy()
	relabelled.Labels[golivev1alpha1.LabelSourceNamespace] = "elsewhere"
	if err := env.Client.Update(t.Context(), relabelled); err == nil || !strings.Contains(err.Error(), "may not change one") {
		t.Errorf("relabelling a record: %v, want refused", err)
	}

	// Deleting: only with golive-record-admin, which golive itself lacks.
	roles, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "rbac", "releaserecord_admin_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.IgnoreAlreadyExists(env.Client.Create(t.Context(), roles[0])); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "auditors", Namespace: archive},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roles[0].GetName()},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "records-admin"}},
	}
	if err := env.Client.Create(t.Context(), binding); err != nil {
		t.Fatal(err)
	}
	outsider, err := env.ClientAs("someone")
	if err != nil {
		t.Fatal(err)
	}
	if err := outsider.Delete(t.Context(), record.DeepCopy()); !apierrors.IsForbidden(err) {
		t.Errorf("deleting a record without golive-record-admin: %v, want forbidden", err)
	}
	recordsAdmin, err := env.ClientAs("records-admin")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func(ctx context.Context) string {
		if err := recordsAdmin.Delete(ctx, record.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Sprintf("deleting a record with golive-record-admin: %v", err)
		}
		return ""
	})
}

// TestRecordWaitsForTheArchiveNamespace: without the archive namespace the
// request says why it has no record; once the namespace exists, the record is written.
func TestRecordWaitsForTheArchiveNamespace(t *testing.T) {
	namespace := newNamespace(t)
	archive := namespace + "-archive"
	clk := clocktesting.NewFakeClock(journeyStart)
	request := createEnded(t, namespace, "billing-2-4-0", golivev1alpha1.PhaseFailed, journeyStart)
	startRecorder(t, namespace, archive, clk)
	eventually(t, func(ctx context.Context) string {
		var current golivev1alpha1.UpdateRequest
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(request), &current); err != nil {
			return err.Error()
		}
		recorded := meta.FindStatusCondition(current.Status.Conditions, golivev1alpha1.ConditionRecorded)
		if recorded == nil || recorded.Status != metav1.ConditionFalse || recorded.Reason != golivev1alpha1.ReasonArchiveNamespaceMissing ||
			!strings.Contains(recorded.Message, archive) {
			return fmt.Sprintf("Recorded condition %+v, want False with %s naming %s", recorded, golivev1alpha1.ReasonArchiveNamespaceMissing, archive)
		}
		return ""
	})
	if err := env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: archive}}); err != nil {
		t.Fatal(err)
	}
	record := waitRecorded(t, request, archive)
	if record.Spec.Outcome.Phase != golivev1alpha1.PhaseFailed {
		t.Errorf("outcome %+v", record.Spec.Outcome)
	}
}

// TestReleaseThenDeletedRequestsAreRecorded follows requests through golive
// as it runs: one released to production, one deleted while it waited for
// approval. Both have their record after the requests are gone; the second
// says it was deleted before it ended.
func TestReleaseThenDeletedRequestsAreRecorded(t *testing.T) {
	archive := newNamespace(t)
	j := newJourney(t, func(o *journeyOptions) { o.archive = archive })
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	released := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	record := waitRecorded(t, &released, archive)
	if got := record.Spec.Outcome; got.Phase != golivev1alpha1.PhaseSucceeded || !got.Ended || got.Deleted {
		t.Errorf("outcome %+v, want an ended Succeeded", got)
	}
	if !strings.Contains(record.Spec.Ledger, `"user":"bob"`) {
		t.Errorf("ledger %q, want bob's approval", record.Spec.Ledger)
	}
	if len(record.Spec.Timeline) != len(released.Status.Timeline) || len(record.Spec.Timeline) == 0 {
		t.Errorf("the record's timeline has %d entries, the request's %d", len(record.Spec.Timeline), len(released.Status.Timeline))
	}

	next := j.another("billing-2-5-0", func(r *golivev1alpha1.UpdateRequest) { r.Spec.Suspend = true })
	next.waitForReady(golivev1alpha1.ReasonSuspended, "Suspended before staging")
	pending := next.current()
	next.deleteRequest()
	next.waitUntilGone()
	var deleted golivev1alpha1.ReleaseRecord
	name := records.Name(pending.Namespace, pending.Name, string(pending.UID))
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: archive, Name: name}, &deleted); err != nil {
		t.Fatalf("The record of the deleted request: %v", err)
	}
	if got := deleted.Spec.Outcome; !got.Deleted || got.Ended || !strings.Contains(got.Message, "Deleted before it ended") {
		t.Errorf("outcome %+v, want deleted before it ended", got)
	}
	if deleted.Spec.Chain.Sequence != 2 {
		t.Errorf("the deleted request's record is #%d, want #2", deleted.Spec.Chain.Sequence)
	}
	if report := verifyArchive(t, archive); len(report.Problems) > 0 {
		t.Errorf("verifying the archive: %s %+v", report.Summary(), report.Problems)
	}
}

// TestRecordHoldsTheWholeTimeline: the entries the status drops past its
// limit are kept in the request's journal, and the record holds them all.
func TestRecordHoldsTheWholeTimeline(t *testing.T) {
	namespace, archive := newNamespace(t), newNamespace(t)
	clk := clocktesting.NewFakeClock(journeyStart)
	request := createEnded(t, namespace, "billing-2-4-0", golivev1alpha1.PhaseSucceeded, journeyStart)
	timeline := func(from, to int) []golivev1alpha1.TimelineEntry {
		var out []golivev1alpha1.TimelineEntry
		for i := from; i < to; i++ {
			out = append(out, golivev1alpha1.TimelineEntry{At: metav1.NewTime(journeyStart.Add(time.Duration(i) * time.Second)),
				Phase: golivev1alpha1.PhaseStaging, Actor: "golive", Event: "SpecChanged", Message: fmt.Sprintf("entry %d", i)})
		}
		return out
	}
	c := goliveClient(t)
	// Two decisions, each dropping the oldest entries of a full status timeline.
	steps := [][2][]golivev1alpha1.TimelineEntry{
		{timeline(0, 64), timeline(3, 67)},
		{timeline(3, 67), timeline(10, 74)},
	}
	for _, step := range steps {
		if err := keepDroppedTimeline(t.Context(), c, env.Client, request, step[0], step[1]); err != nil {
			t.Fatal(err)
		}
	}
	// The last status patch failed after its entries were kept: they count once.
	if err := keepDroppedTimeline(t.Context(), c, env.Client, request, timeline(3, 67), timeline(10, 74)); err != nil {
		t.Fatal(err)
	}
	request.Status.Timeline = timeline(10, 74)
	writer := &RecordWriter{Client: c, Reader: env.Client, Key: recordKey, Namespace: archive, Version: "test", Clock: clk}
	name, err := writer.Write(t.Context(), request)
	if err != nil {
		t.Fatal(err)
	}
	var record golivev1alpha1.ReleaseRecord
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: archive, Name: name}, &record); err != nil {
		t.Fatal(err)
	}
	if got := len(record.Spec.Timeline); got != 74 || record.Spec.Timeline[0].Message != "entry 0" || record.Spec.Timeline[73].Message != "entry 73" {
		t.Errorf("the record's timeline has %d entries (%+v ...), want entries 0 to 73", got, record.Spec.Timeline[:min(got, 2)])
	}
}

// TestRecordKeyRotation: the signing key is created once and kept; after
// its Secret is deleted (a rotation), a new key is made and published beside
// the old one, so that older records still verify.
func TestRecordKeyRotation(t *testing.T) {
	namespace := newNamespace(t)
	secret := client.ObjectKey{Namespace: namespace, Name: recordkey.DefaultSecret}
	first, err := recordkey.LoadOrCreate(t.Context(), env.Client, env.Client, secret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := recordkey.LoadOrCreate(t.Context(), env.Client, env.Client, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(again) {
		t.Fatal("a second start made another key")
	}
	if err := recordkey.Publish(t.Context(), env.Client, env.Client, namespace, first); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secret.Name}}); err != nil {
		t.Fatal(err)
	}
	second, err := recordkey.LoadOrCreate(t.Context(), env.Client, env.Client, secret)
	if err != nil {
		t.Fatal(err)
	}
	if first.Equal(second) {
		t.Fatal("the rotation kept the old key")
	}
	if err := recordkey.Publish(t.Context(), env.Client, env.Client, namespace, second); err != nil {
		t.Fatal(err)
	}
	var published corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: recordkey.PublicConfigMap}, &published); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(published)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := records.ParsePublicKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]ed25519.PrivateKey{"old": first, "new": second} {
		public := key.Public().(ed25519.PublicKey)
		if !public.Equal(keys[records.KeyID(public)]) {
			t.Errorf("the %s public key is not published: %v", name, published.Data)
		}
	}
}

// TestRecordKeepsTheTimelineTheStatusDrops follows a release whose timeline
// outgrows the status's 64 entries: the entries it drops go to the request's
// journal, and the record holds every entry once, oldest first.
func TestRecordKeepsTheTimelineTheStatusDrops(t *testing.T) {
	archive := newNamespace(t)
	j := newJourney(t, func(o *journeyOptions) { o.archive = archive })
	j.passStaging()
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	// A long history before: the status is full, as after many reruns.
	request := j.current()
	base := request.DeepCopy()
	var earlier []golivev1alpha1.TimelineEntry
	for i := range lifecycle.TimelineLimit - len(request.Status.Timeline) {
		earlier = append(earlier, golivev1alpha1.TimelineEntry{At: metav1.NewTime(journeyStart.Add(time.Duration(i-100) * time.Minute)),
			Phase: golivev1alpha1.PhasePending, Actor: "golive", Event: "Earlier", Message: fmt.Sprintf("earlier entry %d", i)})
	}
	request.Status.Timeline = append(earlier, request.Status.Timeline...)
	if err := env.Client.Status().Patch(t.Context(), &request, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		t.Fatal(err)
	}
	j.approve("bob", "rnd-lead")
	j.waitForImageAndRollOut(j.production, newImage)
	released := j.waitForPhase(golivev1alpha1.PhaseSucceeded)
	record := waitRecorded(t, &released, archive)

	timeline := record.Spec.Timeline
	if len(timeline) <= lifecycle.TimelineLimit {
		t.Fatalf("the record holds %d timeline entries, want more than the status's %d", len(timeline), lifecycle.TimelineLimit)
	}
	if diff := cmp.Diff(earlier, timeline[:len(earlier)], cmpopts.EquateApproxTime(time.Second)); diff != "" {
		t.Errorf("the record's timeline does not start with the earliest entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(released.Status.Timeline, timeline[len(timeline)-len(released.Status.Timeline):], cmpopts.EquateApproxTime(time.Second)); diff != "" {
		t.Errorf("the record's timeline does not end with the status's (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, entry := range timeline {
		key := entry.At.UTC().String() + entry.Event + entry.Message
		if seen[key] {
			t.Errorf("the record's timeline holds %+v twice", entry)
		}
		seen[key] = true
	}
}

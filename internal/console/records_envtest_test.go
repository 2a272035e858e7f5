package console

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/records"
	"github.com/golive-dev/golive/internal/testenv"
	"github.com/golive-dev/golive/internal/testfixtures"
)

// testArchive is the archive namespace of the records tests.
const testArchive = "console-archive"

// recordSigningKey signs the records of the console's tests.
var recordSigningKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// writeRecords writes a chain of records of requests into testArchive as
// golive does (as its ServiceAccount, which alone the record writers policy
// admits) and publishes the public key. alter changes a record after it was
// signed, as a rogue edit before it was stored would.
func writeRecords(t *testing.T, env *testenv.Env, alter map[string]func(*golivev1alpha1.ReleaseRecordSpec), requests ...*golivev1alpha1.UpdateRequest) []string {
	t.Helper()
	golive, err := env.ClientAs("system:serviceaccount:golive-system:golive", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	previous := ""
	for i, request := range requests {
		spec, err := records.Build(request, request.Status.Timeline, "v0.9.0", request.Status.CompletedAt.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		records.Chain(&spec, int64(i+1), previous)
		if previous, err = records.Sign(recordSigningKey, &spec); err != nil {
			t.Fatal(err)
		}
		if change, ok := alter[request.Name]; ok {
			change(&spec)
		}
		record := &golivev1alpha1.ReleaseRecord{
			ObjectMeta: metav1.ObjectMeta{
				Name: records.Name(request.Namespace, request.Name, string(request.UID)), Namespace: testArchive,
				Labels: map[string]string{golivev1alpha1.LabelSourceNamespace: request.Namespace},
			},
			Spec: spec,
		}
		if err := golive.Create(t.Context(), record); err != nil {
			t.Fatalf("Writing the record of %s: %v", request.Name, err)
		}
		names = append(names, record.Name)
	}
	public := recordSigningKey.Public().(ed25519.PublicKey)
	pem, err := records.PublicKeyPEM(public)
	if err != nil {
		t.Fatal(err)
	}
	if err := golive.Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: recordKeyConfigMap, Namespace: testArchive},
		Data:       map[string]string{records.KeyFile(public): string(pem)},
	}); err != nil {
		t.Fatal(err)
	}
	return names
}

// endRequest records in request's status that it succeeded at ended.
func endRequest(t *testing.T, env *testenv.Env, request *golivev1alpha1.UpdateRequest, ended time.Time) {
	t.Helper()
	request.Status.Phase = golivev1alpha1.PhaseSucceeded
	request.Status.RequestedBy = "alice"
	request.Status.CompletedAt = &metav1.Time{Time: ended}
	request.Status.Approvals = []golivev1alpha1.ApprovalRecord{
		{Role: "rnd-lead", User: "bob", At: metav1.Time{Time: ended.Add(-40 * time.Minute)}, Comment: "Staging checks reviewed"},
	}
	request.Status.Supervision = &golivev1alpha1.SupervisionStatus{Roles: []string{"operations-supervisor"},
		Given: []golivev1alpha1.ApprovalRecord{{Role: "operations-supervisor", User: "sam", At: metav1.Time{Time: ended.Add(-30 * time.Minute)}, Comment: "On call and watching"}}}
	request.Status.Timeline = []golivev1alpha1.TimelineEntry{
		{At: metav1.Time{Time: ended.Add(-time.Hour)}, Phase: golivev1alpha1.PhasePending, Actor: "golive", Event: "Created", Message: "Created"},
		{At: metav1.Time{Time: ended}, Phase: golivev1alpha1.PhaseSucceeded, Actor: "golive", Event: "Succeeded", Message: "Release in production"},
	}
	if err := env.Client.Status().Update(t.Context(), request); err != nil {
		t.Fatalf("Ending the request: %v", err)
	}
}

// setUpArchive creates testArchive, where readers may read the records and
// the public keys that verify them.
func (c *consoleCluster) setUpArchive(t *testing.T, readers ...string) {
	t.Helper()
	ctx := t.Context()
	if err := c.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testArchive}}); err != nil {
		t.Fatal(err)
	}
	reader := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "console-test-record-reader"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"golive.dev"}, Resources: []string{"releaserecords"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{recordKeyConfigMap}, Verbs: []string{"get"}},
		},
	}
	if err := c.env.Client.Create(ctx, reader); err != nil {
		t.Fatal(err)
	}
	c.env.BindClusterRole(t, testArchive, reader.Name, readers...)
}

// endedRequests creates alice's requests names, which succeeded a day apart
// (under createAlicesRequest's window).
func (c *consoleCluster) endedRequests(t *testing.T, names ...string) []*golivev1alpha1.UpdateRequest {
	t.Helper()
	asAlice, err := c.env.ClientAs("alice")
	if err != nil {
		t.Fatal(err)
	}
	var ended []*golivev1alpha1.UpdateRequest
	for i, name := range names {
		request := testfixtures.MakeUpdateRequest(c.namespace, name).Release(strings.TrimPrefix(name, "billing-")).
			Target(golivev1alpha1.TargetDeployment, "billing-api", map[string]string{"api": "registry.example.com/billing-api:2"}).
			Staging(c.namespace+"-grey").Approval("rnd-lead", 1).Window("evening").Obj()
		if err := asAlice.Create(t.Context(), request); err != nil {
			t.Fatal(err)
		}
		endRequest(t, c.env, request, time.Date(2026, 11, 10+i, 20, 0, 0, 0, time.UTC))
		ended = append(ended, request)
	}
	return ended
}

// TestReportsAndRecordsAreReadAsThePerson downloads reports and lists the
// records with bob's own rights, and shows alice the API server's refusal
// where hers do not reach.
func TestReportsAndRecordsAreReadAsThePerson(t *testing.T) {
	const alice, bob = "alice", "bob"
	c := startConsoleClusterWith(t, func(o *Options) { o.ArchiveNamespace = testArchive }, alice, bob)
	ctx := t.Context()
	c.setUpArchive(t, bob)
	open := c.createAlicesRequest(t, ctx)
	ended := c.endedRequests(t, "billing-2-2-0", "billing-2-3-0")
	// The second record was altered after golive signed it.
	names := writeRecords(t, c.env, map[string]func(*golivev1alpha1.ReleaseRecordSpec){
		"billing-2-3-0": func(spec *golivev1alpha1.ReleaseRecordSpec) { spec.RequestedBy = "mallory" },
	}, ended...)

	b := newBrowser(t, c.issuer.CertPool())
	c.waitForIssuerTrust(t, b, bob)

	// The report of a request that runs: the request's own, as a download.
	download := b.get(c.consoleURL + "/requests/" + c.namespace + "/" + open.Name + "/report.md")
	if download.Status != http.StatusOK {
		t.Fatalf("bob downloading the report: %d\n%s", download.Status, download.Body)
	}
	if want := "# UpdateRequest " + c.namespace + "/" + open.Name + ": release 2.4.0\n"; !strings.HasPrefix(download.Body, want) ||
		!strings.Contains(download.Body, "The request has not ended") {
		t.Errorf("The report does not start with %q:\n%s", want, download.Body)
	}
	headers := download.Header
	if got := headers.Get("Content-Type"); got != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/markdown; charset=utf-8", got)
	}
	if got, want := headers.Get("Content-Disposition"), `attachment; filename=`+c.namespace+"-"+open.Name+".md"; got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}

	// The report of an ended request is its record's.
	recorded := b.get(c.consoleURL + "/requests/" + c.namespace + "/billing-2-2-0/report.md")
	if recorded.Status != http.StatusOK || !strings.Contains(recorded.Body, "## Record\n") ||
		!strings.Contains(recorded.Body, "- **ReleaseRecord:** "+testArchive+"/"+names[0]+"\n") {
		t.Errorf("The report of an ended request is not its record's (%d):\n%s", recorded.Status, recorded.Body)
	}

	// A deleted request keeps its record, and so its report.
	if err := c.env.Client.Delete(ctx, ended[1]); err != nil {
		t.Fatal(err)
	}
	deleted := b.get(c.consoleURL + "/requests/" + c.namespace + "/billing-2-3-0/report.md")
	if deleted.Status != http.StatusOK || !strings.Contains(deleted.Body, "- **ReleaseRecord:** "+testArchive+"/"+names[1]+"\n") {
		t.Errorf("The report of a deleted request is not its record's (%d):\n%s", deleted.Status, deleted.Body)
	}
	if missing := b.get(c.consoleURL + "/requests/" + c.namespace + "/billing-9-9-9/report.md"); missing.Status != http.StatusNotFound {
		t.Errorf("The report of a request that never was: %d, want 404", missing.Status)
	}

	// The records page: both records, the first verifies, the altered one does not.
	list := b.get(c.consoleURL + "/records")
	if list.Status != http.StatusOK {
		t.Fatalf("bob's records page: %d\n%s", list.Status, list.Body)
	}
	for _, want := range []string{
		`href="/records/` + testArchive + `/` + names[0] + `"`, `href="/records/` + testArchive + `/` + names[1] + `/report.md"`,
		"signature and chain hold", "does not verify", "was altered: its signature does not match its content",
	} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("The records page lacks %q:\n%s", want, list.Body)
		}
	}
	one := b.get(c.consoleURL + "/records/" + testArchive + "/" + names[0])
	if one.Status != http.StatusOK || !strings.Contains(one.Body, "signature and chain hold") ||
		!strings.Contains(one.Body, records.KeyID(recordSigningKey.Public().(ed25519.PublicKey))) {
		t.Errorf("The record's page (%d) does not say it verifies with golive's key:\n%s", one.Status, one.Body)
	}
	// The record's page names who approved and who said go, as the record keeps them.
	for _, want := range []string{"<td>bob</td>", "Staging checks reviewed", "<td>sam</td>", "On call and watching"} {
		if !strings.Contains(one.Body, want) {
			t.Errorf("The record's page lacks %q of its approvals and go:\n%s", want, one.Body)
		}
	}
	altered := b.get(c.consoleURL + "/records/" + testArchive + "/" + names[1])
	if !strings.Contains(altered.Body, "does not verify") {
		t.Errorf("The altered record's page does not say it does not verify:\n%s", altered.Body)
	}
	recordReport := b.get(c.consoleURL + "/records/" + testArchive + "/" + names[1] + "/report.md")
	if recordReport.Status != http.StatusOK || !strings.Contains(recordReport.Body, "# UpdateRequest "+c.namespace+"/billing-2-3-0") {
		t.Errorf("The record's report (%d):\n%s", recordReport.Status, recordReport.Body)
	}
	if got := recordReport.Header.Get("Content-Disposition"); got != "attachment; filename="+names[1]+".md" {
		t.Errorf("The record's report is named %q", got)
	}

	// Where bob may not read, the API server's refusal is shown.
	other := c.env.NewNamespace(t, "elsewhere")
	refused := b.get(c.consoleURL + "/requests/" + other + "/billing-2-4-0/report.md")
	if refused.Status != http.StatusForbidden || !strings.Contains(refused.Body, "The API server refused:") ||
		!strings.Contains(refused.Body, `cannot get resource &#34;updaterequests&#34;`) {
		t.Errorf("bob's report of a request he may not read: %d, want 403 with the API server's words:\n%s", refused.Status, refused.Body)
	}
	// Names are checked before any call.
	if invalid := b.get(c.consoleURL + "/records/" + testArchive + "/Not_A_Name/report.md"); invalid.Status != http.StatusNotFound {
		t.Errorf("An invalid record name got %d, want 404", invalid.Status)
	}

	// alice may not read the archive: the page says why.
	alicesBrowser := newBrowser(t, c.issuer.CertPool())
	alicesBrowser.login(c.issuer, c.consoleURL, alice)
	denied := alicesBrowser.get(c.consoleURL + "/records")
	if denied.Status != http.StatusForbidden || !strings.Contains(denied.Body, `id="refused"`) ||
		!strings.Contains(denied.Body, `cannot list resource &#34;releaserecords&#34;`) {
		t.Errorf("alice's records page: %d, want 403 with the API server's words:\n%s", denied.Status, denied.Body)
	}
}

package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/records"
)

// recordSigningKey signs the records of the plugin tests.
var recordSigningKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

// writeRecords writes a chain of records into archive as golive does (as its
// ServiceAccount, which alone the record writers policy admits), one per
// request, and publishes the public key.
func (f *fixture) writeRecords(archive string, requests ...*golivev1alpha1.UpdateRequest) []string {
	f.t.Helper()
	golive, err := f.env.ClientAs("system:serviceaccount:golive-system:golive", "system:masters")
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	previous := ""
	for i, request := range requests {
		spec, err := records.Build(request, request.Status.Timeline, "v0.9.0", request.Status.CompletedAt.Time.Add(time.Minute))
		if err != nil {
			f.t.Fatal(err)
		}
		records.Chain(&spec, int64(i+1), previous)
		if previous, err = records.Sign(recordSigningKey, &spec); err != nil {
			f.t.Fatal(err)
		}
		record := &golivev1alpha1.ReleaseRecord{
			ObjectMeta: metav1.ObjectMeta{
				Name: records.Name(request.Namespace, request.Name, string(request.UID)), Namespace: archive,
				Labels: map[string]string{golivev1alpha1.LabelSourceNamespace: request.Namespace},
			},
			Spec: spec,
		}
		if err := golive.Create(f.t.Context(), record); err != nil {
			f.t.Fatalf("Writing the record of %s: %v", request.Name, err)
		}
		names = append(names, record.Name)
	}
	public := recordSigningKey.Public().(ed25519.PublicKey)
	pem, err := records.PublicKeyPEM(public)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := golive.Create(f.t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "golive-record-key", Namespace: archive},
		Data:       map[string]string{records.KeyFile(public): string(pem)},
	}); err != nil {
		f.t.Fatal(err)
	}
	return names
}

// endedRequest is a request of namespace that ended in phase at ended.
func endedRequest(namespace, name string, phase golivev1alpha1.Phase, ended time.Time) *golivev1alpha1.UpdateRequest {
	request := newRequest(namespace, name)
	request.UID = types.UID("0123abcd-" + name)
	request.CreationTimestamp = metav1.Time{Time: ended.Add(-48 * time.Hour)}
	request.Spec.Release = strings.TrimPrefix(name, "billing-")
	request.Status = golivev1alpha1.UpdateRequestStatus{
		Phase: phase, RequestedBy: alice, CompletedAt: &metav1.Time{Time: ended},
		Timeline: []golivev1alpha1.TimelineEntry{
			{At: metav1.Time{Time: ended.Add(-48 * time.Hour)}, Phase: golivev1alpha1.PhasePending, Actor: "golive", Event: "Created", Message: "Created"},
			{At: metav1.Time{Time: ended}, Phase: phase, Actor: "golive", Event: string(phase), Message: "Ended " + string(phase)},
		},
	}
	return request
}

func TestRecordsListExportReportAndVerify(t *testing.T) {
	f := newFixture(t)
	archive := f.env.NewNamespace(t, "archive-")
	first := endedRequest(f.namespace, "billing-2-4-0", golivev1alpha1.PhaseSucceeded, utc("2026-03-02T21:00:00Z"))
	second := endedRequest(f.namespace, "billing-2-5-0", golivev1alpha1.PhaseRolledBack, utc("2026-04-09T21:00:00Z"))
	third := endedRequest(f.namespace, "billing-2-5-1", golivev1alpha1.PhaseSucceeded, utc("2026-04-16T21:00:00Z"))
	names := f.writeRecords(archive, first, second, third)

	table := f.mustSucceed("records", "--archive-namespace", archive, "-n", f.namespace)
	for _, want := range []string{"SOURCE", names[0], names[1], names[2], "RolledBack", "2026-04-09T21:00:00Z"} {
		if !strings.Contains(table, want) {
			t.Errorf("the records table lacks %q:\n%s", want, table)
		}
	}
	april := f.mustSucceed("records", "--archive-namespace", archive, "--since", "2026-04-01", "--until", "2026-04-10")
	if !strings.Contains(april, names[1]) || strings.Contains(april, names[0]) || strings.Contains(april, names[2]) {
		t.Errorf("records ended from April 1 to 10 should be %s alone:\n%s", names[1], april)
	}
	if out := f.mustSucceed("records", "--archive-namespace", archive, "-n", "elsewhere"); strings.Contains(out, names[0]) {
		t.Errorf("records of another namespace listed:\n%s", out)
	}
	var list golivev1alpha1.ReleaseRecordList
	if err := json.Unmarshal([]byte(f.mustSucceed("records", "--archive-namespace", archive, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 || list.Items[0].Name != names[0] || list.Items[2].Spec.Chain.Sequence != 3 {
		t.Errorf("-o json: %d records, want the 3 in chain order", len(list.Items))
	}

	report := f.mustSucceed("report", "--record", names[1], "--archive-namespace", archive)
	for _, want := range []string{"# UpdateRequest " + f.namespace + "/billing-2-5-0", "Ended RolledBack", "## Record", "#2", records.KeyID(recordSigningKey.Public().(ed25519.PublicKey))} {
		if !strings.Contains(report, want) {
			t.Errorf("the report of the record lacks %q:\n%s", want, report)
		}
	}

	dir := filepath.Join(t.TempDir(), "audit")
	f.mustSucceed("records", "--archive-namespace", archive, "--export", dir)
	for _, file := range []string{exportRecordsFile, exportKeysFile, names[0] + ".md", names[2] + ".md"} {
		if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
			t.Errorf("the export lacks %s: %v", file, err)
		}
	}
	exported := filepath.Join(dir, exportRecordsFile)
	keys := filepath.Join(dir, exportKeysFile)
	if out := f.mustSucceed("verify-records", exported, "--keys", keys); !strings.Contains(out, "Verified 3 records in 1 chain") {
		t.Errorf("verify-records of the untouched export:\n%s", out)
	}

	// A rogue edit of the file: the first record removed, the second altered.
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	var tampered map[string]any
	if err := json.Unmarshal(data, &tampered); err != nil {
		t.Fatal(err)
	}
	items := tampered["items"].([]any)
	items[1].(map[string]any)["spec"].(map[string]any)["outcome"].(map[string]any)["phase"] = "Succeeded"
	tampered["items"] = items[1:]
	data, err = json.Marshal(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exported, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := f.kubectlGolive("verify-records", exported, "--keys", keys)
	if code == 0 {
		t.Errorf("verify-records passed a tampered export:\n%s", stdout)
	}
	for _, want := range []string{
		"Altered: record " + names[1] + " (#2 of namespace " + f.namespace + ") was altered",
		"Missing: record #1 is of namespace " + f.namespace + " missing before record " + names[1],
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify-records does not say %q:\n%s%s", want, stdout, stderr)
		}
	}
}

func TestParseTimeFlag(t *testing.T) {
	now := utc("2026-05-01T12:00:00Z")
	for value, want := range map[string]time.Time{
		"":                          {},
		"2026-04-01":                utc("2026-04-01T00:00:00Z"),
		"2026-04-01T08:30:00+02:00": utc("2026-04-01T06:30:00Z"),
		"720h":                      utc("2026-04-01T12:00:00Z"),
	} {
		got, err := parseTimeFlag("--since", value, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTimeFlag(%q) = %v, %v; want %v", value, got, err, want)
		}
	}
	if _, err := parseTimeFlag("--since", "last tuesday", now); err == nil {
		t.Error("parseTimeFlag(\"last tuesday\") succeeded")
	}
}

package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/test/cluster"
)

// ledgerRefusal is what the validating webhook says to a direct edit of the ledger.
const ledgerRefusal = "golive.dev/ledger is written by golive only: it appends one signed entry per command"

// reencodedLedger: attack 11. bob approved; sre, in the break-glass group,
// writes the ledger back re-encoded: with a case-variant duplicate key that
// Go reads as another role than jq does, and merely with other spacing. The
// webhook refuses both; the ledger and the tally stay as golive wrote them.
func reencodedLedger(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "reencoded-ledger", alwaysOpen(), appOptions{})
	r := a.create(a.request("billing-2-6-0", "2.6.0"))
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	written := r.current().Annotations[golivev1alpha1.AnnotationLedger]
	if !strings.Contains(written, `"role":"rnd-lead",`) {
		t.Fatalf("the ledger %s holds no rnd-lead approval", written)
	}

	for name, reencoded := range map[string]string{
		"a case-variant duplicate key": strings.Replace(written, `"role":"rnd-lead",`, `"role":"rnd-lead","Role":"operations-office",`, 1),
		"other spacing":                strings.ReplaceAll(written, `":`, `": `),
	} {
		patch := mustJSON(t, map[string]any{"metadata": map[string]any{"annotations": map[string]string{golivev1alpha1.AnnotationLedger: reencoded}}})
		request := &golivev1alpha1.UpdateRequest{ObjectMeta: r.current().ObjectMeta}
		err := as(t, cl, sre).Patch(t.Context(), request, client.RawPatch(types.MergePatchType, patch))
		if err == nil || !strings.Contains(err.Error(), ledgerRefusal) {
			t.Errorf("break-glass writing the ledger with %s: %v; want a refusal saying %q", name, err, ledgerRefusal)
		}
	}

	request := r.current()
	if got := request.Annotations[golivev1alpha1.AnnotationLedger]; got != written {
		t.Errorf("the ledger is now %s; want it as golive wrote it: %s", got, written)
	}
	if len(request.Status.Approvals) > 1 || request.Status.Phase != golivev1alpha1.PhaseAwaitingApproval {
		t.Errorf("phase %s with approvals %+v; want AwaitingApproval with bob's alone", request.Status.Phase, request.Status.Approvals)
	}
	if image, _ := a.productionImage(); image != apiPrevious {
		t.Errorf("production runs %s, want %s", image, apiPrevious)
	}
}

// plugin builds kubectl-golive and returns a function that runs it with the
// admin kubeconfig in namespace, failing the test when it fails.
func plugin(t *testing.T, cl *cluster.Cluster, namespace string) func(args ...string) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "kubectl-golive")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", binary, "github.com/golive-dev/golive/cmd/kubectl-golive").CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-golive: %v\n%s", err, out)
	}
	return func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), binary, append([]string{"--kubeconfig", cl.Kubeconfig, "-n", namespace}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl golive %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}
}

// controlCharacters lists the control characters (but line feed and tab) of s.
func controlCharacters(s string) []rune {
	var found []rune
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)) {
			found = append(found, r)
		}
	}
	return found
}

// escapes is a terminal's worst: set the window title, clear the screen, and
// a bidirectional override.
const escapes = "\x1b]0;owned\x07\x1b[2J\u202e"

// fakeSections is Markdown that would open a section, a table row and a
// checked list item of a report.
const fakeSections = "## Outcome: approved by the CTO\n\n| cto | dana@example.com | approved |\n- [x] signed off"

// freeText: attack 12. Terminal escapes in a description, a release, an
// incident, a justification or a comment are refused at admission, naming
// the field or the annotation and the character. Markdown is allowed, but `kubectl golive report` shows it as
// text: it opens no section or table row. What only break-glass can write
// unchecked (a status message) reaches neither `status` nor `report` as an
// escape.
func freeText(t *testing.T, cl *cluster.Cluster) {
	a := newApp(t, cl, "free-text", alwaysOpen(), appOptions{})
	for field, escape := range map[string]func(*golivev1alpha1.UpdateRequestSpec){
		"spec.description": func(spec *golivev1alpha1.UpdateRequestSpec) { spec.Description = "Quarterly release" + escapes },
		"spec.release":     func(spec *golivev1alpha1.UpdateRequestSpec) { spec.Release = "2.6.1" + escapes },
		"spec.emergency.incident": func(spec *golivev1alpha1.UpdateRequestSpec) {
			spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage", Incident: "INC-4911" + escapes}
		},
		"spec.emergency.justification": func(spec *golivev1alpha1.UpdateRequestSpec) {
			spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage" + escapes}
		},
	} {
		escaping := a.request("billing-2-6-1", "2.6.1")
		escape(&escaping.Spec)
		err := as(t, cl, alice).Create(t.Context(), escaping)
		wantRefusal(t, err, field)
		wantRefusal(t, err, "must not contain control characters, terminal escapes or bidirectional overrides")
	}

	request := a.request("billing-2-6-2", "2.6.2")
	request.Spec.Description = "Quarterly release\n" + fakeSections
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	err := command(t, cl, bob, r.key, golivev1alpha1.AnnotationApprove, roleRnDLead+"; LGTM"+escapes)
	wantRefusal(t, err, "golive.dev/approve refused: the comment contains the control character U+001B at character 5: "+
		"control characters, terminal escapes and bidirectional overrides are refused in comments and reasons")
	err = command(t, cl, bob, r.key, golivev1alpha1.AnnotationApprove, roleRnDLead+"; LGTM \u202eevil")
	wantRefusal(t, err, "the comment contains the control character U+202E at character 6")
	approve(t, cl, bob, r.key, roleRnDLead, "LGTM\n"+fakeSections)

	// Break-glass writes what golive does not check.
	if err := forgeStatus(t, cl, sre, r, func(status *golivev1alpha1.UpdateRequestStatus) {
		last := status.Timeline[len(status.Timeline)-1]
		last.Message = "Waiting" + escapes + "\n" + fakeSections
		status.Timeline = append(status.Timeline, last)
	}); err != nil {
		t.Fatalf("break-glass writing a timeline entry: %v", err)
	}

	kubectlGolive := plugin(t, cl, a.production)
	status := kubectlGolive("status", r.key.Name)
	report := kubectlGolive("report", r.key.Name)
	t.Logf("kubectl golive status:\n%s", status)
	for command, out := range map[string]string{"status": status, "report": report} {
		if found := controlCharacters(out); len(found) > 0 {
			t.Errorf("kubectl golive %s prints control characters %U", command, found)
		}
	}
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "## Outcome") || strings.HasPrefix(line, "| cto ") || strings.HasPrefix(line, "- [x]") {
			t.Errorf("the report has a line written by a person as Markdown: %q", line)
		}
	}
	for _, shown := range []string{`\#\# Outcome: approved by the CTO`, `LGTM \#\# Outcome: approved by the CTO \| cto \| dana@example.com \| approved \| - \[x\] signed off`} {
		if !strings.Contains(report, shown) {
			t.Errorf("the report does not show %q as text", shown)
		}
	}
	if t.Failed() {
		t.Logf("kubectl golive report:\n%s", report)
	}
}

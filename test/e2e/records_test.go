package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/controller"
	"github.com/golive-dev/golive/internal/records"
	"github.com/golive-dev/golive/test/cluster"
)

// TestRecords: two releases of the billing API leave two ReleaseRecords in
// golive's namespace, and a request deleted before it ended a third, which
// an auditor exports and verifies offline. Then a
// rogue administrator, refused to rewind the chain's head, removes the
// admission rule that keeps everyone but golive from writing records,
// deletes the first record and replaces the second with an altered copy;
// verify-records names both.
func TestRecords(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-records", Authorization: true})
	golive := cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)
	a := newApp(t, cl, "records", alwaysOpen(), appOptions{})

	var names []string
	for _, release := range []string{"2.4.0", "2.5.0"} {
		r := a.create(a.request("billing-"+strings.ReplaceAll(release, ".", "-"), release))
		r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
		approve(t, cl, bob, r.key, roleRnDLead, "code reviewed")
		approve(t, cl, carol, r.key, roleOperationsOffice, "change board agreed")
		r.waitForPhase(golivev1alpha1.PhaseSucceeded)
		cluster.Eventually(t, time.Minute, "the request's record", func(ctx context.Context) (bool, string, error) {
			request := r.current()
			recorded := meta.FindStatusCondition(request.Status.Conditions, golivev1alpha1.ConditionRecorded)
			if recorded == nil || recorded.Status != metav1.ConditionTrue {
				return false, fmt.Sprintf("Recorded condition %+v", recorded), nil
			}
			names = append(names, strings.TrimPrefix(recorded.Message, "Recorded as ReleaseRecord "+golive.Namespace+"/"))
			return true, "", nil
		})
	}

	// A request deleted before it ended: golive records it before it lets it go.
	gone := newApp(t, cl, "records-deleted", alwaysOpen(), appOptions{})
	waiting := gone.create(gone.request("billing-2-6-0", "2.6.0"))
	pending := waiting.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	if err := cl.Client.Delete(t.Context(), &pending); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, time.Minute, "the deleted request to go", func(ctx context.Context) (bool, string, error) {
		var request golivev1alpha1.UpdateRequest
		err := cl.Client.Get(ctx, waiting.key, &request)
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		return false, fmt.Sprintf("%s, finalizers %v", request.Status.Phase, request.Finalizers), err
	})
	var goneRecord golivev1alpha1.ReleaseRecord
	goneKey := client.ObjectKey{Namespace: golive.Namespace, Name: records.Name(pending.Namespace, pending.Name, string(pending.UID))}
	if err := cl.Client.Get(t.Context(), goneKey, &goneRecord); err != nil {
		t.Fatalf("The record of the request whose namespace was deleted: %v", err)
	}
	// Deleted after staging changed, it ended Aborted once staging was put back (spec.staging.onFailure).
	if got := goneRecord.Spec.Outcome; !got.Deleted || got.Phase != golivev1alpha1.PhaseAborted {
		t.Errorf("outcome %+v, want deleted, ended Aborted", got)
	}

	kubectlGolive := pluginCommand(t, cl)
	table, err := kubectlGolive("records", "--archive-namespace", golive.Namespace, "-n", a.production)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.Contains(table, name) {
			t.Errorf("kubectl golive records lacks %s:\n%s", name, table)
		}
	}
	audit := filepath.Join(t.TempDir(), "audit")
	if _, err := kubectlGolive("records", "--archive-namespace", golive.Namespace, "--export", audit); err != nil {
		t.Fatal(err)
	}
	exported, keys := filepath.Join(audit, "records.json"), filepath.Join(audit, "public-keys.pem")
	if out, err := kubectlGolive("verify-records", exported, "--keys", keys); err != nil || !strings.Contains(out, "Verified 3 records in 2 chains") {
		t.Fatalf("verify-records of the untouched records: %v\n%s", err, out)
	}

	// The rogue administrator cannot rewind the chain's head, which would let
	// the newest record go without a gap: the policy on the archive's
	// ConfigMaps refuses administrators too. (Dry run: were it admitted, the
	// story below would stay the same.) This story leaves that policy's
	// binding in place and the chain as golive wrote it.
	chainKey := client.ObjectKey{Namespace: golive.Namespace, Name: controller.ChainConfigMap}
	cluster.Eventually(t, time.Minute, "rewinding the chain to be refused", func(ctx context.Context) (bool, string, error) {
		var chain corev1.ConfigMap
		if err := cl.Client.Get(ctx, chainKey, &chain); err != nil {
			return false, "", err
		}
		delete(chain.Data, a.production)
		err := cl.Client.Update(ctx, &chain, client.DryRunAll)
		if err == nil {
			return false, "the administrator's rewind was admitted", nil
		}
		want := "ConfigMap " + chainKey.String() + " keeps the head of each chain of ReleaseRecords: only golive"
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), want), err.Error(), nil
	})

	// The rogue administrator: without the admission rule, a record can be
	// replaced (the CRD still refuses to change one in place).
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "golive-record-writers"}}
	if err := cl.Client.Delete(t.Context(), binding); err != nil {
		t.Fatalf("Removing the record writers policy's binding: %v", err)
	}
	first, second := client.ObjectKey{Namespace: golive.Namespace, Name: names[0]}, client.ObjectKey{Namespace: golive.Namespace, Name: names[1]}
	var original golivev1alpha1.ReleaseRecord
	if err := cl.Client.Get(t.Context(), second, &original); err != nil {
		t.Fatal(err)
	}
	altered := original.DeepCopy()
	altered.Spec.Outcome.Phase = golivev1alpha1.PhaseRolledBack
	if err := cl.Client.Update(t.Context(), altered); err == nil || !strings.Contains(err.Error(), "never changes") {
		t.Errorf("changing a record in place: %v, want refused by the CRD", err)
	}
	for _, key := range []client.ObjectKey{first, second} {
		if err := cl.Client.Delete(t.Context(), &golivev1alpha1.ReleaseRecord{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
			t.Fatalf("Deleting record %s: %v", key.Name, err)
		}
	}
	altered = &golivev1alpha1.ReleaseRecord{
		ObjectMeta: metav1.ObjectMeta{Namespace: original.Namespace, Name: original.Name, Labels: original.Labels},
		Spec:       *altered.Spec.DeepCopy(),
	}
	// The API server stops enforcing the policy once it saw the binding go.
	cluster.Eventually(t, time.Minute, "the altered record to be created", func(ctx context.Context) (bool, string, error) {
		err := cl.Client.Create(ctx, altered.DeepCopy())
		if err == nil || apierrors.IsAlreadyExists(err) {
			return true, "", nil
		}
		return false, err.Error(), nil
	})

	if _, err := kubectlGolive("records", "--archive-namespace", golive.Namespace, "--export", audit); err != nil {
		t.Fatal(err)
	}
	out, err := kubectlGolive("verify-records", exported, "--keys", keys)
	if err == nil {
		t.Errorf("verify-records passed after a record was deleted and another altered:\n%s", out)
	}
	for _, want := range []string{
		"Missing: record #1 is of namespace " + a.production + " missing before record " + names[1],
		"Altered: record " + names[1] + " (#2 of namespace " + a.production + ") was altered",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify-records does not say %q:\n%s", want, out)
		}
	}
}

// pluginCommand builds kubectl-golive and returns a function that runs it
// with the administrator's kubeconfig, returning its output and how it ended.
func pluginCommand(t *testing.T, cl *cluster.Cluster) func(args ...string) (string, error) {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "kubectl-golive")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", binary, "github.com/golive-dev/golive/cmd/kubectl-golive").CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-golive: %v\n%s", err, out)
	}
	return func(args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), binary, append([]string{"--kubeconfig", cl.Kubeconfig}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return stdout.String(), errors.Join(fmt.Errorf("kubectl golive %s: %w", strings.Join(args, " "), err), errors.New(stderr.String()))
		}
		return stdout.String(), nil
	}
}

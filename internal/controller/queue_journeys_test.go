package controller

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

// Journeys of requests that wait for one another, and of one that stalls.

// wantColumns fails the test unless `kubectl get ur` prints want for the
// request: the API server's table of it, by column name.
func (j *journey) wantColumns(want map[string]string) {
	j.t.Helper()
	httpClient, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		j.t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/%s/namespaces/%s/updaterequests/%s", strings.TrimSuffix(env.Config.Host, "/"), golivev1alpha1.GroupVersion, j.production, j.request.Name)
	request, err := http.NewRequestWithContext(j.t.Context(), http.MethodGet, url, nil)
	if err != nil {
		j.t.Fatal(err)
	}
	request.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	response, err := httpClient.Do(request)
	if err != nil {
		j.t.Fatal(err)
	}
	defer func() { _ = response.Body.Close() }()
	var table metav1.Table
	if err := json.NewDecoder(response.Body).Decode(&table); err != nil || len(table.Rows) != 1 {
		j.t.Fatalf("the table of %s (%s): %v, %d rows (HTTP %d)", j.request.Name, url, err, len(table.Rows), response.StatusCode)
	}
	got := map[string]string{}
	for i, column := range table.ColumnDefinitions {
		if _, asked := want[column.Name]; asked {
			got[column.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	// A JSONPath that finds nothing prints as nil.
	for name, value := range got {
		if value == "<nil>" {
			got[name] = ""
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		j.t.Errorf("kubectl get ur %s (-want +got):\n%s", j.request.Name, diff)
	}
}

// TestStalledOlderRequestHoldsNoOneBack: a newer request waits behind an
// older pending one, saying what that one waits for; once the older one
// stalls (a target that does not exist) it holds no one back, and the newer
// one starts at once (it waited with "holds one of the targets", issue 24).
func TestStalledOlderRequestHoldsNoOneBack(t *testing.T) {
	older := newJourney(t, withRequest(func(r *golivev1alpha1.UpdateRequest) { r.Spec.Suspend = true }))
	older.waitForReady(golivev1alpha1.ReasonSuspended, "Suspended before staging")
	newer := older.another("billing-2-5-0", func(r *golivev1alpha1.UpdateRequest) {
		r.Spec.Release = "2.5.0"
		r.Spec.Targets[0].Images["api"] = "billing-api:2.5.0"
	})
	newer.waitForReady(golivev1alpha1.ReasonTargetLocked,
		`Waiting behind UpdateRequest "billing-2-4-0", older and still Pending (Suspended), which names one of the same targets`)
	newer.wantColumns(map[string]string{"Phase": "Pending", "Reason": golivev1alpha1.ReasonTargetLocked, "Stalled": ""})

	// The older request's author adds a target with a typo: it stalls, for a person.
	var edited golivev1alpha1.UpdateRequest
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(older.request), &edited); err != nil {
		t.Fatal(err)
	}
	base := edited.DeepCopy()
	edited.Spec.Targets = append(edited.Spec.Targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetDeployment, Name: "billing-apu",
		Images: map[string]golivev1alpha1.Image{"api": "billing-api:2.4.0"}})
	if err := env.Client.Patch(t.Context(), &edited, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	older.waitForReady(golivev1alpha1.ReasonReferenceNotFound, `Deployment "billing-apu" not found`)
	older.waitForEvents(golivev1alpha1.ReasonReferenceNotFound)
	// kubectl get ur shows that it needs a person, not a plain Pending.
	older.wantColumns(map[string]string{"Phase": "Pending", "Reason": golivev1alpha1.ReasonReferenceNotFound, "Stalled": "True"})

	newer.waitForImageAndRollOut(newer.staging, "billing-api:2.5.0")
	newer.waitForPhase(golivev1alpha1.PhaseVerifyingStaging)
	if got := older.current().Status.Phase; got != golivev1alpha1.PhasePending {
		t.Errorf("the older request is %s, want Pending", got)
	}
}

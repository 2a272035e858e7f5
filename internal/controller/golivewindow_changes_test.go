package controller

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/notify"
	"github.com/golive-dev/golive/internal/window"
)

// Windows are policy: a change of a window's spec is recorded in its status
// (who, when, which fields), told in an Event, and announced to the webhooks
// of the requests that name it.
func TestWindowChangeIsRecordedAndAnnounced(t *testing.T) {
	hook := newReceiver(t, http.StatusOK, nil)
	j := newJourney(t, withNotifierAndMetrics(notify.Options{}), withWebhooks(hook.URL))
	key := types.NamespacedName{Namespace: j.production, Name: "always"}
	j.waitForPhase(golivev1alpha1.PhaseStaging)

	var glw golivev1alpha1.GoLiveWindow
	eventually(t, func(ctx context.Context) string {
		if err := env.Client.Get(ctx, key, &glw); err != nil {
			return err.Error()
		}
		if len(glw.Status.Changes) != 1 || glw.Status.Changes[0].Summary != "created" {
			return fmt.Sprintf("changes = %+v, want the creation", glw.Status.Changes)
		}
		return ""
	})

	// The admission webhook stamps who changed the spec; this suite runs none, so the test does.
	changedAt := journeyStart.Add(5 * time.Minute)
	base := glw.DeepCopy()
	metav1.SetMetaDataAnnotation(&glw.ObjectMeta, golivev1alpha1.AnnotationLastChangedBy, window.LastChangedBy("mallory@example.com", changedAt))
	glw.Spec.LeadTime = metav1.Duration{Duration: 0}
	glw.Spec.Freezes = []golivev1alpha1.Freeze{{Name: "year-end", Start: "2026-12-20T00:00", End: "2027-01-06T00:00"}}
	glw.Spec.LeadTime = metav1.Duration{Duration: 336 * time.Hour}
	if err := env.Client.Patch(t.Context(), &glw, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}

	want := golivev1alpha1.WindowChange{At: metav1.NewTime(changedAt), By: "mallory@example.com", Generation: 2, Summary: "freezes, leadTime"}
	eventually(t, func(ctx context.Context) string {
		if err := env.Client.Get(ctx, key, &glw); err != nil {
			return err.Error()
		}
		if n := len(glw.Status.Changes); n != 2 {
			return fmt.Sprintf("changes = %+v, want two", glw.Status.Changes)
		}
		return ""
	})
	if diff := cmp.Diff(want, glw.Status.Changes[1]); diff != "" {
		t.Errorf("recorded change (-want +got):\n%s", diff)
	}
	message := "GoLiveWindow always changed by mallory@example.com at 2026-11-23T10:05:00Z (generation 2): freezes, leadTime"
	waitForEvent(t, key, corev1.EventTypeNormal, golivev1alpha1.ReasonWindowChanged, message)
	eventually(t, func(context.Context) string {
		var reasons []string
		for _, document := range hook.received() {
			if document.Reason == golivev1alpha1.ReasonWindowChanged {
				if document.Message != message || document.Request.Name != j.request.Name {
					return fmt.Sprintf("the notice says %q about %s, want %q", document.Message, document.Request.Name, message)
				}
				return ""
			}
			reasons = append(reasons, document.Reason)
		}
		return "no WindowChanged notice; received " + strings.Join(reasons, ", ")
	})
}

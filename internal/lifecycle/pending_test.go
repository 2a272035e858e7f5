package lifecycle

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
)

func TestDecidePending(t *testing.T) {
	testDecide(t, []decideCase{
		// Pending.
		{
			name:    "a new request with every reference resolved starts staging with the first target",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status = golivev1alpha1.UpdateRequestStatus{} },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}, check: func(t *testing.T, d Decision) {
				if d.Status.Staging.StartedAt == nil || !d.Status.Staging.StartedAt.Equal(at(monday)) {
					t.Errorf("staging.startedAt = %v, want %v", d.Status.Staging.StartedAt, monday)
				}
				if d.Status.SpecHash != hash || d.Status.RequestedBy != "alice" {
					t.Errorf("specHash, requestedBy = %q, %q", d.Status.SpecHash, d.Status.RequestedBy)
				}
				timelineEvents(t, d, "Created", "StagingStarted")
			}},
		},
		{
			name:    "a request a trusted submitter created records the person who asked and the submitter",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status = golivev1alpha1.UpdateRequestStatus{} },
			world:   func(w *World) { w.SubmittedBy = "system:serviceaccount:argocd:argocd-application-controller" },
			want: want{phase: golivev1alpha1.PhaseStaging, action: Action{Kind: ApplyStaging, Target: 0}, check: func(t *testing.T, d Decision) {
				if d.Status.RequestedBy != "alice" || d.Status.SubmittedBy != "system:serviceaccount:argocd:argocd-application-controller" {
					t.Errorf("requestedBy, submittedBy = %q, %q", d.Status.RequestedBy, d.Status.SubmittedBy)
				}
			}},
		},
		{
			name:    "a missing staging namespace stalls, naming the field",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.StagingNamespace = NamespaceObservation{} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.staging.namespace: namespace "billing-grey" not found`},
		},
		{
			name:    "a staging namespace that did not opt in stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.StagingNamespace.OptedIn = false },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonStagingNotOptedIn, message: "lacks the label golive.dev/staging-for=billing"},
		},
		{
			name:    "a missing window stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Window = WindowObservation{} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.window.name: GoLiveWindow "thursday-evening" not found`},
		},
		{
			name:    "a missing production target stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Production.Targets[1].Found = false },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.targets[1]: StatefulSet "billing-db" not found in namespace "billing"`},
		},
		{
			name:    "a container missing in staging stalls",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Staging.Targets[0].MissingContainers = []string{"api"} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.targets[0].images: Deployment "billing-api" in namespace "billing-grey" has no container "api"`},
		},
		{
			name: "a missing snapshot class and no selected claim stall",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Backup.VolumeClaimSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}}
				r.Spec.Backup.VolumeSnapshotClassName = "csi-snapclass"
			},
			world: func(w *World) { w.Backup.SnapshotClassFound = false },
			want: want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound,
				message: `spec.backup.volumeSnapshotClassName: VolumeSnapshotClass "csi-snapclass" not found; spec.backup.volumeClaimSelector: selects no PersistentVolumeClaim`},
		},
		{
			name: "an emergency under a window without an emergency policy stalls",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Emergency = &golivev1alpha1.Emergency{Justification: "outage"}
			},
			world: func(w *World) { w.Window.Spec.Emergency = nil },
			want:  want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonReferenceNotFound, message: `spec.emergency: GoLiveWindow "thursday-evening" allows no emergency updates`},
		},
		{
			name:    "a problem the controller found stalls as an invalid spec",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Problems = []string{"spec.backup.volumeClaimSelector: not supported"} },
			want:    want{phase: golivev1alpha1.PhasePending, stalled: golivev1alpha1.ReasonInvalidSpec, message: "spec.backup.volumeClaimSelector: not supported"},
		},
		{
			name:    "a target held by another request waits, without stalling",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world:   func(w *World) { w.Lock = Lock{Name: "billing-2-3-9", Phase: golivev1alpha1.PhaseSoaking} },
			want: want{phase: golivev1alpha1.PhasePending,
				message: `UpdateRequest "billing-2-3-9" holds one of the targets (phase Soaking); waiting until it ends`},
		},
		{
			name:    "an older pending request is waited behind, saying what it waits for",
			request: func(r *golivev1alpha1.UpdateRequest) { r.Status.Phase = golivev1alpha1.PhasePending },
			world: func(w *World) {
				w.Lock = Lock{Name: "billing-2-3-9", Phase: golivev1alpha1.PhasePending, Waiting: golivev1alpha1.ReasonSuspended}
			},
			want: want{phase: golivev1alpha1.PhasePending,
				message: `Waiting behind UpdateRequest "billing-2-3-9", older and still Pending (Suspended), which names one of the same targets`},
		},
		{
			name: "a suspended request does not start staging",
			request: func(r *golivev1alpha1.UpdateRequest) {
				r.Status.Phase = golivev1alpha1.PhasePending
				r.Spec.Suspend = true
			},
			want: want{phase: golivev1alpha1.PhasePending, message: "Suspended before staging"},
		},
	})
}

// TestStallWarns: a request that stalls records a Warning Event with the
// stall's reason, once; the same stall decided again records none.
func TestStallWarns(t *testing.T) {
	request, world := newRequest(), newWorld()
	request.Status.Phase = golivev1alpha1.PhasePending
	world.Window = WindowObservation{}
	first := Decide(request, world, monday)
	wantEvent(t, first, true, golivev1alpha1.ReasonReferenceNotFound)

	request.Status = first.Status
	if again := Decide(request, world, monday.Add(time.Minute)); len(again.Events) > 0 {
		t.Errorf("the same stall decided again records %+v, want no Event", again.Events)
	}

	world.StagingNamespace.OptedIn = false
	other := Decide(request, world, monday.Add(2*time.Minute))
	wantEvent(t, other, true, golivev1alpha1.ReasonStagingNotOptedIn)
}

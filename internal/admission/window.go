package admission

import (
	"context"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/window"
)

// WindowMutatePath is the path the GoLiveWindow webhook is served on.
const WindowMutatePath = "/mutate-golive-dev-v1alpha1-golivewindow"

// Windows are policy: every change of a window's spec is stamped with who
// made it and when, for the window controller to record and announce. The
// webhook fails closed, so no window changes unrecorded.
//
// +kubebuilder:webhook:path=/mutate-golive-dev-v1alpha1-golivewindow,mutating=true,failurePolicy=fail,sideEffects=None,groups=golive.dev,resources=golivewindows,verbs=create;update,versions=v1alpha1,name=mgolivewindow.golive.dev,admissionReviewVersions=v1,serviceName=golive-webhook-service,serviceNamespace=golive-system,timeoutSeconds=10,reinvocationPolicy=Never

// windowStamper stamps AnnotationLastChangedBy on windows.
type windowStamper struct{ *Webhooks }

// Handle implements admission.Handler.
func (s windowStamper) Handle(ctx context.Context, req admission.Request) admission.Response {
	var glw golivev1alpha1.GoLiveWindow
	if err := s.Decoder.DecodeRaw(req.Object, &glw); err != nil {
		return unreadable(err)
	}
	stamp := window.LastChangedBy(req.UserInfo.Username, s.Clock.Now())
	switch req.Operation {
	case admissionv1.Create:
	case admissionv1.Update:
		var stored golivev1alpha1.GoLiveWindow
		if err := s.Decoder.DecodeRaw(req.OldObject, &stored); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if apiequality.Semantic.DeepEqual(stored.Spec, glw.Spec) {
			before, had := stored.Annotations[golivev1alpha1.AnnotationLastChangedBy]
			after, has := glw.Annotations[golivev1alpha1.AnnotationLastChangedBy]
			switch {
			case has && after != before:
				return respond(ctx, refused("%s is stamped by golive with who last changed the window's spec and when; it cannot be set directly",
					golivev1alpha1.AnnotationLastChangedBy))
			case had && !has:
				// A write that replaced the annotations: the record stays.
				stamp = before
			default:
				return admission.Allowed("")
			}
		}
	default:
		return admission.Allowed("")
	}
	if req.DryRun == nil || !*req.DryRun {
		log.FromContext(ctx).V(1).Info("Stamped a window change", "window", req.Namespace+"/"+req.Name, "user", req.UserInfo.Username)
	}
	return patchAnnotations(req.Object.Raw, func(annotations map[string]string) {
		annotations[golivev1alpha1.AnnotationLastChangedBy] = stamp
	})
}

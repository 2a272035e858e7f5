// +kubebuilder:webhookconfiguration:mutating=true,name=golive-mutating-webhook-configuration
// +kubebuilder:webhookconfiguration:mutating=false,name=golive-validating-webhook-configuration

package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/ledger"
	"github.com/golive-dev/golive/internal/namespaces"
)

// The paths the webhooks are served on (see the markers below).
const (
	MutatePath   = "/mutate-golive-dev-v1alpha1-updaterequest"
	ValidatePath = "/validate-golive-dev-v1alpha1-updaterequest"
)

// Names of the webhook configurations in config/webhook, whose caBundle the
// manager keeps current.
const (
	MutatingWebhookConfiguration   = "golive-mutating-webhook-configuration"
	ValidatingWebhookConfiguration = "golive-validating-webhook-configuration"
)

// entrySkew is how far from the validating webhook's clock a new entry may be
// dated: it was signed by the mutating webhook within the same request.
const entrySkew = time.Minute

// Both webhooks fail closed: if golive cannot be asked, nothing is approved
// and no request changes.
//
// +kubebuilder:webhook:path=/mutate-golive-dev-v1alpha1-updaterequest,mutating=true,failurePolicy=fail,sideEffects=None,groups=golive.dev,resources=updaterequests,verbs=create;update,versions=v1alpha1,name=mupdaterequest.golive.dev,admissionReviewVersions=v1,serviceName=golive-webhook-service,serviceNamespace=golive-system,timeoutSeconds=10,reinvocationPolicy=Never
// +kubebuilder:webhook:path=/validate-golive-dev-v1alpha1-updaterequest,mutating=false,failurePolicy=fail,sideEffects=None,groups=golive.dev,resources=updaterequests,verbs=create;update,versions=v1alpha1,name=vupdaterequest.golive.dev,admissionReviewVersions=v1,serviceName=golive-webhook-service,serviceNamespace=golive-system,timeoutSeconds=10
//
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=golive.dev,resources=golivewindows,verbs=get;list;watch

// Webhooks are the mutating and validating admission webhooks for UpdateRequests.
type Webhooks struct {
	// Reader reads namespaces, policies and windows. An uncached reader
	// answers with what is stored now, so a label set just before is seen;
	// SharedReads around it lets the two webhooks' calls for one command share
	// their reads.
	Reader client.Reader
	// Cached reads what only warnings need (targets, windows, RBAC) from the
	// manager's cache; a warning is given only once Reader confirms it.
	// nil reads everything with Reader.
	Cached client.Reader
	// Access checks a user's rights with the API server.
	Access AccessReviewer
	// Key signs and verifies ledger entries.
	Key []byte
	// Clock dates ledger entries.
	Clock clock.PassiveClock
	// Decoder decodes the objects of admission requests.
	Decoder admission.Decoder
	// Manager is golive's own identity, set when its rights to change
	// workloads are granted per namespace (--namespaced-rbac): requests for
	// a namespace where it lacks them are refused (managerrights.go).
	Manager *authenticationv1.UserInfo
}

// Register serves the webhooks on server.
func (w *Webhooks) Register(server webhook.Server) {
	server.Register(MutatePath, &webhook.Admission{Handler: mutator{w}})
	server.Register(ValidatePath, &webhook.Admission{Handler: validator{w}})
	server.Register(WindowMutatePath, &webhook.Admission{Handler: windowStamper{w}})
}

// refusal is an error that refuses the admission request with its message;
// any other error refuses it as an internal error.
type refusal struct{ message string }

func (r *refusal) Error() string { return r.message }

func refused(format string, args ...any) error {
	return &refusal{message: fmt.Sprintf(format, args...)}
}

// respond turns the outcome of a check into an admission response.
func respond(ctx context.Context, err error) admission.Response {
	var refusal *refusal
	if errors.As(err, &refusal) {
		log.FromContext(ctx).V(1).Info("Refused an update request change", "reason", refusal.message)
		return admission.Denied(refusal.message)
	}
	log.FromContext(ctx).Error(err, "Failed to check an update request change")
	return admission.Errored(http.StatusInternalServerError, err)
}

// mutator stamps the requester at creation and turns commands into signed ledger entries.
type mutator struct{ *Webhooks }

// Handle implements admission.Handler.
func (m mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	switch req.Operation {
	case admissionv1.Create:
		return m.create(ctx, req)
	case admissionv1.Update:
		return m.update(ctx, req)
	}
	return admission.Allowed("")
}

// unreadable lets an object that golive cannot decode through: the API
// server's schema validation, which runs after the mutating webhooks and
// before the validating ones, refuses it with a message naming the field
// (a duration such as "2d" fails both, but only the schema says where).
func unreadable(err error) admission.Response {
	return admission.Allowed("not decodable, left to the schema validation: " + err.Error())
}

func (m mutator) create(ctx context.Context, req admission.Request) admission.Response {
	var request golivev1alpha1.UpdateRequest
	if err := m.Decoder.DecodeRaw(req.Object, &request); err != nil {
		return unreadable(err)
	}
	if err := checkCreateAnnotations(&request); err != nil {
		return respond(ctx, err)
	}
	requester, submitter, err := m.requesterOf(ctx, &request, req.UserInfo)
	if err != nil {
		return respond(ctx, err)
	}
	return patchObject(req.Object.Raw, func(object *unstructured.Unstructured) {
		changeAnnotations(object, func(annotations map[string]string) {
			annotations[golivev1alpha1.AnnotationRequestedBy] = requester
			if submitter != "" {
				annotations[golivev1alpha1.AnnotationSubmittedBy] = submitter
			}
		})
		// Set here, it saves the controller a write of its own on every request.
		controllerutil.AddFinalizer(object, golivev1alpha1.FinalizerCleanup)
	})
}

// changeAnnotations makes the changes change makes to object's annotations.
func changeAnnotations(object *unstructured.Unstructured, change func(map[string]string)) {
	annotations := object.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	change(annotations)
	object.SetAnnotations(annotations)
}

// checkCreateAnnotations refuses a new request that carries what only golive
// writes, or a command. golive.dev/requested-by is for requesterOf to judge.
func checkCreateAnnotations(request *golivev1alpha1.UpdateRequest) error {
	if _, set := request.Annotations[golivev1alpha1.AnnotationSubmittedBy]; set {
		return refused("%s is stamped by golive with the trusted submitter that creates a request: remove it", golivev1alpha1.AnnotationSubmittedBy)
	}
	if _, set := request.Annotations[golivev1alpha1.AnnotationLedger]; set {
		return refused("%s is written by golive only: remove it", golivev1alpha1.AnnotationLedger)
	}
	if carriesCommand(request.Annotations) {
		return refused("commands act on an existing request: create it without %s, %s, %s, %s, %s and %s, then annotate it",
			golivev1alpha1.AnnotationApprove, golivev1alpha1.AnnotationReject, golivev1alpha1.AnnotationAccept, golivev1alpha1.AnnotationGo,
			golivev1alpha1.AnnotationRetry, golivev1alpha1.AnnotationAbort)
	}
	return nil
}

func (m mutator) update(ctx context.Context, req admission.Request) admission.Response {
	var request, stored golivev1alpha1.UpdateRequest
	if err := m.Decoder.DecodeRaw(req.Object, &request); err != nil {
		return unreadable(err)
	}
	if err := m.Decoder.DecodeRaw(req.OldObject, &stored); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	given, stale := newCommands(request.Annotations, stored.Annotations)
	removeStale := func(annotations map[string]string) {
		for _, annotation := range stale {
			delete(annotations, annotation)
		}
	}
	if len(given) == 0 {
		if len(stale) == 0 {
			return admission.Allowed("")
		}
		log.FromContext(ctx).Info("Removed command annotations that no webhook saw being set", "annotations", stale)
		return patchAnnotations(req.Object.Raw, removeStale)
	}
	if len(given) > 1 {
		return respond(ctx, refused("give one command at a time: this update sets %s", strings.Join(given, ", ")))
	}
	annotation := given[0]
	// The validating call for this command reads the same again: it shares these reads.
	ctx = withSharedReads(ctx, &stored, req.UserInfo)
	entry, err := m.acceptCommand(ctx, &stored, &request, annotation, req.UserInfo)
	if err != nil {
		var refusal *refusal
		if errors.As(err, &refusal) {
			err = refused("%s refused: %s", annotation, refusal.message)
		}
		return respond(ctx, err)
	}
	entries, err := ledger.Parse(stored.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return respond(ctx, refused("%s refused: the stored ledger cannot be read, ask an administrator: %v", annotation, err))
	}
	if len(entries) >= ledger.MaxEntries {
		return respond(ctx, refused("%s refused: the ledger already holds %d entries, the most golive keeps for one request; create a new request to go on",
			annotation, len(entries)))
	}
	value, err := ledger.Format(append(entries, ledger.Sign(m.Key, &stored, entry)))
	if err != nil {
		return respond(ctx, err)
	}
	if req.DryRun == nil || !*req.DryRun {
		log.FromContext(ctx).Info("Accepted a command", "action", entry.Action, "role", entry.Role, "user", entry.User)
	}
	return patchAnnotations(req.Object.Raw, func(annotations map[string]string) {
		annotations[golivev1alpha1.AnnotationLedger] = value
		delete(annotations, annotation)
		removeStale(annotations)
	})
}

// acceptCommand checks the command given with annotation in an update of
// stored to request, and returns the (unsigned) ledger entry for it.
func (m mutator) acceptCommand(ctx context.Context, stored, request *golivev1alpha1.UpdateRequest, annotation string, user authenticationv1.UserInfo) (golivev1alpha1.LedgerEntry, error) {
	if ledger.SpecHash(&request.Spec) != ledger.SpecHash(&stored.Spec) {
		return golivev1alpha1.LedgerEntry{}, refused("give a command on its own, not in an update that changes the spec")
	}
	for _, owned := range []string{golivev1alpha1.AnnotationLedger, golivev1alpha1.AnnotationRequestedBy, golivev1alpha1.AnnotationSubmittedBy} {
		if request.Annotations[owned] != stored.Annotations[owned] {
			return golivev1alpha1.LedgerEntry{}, refused("%s is written by golive only", owned)
		}
	}
	command, err := ParseCommand(actionOf(annotation), request.Annotations[annotation])
	if err != nil {
		return golivev1alpha1.LedgerEntry{}, &refusal{message: err.Error()}
	}
	if err := m.checkCommentRequired(ctx, stored, command); err != nil {
		return golivev1alpha1.LedgerEntry{}, err
	}
	return m.decide(ctx, stored, command, user)
}

// decide applies every rule to command, given by user on the stored request,
// and returns the ledger entry to append, unsigned.
func (w *Webhooks) decide(ctx context.Context, stored *golivev1alpha1.UpdateRequest, command Command, user authenticationv1.UserInfo) (golivev1alpha1.LedgerEntry, error) {
	if len(user.Groups) > ledger.MaxGroups {
		// The entry records the groups whole, as the signature covers them.
		return golivev1alpha1.LedgerEntry{}, refused("%s is in %d groups; a ledger entry records at most %d, so golive cannot record a command of theirs",
			user.Username, len(user.Groups), ledger.MaxGroups)
	}
	specHash := ledger.SpecHash(&stored.Spec)
	counted, _ := ledger.Verify(w.Key, stored, specHash)
	input := commandInput{Request: stored, SpecHash: specHash, Command: command, User: user.Username, Ledger: counted, Now: w.Clock.Now()}
	if command.Action == golivev1alpha1.LedgerApprove {
		rules, err := w.namespaceRules(ctx, stored.Namespace)
		if err != nil {
			return golivev1alpha1.LedgerEntry{}, err
		}
		input.ApprovalExpiry = rules.ExpireAfter.Duration
	}
	if stored.Spec.Emergency != nil && (command.Action == golivev1alpha1.LedgerApprove || command.Action == golivev1alpha1.LedgerReject) {
		var err error
		if input.EmergencyRoles, input.EmergencyRolesUnknown, err = w.emergencyRoles(ctx, stored); err != nil {
			return golivev1alpha1.LedgerEntry{}, err
		}
	}
	if command.Action == golivev1alpha1.LedgerGo {
		rules, err := w.namespaceRules(ctx, stored.Namespace)
		if err != nil {
			return golivev1alpha1.LedgerEntry{}, err
		}
		input.SupervisionRoles = slices.Sorted(maps.Keys(rules.SupervisionRoles))
	}
	role, err := checkCommand(input)
	if err != nil {
		return golivev1alpha1.LedgerEntry{}, &refusal{message: err.Error()}
	}
	if command.Action == golivev1alpha1.LedgerGo {
		if role, err = w.supervisionRole(ctx, stored, user, input.SupervisionRoles); err != nil {
			return golivev1alpha1.LedgerEntry{}, err
		}
	} else if err := w.checkAccess(ctx, stored, user, command.Action, role); err != nil {
		return golivev1alpha1.LedgerEntry{}, err
	}
	return golivev1alpha1.LedgerEntry{
		User:     user.Username,
		Groups:   user.Groups,
		Role:     role,
		Action:   command.Action,
		Comment:  command.Comment,
		Time:     ledgerTime(w.Clock.Now()),
		SpecHash: specHash,
	}, nil
}

// checkAccess refuses a command for role that user holds no right to give
// (accessFor), naming the right.
func (w *Webhooks) checkAccess(ctx context.Context, stored *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo,
	action golivev1alpha1.LedgerAction, role string) error {
	attributes := accessFor(stored, action, role)
	allowed, reason, err := w.Access.Allowed(ctx, user, attributes)
	if err != nil {
		return err
	}
	if !allowed {
		message := describeMissingRight(user.Username, action, attributes)
		if reason != "" {
			message += " (" + reason + ")"
		}
		return &refusal{message: message}
	}
	return nil
}

// supervisionRole is the role a go by user is recorded for: the first of
// roles, still without a go counted in this opening (status.supervision),
// that user holds. The mutating and the validating webhook read the same
// stored request, so both choose the same role.
func (w *Webhooks) supervisionRole(ctx context.Context, stored *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo, roles []string) (string, error) {
	waiting := slices.DeleteFunc(slices.Clone(roles), func(role string) bool {
		return stored.Status.Supervision != nil && slices.ContainsFunc(stored.Status.Supervision.Given,
			func(given golivev1alpha1.ApprovalRecord) bool { return given.Role == role })
	})
	if len(waiting) == 0 {
		return "", refused("every supervision role (%s) already said go in this opening of the window", strings.Join(roles, ", "))
	}
	var refusals []string
	for _, role := range waiting {
		err := w.checkAccess(ctx, stored, user, golivev1alpha1.LedgerGo, role)
		var refusal *refusal
		switch {
		case err == nil:
			return role, nil
		case !errors.As(err, &refusal):
			return "", err
		}
		refusals = append(refusals, refusal.message)
	}
	return "", refused("%s", strings.Join(refusals, "; "))
}

// emergencyRoles reads the roles of the request's window of which an
// emergency request needs one approval; when there are none, it says why.
func (w *Webhooks) emergencyRoles(ctx context.Context, request *golivev1alpha1.UpdateRequest) ([]string, string, error) {
	// A GoLivePolicy's emergency rules replace the window's.
	rules, err := w.namespaceRules(ctx, request.Namespace)
	if err != nil {
		return nil, "", err
	}
	if rules.Emergency != nil {
		if len(rules.Emergency.Roles) == 0 {
			return nil, fmt.Sprintf("the GoLivePolicies of namespace %s (%s first) leave no emergency role they all name", request.Namespace, rules.Emergency.Policy), nil
		}
		return rules.Emergency.Roles, "", nil
	}
	var window golivev1alpha1.GoLiveWindow
	err = w.Reader.Get(ctx, client.ObjectKey{Namespace: request.Namespace, Name: request.Spec.Window.Name}, &window)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("the window %s, which names the emergency roles, does not exist", request.Spec.Window.Name), nil
	case err != nil:
		return nil, "", fmt.Errorf("reading window %s: %w", request.Spec.Window.Name, err)
	case window.Spec.Emergency == nil:
		return nil, fmt.Sprintf("the window %s allows no emergency updates", request.Spec.Window.Name), nil
	}
	return window.Spec.Emergency.Roles, "", nil
}

// validator refuses every change the mutating webhook did not make: to the
// ledger, to the requester, and commands that bypassed it; and spec changes
// once production may have changed, and staging namespaces that did not opt in.
type validator struct{ *Webhooks }

// Handle implements admission.Handler.
func (v validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	var request golivev1alpha1.UpdateRequest
	if err := v.Decoder.DecodeRaw(req.Object, &request); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	var err error
	specIsNew := false
	switch req.Operation {
	case admissionv1.Create:
		err = v.validateCreate(ctx, &request, req.UserInfo)
		specIsNew = true
	case admissionv1.Update:
		var stored golivev1alpha1.UpdateRequest
		if err := v.Decoder.DecodeRaw(req.OldObject, &stored); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		err = v.validateUpdate(ctx, &stored, &request, req.UserInfo)
		specIsNew = ledger.SpecHash(&request.Spec) != ledger.SpecHash(&stored.Spec)
	}
	if err != nil {
		return respond(ctx, err)
	}
	if specIsNew {
		return admission.Allowed("").WithWarnings(v.specWarnings(ctx, &request)...)
	}
	return admission.Allowed("")
}

func (v validator) validateCreate(ctx context.Context, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) error {
	if err := v.checkSubmitter(ctx, request, user); err != nil {
		return err
	}
	if _, set := request.Annotations[golivev1alpha1.AnnotationLedger]; set {
		return refused("%s is written by golive only: remove it", golivev1alpha1.AnnotationLedger)
	}
	if err := checkNoCommand(request); err != nil {
		return err
	}
	if err := checkMetrics(request); err != nil {
		return err
	}
	if err := v.checkStaging(ctx, request); err != nil {
		return err
	}
	if err := v.checkManagerRights(ctx, request); err != nil {
		return err
	}
	if err := v.checkPolicies(ctx, request); err != nil {
		return err
	}
	if err := v.checkContent(ctx, request); err != nil {
		return err
	}
	if err := v.checkContentAuthor(ctx, nil, request, user); err != nil {
		return err
	}
	return v.checkJobAuthor(ctx, nil, request, user)
}

func (v validator) validateUpdate(ctx context.Context, stored, request *golivev1alpha1.UpdateRequest, user authenticationv1.UserInfo) error {
	for _, stamped := range []string{golivev1alpha1.AnnotationRequestedBy, golivev1alpha1.AnnotationSubmittedBy} {
		before, had := stored.Annotations[stamped]
		after, has := request.Annotations[stamped]
		if before != after || had != has {
			return refused("%s is stamped by golive at creation and cannot change", stamped)
		}
	}
	if err := checkNoCommand(request); err != nil {
		return err
	}
	specChanged := ledger.SpecHash(&request.Spec) != ledger.SpecHash(&stored.Spec)
	if phase := phaseOf(stored); specChanged && phase.TouchesProduction() {
		return refused("the spec cannot change once production may have changed (phase %s); only spec.suspend can", phase)
	}
	entry, err := appendedEntry(stored.Annotations[golivev1alpha1.AnnotationLedger], request.Annotations[golivev1alpha1.AnnotationLedger])
	if err != nil {
		return &refusal{message: err.Error()}
	}
	if entry != nil {
		if specChanged {
			return refused("a command cannot come with a spec change")
		}
		// Decided again with the mutating call's reads for this command.
		if err := v.checkAppended(withSharedReads(ctx, stored, user), stored, *entry, user); err != nil {
			return err
		}
	}
	if request.Spec.Staging.Namespace != stored.Spec.Staging.Namespace {
		if err := v.checkStaging(ctx, request); err != nil {
			return err
		}
	}
	if managerRightsChanged(stored, request) {
		if err := v.checkManagerRights(ctx, request); err != nil {
			return err
		}
	}
	if specChanged {
		if err := checkMetrics(request); err != nil {
			return err
		}
		if err := v.checkPolicies(ctx, request); err != nil {
			return err
		}
		if err := v.checkContent(ctx, request); err != nil {
			return err
		}
		if err := v.checkContentAuthor(ctx, stored, request, user); err != nil {
			return err
		}
		return v.checkJobAuthor(ctx, stored, request, user)
	}
	return nil
}

// checkAppended accepts a new ledger entry only if it is what the mutating
// webhook appends for this user now: signed with golive's key for this
// request, for this user and spec, dated now, and allowed by every rule,
// checked again here. An entry taken from elsewhere (another request, an older
// version of the ledger, another user) fails one of these.
func (v validator) checkAppended(ctx context.Context, stored *golivev1alpha1.UpdateRequest, entry golivev1alpha1.LedgerEntry, user authenticationv1.UserInfo) error {
	if err := ledger.CheckEntry(entry); err != nil {
		return refused("the new ledger entry is malformed: %v", err)
	}
	if !ledger.ValidSignature(v.Key, stored, entry) {
		return refused("the new ledger entry does not carry golive's signature for this request: %s is written by golive only",
			golivev1alpha1.AnnotationLedger)
	}
	if entry.User != user.Username || !slices.Equal(entry.Groups, user.Groups) {
		return refused("the new ledger entry is for %s, but %s makes this change", entry.User, user.Username)
	}
	if err := checkFresh(entry, v.Clock.Now(), entrySkew); err != nil {
		return &refusal{message: err.Error()}
	}
	if specHash := ledger.SpecHash(&stored.Spec); entry.SpecHash != specHash {
		return refused("the new ledger entry was given for another spec")
	}
	command := Command{Action: entry.Action, Comment: entry.Comment}
	if entry.Action == golivev1alpha1.LedgerApprove || entry.Action == golivev1alpha1.LedgerReject {
		command.Role = entry.Role
	}
	want, err := v.decide(ctx, stored, command, user)
	if err != nil {
		var refusal *refusal
		if errors.As(err, &refusal) {
			return refused("%s refused: %s", annotationOf(entry.Action), refusal.message)
		}
		return err
	}
	if want.Role != entry.Role {
		return refused("the new ledger entry names role %q; %s acts for %q", entry.Role, entry.Action, want.Role)
	}
	return nil
}

// sameEntry reports whether a and b are the same signed entry.
func sameEntry(a, b golivev1alpha1.LedgerEntry) bool {
	return a.User == b.User && slices.Equal(a.Groups, b.Groups) && a.Role == b.Role && a.Action == b.Action &&
		a.Comment == b.Comment && a.Time.Equal(&b.Time) && a.SpecHash == b.SpecHash && a.Signature == b.Signature
}

// appendedEntry compares the ledger before and after an update and returns the
// one entry appended, nil when nothing changed, or an error when the ledger
// was changed in any other way (an entry edited, removed, reordered, or more
// than one appended).
func appendedEntry(before, after string) (*golivev1alpha1.LedgerEntry, error) {
	if before == after {
		return nil, nil
	}
	directEdit := fmt.Errorf("%s is written by golive only: it appends one signed entry per command given with %s, %s, %s, %s, %s or %s",
		golivev1alpha1.AnnotationLedger, golivev1alpha1.AnnotationApprove, golivev1alpha1.AnnotationReject,
		golivev1alpha1.AnnotationAccept, golivev1alpha1.AnnotationGo, golivev1alpha1.AnnotationRetry, golivev1alpha1.AnnotationAbort)
	old, err := ledger.Parse(before)
	if err != nil {
		return nil, fmt.Errorf("%w (the stored ledger cannot be read: %v)", directEdit, err)
	}
	updated, err := ledger.Parse(after)
	if err != nil || len(updated) != len(old)+1 {
		return nil, directEdit
	}
	for i := range old {
		if !sameEntry(old[i], updated[i]) {
			return nil, directEdit
		}
	}
	return &updated[len(old)], nil
}

// checkNoCommand refuses a command annotation that reached validation: the
// mutating webhook removes every command it records, so this one bypassed it.
func checkNoCommand(request *golivev1alpha1.UpdateRequest) error {
	for _, c := range commandAnnotations {
		if _, set := request.Annotations[c.annotation]; set {
			return refused("%s reached validation unrecorded: golive's mutating webhook did not run; nothing was recorded", c.annotation)
		}
	}
	return nil
}

// checkStaging refuses a staging namespace that did not opt in.
func (v validator) checkStaging(ctx context.Context, request *golivev1alpha1.UpdateRequest) error {
	err := namespaces.CheckStaging(ctx, v.Reader, request)
	if errors.Is(err, namespaces.ErrStagingNotOptedIn) || errors.Is(err, namespaces.ErrStagingNamespaceNotFound) {
		return &refusal{message: err.Error()}
	}
	return err
}

// patchAnnotations answers with a patch that changes only the annotations of
// the object in raw: working on the JSON rather than the Go type keeps every
// other field exactly as sent.
func patchAnnotations(raw []byte, change func(map[string]string)) admission.Response {
	return patchObject(raw, func(object *unstructured.Unstructured) { changeAnnotations(object, change) })
}

// patchObject answers with a patch that makes the changes change makes to the
// object in raw, as JSON, every other field kept exactly as sent.
func patchObject(raw []byte, change func(*unstructured.Unstructured)) admission.Response {
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(raw); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	change(object)
	changed, err := json.Marshal(object.Object)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(raw, changed)
}

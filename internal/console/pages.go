package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/configdiff"
	"github.com/golive-dev/golive/internal/lifecycle"
	"github.com/golive-dev/golive/internal/window"
)

// fieldManager names the console in managedFields.
const fieldManager = "golive-console"

type waitingPage struct {
	Namespace string
	Asks      []ask
	Forbidden bool
}

// serveWaiting lists what waits for the person, in one namespace or in all
// the person may list.
func (s *Server) serveWaiting(w http.ResponseWriter, r *http.Request) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return
	}
	page := &waitingPage{Namespace: r.URL.Query().Get("namespace")}
	if page.Namespace != "" && len(validation.IsDNS1123Label(page.Namespace)) > 0 {
		page.Namespace = ""
	}
	namespaces := s.opts.Namespaces
	if page.Namespace != "" || len(namespaces) == 0 {
		namespaces = []string{page.Namespace}
	}
	access := newAccessReviews(s.client)
	forbidden := 0
	for _, namespace := range namespaces {
		var requests golivev1alpha1.UpdateRequestList
		if err := s.client.List(ctx, &requests, client.InNamespace(namespace)); err != nil {
			if !apierrors.IsForbidden(err) {
				s.apiError(w, r, err)
				return
			}
			forbidden++
			continue
		}
		windows := s.windowsOf(ctx, namespace)
		for i := range requests.Items {
			request := &requests.Items[i]
			asks, err := asksOf(ctx, access, request, windows[request.Namespace+"/"+request.Spec.Window.Name], sess.User)
			if err != nil {
				s.apiError(w, r, err)
				return
			}
			page.Asks = append(page.Asks, asks...)
		}
	}
	page.Forbidden = forbidden == len(namespaces)
	s.render(w, r, http.StatusOK, "waiting", pageData{User: sess.User, CSRF: sess.CSRF, Page: page})
}

// windowsOf reads the GoLiveWindows the person may read, by namespace/name;
// a window they may not read is simply missing.
func (s *Server) windowsOf(ctx context.Context, namespace string) map[string]*golivev1alpha1.GoLiveWindow {
	var list golivev1alpha1.GoLiveWindowList
	windows := map[string]*golivev1alpha1.GoLiveWindow{}
	if err := s.client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return windows
	}
	for i := range list.Items {
		windows[list.Items[i].Namespace+"/"+list.Items[i].Name] = &list.Items[i]
	}
	return windows
}

// requestKey is the request a URL names, false when the names are not valid.
func requestKey(r *http.Request) (client.ObjectKey, bool) {
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	return key, len(validation.IsDNS1123Label(key.Namespace)) == 0 && len(validation.IsDNS1123Subdomain(key.Name)) == 0
}

func (s *Server) serveRequest(w http.ResponseWriter, r *http.Request) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return
	}
	s.showRequest(w, r, ctx, sess, http.StatusOK, "", "")
}

// showRequest renders a request's page; refusal is the webhook's words for
// a command just refused, comment what the person had typed.
func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *session, status int, refusal, comment string) {
	key, valid := requestKey(r)
	request := &golivev1alpha1.UpdateRequest{}
	if !valid {
		s.renderError(w, r, http.StatusNotFound, translate(languageOf(r), "notFound"))
		return
	}
	if err := s.client.Get(ctx, key, request); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			s.renderError(w, r, http.StatusNotFound, translate(languageOf(r), "notFound"))
			return
		}
		s.apiError(w, r, err)
		return
	}
	glw := &golivev1alpha1.GoLiveWindow{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: request.Spec.Window.Name}, glw); err != nil {
		glw = nil
	}
	view := newRequestView(request, glw)
	view.Refusal, view.Comment = refusal, comment
	view.Migrations = migrationResults(request)
	if len(request.Spec.Config) > 0 && !request.Status.Phase.IsTerminal() {
		// Read with the person's own rights: what they may not read says so.
		view.Config = configdiff.Lines(request, configdiff.ReadProduction(ctx, s.client, request))
	}
	if r.URL.Query().Get("recorded") != "" {
		view.Recorded = lastEntryBy(request, sess.User)
	}
	var err error
	if view.Commands, err = commandsFor(ctx, newAccessReviews(s.client), request, glw, sess.User); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.render(w, r, status, "request", pageData{User: sess.User, CSRF: sess.CSRF, Page: view})
}

// serveCommand gives a command as the person: the CSRF token must be the
// session's, and the API server and golive's webhook decide with the
// person's identity. A refusal is shown as the webhook worded it.
func (s *Server) serveCommand(w http.ResponseWriter, r *http.Request) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return
	}
	if !sameToken(r.PostFormValue("csrf"), sess.CSRF) {
		s.renderError(w, r, http.StatusForbidden, "The form was not this session's (CSRF token); reload the page and try again.")
		return
	}
	key, valid := requestKey(r)
	action := lifecycle.CommandAction(r.PostFormValue("action"))
	annotation, known := commandAnnotations[action]
	if !valid || !known {
		s.renderError(w, r, http.StatusBadRequest, "Unknown request or command.")
		return
	}
	comment := r.PostFormValue("comment")
	value, err := commandValue(action, r.PostFormValue("role"), comment)
	if err != nil {
		s.showRequest(w, r, ctx, sess, http.StatusUnprocessableEntity, err.Error(), comment)
		return
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{annotation: value}}})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	request := &golivev1alpha1.UpdateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := s.client.Patch(ctx, request, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(fieldManager)); err != nil {
		var status apierrors.APIStatus
		if errorAs(err, &status) {
			s.log.Info("The API server refused a command", "user", sess.User, "request", key.String(), "action", string(action))
			s.showRequest(w, r, ctx, sess, int(status.Status().Code), status.Status().Message, comment)
			return
		}
		s.apiError(w, r, err)
		return
	}
	s.log.Info("Gave a command", "user", sess.User, "request", key.String(), "action", string(action))
	http.Redirect(w, r, "/requests/"+key.Namespace+"/"+key.Name+"?recorded=1", http.StatusSeeOther)
}

// apiError answers an API failure that is not the person's to fix.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Info("An API call failed", "error", err.Error())
	status := http.StatusBadGateway
	if apierrors.IsUnauthorized(err) {
		status = http.StatusUnauthorized
	}
	s.renderError(w, r, status, err.Error())
}

type windowRow struct {
	Namespace, Name, TimeZone string
	Open                      bool
	Current, Next             window.Interval
	Freezes                   []golivev1alpha1.Freeze
	Invalid                   string
}

// serveWindows shows the windows the person may read: whether each is open
// and its next opening, and a calendar of the next days' openings and
// freezes in the viewer's time zone and UTC.
func (s *Server) serveWindows(w http.ResponseWriter, r *http.Request) {
	sess, ctx, ok := s.person(w, r)
	if !ok {
		return
	}
	namespace := r.URL.Query().Get("namespace")
	if len(validation.IsDNS1123Label(namespace)) > 0 {
		namespace = ""
	}
	// Like "waiting for me": the namespace asked for, else the console's, else all.
	namespaces := s.opts.Namespaces
	if namespace != "" || len(namespaces) == 0 {
		namespaces = []string{namespace}
	}
	var list golivev1alpha1.GoLiveWindowList
	var refusals []string
	for _, ns := range namespaces {
		var windows golivev1alpha1.GoLiveWindowList
		if err := s.client.List(ctx, &windows, client.InNamespace(ns)); err != nil {
			if !apierrors.IsForbidden(err) {
				s.apiError(w, r, err)
				return
			}
			refusals = append(refusals, apiMessage(err))
			continue
		}
		list.Items = append(list.Items, windows.Items...)
	}
	now := s.clock.Now()
	rows := make([]windowRow, 0, len(list.Items))
	for _, glw := range list.Items {
		row := windowRow{Namespace: glw.Namespace, Name: glw.Name, TimeZone: glw.Spec.TimeZone, Freezes: glw.Spec.Freezes}
		calendar, err := window.Compile(glw.Spec)
		if err != nil {
			row.Invalid = err.Error()
		} else {
			state := calendar.State(now)
			row.Open, row.Current, row.Next = state.Open, state.Current, state.Next
		}
		rows = append(rows, row)
	}
	s.render(w, r, http.StatusOK, "windows", pageData{User: sess.User, CSRF: sess.CSRF, Page: map[string]any{
		"Namespace": namespace, "Windows": rows, "Now": now.Truncate(time.Minute), "Refusals": refusals,
		"Calendar": buildCalendar(list.Items, now, zoneOf(r), calendarDays), "Days": calendarDays,
	}})
}

// errorAs is errors.As for the API status interface.
func errorAs(err error, target *apierrors.APIStatus) bool {
	return errors.As(err, target)
}

package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	// sessionCookie holds the opaque session id, nothing else.
	sessionCookie = "golive_session"
	// loginCookie binds a login's state to the browser that started it.
	loginCookie = "golive_login"
	// loginLifetime bounds the time between the redirect to the issuer and its callback.
	loginLifetime = 10 * time.Minute
	// refreshBefore refreshes an ID token that expires this soon.
	refreshBefore = time.Minute
)

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	cookie := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: !s.opts.InsecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	}
	if maxAge < 0 {
		cookie.MaxAge = -1
	}
	http.SetCookie(w, cookie)
}

// serveLogin starts an authorization-code login with PKCE and a nonce.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !s.allowLogin(r) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "Too many logins from your address; try again in a minute.", http.StatusTooManyRequests)
		return
	}
	state, now := randomID(), s.clock.Now()
	login := &pendingLogin{
		Verifier: oauth2.GenerateVerifier(), Nonce: randomID(),
		Next: localPath(r.URL.Query().Get("next")), Expires: now.Add(loginLifetime),
	}
	s.store.addLogin(state, login, now)
	s.setCookie(w, loginCookie, state, loginLifetime)
	http.Redirect(w, r, s.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(login.Verifier), oidc.Nonce(login.Nonce)), http.StatusFound)
}

// serveCallback finishes a login: the state must be the one this browser
// started, the code is exchanged with the PKCE verifier, the ID token
// verified with its nonce, and the API server asked who the person is.
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	if !s.allowLogin(r) {
		http.Error(w, "Too many logins from your address; try again in a minute.", http.StatusTooManyRequests)
		return
	}
	query := r.URL.Query()
	cookie, err := r.Cookie(loginCookie)
	state := query.Get("state")
	if err != nil || !sameToken(cookie.Value, state) {
		http.Error(w, "This login was not started by this browser; start again.", http.StatusBadRequest)
		return
	}
	s.setCookie(w, loginCookie, "", -1)
	now := s.clock.Now()
	login := s.store.takeLogin(state, now)
	if login == nil {
		http.Error(w, "This login expired; start again.", http.StatusBadRequest)
		return
	}
	if problem := query.Get("error"); problem != "" {
		http.Error(w, "The identity provider refused the login: "+problem+" "+query.Get("error_description"), http.StatusForbidden)
		return
	}
	ctx := s.issuerCtx(r.Context())
	token, err := s.oauth.Exchange(ctx, query.Get("code"), oauth2.VerifierOption(login.Verifier))
	if err != nil {
		s.log.Info("Refused a login: the code exchange failed", "error", err.Error())
		http.Error(w, "The identity provider did not confirm the login; start again.", http.StatusForbidden)
		return
	}
	sess, err := s.sessionFromToken(ctx, token, login.Nonce)
	if err != nil {
		s.log.Info("Refused a login", "error", err.Error())
		http.Error(w, "The login could not be verified.", http.StatusForbidden)
		return
	}
	sess.Expires = now.Add(s.opts.SessionLifetime)
	sess.CSRF = randomID()
	sess.User, err = whoAmI(withIdentity(r.Context(), s.identityOf(sess)), s.client)
	if err != nil {
		s.log.Info("Refused a login: the API server did not accept the person", "subject", sess.Subject, "error", err.Error())
		http.Error(w, "The API server did not accept your login: "+err.Error(), http.StatusForbidden)
		return
	}
	s.setCookie(w, sessionCookie, s.store.addSession(sess, now), s.opts.SessionLifetime)
	s.log.Info("Logged a person in", "user", sess.User)
	http.Redirect(w, r, login.Next, http.StatusSeeOther)
}

// sessionFromToken verifies the ID token of a token response (with nonce,
// when not empty) and returns a session holding it.
func (s *Server) sessionFromToken(ctx context.Context, token *oauth2.Token, nonce string) (*session, error) {
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token response holds no ID token")
	}
	idToken, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the ID token: %w", err)
	}
	if nonce != "" && !sameToken(idToken.Nonce, nonce) {
		return nil, errors.New("the ID token's nonce is not this login's")
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return nil, fmt.Errorf("reading the ID token's claims: %w", err)
	}
	sess := &session{Subject: idToken.Subject, Token: token, RawIDToken: raw, IDTokenExpiry: idToken.Expiry}
	if s.opts.Impersonate {
		if sess.Username, sess.Groups, err = s.impersonated(claims); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

// impersonated maps the verified claims to the user and groups the
// impersonation fallback acts as; names the API server reserves are refused.
func (s *Server) impersonated(claims map[string]any) (string, []string, error) {
	name, _ := claims[s.opts.UsernameClaim].(string)
	if name == "" {
		return "", nil, fmt.Errorf("the ID token has no claim %q to act as", s.opts.UsernameClaim)
	}
	user := s.opts.UsernamePrefix + name
	if strings.HasPrefix(user, "system:") {
		return "", nil, fmt.Errorf("the console does not impersonate %q: system: names are the API server's", user)
	}
	var groups []string
	if s.opts.GroupsClaim != "" {
		values, _ := claims[s.opts.GroupsClaim].([]any)
		for _, value := range values {
			group, ok := value.(string)
			if !ok || group == "" {
				continue
			}
			group = s.opts.GroupsPrefix + group
			if strings.HasPrefix(group, "system:") {
				return "", nil, fmt.Errorf("the console does not impersonate the group %q: system: groups are the API server's", group)
			}
			groups = append(groups, group)
		}
	}
	return user, groups, nil
}

func (s *Server) identityOf(sess *session) identity {
	return identity{idToken: sess.RawIDToken, user: sess.Username, groups: sess.Groups}
}

// person returns the request's session and a context that acts as its
// person, refreshing the ID token when it is about to expire. Without a
// session it answers the request itself: a GET goes to the login, anything
// else is refused.
func (s *Server) person(w http.ResponseWriter, r *http.Request) (*session, context.Context, bool) {
	cookie, err := r.Cookie(sessionCookie)
	var sess *session
	now := s.clock.Now()
	if err == nil {
		sess = s.store.session(cookie.Value, now)
	}
	if sess != nil && !now.Add(refreshBefore).Before(sess.IDTokenExpiry) {
		sess = s.refreshSession(r.Context(), cookie.Value, now)
	}
	if sess == nil {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusFound)
		} else {
			s.renderError(w, r, http.StatusUnauthorized, translate(languageOf(r), "sessionEnded"))
		}
		return nil, nil, false
	}
	return sess, withIdentity(r.Context(), s.identityOf(sess)), true
}

// refreshSession refreshes the ID token of session id once, however many of
// the person's requests find it about to expire at the same time: an issuer
// that rotates refresh tokens accepts each one only once, so a second refresh
// with the same token would end the session. nil when the session ended.
func (s *Server) refreshSession(ctx context.Context, id string, now time.Time) *session {
	refreshed, _, _ := s.refreshes.Do(id, func() (any, error) {
		current := s.store.session(id, now)
		if current == nil || now.Add(refreshBefore).Before(current.IDTokenExpiry) {
			return current, nil // ended, or refreshed a moment ago
		}
		// The refresh serves every request waiting for it: one leaving must not cancel it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		updated, err := s.refresh(ctx, current)
		if err != nil {
			s.log.Info("Ended a session: its ID token could not be refreshed", "error", err.Error())
			s.store.deleteSession(id)
			return (*session)(nil), nil
		}
		s.store.updateSession(id, updated)
		return updated, nil
	})
	return refreshed.(*session)
}

// refresh gets a new ID token with the session's refresh token; an error ends the session.
func (s *Server) refresh(ctx context.Context, sess *session) (*session, error) {
	if sess.Token == nil || sess.Token.RefreshToken == "" {
		return nil, errors.New("the session has no refresh token")
	}
	ctx = s.issuerCtx(ctx)
	token, err := s.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: sess.Token.RefreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("refreshing the tokens: %w", err)
	}
	refreshed, err := s.sessionFromToken(ctx, token, "")
	if err != nil {
		return nil, err
	}
	if refreshed.Subject != sess.Subject {
		return nil, errors.New("the refreshed ID token names another subject")
	}
	if token.RefreshToken == "" { // the issuer kept the refresh token
		token.RefreshToken = sess.Token.RefreshToken
	}
	updated := *sess
	updated.Token, updated.RawIDToken, updated.IDTokenExpiry = token, refreshed.RawIDToken, refreshed.IDTokenExpiry
	updated.Username, updated.Groups = refreshed.Username, refreshed.Groups
	return &updated, nil
}

// serveLogout ends the session (a form with the CSRF token).
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	cookie, err := r.Cookie(sessionCookie)
	if err == nil {
		sess := s.store.session(cookie.Value, s.clock.Now())
		if sess != nil && !sameToken(r.PostFormValue("csrf"), sess.CSRF) {
			s.renderError(w, r, http.StatusForbidden, "The form was not this session's (CSRF token).")
			return
		}
		s.store.deleteSession(cookie.Value)
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/logged-out", http.StatusSeeOther)
}

func (s *Server) serveLoggedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "loggedout", pageData{})
}

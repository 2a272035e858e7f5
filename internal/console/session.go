package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// session is what the console keeps about a logged-in person. It stays in the
// console's memory: the browser holds only its opaque id, never a token.
type session struct {
	// User is the name the API server knows the person by (SelfSubjectReview).
	User string
	// Subject, Username and Groups are the verified ID token's claims; the
	// impersonation fallback acts as Username and Groups.
	Subject  string
	Username string
	Groups   []string
	// Token holds the access and refresh tokens; RawIDToken the ID token the
	// console sends to the API server, valid until IDTokenExpiry.
	Token         *oauth2.Token
	RawIDToken    string
	IDTokenExpiry time.Time
	// CSRF is the token every form of this session carries.
	CSRF string
	// Expires ends the session whatever its tokens say.
	Expires time.Time
}

// pendingLogin is a login between the redirect to the provider and its callback.
type pendingLogin struct {
	Verifier string
	Nonce    string
	Next     string
	Expires  time.Time
}

// store holds sessions and pending logins in memory, under opaque random ids.
// A restart logs everyone out, which is the safe direction.
type store struct {
	mu       sync.Mutex
	sessions map[string]*session
	logins   map[string]*pendingLogin
	// max bounds each map, so that a flood of logins cannot exhaust memory.
	max int
}

func newStore(max int) *store {
	return &store{sessions: map[string]*session{}, logins: map[string]*pendingLogin{}, max: max}
}

// randomID is 32 random bytes, URL-safe base64.
func randomID() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error (it crashes the program instead).
	_, _ = rand.Read(b)
	return b
}

// addSession stores s under a new id and returns it.
func (s *store) addSession(sess *session, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	expireSessions(s.sessions, now)
	if len(s.sessions) >= s.max {
		evictOldest(s.sessions)
	}
	id := randomID()
	s.sessions[id] = sess
	return id
}

// session returns a copy of the session with id, nil when it is unknown or expired.
func (s *store) session(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil
	}
	if !now.Before(sess.Expires) {
		delete(s.sessions, id)
		return nil
	}
	copied := *sess
	return &copied
}

// updateSession replaces the session with id, if it still exists.
func (s *store) updateSession(id string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[id]; ok {
		s.sessions[id] = sess
	}
}

func (s *store) deleteSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// addLogin stores a pending login under its state.
func (s *store) addLogin(state string, login *pendingLogin, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, l := range s.logins {
		if !now.Before(l.Expires) {
			delete(s.logins, id)
		}
	}
	if len(s.logins) >= s.max {
		for id := range s.logins { // any one: they are all short-lived
			delete(s.logins, id)
			break
		}
	}
	s.logins[state] = login
}

// takeLogin returns and forgets the pending login of state: a state is used once.
func (s *store) takeLogin(state string, now time.Time) *pendingLogin {
	s.mu.Lock()
	defer s.mu.Unlock()
	login, ok := s.logins[state]
	delete(s.logins, state)
	if !ok || !now.Before(login.Expires) {
		return nil
	}
	return login
}

func expireSessions(sessions map[string]*session, now time.Time) {
	for id, sess := range sessions {
		if !now.Before(sess.Expires) {
			delete(sessions, id)
		}
	}
}

func evictOldest(sessions map[string]*session) {
	var oldest string
	for id, sess := range sessions {
		if oldest == "" || sess.Expires.Before(sessions[oldest].Expires) {
			oldest = id
		}
	}
	delete(sessions, oldest)
}

// sameToken compares two secrets in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

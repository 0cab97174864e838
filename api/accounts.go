package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
)

// sessionCookie is the name of the sign-in cookie: HttpOnly, SameSite=Strict, Secure behind TLS.
const sessionCookie = "gridline_session"

// csrfHeader carries the CSRF token on a write authenticated by the session cookie.
const csrfHeader = "X-CSRF-Token"

// routeAccounts mounts sign-in, accounts, grants and the audit log.
func (s *Server) routeAccounts(r *mux.Router) {
	r.HandleFunc("/v1/session", s.getSession).Methods(http.MethodGet)
	r.HandleFunc("/v1/session", s.signIn).Methods(http.MethodPost)
	r.HandleFunc("/v1/session", s.signOut).Methods(http.MethodDelete)
	r.Handle("/v1/accounts", s.need(accounts.AccountsManage, "listing accounts", s.listAccounts)).Methods(http.MethodGet)
	r.Handle("/v1/accounts", s.need(accounts.AccountsManage, "creating an account", s.createAccount)).Methods(http.MethodPost)
	r.Handle("/v1/accounts/{username}/password", http.HandlerFunc(s.setPassword)).Methods(http.MethodPost)
	r.Handle("/v1/accounts/{username}/disable", s.need(accounts.AccountsManage, "disabling an account", s.disableAccount)).Methods(http.MethodPost)
	r.Handle("/v1/grants", s.need(accounts.AccountsManage, "granting a role", s.addGrant)).Methods(http.MethodPost)
	r.Handle("/v1/grants/{id:[0-9]+}", s.need(accounts.AccountsManage, "revoking a grant", s.revokeGrant)).Methods(http.MethodDelete)
	r.Handle("/v1/audit", s.need(accounts.AuditRead, "reading the audit log", s.getAudit)).Methods(http.MethodGet)
}

type principalKey struct{}

// principalFrom is the request's authenticated caller, or nil (anonymous).
func principalFrom(r *http.Request) *accounts.Principal {
	p, _ := r.Context().Value(principalKey{}).(*accounts.Principal)
	return p
}

// requestID is the client's X-Request-Id when it is a plain token, or a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "" {
		return id
	}
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail on Linux
	return hex.EncodeToString(b[:])
}

// clientAddress is the peer's address without its port. (Behind a reverse proxy this is the
// proxy's: forwarded headers are not trusted, since any client can send them.)
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate is the one place a request's credential is checked: an API token (Authorization:
// Bearer glt_...) or the session cookie, whose writes must carry the CSRF token. It returns the
// request with the principal and the audit actor in its context. No credential is an anonymous
// caller; a bad token is refused; a stale session cookie on a read is anonymous (so the map still
// loads after a session expires), on a write refused.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	reqID := requestID(r)
	w.Header().Set("X-Request-Id", reqID)
	addr := clientAddress(r)
	var p *accounts.Principal
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return r, gridline.Errorf(gridline.EUnauthorized, "the Authorization header must be Bearer <token>")
		}
		var err error
		if p, err = s.accounts.FromToken(r.Context(), strings.TrimSpace(tok)); err != nil {
			return r, err
		}
	} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && !(r.Method == http.MethodPost && r.URL.Path == "/v1/session") {
		p, err = s.accounts.FromSession(r.Context(), c.Value)
		if err != nil {
			if safeMethod(r.Method) && gridline.ErrorCode(err) == gridline.EUnauthorized {
				p = nil
			} else {
				return r, err
			}
		} else if !safeMethod(r.Method) && !accounts.CheckCSRF(c.Value, r.Header.Get(csrfHeader)) {
			return r, gridline.Errorf(gridline.EForbidden, "a change made with the session cookie needs the %s header: send the csrf_token that GET /v1/session gives", csrfHeader).With("header", csrfHeader)
		}
	}
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	ctx = gridline.WithActor(ctx, p.Actor(addr, reqID))
	return r.WithContext(ctx), nil
}

// need wraps h with the request-level permission check: an anonymous caller is asked to sign in
// (401), a caller whose grants hold perm nowhere is refused (403). Where the grants hold it, the
// handler and the store narrow it to their scope (a write is checked again in its transaction,
// row by row).
func (s *Server) need(perm accounts.Permission, what string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.allowed(r, perm, what); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	})
}

// allowed is need's check, for handlers that decide what they need from the request.
func (s *Server) allowed(r *http.Request, perm accounts.Permission, what string) error {
	p := principalFrom(r)
	if p == nil {
		return gridline.Errorf(gridline.EUnauthorized, "%s needs you to sign in (POST /v1/session, or the map's sign-in) or an API token (Authorization: Bearer <token>)", what)
	}
	if !p.CanSomewhere(perm) {
		return accounts.Forbidden(perm, what)
	}
	return nil
}

// sessionView is what GET /v1/session and a sign-in answer.
func sessionView(p *accounts.Principal, csrf string) map[string]any {
	if p == nil {
		return map[string]any{"signed_in": false}
	}
	perms := p.Permissions()
	v := map[string]any{"signed_in": true, "account_id": p.AccountID, "username": p.Username, "person_id": p.PersonID,
		"grants": p.Grants, "permissions": perms.Names()}
	if csrf != "" {
		v["csrf_token"] = csrf
	}
	return v
}

// getSession is GET /v1/session: who is signed in, their grants and permissions, and the CSRF
// token their writes must send.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	csrf := ""
	if c, err := r.Cookie(sessionCookie); err == nil && p != nil && p.SessionID != 0 {
		csrf = accounts.CSRFToken(c.Value)
	}
	writeJSON(w, http.StatusOK, sessionView(p, csrf))
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return gridline.Errorf(gridline.EInvalid, "the body must be a JSON object with the fields the endpoint lists in docs/api.md: %v", err)
	}
	return nil
}

// signIn is POST /v1/session {"username","password"}: the session cookie and the CSRF token.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sess, err := s.accounts.SignIn(r.Context(), in.Username, in.Password, clientAddress(r))
	if err != nil {
		var e *gridline.Error
		if errors.As(err, &e) && e.Code == gridline.ETooMany {
			if secs, ok := e.Details["retry_after"].(int); ok {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
		}
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Secret, Path: "/", MaxAge: int(sess.TTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.secureCookies})
	writeJSON(w, http.StatusOK, sessionView(sess.Principal, sess.CSRF))
}

// signOut is DELETE /v1/session: the session ends and the cookie is cleared.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	if p != nil && p.SessionID != 0 {
		if err := s.accounts.SignOut(r.Context(), p); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.secureCookies})
	writeJSON(w, http.StatusOK, sessionView(nil, ""))
}

// listAccounts is GET /v1/accounts.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := s.db.Accounts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": list})
}

// createAccount is POST /v1/accounts {"username","password","person_id"|"name","phone"}.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var in accounts.NewAccount
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := accounts.CreateAccount(r.Context(), s.db, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// setPassword is POST /v1/accounts/{username}/password {"password"}: an account's own, or any
// account's with accounts.manage. The account's sessions end.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	username := mux.Vars(r)["username"]
	p := principalFrom(r)
	if p == nil || p.Username != username {
		if err := s.allowed(r, accounts.AccountsManage, "setting another account's password"); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := accounts.SetPassword(r.Context(), s.db, username, in.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"username": username, "password": "changed", "sessions": "ended"})
}

// disableAccount is POST /v1/accounts/{username}/disable.
func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request) {
	username := mux.Vars(r)["username"]
	if err := s.db.DisableAccount(r.Context(), username); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.accounts.Forget()
	writeJSON(w, http.StatusOK, map[string]any{"username": username, "disabled": true})
}

// addGrant is POST /v1/grants {"username","role","scope"} with scope all, grid:ID|CODE or
// department:CODE.
func (s *Server) addGrant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Scope    string `json:"scope"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.grantFrom(r.Context(), in.Username, in.Role, in.Scope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.db.AddGrant(r.Context(), g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.accounts.Forget()
	writeJSON(w, http.StatusCreated, out)
}

// grantFrom reads a grant as the API and the command line write it.
func (s *Server) grantFrom(ctx context.Context, username, role, scope string) (accounts.Grant, error) {
	return GrantFrom(ctx, s.db, s.resolver.Today(), username, role, scope)
}

// GrantStore is what GrantFrom needs.
type GrantStore interface {
	AccountByUsername(ctx context.Context, username string) (*accounts.Account, error)
	Grid(ctx context.Context, idOrCode string, at time.Time) (*gridline.Grid, error)
}

// GrantFrom reads a grant as the API and the command line write it: a username, a role and a
// scope (all, grid:ID or grid:CODE, department:CODE); a grid code names the grid valid today.
func GrantFrom(ctx context.Context, st GrantStore, today time.Time, username, role, scope string) (accounts.Grant, error) {
	a, err := st.AccountByUsername(ctx, username)
	if err != nil {
		return accounts.Grant{}, err
	}
	sc, ref, err := accounts.ParseScope(scope)
	if err != nil {
		return accounts.Grant{}, err
	}
	if ref != "" {
		g, err := st.Grid(ctx, ref, today)
		if err != nil {
			return accounts.Grant{}, err
		}
		sc.Grid = g.ID
	}
	gr := accounts.Grant{AccountID: a.ID, Role: accounts.Role(role), Scope: sc}
	return gr, gr.Validate()
}

// revokeGrant is DELETE /v1/grants/{id}.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	g, err := s.db.RevokeGrant(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.accounts.Forget()
	writeJSON(w, http.StatusOK, map[string]any{"revoked": g})
}

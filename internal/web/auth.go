package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
)

// The sign-in form has no session to bind a CSRF token to, so it uses a
// double-submit cookie: a random token in an HttpOnly SameSite=Strict cookie
// and the same value in the form. A cross-site page can neither read the
// cookie nor make the browser send it, so it cannot forge the pair (which
// stops login CSRF: signing a victim into the attacker's account).
const (
	loginCSRFCookie    = "custos_login_csrf"
	loginCSRFCookieTLS = "__Host-custos_login_csrf"
)

// LoginView is the sign-in page.
type LoginView struct {
	Page
	Username string
	Next     string
	Error    string
}

func (s *Server) loginCookieName(r *http.Request) string {
	if s.cfg.Secure(r) {
		return loginCSRFCookieTLS
	}
	return loginCSRFCookie
}

// newLoginToken sets a fresh double-submit cookie and returns its value
// for the form.
func (s *Server) newLoginToken(w http.ResponseWriter, r *http.Request) string {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: s.loginCookieName(r), Value: tok, Path: "/", MaxAge: 3600,
		HttpOnly: true, Secure: s.cfg.Secure(r), SameSite: http.SameSiteStrictMode})
	return tok
}

func (s *Server) clearLoginToken(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.loginCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Secure(r), SameSite: http.SameSiteStrictMode})
}

// loginPage shows the sign-in form; someone already signed in goes on.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if tok := s.cfg.SessionToken(r); tok != "" {
		if _, err := s.svc.Authenticate(r.Context(), tok, s.cfg.Client(r)); err == nil {
			redirect(w, r, next)
			return
		}
	}
	s.showLogin(w, r, http.StatusOK, LoginView{Next: next})
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, v LoginView) {
	v.Page = s.page(r, nil, "login.title", "")
	v.CSRF = s.newLoginToken(w, r)
	s.render(w, r, status, "login", v)
}

// login checks the double-submit token, then the password, and opens a
// session. A user who must change their password goes there first.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, nil, &crm.Error{Code: crm.Invalid, Key: "bad_request", Message: "unreadable form"})
		return
	}
	l := lang(r, nil)
	v := LoginView{Username: r.PostFormValue("username"), Next: safeNext(r.PostFormValue("next"))}
	ck, err := r.Cookie(s.loginCookieName(r))
	if err != nil || !httpx.ValidCSRF(r.PostFormValue(httpx.CSRFField), ck.Value) {
		v.Error = i18n.T(l, "error.csrf")
		s.showLogin(w, r, http.StatusForbidden, v)
		return
	}
	res, err := s.svc.Login(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"), s.cfg.Client(r))
	if err != nil {
		v.Error = i18n.Message(l, err)
		if crm.ErrorCode(err) == crm.Internal {
			rid := httpx.RequestID(r.Context())
			s.logger.Error("sign-in failed", "request_id", rid, "err", err)
			v.Error += " " + i18n.Tf(l, "error.request_id", rid)
		}
		s.showLogin(w, r, httpx.Status(err), v)
		return
	}
	s.clearLoginToken(w, r)
	// A browser-session cookie: the server-side session has a sliding idle
	// expiry, which is what really ends it.
	s.cfg.SetSessionCookie(w, r, res.Token, 0)
	if res.User.MustChangePW {
		redirect(w, r, passwordURL(v.Next))
		return
	}
	redirect(w, r, v.Next)
}

// logout ends the session and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if err := s.svc.Logout(r.Context(), a); err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.cfg.SetSessionCookie(w, r, "", -1)
	redirect(w, r, "/login")
}

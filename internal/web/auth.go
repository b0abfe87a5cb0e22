package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
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
	if err := httpx.ParseForm(w, r, maxForm); err != nil {
		s.fail(w, r, nil, err)
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
	if res.MFARequired {
		redirect(w, r, withNext("/login/mfa", v.Next))
		return
	}
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

// SecondFactorView is the second step of signing in: a passkey, a code
// from the authenticator app or a recovery code.
type SecondFactorView struct {
	Page
	Next    string
	Error   string
	Passkey bool // the user has a passkey usable here
}

// secondFactorPage asks a session opened by a password for its second
// factor; a session that has none pending goes on.
func (s *Server) secondFactorPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	next := safeNext(r.URL.Query().Get("next"))
	if !a.MFAPending {
		redirect(w, r, next)
		return
	}
	s.showSecondFactor(w, r, a, http.StatusOK, SecondFactorView{Next: next})
}

func (s *Server) showSecondFactor(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v SecondFactorView) {
	v.Page = s.page(r, a, "mfa.login_title", "")
	v.Page.Actor = nil // not signed in yet: no menu, only the form (its CSRF token stays)
	v.Passkey = s.hasPasskey(r, a)
	s.render(w, r, status, "login_mfa", v)
}

// hasPasskey reports whether the user can be offered a passkey; when the
// status cannot be read the page just offers codes.
func (s *Server) hasPasskey(r *http.Request, a *access.Actor) bool {
	st, err := s.svc.MFA(r.Context(), a)
	return err == nil && st.PasskeysAvailable && st.UsablePasskeys > 0
}

// secondFactor completes the sign-in: the session gets a new token, and a
// user who must change their password goes there next.
func (s *Server) secondFactor(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	next := safeNext(r.PostFormValue("next"))
	if !a.MFAPending {
		redirect(w, r, next)
		return
	}
	var res service.LoginResult
	var err error
	if answer := r.PostFormValue(passkeyField); answer != "" {
		res, err = s.svc.CompleteLoginPasskey(r.Context(), a, []byte(answer))
	} else {
		res, err = s.svc.CompleteLogin(r.Context(), a, r.PostFormValue("code"))
	}
	if err != nil {
		if crm.ErrorCode(err) == crm.Internal {
			s.fail(w, r, a, err)
			return
		}
		s.showSecondFactor(w, r, a, httpx.Status(err), SecondFactorView{Next: next, Error: i18n.Message(lang(r, a), err)})
		return
	}
	s.cfg.SetSessionCookie(w, r, res.Token, 0)
	if res.User.MustChangePW {
		redirect(w, r, passwordURL(next))
		return
	}
	redirect(w, r, next)
}

// stepUpField carries the second factor's code (stepUpPasskeyField a
// passkey's answer) when the step-up page re-submits the form it
// interrupted; s.guard verifies it first.
const stepUpField = "step_up_code"

// HiddenField is one value of an interrupted form, re-submitted as it was
// typed once the second factor is confirmed.
type HiddenField struct {
	Name, Value string
}

// StepUpView asks for a second factor before a risky operation. Action is
// where the form posts: the interrupted form's own address (with its
// values in Fields), or /step-up with Next to return to.
type StepUpView struct {
	Page
	Action  string
	Next    string
	Fields  []HiddenField
	Enrol   bool // the user has no second factor to confirm with
	Passkey bool // the user has a passkey usable here
	Message string
	Error   string
}

// stepUpPage answers a refusal for want of a fresh second factor: a page
// asking for a code that then repeats what the user was doing, with what
// they typed. htmx requests go to the standalone step-up page and return
// to the page they came from.
func (s *Server) stepUpPage(w http.ResponseWriter, r *http.Request, a *access.Actor, err error) {
	l := lang(r, a)
	if isHTMX(r) {
		next := "/"
		if u, perr := url.Parse(r.Header.Get("HX-Current-URL")); perr == nil {
			next = safeNext(u.RequestURI())
		}
		w.Header().Set("HX-Redirect", withNext("/step-up", next))
		w.WriteHeader(http.StatusForbidden)
		return
	}
	v := StepUpView{Page: s.page(r, a, "stepup.title", ""), Enrol: !a.MFAEnrolled, Passkey: s.hasPasskey(r, a), Message: i18n.T(l, "stepup.intro")}
	if crm.IsCode(err, crm.StepUpRequired) {
		v.Message = i18n.Message(l, err)
	} else {
		v.Error = i18n.Message(l, err)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path != "/step-up":
		v.Action = requestPath(r)
		keys := make([]string, 0, len(r.PostForm))
		for k := range r.PostForm {
			if k != httpx.CSRFField && k != stepUpField && k != stepUpPasskeyField {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, val := range r.PostForm[k] {
				v.Fields = append(v.Fields, HiddenField{Name: k, Value: val})
			}
		}
	case r.Method == http.MethodPost:
		v.Action, v.Next = "/step-up", safeNext(r.PostFormValue("next"))
	default:
		v.Action, v.Next = "/step-up", safeNext(requestPath(r))
	}
	s.render(w, r, httpx.Status(err), "step_up", v)
}

// stepUpForm is the standalone step-up page (GET /step-up?next=...).
func (s *Server) stepUpForm(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := StepUpView{Page: s.page(r, a, "stepup.title", ""), Action: "/step-up", Next: safeNext(r.URL.Query().Get("next")),
		Enrol: !a.MFAEnrolled, Passkey: s.hasPasskey(r, a), Message: i18n.T(lang(r, a), "stepup.intro")}
	if v.Enrol {
		v.Message = i18n.T(lang(r, a), "error.step_up_enrol")
	}
	s.render(w, r, http.StatusOK, "step_up", v)
}

// stepUpDone runs after s.guard verified the code: back to where the user
// was. Without a code there is nothing to confirm.
func (s *Server) stepUpDone(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if r.PostFormValue(stepUpField) == "" && r.PostFormValue(stepUpPasskeyField) == "" {
		s.stepUpPage(w, r, a, &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "enter the code",
			Fields: []crm.FieldError{{Field: "code", Rule: "required"}}})
		return
	}
	redirect(w, r, safeNext(r.PostFormValue("next")))
}

package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
)

// handler is a page handler with its signed-in actor.
type handler func(w http.ResponseWriter, r *http.Request, a *access.Actor)

// gate says what a route needs beyond a session. The gates are ordered: a
// route admits a session only when every step before it is done.
type gate int

const (
	gateSecondFactor gate = iota // any session, even one waiting for its second factor (sign-in's second step, sign-out)
	gatePassword                 // reachable while a password change is pending
	gateEnrol                    // reachable while a second factor the role requires is not set up
	gateUser                     // any signed-in user whose password and second factor are in order
	gateAdmin                    // administrators only
)

// authed signs the request in from the session cookie, checks the CSRF
// token of every state-changing request before the handler runs (so a
// forged request changes nothing), and keeps a user on the step they must
// finish first: the second factor of a sign-in, a password change, setting
// up a second factor their role requires.
func (s *Server) authed(h handler) http.HandlerFunc { return s.guard(gateUser, h) }

// admin is authed plus the administration permission. The service checks
// it again on every write; this check keeps the pages themselves closed.
func (s *Server) admin(h handler) http.HandlerFunc { return s.guard(gateAdmin, h) }

func (s *Server) guard(g gate, h handler) http.HandlerFunc { return s.guardBody(g, readForm, h) }

// readForm reads the form of a state-changing request and returns the CSRF
// token it carries.
func readForm(w http.ResponseWriter, r *http.Request) (string, error) {
	if err := httpx.ParseForm(w, r, maxForm); err != nil {
		return "", err
	}
	return csrfToken(r), nil
}

// guardBody is guard with the way a state-changing request's body is read
// and its CSRF token found (a form, or an upload: uploading).
func (s *Server) guardBody(g gate, body func(w http.ResponseWriter, r *http.Request) (csrf string, err error), h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.svc.Authenticate(r.Context(), s.cfg.SessionToken(r), s.cfg.Client(r))
		if err != nil {
			if crm.IsCode(err, crm.Unauthenticated) {
				s.toLogin(w, r)
				return
			}
			s.fail(w, r, nil, err)
			return
		}
		if !httpx.IsSafeMethod(r.Method) {
			token, err := body(w, r)
			if err != nil {
				s.fail(w, r, a, err)
				return
			}
			if !httpx.ValidCSRF(token, a.CSRFToken) {
				s.forbidden(w, r, a, "error.csrf")
				return
			}
		}
		switch {
		case a.MFAPending && g > gateSecondFactor:
			redirect(w, r, withNext("/login/mfa", requestPath(r)))
			return
		case a.MustChangePassword && g > gatePassword:
			redirect(w, r, passwordURL(requestPath(r)))
			return
		case a.MustEnrolMFA() && g > gateEnrol:
			redirect(w, r, withNext("/account/mfa", requestPath(r)))
			return
		case g == gateAdmin && !a.IsAdmin():
			s.forbidden(w, r, a, "error.forbidden")
			return
		}
		// A form re-submitted from the step-up page carries the second
		// factor's code or a passkey's answer: verify it first, so the
		// action runs with a fresh step-up, or show the step-up page again.
		if !a.MFAPending {
			var err error
			if answer := r.PostFormValue(stepUpPasskeyField); answer != "" {
				err = s.svc.StepUpPasskey(r.Context(), a, []byte(answer))
			} else if code := r.PostFormValue(stepUpField); code != "" {
				err = s.svc.StepUp(r.Context(), a, code)
			}
			if err != nil {
				s.stepUpPage(w, r, a, err)
				return
			}
		}
		h(w, r, a)
	}
}

// withNext adds a "next" target to a path when there is somewhere to
// return to.
func withNext(path, next string) string {
	if next == "" || next == "/" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// csrfToken is the token from the hidden form field or, for htmx
// requests, from the X-CSRF-Token header set by hx-headers on <body>.
func csrfToken(r *http.Request) string {
	if got := r.PostFormValue(httpx.CSRFField); got != "" {
		return got
	}
	return r.Header.Get(httpx.CSRFHeader)
}

// toLogin sends a signed-out visitor to the sign-in page, remembering where
// they wanted to go when that was a page (a GET). htmx follows HX-Redirect
// with a full page load instead of swapping the sign-in page into a row.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	to := "/login"
	if r.Method == http.MethodGet {
		if p := requestPath(r); p != "/" {
			to += "?next=" + url.QueryEscape(p)
		}
	}
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	redirect(w, r, to)
}

// requestPath is the path and query of the request, as a "next" target.
func requestPath(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return r.URL.Path
	}
	return r.URL.Path + "?" + r.URL.RawQuery
}

// safeNext accepts only a same-site relative path as a post-sign-in target,
// so /login?next=https://evil.example (or //evil.example, /\evil.example)
// can never send a user elsewhere: an open redirect.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	return next
}

// pathID reads the {id} path value; anything but a positive number is "not
// found", exactly like a record outside the user's scope.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

package web

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"strconv"

	"github.com/pquerna/otp"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
)

// The second factor and sessions: the user's own on the account pages,
// anyone's on the administration page of a user.

// MFAView is the second-factor page: the authenticator app (set up,
// disable), passkeys (add, rename, remove) and recovery codes. MustEnrol
// explains why a user was sent here first.
type MFAView struct {
	Page
	MFA         service.MFAStatus
	Passkeys    []service.Passkey
	PasskeyName string // as typed in the add-a-passkey form
	MustEnrol   bool
	Next        string
	Errors      FormErrors
	Form        string // which form the errors belong to: "regenerate", "disable", "passkey" or "rename"
}

// PasskeyNameField is the name input of the add-a-passkey form.
func (v MFAView) PasskeyNameField() FieldView {
	return FieldView{Name: "name", Label: v.T("passkey.name"), Value: v.PasskeyName, Required: true, Max: 60, Autocomplete: "off",
		Error: v.ErrorsOf("passkey").For("name"), Hint: v.T("passkey.name_hint")}
}

// CodeField is a second-factor code input.
func (p Page) CodeField(errs FormErrors) FieldView {
	return FieldView{Name: "code", Label: p.T("field.code"), Required: true, Max: 40, Autocomplete: "one-time-code",
		Error: errs.For("code"), Hint: p.T("mfa.code_hint")}
}

// FormErrors are the errors of one of the page's forms.
func (v MFAView) ErrorsOf(form string) FormErrors {
	if v.Form != form {
		return FormErrors{}
	}
	return v.Errors
}

func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showMFA(w, r, a, http.StatusOK, MFAView{Next: r.URL.Query().Get("next")})
}

func (s *Server) showMFA(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v MFAView) {
	st, err := s.svc.MFA(r.Context(), a)
	keys, err2 := s.svc.ListPasskeys(r.Context(), a)
	if err := firstError(err, err2); err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Page, v.MFA, v.Passkeys, v.MustEnrol = s.page(r, a, "mfa.title", "account"), st, keys, a.MustEnrolMFA()
	if v.Next != "" {
		v.Next = safeNext(v.Next)
	}
	s.render(w, r, status, "mfa", v)
}

// MFAEnrolView shows a new secret (text, otpauth URI, QR code) and asks for
// the first code.
type MFAEnrolView struct {
	Page
	Enrolment service.TOTPEnrolment
	Next      string
	Errors    FormErrors
}

// SecretGroups is the secret in groups of four, easier to type.
func (v MFAEnrolView) SecretGroups() string {
	var b []byte
	for i, c := range []byte(v.Enrolment.Secret) {
		if i > 0 && i%4 == 0 {
			b = append(b, ' ')
		}
		b = append(b, c)
	}
	return string(b)
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	en, err := s.svc.BeginTOTP(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.showEnrol(w, r, a, http.StatusOK, MFAEnrolView{Enrolment: en, Next: r.PostFormValue("next")})
}

// pendingTOTP shows an enrolment started earlier again (after a reload).
func (s *Server) pendingTOTP(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	en, err := s.svc.PendingTOTP(r.Context(), a)
	if crm.IsCode(err, crm.NotFound) {
		redirect(w, r, withNext("/account/mfa", safeNext(r.URL.Query().Get("next"))))
		return
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.showEnrol(w, r, a, http.StatusOK, MFAEnrolView{Enrolment: en, Next: r.URL.Query().Get("next")})
}

func (s *Server) showEnrol(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v MFAEnrolView) {
	v.Page = s.page(r, a, "mfa.enrol_title", "account")
	if v.Next != "" {
		v.Next = safeNext(v.Next)
	}
	s.render(w, r, status, "mfa_enrol", v)
}

// totpQRCode serves the QR code of the pending secret's otpauth URI as a
// PNG from this origin, so the page needs no script and no data: URL.
func (s *Server) totpQRCode(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	en, err := s.svc.PendingTOTP(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	key, err := otp.NewKeyFromURL(en.URI)
	var buf bytes.Buffer
	if err == nil {
		img, ierr := key.Image(240, 240)
		if err = ierr; err == nil {
			err = png.Encode(&buf, img)
		}
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store") // it encodes the secret
	w.Write(buf.Bytes())
}

// RecoveryCodesView shows new recovery codes, once.
type RecoveryCodesView struct {
	Page
	Codes []string
	Next  string
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	next := r.PostFormValue("next")
	codes, err := s.svc.ConfirmTOTP(r.Context(), a, r.PostFormValue("code"))
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			en, perr := s.svc.PendingTOTP(r.Context(), a)
			if perr != nil {
				s.fail(w, r, a, perr)
				return
			}
			s.showEnrol(w, r, a, status, MFAEnrolView{Enrolment: en, Next: next, Errors: formErrors(lang(r, a), err, "code")})
		})
		return
	}
	s.showRecoveryCodes(w, r, a, codes, next)
}

func (s *Server) showRecoveryCodes(w http.ResponseWriter, r *http.Request, a *access.Actor, codes []string, next string) {
	if next != "" {
		next = safeNext(next)
	}
	v := RecoveryCodesView{Page: s.page(r, a, "mfa.recovery_title", "account"), Codes: codes, Next: next}
	s.render(w, r, http.StatusOK, "recovery_codes", v)
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if err := s.svc.DisableTOTP(r.Context(), a, r.PostFormValue("code")); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showMFA(w, r, a, status, MFAView{Form: "disable", Errors: formErrors(lang(r, a), err, "code")})
		})
		return
	}
	redirect(w, r, "/account/mfa")
}

func (s *Server) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), a, r.PostFormValue("code"))
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showMFA(w, r, a, status, MFAView{Form: "regenerate", Errors: formErrors(lang(r, a), err, "code")})
		})
		return
	}
	s.showRecoveryCodes(w, r, a, codes, "")
}

// endSession ends one of the user's own sessions; ending the current one
// signs out.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.EndSession(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	if id == a.SessionID {
		s.cfg.SetSessionCookie(w, r, "", -1)
		redirect(w, r, "/login")
		return
	}
	redirect(w, r, "/account#sessions")
}

func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if _, err := s.svc.EndUserSessions(r.Context(), a, a.UserID); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/account#sessions")
}

// AdminSecurityView is a user's sessions and second factor, for an
// administrator: end sessions, reset the second factor.
type AdminSecurityView struct {
	Page
	User        crm.User
	MFAEnrolled bool
	Sessions    []SessionRow
	IsSelf      bool
}

// URL is the user's administration page.
func (v AdminSecurityView) URL() string { return "/admin/users/" + strconv.FormatInt(v.User.ID, 10) }

func (s *Server) adminUserSecurity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	ctx := r.Context()
	sessions, err := s.svc.ListSessions(ctx, a, id)
	enrolled, err2 := s.svc.UserMFA(ctx, a, id)
	dir, err3 := s.svc.Directory(ctx, a)
	if err := firstError(err, err2, err3); err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := AdminSecurityView{Page: s.adminPage(r, a, "security.admin_title", "users"), MFAEnrolled: enrolled,
		Sessions: sessionRows(sessions, "/admin/users/"+strconv.FormatInt(id, 10)+"/sessions/"), IsSelf: id == a.UserID}
	for _, u := range dir.Users {
		if u.ID == id {
			v.User = u
		}
	}
	v.Title = v.User.DisplayName + " · " + i18n.T(v.Lang, "security.admin_title")
	s.render(w, r, http.StatusOK, "admin_security", v)
}

// endUserSessions ends every session of a user, for adminUserAction.
func (s *Server) endUserSessions(ctx context.Context, a *access.Actor, id int64) error {
	_, err := s.svc.EndUserSessions(ctx, a, id)
	return err
}

// adminUserAction runs an administrator's action on the user in the path
// and returns to the user's security page.
func (s *Server) adminUserAction(do func(ctx context.Context, a *access.Actor, id int64) error) handler {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, ok := pathID(r)
		if !ok {
			s.notFound(w, r, a)
			return
		}
		if err := do(r.Context(), a, id); err != nil {
			s.fail(w, r, a, err)
			return
		}
		redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10)+"/security")
	}
}

func (s *Server) adminEndSession(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	sid, err := strconv.ParseInt(r.PathValue("sid"), 10, 64)
	if !ok || err != nil || sid <= 0 {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.EndSession(r.Context(), a, sid); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10)+"/security")
}

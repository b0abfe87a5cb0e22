package web

import (
	"context"
	"encoding/json"
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
)

// Passkeys in the pages. The ceremony runs in static/passkeys.js: it asks
// one of the *Options handlers for a challenge (a POST with the session's
// CSRF token), lets the browser create or use the passkey, and submits
// the answer as a hidden field of an ordinary form — registering, the
// sign-in's second step, or the step-up form — so every answer goes
// through the same handlers, errors and redirects as a typed code.

// Form fields carrying a passkey's answer (JSON, as the script serialises it).
const (
	passkeyField       = "passkey"
	stepUpPasskeyField = "step_up_passkey"
)

// passkeyRegistrationOptions answers the script with the options for
// navigator.credentials.create.
func (s *Server) passkeyRegistrationOptions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.passkeyOptions(w, r, a, s.svc.BeginPasskeyRegistration)
}

// passkeyCheckOptions answers the script with the options for
// navigator.credentials.get: the sign-in's second step for a session
// waiting for it, a step-up otherwise.
func (s *Server) passkeyCheckOptions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.passkeyOptions(w, r, a, s.svc.BeginPasskeyCheck)
}

func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request, a *access.Actor,
	begin func(context.Context, *access.Actor) (json.RawMessage, error)) {
	opts, err := begin(r.Context(), a)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if err != nil {
		msg := i18n.Message(lang(r, a), err)
		if crm.ErrorCode(err) == crm.Internal {
			rid := httpx.RequestID(r.Context())
			s.logger.Error("passkey options", "request_id", rid, "err", err)
			msg += " " + i18n.Tf(lang(r, a), "error.request_id", rid)
		}
		w.WriteHeader(httpx.Status(err))
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	w.Write(opts)
}

// registerPasskey stores the passkey the browser created under the name
// typed. A first second factor shows its new recovery codes once; a
// refusal shows the second-factor page again with the reason.
func (s *Server) registerPasskey(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	name, next := r.PostFormValue("name"), r.PostFormValue("next")
	reg, err := s.svc.FinishPasskeyRegistration(r.Context(), a, name, []byte(r.PostFormValue(passkeyField)))
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showMFA(w, r, a, status, MFAView{Form: "passkey", Errors: formErrors(lang(r, a), err, "name", passkeyField),
				PasskeyName: name, Next: next})
		})
		return
	}
	if reg.RecoveryCodes != nil {
		s.showRecoveryCodes(w, r, a, reg.RecoveryCodes, next)
		return
	}
	if next != "" {
		redirect(w, r, safeNext(next))
		return
	}
	redirect(w, r, "/account/mfa#passkeys")
}

func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.RenamePasskey(r.Context(), a, id, r.PostFormValue("name")); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showMFA(w, r, a, status, MFAView{Form: "rename", Errors: formErrors(lang(r, a), err)})
		})
		return
	}
	redirect(w, r, "/account/mfa#passkeys")
}

// removePasskey removes a passkey; the service asks for step-up first.
func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.RemovePasskey(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/account/mfa#passkeys")
}

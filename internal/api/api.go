// Package api is the JSON API under /api/v1. It calls the same service layer
// as the web pages, so the same permissions, scopes and audit apply. Errors
// are RFC 9457 problem details with per-field errors in the user's language.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
)

// maxBody bounds a request body; CRM records are small.
const maxBody = 1 << 20

// API holds the handlers' dependencies.
type API struct {
	svc    *service.Service
	cfg    httpx.Config
	logger *slog.Logger
	// openapi is the OpenAPI document, built once by Register.
	openapi openAPIDoc
}

// New returns the API surface.
func New(svc *service.Service, cfg httpx.Config, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.Default()
	}
	return &API{svc: svc, cfg: cfg, logger: logger}
}

// handlerFunc is an API handler with its authenticated actor.
type contextT = context.Context

// handlerFunc is an API handler with its authenticated actor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a *access.Actor)

// authed authenticates the request by bearer token or session cookie. A
// session-authenticated state change must carry the CSRF header; a bearer
// token is not sent by browsers on their own, so it needs none. A session
// still waiting for its second factor opens nothing, and a user whose role
// requires a second factor they have not set up can do nothing else.
func (api *API) authed(h handlerFunc) http.HandlerFunc { return api.guard(false, h) }

// enrolling is authed for the routes that set up a second factor, which
// stay open to a user who must set one up.
func (api *API) enrolling(h handlerFunc) http.HandlerFunc { return api.guard(true, h) }

func (api *API) guard(enrolment bool, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := api.cfg.Client(r)
		var a *access.Actor
		var err error
		if auth := r.Header.Get("Authorization"); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				api.problem(w, r, nil, crm.Errorf(crm.Unauthenticated, "use Authorization: Bearer <token>"))
				return
			}
			a, err = api.svc.AuthenticateToken(r.Context(), strings.TrimSpace(tok), client)
		} else {
			a, err = api.svc.Authenticate(r.Context(), api.cfg.SessionToken(r), client)
			if err == nil && !httpx.IsSafeMethod(r.Method) && !httpx.ValidCSRF(r.Header.Get(httpx.CSRFHeader), a.CSRFToken) {
				err = &crm.Error{Code: crm.Forbidden, Key: "csrf", Message: "missing or wrong " + httpx.CSRFHeader + " header"}
			}
			if err == nil && a.MFAPending {
				err = &crm.Error{Code: crm.Unauthenticated, Key: "mfa_pending", Message: "sign-in is waiting for the second factor"}
			}
			if err == nil && a.MustChangePassword {
				err = &crm.Error{Code: crm.Forbidden, Key: "password_change_required", Message: "change your one-time password first"}
			}
		}
		if err == nil && !enrolment && a.MustEnrolMFA() {
			err = &crm.Error{Code: crm.Forbidden, Key: "mfa_enrolment_required", Message: "your role requires a second factor; set it up first"}
		}
		if err != nil {
			if crm.IsCode(err, crm.Unauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
			}
			api.problem(w, r, a, err)
			return
		}
		h(w, r, a)
	}
}

// writeJSON sends v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// Problem is an RFC 9457 problem details document with Custos extensions.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Code      crm.Code       `json:"code"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one rejected field with the reason in the user's language.
type ProblemField struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// problem writes err as application/problem+json. Internal errors are logged
// with the request id and shown only as "internal error".
func (api *API) problem(w http.ResponseWriter, r *http.Request, a *access.Actor, err error) {
	lang := lang(r, a)
	status := httpx.Status(err)
	code := crm.ErrorCode(err)
	rid := httpx.RequestID(r.Context())
	if code == crm.Internal || status == http.StatusServiceUnavailable {
		// A 503's cause (a full disk, a read-only database) is for the
		// operator's log, never for the client.
		api.logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "request_id", rid, "err", err)
	}
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && code == crm.Pending {
		// Not a failure: the change was filed for approval.
		w.Header().Set("Content-Language", lang)
		writeJSON(w, status, map[string]any{"status": code, "approval_request_id": ce.Ref, "detail": i18n.Message(lang, err)})
		return
	}
	p := Problem{Type: "https://custos.dev/problems/" + string(code), Title: i18n.T(lang, "error."+string(code)),
		Status: status, Detail: i18n.Message(lang, err), Code: code, RequestID: rid}
	var ce *crm.Error
	if errors.As(err, &ce) {
		for _, f := range ce.Fields {
			p.Errors = append(p.Errors, ProblemField{Field: f.Field, Rule: f.Rule, Message: i18n.FieldMessage(lang, f)})
		}
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", lang)
	httpx.SetRetryAfter(w, status)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// decode reads a JSON body into v through httpx.DecodeJSON: exact keys
// only, each once, unknown fields refused (so nobody can smuggle owner,
// version or audit fields into a write), UTF-8 only, nothing after the
// document, at most maxBody bytes. The error names the offending field.
func decode(r *http.Request, v any) error { return httpx.DecodeJSON(r, v, maxBody) }

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, error) { return pathInt(r, "id") }

// pathInt reads a positive id from a path wildcard; anything else is "not
// found", like an id that exists nowhere.
func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &crm.Error{Code: crm.NotFound, Key: "not_found", Message: fmt.Sprintf("no record %q", r.PathValue(name))}
	}
	return id, nil
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &crm.Error{Code: crm.Invalid, Message: name + " must be a number", Fields: []crm.FieldError{{Field: name, Rule: "number"}}}
	}
	return n, nil
}

// DenyCrossOrigin answers a request refused by http.CrossOriginProtection.
func (api *API) DenyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	api.problem(w, r, nil, &crm.Error{Code: crm.Forbidden, Key: "csrf", Message: "cross-origin request refused"})
}

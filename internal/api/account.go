package api

import (
	"context"
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

func (api *API) me(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	u, err := api.svc.Me(r.Context(), a)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (api *API) directory(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	d, err := api.svc.Directory(r.Context(), a)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (api *API) listTokens(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	toks, err := api.svc.ListAPITokens(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": toks}, err)
}

func (api *API) createToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in service.TokenInput
	if err := decode(r, &in); err != nil {
		api.problem(w, r, a, err)
		return
	}
	tok, err := api.svc.CreateAPIToken(r.Context(), a, in)
	api.respond(w, r, a, http.StatusCreated, tok, err)
}

func (api *API) revokeToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.action(api.svc.RevokeAPIToken)(w, r, a)
}

// listSessions serves GET /sessions (the caller's own) and GET
// /sessions?user_id=N (anyone's, for administrators).
func (api *API) listSessions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var userID int64
	if v := r.URL.Query().Get("user_id"); v != "" {
		var err error
		if userID, err = strconv.ParseInt(v, 10, 64); err != nil || userID <= 0 {
			api.problem(w, r, a, &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "user_id must be a number",
				Fields: []crm.FieldError{{Field: "user_id", Rule: "number"}}})
			return
		}
	}
	list, err := api.svc.ListSessions(r.Context(), a, userID)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": list}, err)
}

// endUserSessions ends a user's sessions (all but the current one for the
// caller's own account) and says how many ended.
func (api *API) endUserSessions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var n int64
	if err == nil {
		n, err = api.svc.EndUserSessions(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, map[string]int64{"ended": n}, err)
}

// codeRequest carries a second-factor code: six digits from the
// authenticator app or a recovery code.
type codeRequest struct {
	Code string `json:"code"`
}

// withCode decodes a codeRequest and calls do with the code.
func (api *API) withCode(status int, do func(ctx context.Context, a *access.Actor, code string) (any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in codeRequest
		err := decode(r, &in)
		var out any
		if err == nil {
			out, err = do(r.Context(), a, in.Code)
		}
		if err == nil && out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		api.respond(w, r, a, status, out, err)
	}
}

func (api *API) mfaStatus(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	st, err := api.svc.MFA(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, st, err)
}

func (api *API) beginTOTP(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	en, err := api.svc.BeginTOTP(r.Context(), a)
	api.respond(w, r, a, http.StatusCreated, en, err)
}

func recoveryCodes(codes []string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string][]string{"recovery_codes": codes}, nil
}

func (api *API) confirmTOTP() handlerFunc {
	return api.withCode(http.StatusOK, func(ctx context.Context, a *access.Actor, code string) (any, error) {
		return recoveryCodes(api.svc.ConfirmTOTP(ctx, a, code))
	})
}

func (api *API) regenerateRecoveryCodes() handlerFunc {
	return api.withCode(http.StatusOK, func(ctx context.Context, a *access.Actor, code string) (any, error) {
		return recoveryCodes(api.svc.RegenerateRecoveryCodes(ctx, a, code))
	})
}

func (api *API) disableTOTP() handlerFunc {
	return api.withCode(http.StatusNoContent, func(ctx context.Context, a *access.Actor, code string) (any, error) {
		return nil, api.svc.DisableTOTP(ctx, a, code)
	})
}

func (api *API) stepUp() handlerFunc {
	return api.withCode(http.StatusNoContent, func(ctx context.Context, a *access.Actor, code string) (any, error) {
		return nil, api.svc.StepUp(ctx, a, code)
	})
}

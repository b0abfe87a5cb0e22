package api

import (
	"net/http"
	"time"

	"custos/internal/access"
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
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": toks})
}

// tokenRequest creates a personal API token.
type tokenRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (api *API) createToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in tokenRequest
	if err := decode(r, &in); err != nil {
		api.problem(w, r, a, err)
		return
	}
	tok, err := api.svc.CreateAPIToken(r.Context(), a, in.Name, in.ExpiresAt)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusCreated, tok)
}

func (api *API) revokeToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.action(api.svc.RevokeAPIToken)(w, r, a)
}

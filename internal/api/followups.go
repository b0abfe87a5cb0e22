package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
)

func (api *API) createFollowUp(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in crm.FollowUpInput
	if err := decode(r, &in); err != nil {
		api.problem(w, r, a, err)
		return
	}
	f, err := api.svc.CreateFollowUp(r.Context(), a, in)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (api *API) listFollowUps(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err == nil {
		var items []crm.FollowUp
		if items, err = api.svc.ListFollowUps(r.Context(), a, id); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"items": items})
			return
		}
	}
	api.problem(w, r, a, err)
}

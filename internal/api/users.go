package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/service"
)

// handover serves GET /users/{id}/handover: what offboarding would move.
func (api *API) handover(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var counts any
	if err == nil {
		counts, err = api.svc.HandoverCounts(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, map[string]any{"owned": counts}, err)
}

// offboard serves POST /users/{id}/offboard: disable and hand over at once.
func (api *API) offboard(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var h service.Handover
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &h)
	}
	var res service.HandoverResult
	if err == nil {
		res, err = api.svc.Offboard(r.Context(), a, id, h)
	}
	api.respond(w, r, a, http.StatusOK, res, err)
}

// activity serves GET /users/{id}/activity?days=30: what the user viewed,
// exported and changed, from the audit trail.
func (api *API) activity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	days := 30
	if err == nil && r.URL.Query().Has("days") {
		days, err = queryInt(r, "days")
	}
	var rep service.ActivityReport
	if err == nil {
		rep, err = api.svc.UserActivity(r.Context(), a, id, days)
	}
	api.respond(w, r, a, http.StatusOK, rep, err)
}

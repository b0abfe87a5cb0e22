package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/service"
)

// securityAlerts serves GET /security-alerts?status=open.
func (api *API) securityAlerts(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	items, err := api.svc.SecurityAlerts(r.Context(), a, r.URL.Query().Get("status"))
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
}

// reviewAlert serves POST /security-alerts/{id}/review.
func (api *API) reviewAlert(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err == nil {
		err = api.svc.ReviewAlert(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

func (api *API) alertRules(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	rules, err := api.svc.AlertRules(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": rules}, err)
}

// saveAlertRule serves PUT /alert-rules/{key}.
func (api *API) saveAlertRule(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var rule service.AlertRule
	err := decode(r, &rule)
	if err == nil {
		rule.Key = r.PathValue("key")
		err = api.svc.SaveAlertRule(r.Context(), a, rule)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

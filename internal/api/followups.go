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

// listRecordFollowUps serves GET /follow-ups?customer_id=|contact_id=|opportunity_id=|lead_id= with cursor paging;
// without a record, the follow-ups in scope filtered by owner_id, department_id and the drill-down filters.
func (api *API) listRecordFollowUps(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	for param, o := range map[string]crm.Object{"customer_id": crm.ObjCustomer, "contact_id": crm.ObjContact,
		"opportunity_id": crm.ObjOpportunity, "lead_id": crm.ObjLead} {
		if q.Get(param) == "" {
			continue
		}
		id, err := queryInt(r, param)
		if err != nil {
			api.problem(w, r, a, err)
			return
		}
		page, err := api.svc.ListRecordFollowUps(r.Context(), a, o, int64(id), q.Get("cursor"), limit)
		api.respond(w, r, a, http.StatusOK, page, err)
		return
	}
	// No record named: the follow-ups in the actor's scope, filtered (the
	// list a report's follow-up figures drill down to).
	f, err := listFilter(r)
	var page any
	if err == nil {
		page, err = api.svc.ListFollowUpsBy(r.Context(), a, f)
	}
	api.respond(w, r, a, http.StatusOK, page, err)
}

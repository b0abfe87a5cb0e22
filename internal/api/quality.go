package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// quality serves GET /api/v1/quality: the figures of the quality page.
func (api *API) quality(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	rep, err := api.svc.QualityReport(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, rep, err)
}

// qualityRecords serves GET /api/v1/quality/records: the records behind a
// figure (object, issue, owner_id or department_id, after, limit).
func (api *API) qualityRecords(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := r.URL.Query()
	q := service.QualityQuery{Object: crm.Object(v.Get("object")), Issue: crm.QualityIssue(v.Get("issue"))}
	var p crm.Problems
	queryIDs(r, &p, map[string]*int64{"owner_id": &q.OwnerID, "department_id": &q.DeptID, "after": &q.After})
	limit, err := queryInt(r, "limit")
	if err != nil {
		p.Add("limit", "format")
	}
	q.Limit = limit
	err = p.Err()
	var recs service.QualityRecords
	if err == nil {
		recs, err = api.svc.QualityRecords(r.Context(), a, q)
	}
	api.respond(w, r, a, http.StatusOK, recs, err)
}

// qualitySettings serves GET /api/v1/quality/settings (administrators).
func (api *API) qualitySettings(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q, err := api.svc.QualitySettings(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, q, err)
}

// saveQualitySettings serves PUT /api/v1/quality/settings (administrators).
func (api *API) saveQualitySettings(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var q crm.QualitySettings
	err := decode(r, &q)
	if err == nil {
		err = api.svc.SaveQualitySettings(r.Context(), a, q)
	}
	if err == nil {
		q, err = api.svc.QualitySettings(r.Context(), a)
	}
	api.respond(w, r, a, http.StatusOK, q, err)
}

// pushFixups serves POST /api/v1/quality/fixups (administrators): the
// fix-up job now.
func (api *API) pushFixups(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	run, err := api.svc.PushFixupTasks(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, run, err)
}

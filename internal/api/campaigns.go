package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// Data review campaigns (issue 14 §4): list and start them, their
// progress and records, and the owners' confirmations.

// campaigns serves GET /api/v1/quality/campaigns.
func (api *API) campaigns(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	list, err := api.svc.Campaigns(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, itemsOf[service.CampaignReport]{Items: list}, err)
}

// startCampaign serves POST /api/v1/quality/campaigns (administrators,
// managers for their subtree).
func (api *API) startCampaign(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in crm.CampaignStart
	err := decode(r, &in)
	var c crm.Campaign
	if err == nil {
		c, err = api.svc.StartCampaign(r.Context(), a, in)
	}
	api.respond(w, r, a, http.StatusCreated, c, err)
}

// campaign serves GET /api/v1/quality/campaigns/{id}: its progress within
// the reader's scope.
func (api *API) campaign(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var rep service.CampaignReport
	if err == nil {
		rep, err = api.svc.Campaign(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, rep, err)
}

// campaignRecords serves GET /api/v1/quality/campaigns/{id}/records: one
// object's records (object, owner_id or department_id, unreviewed=true,
// after, limit).
func (api *API) campaignRecords(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	v := r.URL.Query()
	q := service.CampaignQuery{CampaignID: id, Object: crm.Object(v.Get("object")), Unreviewed: v.Get("unreviewed") == "true"}
	var p crm.Problems
	queryIDs(r, &p, map[string]*int64{"owner_id": &q.OwnerID, "department_id": &q.DeptID, "after": &q.After})
	limit, err := queryInt(r, "limit")
	if err != nil {
		p.Add("limit", "format")
	}
	q.Limit = limit
	err = p.Err()
	var recs service.CampaignRecords
	if err == nil {
		recs, err = api.svc.CampaignRecords(r.Context(), a, q)
	}
	api.respond(w, r, a, http.StatusOK, recs, err)
}

// ConfirmInput names the records a confirmation marks reviewed.
type ConfirmInput struct {
	Object crm.Object `json:"object"`
	IDs    []int64    `json:"ids"`
}

// ConfirmResult says how many records a confirmation marked.
type ConfirmResult struct {
	Reviewed int `json:"reviewed"`
}

// confirmCampaignReview serves POST /api/v1/quality/campaigns/{id}/confirm.
func (api *API) confirmCampaignReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var in ConfirmInput
	if err == nil {
		err = decode(r, &in)
	}
	var res ConfirmResult
	if err == nil {
		res.Reviewed, err = api.svc.ConfirmReview(r.Context(), a, id, in.Object, in.IDs)
	}
	api.respond(w, r, a, http.StatusOK, res, err)
}

package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// listApprovals serves GET /approvals: what waits for the caller's decision
// and the caller's own requests.
func (api *API) listApprovals(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	list, err := api.svc.ListApprovals(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, list, err)
}

func (api *API) getApproval(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var req crm.ApprovalRequest
	if err == nil {
		req, err = api.svc.GetApproval(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, req, err)
}

// decideApproval serves POST /approvals/{id}/decision {"approve":…,"comment":…}.
func (api *API) decideApproval(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var d service.Decision
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &d)
	}
	var req crm.ApprovalRequest
	if err == nil {
		req, err = api.svc.DecideApproval(r.Context(), a, id, d)
	}
	api.respond(w, r, a, http.StatusOK, req, err)
}

func (api *API) listPolicies(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	ps, err := api.svc.ApprovalPolicies(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": ps}, err)
}

// savePolicy serves PUT /approval-policies/{kind}.
func (api *API) savePolicy(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var p crm.ApprovalPolicy
	err := decode(r, &p)
	if err == nil {
		p.Kind = crm.ApprovalKind(r.PathValue("kind"))
		p, err = api.svc.SaveApprovalPolicy(r.Context(), a, p)
	}
	api.respond(w, r, a, http.StatusOK, p, err)
}

// transferRequest hands a record to another user.
type transferRequest struct {
	To      int64 `json:"to"`
	Version int64 `json:"version"`
}

// transfer serves POST /{collection}/{id}/transfer; under an approval
// policy it answers 202 with the request filed.
func (api *API) transfer(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in transferRequest
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		if err == nil {
			err = api.svc.TransferRecord(r.Context(), a, o, id, in.To, in.Version)
		}
		api.respond(w, r, a, http.StatusNoContent, nil, err)
	}
}

// bulkDeleteRequest lists the records to delete.
type bulkDeleteRequest struct {
	IDs []int64 `json:"ids"`
}

// bulkDelete serves POST /{collection}/bulk-delete.
func (api *API) bulkDelete(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in bulkDeleteRequest
		err := decode(r, &in)
		n := 0
		if err == nil {
			n, err = api.svc.BulkDelete(r.Context(), a, o, in.IDs)
		}
		api.respond(w, r, a, http.StatusOK, map[string]int{"deleted": n}, err)
	}
}

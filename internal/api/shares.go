package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// listShares serves GET /{customers,leads}/{id}/shares.
func (api *API) listShares(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		var items []crm.RecordShare
		if err == nil {
			items, err = api.svc.ListShares(r.Context(), a, o, id)
		}
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
	}
}

// createShare serves POST /{customers,leads}/{id}/shares.
func (api *API) createShare(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in service.ShareInput
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		var sh crm.RecordShare
		if err == nil {
			sh, err = api.svc.ShareRecord(r.Context(), a, o, id, in)
		}
		api.respond(w, r, a, http.StatusCreated, sh, err)
	}
}

// myGrants serves GET /shares: the shares the caller granted.
func (api *API) myGrants(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	items, err := api.svc.MyGrants(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
}

// revokeShares serves POST /shares/revoke {"ids":[…]}.
func (api *API) revokeShares(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in bulkDeleteRequest
	err := decode(r, &in)
	if err == nil {
		err = api.svc.RevokeShares(r.Context(), a, in.IDs)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// requestAccess files a refused entrant's request to the owner of the
// record their values duplicate (a share or a hand-over): 202 with the
// pending-approval problem naming the request.
func (api *API) requestAccess(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in service.AccessRequest
	err := decode(r, &in)
	if err == nil {
		err = api.svc.RequestAccess(r.Context(), a, in)
	}
	api.respond(w, r, a, http.StatusAccepted, nil, err)
}

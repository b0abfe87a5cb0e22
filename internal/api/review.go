package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/service"
)

// jobPreview serves POST /users/{id}/job-preview: what a move would change.
func (api *API) jobPreview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var jc service.JobChange
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &jc)
	}
	var pv service.JobChangePreview
	if err == nil {
		pv, err = api.svc.PreviewJobChange(r.Context(), a, id, jc)
	}
	api.respond(w, r, a, http.StatusOK, pv, err)
}

// jobChange serves POST /users/{id}/job-change.
func (api *API) jobChange(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var jc service.JobChange
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &jc)
	}
	var res service.HandoverResult
	if err == nil {
		res, err = api.svc.ChangeJob(r.Context(), a, id, jc)
	}
	api.respond(w, r, a, http.StatusOK, res, err)
}

func (api *API) accessReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	rev, err := api.svc.AccessReview(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, rev, err)
}

func (api *API) confirmReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.respond(w, r, a, http.StatusNoContent, nil, api.svc.ConfirmAccessReview(r.Context(), a))
}

// revokeUserToken serves DELETE /users/{id}/tokens/{token} from a review.
func (api *API) revokeUserToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var tokenID int64
	if err == nil {
		tokenID, err = pathInt(r, "token")
	}
	if err == nil {
		err = api.svc.RevokeUserToken(r.Context(), a, id, tokenID)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

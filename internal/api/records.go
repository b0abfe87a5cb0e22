package api

import (
	"context"
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
)

// collections maps the API's plural path segments to objects. (Customers
// are here too, though their recycle bin has a route of its own, which the
// mux prefers to /recycle-bin/{collection}.)
var collections = func() map[string]crm.Object {
	out := map[string]crm.Object{}
	for _, s := range crm.Specs() {
		out[s.Path] = s.Name
	}
	return out
}()

// deleteRecord and restoreRecord serve DELETE /{collection}/{id} and POST
// /{collection}/{id}/restore for an object of the generic recycle bin.
func (api *API) deleteRecord(o crm.Object) handlerFunc {
	return api.action(func(ctx context.Context, a *access.Actor, id int64) error { return api.svc.DeleteRecord(ctx, a, o, id) })
}

func (api *API) restoreRecord(o crm.Object) handlerFunc {
	return api.action(func(ctx context.Context, a *access.Actor, id int64) error {
		return api.svc.RestoreRecord(ctx, a, o, id)
	})
}

func (api *API) recycleBin(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, ok := collections[r.PathValue("collection")]
	if !ok {
		api.problem(w, r, a, errNoRoute)
		return
	}
	limit, err := queryInt(r, "limit")
	var items any
	if err == nil {
		items, err = api.svc.RecycleBin(r.Context(), a, o, limit)
	}
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
}

func (api *API) getTask() handlerFunc {
	return get(api, func(r *http.Request, a *access.Actor, id int64) (crm.Task, error) {
		return api.svc.GetTask(r.Context(), a, id)
	})
}

func (api *API) updateTask() handlerFunc {
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.TaskUpdate) (crm.Task, error) {
		return api.svc.UpdateTask(r.Context(), a, id, in)
	})
}

func (api *API) getFollowUp() handlerFunc {
	return get(api, func(r *http.Request, a *access.Actor, id int64) (crm.FollowUp, error) {
		return api.svc.GetFollowUp(r.Context(), a, id)
	})
}

func (api *API) updateFollowUp() handlerFunc {
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.FollowUpUpdate) (crm.FollowUp, error) {
		return api.svc.UpdateFollowUp(r.Context(), a, id, in)
	})
}

// revealRequest names the masked field to reveal.
type revealRequest struct {
	Field string `json:"field"`
}

// reveal serves POST /{collection}/{id}/reveal: one masked value, for a role
// granted the reveal, audited by the service.
func (api *API) reveal(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in revealRequest
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		var value string
		if err == nil {
			value, err = api.svc.RevealField(r.Context(), a, o, id, in.Field)
		}
		api.respond(w, r, a, http.StatusOK, map[string]string{"field": in.Field, "value": value}, err)
	}
}

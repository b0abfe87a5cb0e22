package api

import (
	"context"
	"net/http"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
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

// recordRoutes are the routes an object's registry description gives each
// of its records, the same for every object that has them (issue 13: the
// API used to repeat this block per collection):
//   - delete and restore when recyclable (a customer's take its children
//     and the pool along: its own use cases);
//   - reveal when a field takes field rules (a masked value, revealed);
//   - history and bulk delete when the object has a list of its own;
//   - versions and their restore when versioned; transfer when transferable;
//   - merge when the duplicate finder scans the object.
func (api *API) recordRoutes(o crm.Object) []httpx.Route {
	s, _ := crm.Spec(o)
	base := "/api/v1/" + s.Path
	var out []httpx.Route
	add := func(method, pattern string, h handlerFunc, doc httpx.Doc) {
		out = append(out, httpx.Route{Method: method, Pattern: base + pattern, Handler: api.authed(h), Doc: doc})
	}
	if s.Recyclable {
		del, restore := api.deleteRecord(o), api.restoreRecord(o)
		if o == crm.ObjCustomer {
			del, restore = api.action(api.svc.DeleteCustomer), api.action(api.svc.RestoreCustomer)
		}
		add("DELETE", "/{id}", del, httpx.Doc{})
		add("POST", "/{id}/restore", restore, httpx.Doc{})
	}
	if slices.ContainsFunc(s.Fields, func(f crm.FieldSpec) bool { return f.RuleField }) {
		add("POST", "/{id}/reveal", api.reveal(o), httpx.Doc{Request: revealRequest{}, Response: map[string]string{}, Status: http.StatusOK})
	}
	if s.Paged {
		add("GET", "/{id}/history", api.history(o), httpx.Doc{Response: service.AuditPage{}})
	}
	if s.Versioned {
		add("GET", "/{id}/versions", api.versions(o), httpx.Doc{Response: itemsOf[crm.RecordVersion]{}})
		add("POST", "/{id}/versions/{version}/restore", api.restoreVersion(o), httpx.Doc{Status: http.StatusNoContent, Approval: true})
	}
	if s.Transferable {
		add("POST", "/{id}/transfer", api.transfer(o), httpx.Doc{Approval: true})
	}
	if service.ExportObjects(o) {
		add("GET", "/export", api.exportList(o), httpx.Doc{Summary: "Export the list (its own filters) as CSV or XLSX, watermarked",
			File: true, Approval: true, StepUp: httpx.StepUpSometimes})
	}
	if slices.Contains(service.DuplicateObjects, o) {
		add("POST", "/merge", api.mergeRecords(o), httpx.Doc{Summary: "Merge one record into another (fields chosen per field)",
			Request: crm.MergeRequest{}, Response: crm.Merge{}, Status: http.StatusOK})
	}
	if s.Recyclable && s.Paged {
		add("POST", "/bulk-delete", api.bulkDelete(o), httpx.Doc{Response: map[string]int{}, StepUp: httpx.StepUpAlways, Approval: true})
	}
	return out
}

// itemsOf is the answer of a list that is not paged: {"items": [...]}.
// Routes name it in their OpenAPI notes.
type itemsOf[T any] struct {
	Items []T `json:"items"`
}

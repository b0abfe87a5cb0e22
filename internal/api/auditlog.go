package api

import (
	"net/http"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// auditTrail serves GET /audit-events: the trail for administrators and
// auditors, filtered by actor_id, object, record_id, action, outcome,
// since and until (RFC 3339), paged with before.
func (api *API) auditTrail(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q, err := readAuditQuery(r)
	var page service.AuditPage
	if err == nil {
		page, err = api.svc.AuditTrail(r.Context(), a, q)
	}
	api.respond(w, r, a, http.StatusOK, page, err)
}

func readAuditQuery(r *http.Request) (service.AuditQuery, error) {
	v := r.URL.Query()
	q := service.AuditQuery{Object: crm.Object(v.Get("object")), Action: v.Get("action"), Outcome: v.Get("outcome")}
	var p crm.Problems
	queryIDs(r, &p, map[string]*int64{"actor_id": &q.ActorID, "record_id": &q.RecordID, "before": &q.Before})
	queryTimes(r, &p, map[string]*time.Time{"since": &q.Since, "until": &q.Until})
	n, err := queryInt(r, "limit")
	if err != nil {
		p.Add("limit", "format")
	}
	q.Limit = n
	return q, p.Err()
}

// queryIDs reads optional integer query parameters, naming each bad one.
func queryIDs(r *http.Request, p *crm.Problems, dst map[string]*int64) {
	for name, d := range dst {
		if n, err := queryInt(r, name); err == nil {
			*d = int64(n)
		} else {
			p.Add(name, "format")
		}
	}
}

// queryTimes reads optional RFC 3339 query parameters, naming each bad one.
func queryTimes(r *http.Request, p *crm.Problems, dst map[string]*time.Time) {
	for name, d := range dst {
		if s := r.URL.Query().Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				p.Add(name, "format")
			}
			*d = t
		}
	}
}

// history serves GET /{collection}/{id}/history.
func (api *API) history(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		var page service.AuditPage
		var before int
		if err == nil {
			before, err = queryInt(r, "before")
		}
		if err == nil {
			page, err = api.svc.RecordHistory(r.Context(), a, o, id, int64(before))
		}
		api.respond(w, r, a, http.StatusOK, page, err)
	}
}

// versions serves GET /{collection}/{id}/versions.
func (api *API) versions(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		var items any
		if err == nil {
			items, err = api.svc.Versions(r.Context(), a, o, id)
		}
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
	}
}

// restoreRequest picks the fields to bring back ("" or none: all) and the
// version the caller is looking at now.
type restoreRequest struct {
	Current int64    `json:"current"`
	Fields  []string `json:"fields"`
}

// restoreVersion serves POST /{collection}/{id}/versions/{version}/restore.
func (api *API) restoreVersion(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in restoreRequest
		id, err := pathID(r)
		var version int64
		if err == nil {
			version, err = pathInt(r, "version")
		}
		if err == nil {
			err = decode(r, &in)
		}
		if err == nil {
			err = api.svc.RestoreVersion(r.Context(), a, o, id, version, in.Current, in.Fields)
		}
		api.respond(w, r, a, http.StatusNoContent, nil, err)
	}
}

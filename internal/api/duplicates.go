package api

import (
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The duplicate review (issue 14 §3): the latest scan's pairs and clusters
// per object, a scan now (administrators), dismissal of a pair, the
// comparison before a merge, the merge itself (POST /{collection}/merge,
// in recordRoutes), the merges of an object and their undo. Objects are
// named in paths as everywhere in the API: by their collection.

// DuplicatesPage is a page of candidate pairs with the cursor of the next.
type DuplicatesPage struct {
	service.DuplicatePage
	Next string `json:"next_cursor,omitempty"`
}

// DismissRequest names the pair that is not a duplicate.
type DismissRequest struct {
	IDA int64 `json:"id_a"`
	IDB int64 `json:"id_b"`
}

// duplicateObject reads the {object} segment: a collection of the
// registry (the service refuses, naming them, objects it does not scan);
// anything else is no route.
func duplicateObject(r *http.Request) (crm.Object, error) {
	o, ok := collections[r.PathValue("object")]
	if !ok {
		return "", errNoRoute
	}
	return o, nil
}

// duplicates serves GET /duplicates/{object}?min_score=&after=&limit=.
func (api *API) duplicates(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var out DuplicatesPage
	o, err := duplicateObject(r)
	if err == nil {
		var f service.DuplicateFilter
		if f, err = duplicateFilter(r); err == nil {
			out.DuplicatePage, err = api.svc.DuplicatePairs(r.Context(), a, o, f)
		}
		if n := len(out.Pairs); err == nil && n > 0 && n == effectiveLimit(f.Limit) {
			out.Next = out.Pairs[n-1].Cursor()
		}
	}
	// An empty page is empty lists, not nulls.
	if out.Pairs == nil {
		out.Pairs = []service.DuplicatePair{}
	}
	if out.Clusters == nil {
		out.Clusters = [][]int64{}
	}
	api.respond(w, r, a, http.StatusOK, out, err)
}

// effectiveLimit is the page size the service uses for a requested limit.
func effectiveLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return min(limit, 1000)
}

// duplicateFilter reads the list's query, naming each bad parameter.
func duplicateFilter(r *http.Request) (service.DuplicateFilter, error) {
	var f service.DuplicateFilter
	var p crm.Problems
	q := r.URL.Query()
	if s := q.Get("min_score"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			p.Add("min_score", "format")
		}
		f.MinScore = v
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		p.Add("limit", "format")
	}
	f.Limit = limit
	if f.After, err = crm.ParseDupCursor(q.Get("after")); err != nil {
		p.Add("after", "format")
	}
	return f, p.Err()
}

// scanDuplicates serves POST /duplicates/{object}/scan (administrators):
// asks for a scan, which the background job starts within a minute (a
// scan takes minutes on a large organisation: no request waits for one);
// the list then shows the latest scan's counts.
func (api *API) scanDuplicates(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, err := duplicateObject(r)
	if err == nil {
		err = api.svc.RequestDuplicateScan(r.Context(), a, o)
	}
	api.respond(w, r, a, http.StatusAccepted, map[string]string{"object": string(o), "status": "requested"}, err)
}

// dismissDuplicate serves POST /duplicates/{object}/dismiss.
func (api *API) dismissDuplicate(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in DismissRequest
	o, err := duplicateObject(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil {
		err = api.svc.DismissDuplicatePair(r.Context(), a, o, in.IDA, in.IDB)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// compareDuplicates serves GET /duplicates/{object}/compare?survivor=&merged=.
func (api *API) compareDuplicates(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var out service.MergePreview
	o, err := duplicateObject(r)
	if err == nil {
		var p crm.Problems
		var survivor, merged int64
		queryIDs(r, &p, map[string]*int64{"survivor": &survivor, "merged": &merged})
		if err = p.Err(); err == nil {
			out, err = api.svc.PreviewMerge(r.Context(), a, o, survivor, merged)
		}
	}
	api.respond(w, r, a, http.StatusOK, out, err)
}

// mergeRecords serves POST /{collection}/merge.
func (api *API) mergeRecords(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in crm.MergeRequest
		var m crm.Merge
		err := decode(r, &in)
		if err == nil {
			m, err = api.svc.MergeRecords(r.Context(), a, o, in)
		}
		api.respond(w, r, a, http.StatusOK, m, err)
	}
}

// merges serves GET /merges/{object}?limit=: an object's merges, newest first.
func (api *API) merges(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var items []crm.Merge
	o, err := duplicateObject(r)
	if err == nil {
		var limit int
		if limit, err = queryInt(r, "limit"); err == nil {
			items, err = api.svc.Merges(r.Context(), a, o, limit)
		}
	}
	if items == nil {
		items = []crm.Merge{}
	}
	api.respond(w, r, a, http.StatusOK, itemsOf[crm.Merge]{Items: items}, err)
}

// undoMerge serves POST /merges/{id}/undo.
func (api *API) undoMerge(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var out service.MergeUndo
	id, err := pathID(r)
	if err == nil {
		out, err = api.svc.UndoMerge(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, out, err)
}

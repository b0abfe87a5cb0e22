package api

import (
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
)

// listFilter reads the common list parameters.
func listFilter(r *http.Request) (crm.ListFilter, error) {
	q := r.URL.Query()
	f := crm.ListFilter{Query: q.Get("q"), Status: q.Get("status"), Custom: customFilter(q), Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	var err error
	if f.Limit, err = queryInt(r, "limit"); err != nil {
		return f, err
	}
	if f.StalledDays, err = queryInt(r, "stalled_days"); err != nil {
		return f, err
	}
	for name, dst := range map[string]*int64{"customer_id": &f.CustomerID, "owner_id": &f.OwnerID, "stage_id": &f.StageID,
		"opportunity_id": &f.OpportunityID, "department_id": &f.DeptID} {
		n, err := queryInt(r, name)
		if err != nil {
			return f, err
		}
		*dst = int64(n)
	}
	f.Drill, err = crm.ParseDrillFilter(q)
	return f, err
}

func (api *API) listContacts(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f, err := listFilter(r)
	if err == nil {
		var page any
		if page, err = api.svc.ListContacts(r.Context(), a, f); err == nil {
			writeJSON(w, http.StatusOK, page)
			return
		}
	}
	api.problem(w, r, a, err)
}

func (api *API) createContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in crm.ContactFields
	if err := decode(r, &in); err != nil {
		api.problem(w, r, a, err)
		return
	}
	t, err := api.svc.CreateContact(r.Context(), a, in)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	w.Header().Set("Location", "/api/v1/contacts/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
}

func (api *API) getContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err == nil {
		var t crm.Contact
		if t, err = api.svc.GetContact(r.Context(), a, id); err == nil {
			writeJSON(w, http.StatusOK, t)
			return
		}
	}
	api.problem(w, r, a, err)
}

func (api *API) updateContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var up crm.ContactUpdate
	if err == nil {
		err = decode(r, &up)
	}
	if err == nil {
		var t crm.Contact
		if t, err = api.svc.UpdateContact(r.Context(), a, id, up); err == nil {
			writeJSON(w, http.StatusOK, t)
			return
		}
	}
	api.problem(w, r, a, err)
}

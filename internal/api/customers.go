package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

var errNoRoute = &crm.Error{Code: crm.NotFound, Key: "not_found", Message: "no such API route"}

func customerFilter(r *http.Request) (crm.CustomerFilter, error) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return crm.CustomerFilter{}, err
	}
	f := crm.CustomerFilter{Query: q.Get("q"), Level: q.Get("level"), Status: q.Get("status"), Due: q.Get("due"), Custom: customFilter(q),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: limit}
	owner, err := queryInt(r, "owner_id")
	if err != nil {
		return f, err
	}
	dept, err := queryInt(r, "department_id")
	f.OwnerID, f.DeptID = int64(owner), int64(dept)
	if err != nil {
		return f, err
	}
	f.Drill, err = crm.ParseDrillFilter(q)
	return f, err
}

// customFilter reads the custom field filters of a list, "custom.<key>=value";
// the service checks keys and values against the object's definitions.
func customFilter(q url.Values) map[string]string {
	var out map[string]string
	for k, v := range q {
		if key, ok := strings.CutPrefix(k, "custom."); ok && len(v) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[key] = v[0]
		}
	}
	return out
}

func (api *API) listCustomers(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.customerPage(w, r, a, false, false)
}

func (api *API) listPool(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.customerPage(w, r, a, true, false)
}

func (api *API) listRecycled(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	api.customerPage(w, r, a, false, true)
}

func (api *API) customerPage(w http.ResponseWriter, r *http.Request, a *access.Actor, pool, recycled bool) {
	f, err := customerFilter(r)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	f.Pool = pool
	var page service.CustomerPage
	if recycled {
		page, err = api.svc.ListRecycledCustomers(r.Context(), a, f)
	} else {
		page, err = api.svc.ListCustomers(r.Context(), a, f)
	}
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (api *API) createCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in service.CustomerInput
	if err := decode(r, &in); err != nil {
		api.problem(w, r, a, err)
		return
	}
	c, err := api.svc.CreateCustomer(r.Context(), a, in)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	w.Header().Set("Location", "/api/v1/customers/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
}

func (api *API) getCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err == nil {
		var c crm.Customer
		if c, err = api.svc.GetCustomer(r.Context(), a, id); err == nil {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	api.problem(w, r, a, err)
}

func (api *API) updateCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var up crm.CustomerUpdate
	if err == nil {
		err = decode(r, &up)
	}
	if err == nil {
		var c crm.Customer
		if c, err = api.svc.UpdateCustomer(r.Context(), a, id, up); err == nil {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	api.problem(w, r, a, err)
}

// action runs a state change on the record named by {id} and answers 204.
func (api *API) action(do func(ctx context.Context, a *access.Actor, id int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		if err == nil {
			err = do(r.Context(), a, id)
		}
		if err != nil {
			api.problem(w, r, a, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

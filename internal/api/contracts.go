package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// contractRoutes are the contracts' routes: list, create, get and update
// of their own, and the routes every record of the registry's description
// has (recordRoutes).
func (api *API) contractRoutes() []httpx.Route {
	return append([]httpx.Route{
		{Method: "GET", Pattern: "/api/v1/contracts", Handler: api.authed(api.listContracts())},
		{Method: "POST", Pattern: "/api/v1/contracts", Handler: api.authed(api.createContract())},
		{Method: "GET", Pattern: "/api/v1/contracts/{id}", Handler: api.authed(api.getContract())},
		{Method: "PATCH", Pattern: "/api/v1/contracts/{id}", Handler: api.authed(api.updateContract())},
	}, api.recordRoutes(crm.ObjContract)...)
}

func (api *API) listContracts() handlerFunc {
	s := api.svc
	return list(api, func(r *http.Request, a *access.Actor, f crm.ListFilter) (service.ContractPage, error) {
		return s.ListContracts(r.Context(), a, f)
	})
}

func (api *API) createContract() handlerFunc {
	s := api.svc
	return create(api, func(r *http.Request, a *access.Actor, in crm.ContractFields) (crm.Contract, error) {
		return s.CreateContract(r.Context(), a, in)
	})
}

func (api *API) getContract() handlerFunc {
	s := api.svc
	return get(api, func(r *http.Request, a *access.Actor, id int64) (crm.Contract, error) {
		return s.GetContract(r.Context(), a, id)
	})
}

func (api *API) updateContract() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.ContractUpdate) (crm.Contract, error) {
		return s.UpdateContract(r.Context(), a, id, in)
	})
}

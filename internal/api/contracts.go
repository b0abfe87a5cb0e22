package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

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

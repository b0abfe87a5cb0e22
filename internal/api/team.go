package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/service"
)

// team serves GET /api/v1/team: per rep in the caller's scope, overdue and
// due-today follow-ups, overdue tasks and stalled opportunities
// (owner_id=, department_id= narrow it).
func (api *API) team(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var f service.TeamFilter
	var sum service.TeamSummary
	owner, err := queryInt(r, "owner_id")
	if err == nil {
		var dept int
		dept, err = queryInt(r, "department_id")
		f = service.TeamFilter{OwnerID: int64(owner), DeptID: int64(dept)}
	}
	if err == nil {
		sum, err = api.svc.Team(r.Context(), a, f)
	}
	api.respond(w, r, a, http.StatusOK, sum, err)
}

// opportunityTotals serves GET /api/v1/opportunities/totals: count, total
// and weighted total per stage and currency, under the list's filters.
func (api *API) opportunityTotals(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f, err := listFilter(r)
	var totals service.BoardTotals
	if err == nil {
		totals, err = api.svc.OpportunityTotals(r.Context(), a, f)
	}
	api.respond(w, r, a, http.StatusOK, totals, err)
}

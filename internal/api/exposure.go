package api

import (
	"net/http"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// exposure serves GET /exposure: the exposure report of a window (since,
// until: RFC 3339), narrowed by actor_id, token_id or event_id (an export;
// alone it needs no window); format=csv answers CSV instead of JSON.
func (api *API) exposure(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var q service.ExposureQuery
	var p crm.Problems
	queryTimes(r, &p, map[string]*time.Time{"since": &q.Since, "until": &q.Until})
	queryIDs(r, &p, map[string]*int64{"actor_id": &q.ActorID, "token_id": &q.TokenID, "event_id": &q.EventID})
	err := p.Err()
	var rep service.ExposureReport
	if err == nil {
		rep, err = api.svc.ExposureReport(r.Context(), a, q)
	}
	api.report(w, r, a, rep, err)
}

// report answers an exposure report as JSON, or as CSV for format=csv.
func (api *API) report(w http.ResponseWriter, r *http.Request, a *access.Actor, rep service.ExposureReport, err error) {
	if err != nil || r.URL.Query().Get("format") != "csv" {
		api.respond(w, r, a, http.StatusOK, rep, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="exposure-`+rep.GeneratedAt.Format("20060102-150405")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := rep.WriteCSV(w); err != nil {
		api.logger.Error("write exposure csv", "err", err)
	}
}

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

// incidents serves GET /incidents?status=.
func (api *API) incidents(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	items, err := api.svc.Incidents(r.Context(), a, r.URL.Query().Get("status"))
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
}

// createIncident serves POST /incidents.
func (api *API) createIncident() handlerFunc {
	return create(api, func(r *http.Request, a *access.Actor, in crm.IncidentFields) (crm.Incident, error) {
		return api.svc.CreateIncident(r.Context(), a, in)
	})
}

// getIncident serves GET /incidents/{id}: the incident and its timeline.
func (api *API) getIncident() handlerFunc {
	return get(api, func(r *http.Request, a *access.Actor, id int64) (service.IncidentDetail, error) {
		return api.svc.Incident(r.Context(), a, id)
	})
}

// updateIncident serves PATCH /incidents/{id}.
func (api *API) updateIncident() handlerFunc {
	return withID(api, func(r *http.Request, a *access.Actor, id int64, up crm.IncidentUpdate) (crm.Incident, error) {
		return api.svc.UpdateIncident(r.Context(), a, id, up)
	})
}

// timelineEntry is a line for an incident's timeline; at defaults to now.
type timelineEntry struct {
	At   time.Time `json:"at,omitzero"`
	Note string    `json:"note"`
}

// addIncidentEntry serves POST /incidents/{id}/timeline.
func (api *API) addIncidentEntry(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in timelineEntry
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &in)
	}
	var e crm.IncidentEntry
	if err == nil {
		e, err = api.svc.AddIncidentEntry(r.Context(), a, id, crm.IncidentEntry{At: in.At, Note: in.Note})
	}
	api.respond(w, r, a, http.StatusCreated, e, err)
}

// linkIncidentExposure serves PUT /incidents/{id}/exposure-query.
func (api *API) linkIncidentExposure() handlerFunc {
	return withID(api, func(r *http.Request, a *access.Actor, id int64, q service.ExposureQuery) (crm.Incident, error) {
		return api.svc.LinkIncidentExposure(r.Context(), a, id, q)
	})
}

// incidentExposure serves GET /incidents/{id}/exposure: the linked report,
// made again (format=csv for CSV).
func (api *API) incidentExposure(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var rep service.ExposureReport
	if err == nil {
		rep, err = api.svc.IncidentExposure(r.Context(), a, id)
	}
	api.report(w, r, a, rep, err)
}

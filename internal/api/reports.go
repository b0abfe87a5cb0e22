package api

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// reportFilter reads a report's filters from the query string.
func reportFilter(r *http.Request) (crm.ReportFilter, error) {
	q := r.URL.Query()
	f := crm.ReportFilter{From: q.Get("from"), To: q.Get("to"), Level: q.Get("level"), Source: q.Get("source"), Industry: q.Get("industry"),
		Currency: q.Get("currency"), Interval: q.Get("interval"), Baseline: q.Get("baseline")}
	for name, dst := range map[string]*int64{"department_id": &f.DepartmentID, "owner_id": &f.OwnerID} {
		n, err := queryInt(r, name)
		if err != nil {
			return f, err
		}
		*dst = int64(n)
	}
	var err error
	f.IdleDays, err = queryInt(r, "idle_days")
	return f, err
}

// reportDoc documents a report route: its answer and the filters.
func reportDoc(resp any) httpx.Doc { return httpx.Doc{Response: resp, Query: crm.ReportFilter{}} }

// report serves one report: its filters from the query string, the
// figures as JSON.
func report[T any](api *API, run func(context.Context, *access.Actor, crm.ReportFilter) (T, error)) func(http.ResponseWriter, *http.Request, *access.Actor) {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		f, err := reportFilter(r)
		if err == nil {
			var out T
			if out, err = run(r.Context(), a, f); err == nil {
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		api.problem(w, r, a, err)
	}
}

// exportReport serves GET /reports/{name}/export?format=csv|xlsx&…: the
// report as a file, under the export control of the lists.
func (api *API) exportReport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f, err := reportFilter(r)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	var buf bytes.Buffer
	file, err := api.svc.ExportReport(r.Context(), a, service.ReportExport{Name: r.PathValue("name"), Filter: f,
		Format: r.URL.Query().Get("format"), Lang: lang(r, a)}, &buf)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	w.Header().Set("X-Custos-Export", strconv.FormatInt(file.Export.ID, 10))
	httpx.WriteDownload(w, file.Name, file.ContentType, buf.Bytes())
}

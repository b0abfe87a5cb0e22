package api

import (
	"bytes"
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// exportList serves GET /{collection}/export?format=csv|xlsx&…: the file
// (200), or 202 with the approval request when the export is above the
// role's threshold.
func (api *API) exportList(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		f, err := service.ParseExportFilter(o, r.URL.Query())
		if err != nil {
			api.problem(w, r, a, err)
			return
		}
		var buf bytes.Buffer
		file, err := api.svc.Export(r.Context(), a, service.ExportRequest{Object: o, Filter: f, Format: r.URL.Query().Get("format"),
			Lang: lang(r, a)}, &buf)
		if err != nil {
			if file.Export.ID != 0 {
				w.Header().Set("Location", "/api/v1/exports/"+strconv.FormatInt(file.Export.ID, 10))
			}
			api.problem(w, r, a, err)
			return
		}
		w.Header().Set("X-Custos-Export", strconv.FormatInt(file.Export.ID, 10))
		httpx.WriteDownload(w, file.Name, file.ContentType, buf.Bytes())
	}
}

// listExports serves GET /exports: the export log (everyone's for
// administrators and auditors, one's own otherwise).
func (api *API) listExports(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	before, err := queryInt(r, "before")
	var items []crm.Export
	if err == nil {
		var limit int
		if limit, err = queryInt(r, "limit"); err == nil {
			items, err = api.svc.ListExports(r.Context(), a, int64(before), limit)
		}
	}
	api.respond(w, r, a, http.StatusOK, itemsOf[crm.Export]{Items: items}, err)
}

// downloadExport serves GET /exports/{id}/download: an approved export's
// file, to its requester, once.
func (api *API) downloadExport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	var buf bytes.Buffer
	file, err := api.svc.DownloadExport(r.Context(), a, id, &buf)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, file.Name, file.ContentType, buf.Bytes())
}

// maxTraceBytes bounds a file uploaded to be traced.
const maxTraceBytes = 64 << 20

// traceFile serves POST /exports/trace: a file (multipart part "file")
// traced back to its export (administrators).
func (api *API) traceFile(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var res crm.TraceResult
	err := func() error {
		mr, err := httpx.MultipartReader(w, r, maxTraceBytes+maxBody)
		if err != nil {
			return err
		}
		_, file, err := httpx.ReadParts(mr, "file", maxTraceBytes)
		if err != nil {
			return err
		}
		defer file.Close()
		res, err = api.svc.Trace(r.Context(), a, file, file.Size, file.Name)
		return err
	}()
	api.respond(w, r, a, http.StatusOK, res, err)
}

// traceUpload documents the trace form: the file alone (no options).
type traceUpload struct{}

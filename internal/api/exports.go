package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// exportFilter reads an export's filters: the query parameters of the
// list it exports (customers: q, level, status, pool, custom.*, sort;
// contacts, leads, opportunities: q, status, owner_id, customer_id,
// stage_id, custom.*, sort; follow-ups: customer_id | contact_id |
// opportunity_id | lead_id; tasks: customer_id, all, due_before).
func exportFilter(r *http.Request, o crm.Object) (service.ExportFilter, error) {
	lf, err := listFilter(r)
	if err != nil {
		return service.ExportFilter{}, err
	}
	lf.Cursor, lf.Limit = "", 0
	q := r.URL.Query()
	f := service.ExportFilter{ListFilter: lf, Level: q.Get("level"), Pool: q.Get("pool") == "true", AllTasks: q.Get("all") == "true"}
	if d := q.Get("due_before"); d != "" {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			return f, &crm.Error{Code: crm.Invalid, Message: "due_before must be RFC 3339", Fields: []crm.FieldError{{Field: "due_before", Rule: "format"}}}
		}
		f.DueBefore = &t
	}
	if o == crm.ObjFollowUp {
		for _, p := range []struct {
			param string
			o     crm.Object
		}{{"customer_id", crm.ObjCustomer}, {"contact_id", crm.ObjContact}, {"opportunity_id", crm.ObjOpportunity}, {"lead_id", crm.ObjLead}} {
			if n, err := queryInt(r, p.param); err != nil {
				return f, err
			} else if n != 0 {
				f.Parent, f.ParentID = p.o, int64(n)
				break
			}
		}
	}
	return f, nil
}

// exportList serves GET /{collection}/export?format=csv|xlsx&…: the file
// (200), or 202 with the approval request when the export is above the
// role's threshold.
func (api *API) exportList(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		f, err := exportFilter(r, o)
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

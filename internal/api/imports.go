package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
)

// Imports (issue 14 §1): upload a file for a dry run, preview it again
// with other choices, commit it as a job, follow its progress, download
// its problem rows, undo it. The service does every step; these handlers
// read the request and shape the answer.

// ImportUpload is the JSON part "options" of an upload.
type ImportUpload struct {
	Object  crm.Object        `json:"object"`
	Source  string            `json:"source,omitempty"`
	Options crm.ImportOptions `json:"options"`
}

// ImportStatus is an import with its progress.
type ImportStatus struct {
	crm.Import
	Progress service.ImportProgress `json:"progress"`
}

// ImportErrors is a page of an import's problem rows.
type ImportErrors struct {
	Items []crm.ImportRow `json:"items"`
	// NextAfter is the after= of the next page (0: none).
	NextAfter int `json:"next_after,omitempty"`
}

type undoRequest struct {
	Confirm bool `json:"confirm"`
}

// uploadImport serves POST /imports: multipart/form-data with the file in
// part "file" and the choices (ImportUpload) as JSON in part "options". A
// body over the import limit is refused by its length before it is read.
func (api *API) uploadImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var preview service.ImportPreview
	err := func() error {
		mr, err := httpx.MultipartReader(w, r, service.MaxImportBytes+maxBody)
		if err != nil {
			return err
		}
		fields, file, err := httpx.ReadParts(mr, "file", service.MaxImportBytes)
		if err != nil {
			return err
		}
		defer file.Close()
		var in ImportUpload
		if fields.Get("options") == "" {
			return &crm.Error{Code: crm.Invalid, Message: "no options part", Fields: []crm.FieldError{{Field: "options", Rule: "required"}}}
		}
		if err := httpx.DecodeJSONBytes([]byte(fields.Get("options")), &in); err != nil {
			return err
		}
		preview, err = api.svc.PreviewImport(r.Context(), a, service.ImportRequest{Object: in.Object, Source: in.Source,
			FileName: file.Name, File: file, Size: file.Size, Options: in.Options})
		return err
	}()
	if err == nil {
		w.Header().Set("Location", "/api/v1/imports/"+strconv.FormatInt(preview.Import.ID, 10))
	}
	api.respond(w, r, a, http.StatusCreated, preview, err)
}

// repreviewImport serves POST /imports/{id}/preview.
func (api *API) repreviewImport(r *http.Request, a *access.Actor, id int64, opts crm.ImportOptions) (service.ImportPreview, error) {
	return api.svc.RepreviewImport(r.Context(), a, id, opts)
}

// undoImport serves POST /imports/{id}/undo.
func (api *API) undoImport(r *http.Request, a *access.Actor, id int64, in undoRequest) (service.ImportUndo, error) {
	return api.svc.UndoImport(r.Context(), a, id, in.Confirm)
}

// commitImport serves POST /imports/{id}/commit: 202 with the queued
// import, or 202 with the approval request when the bulk-import policy
// holds it.
func (api *API) commitImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var im crm.Import
	if err == nil {
		im, err = api.svc.CommitImport(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusAccepted, im, err)
}

// getImport serves GET /imports/{id}.
func (api *API) getImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var out ImportStatus
	if err == nil {
		out.Import, err = api.svc.GetImport(r.Context(), a, id)
		out.Progress = service.Progress(out.Import, time.Now())
	}
	api.respond(w, r, a, http.StatusOK, out, err)
}

// listImports serves GET /imports?limit=.
func (api *API) listImports(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	limit, err := queryInt(r, "limit")
	var items []crm.Import
	if err == nil {
		items, err = api.svc.ListImports(r.Context(), a, cmpOr(limit, 50))
	}
	api.respond(w, r, a, http.StatusOK, itemsOf[crm.Import]{Items: items}, err)
}

func cmpOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// importErrors serves GET /imports/{id}/errors: the problem rows as JSON
// (?after=&limit=, with their original cells), or with ?format=csv|xlsx
// all of them as a file.
func (api *API) importErrors(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	if format := r.URL.Query().Get("format"); format != "" {
		var buf bytes.Buffer
		f, err := api.svc.WriteImportErrors(r.Context(), a, id, lang(r, a), format, &buf)
		if err != nil {
			api.problem(w, r, a, err)
			return
		}
		httpx.WriteDownload(w, f.Name, f.ContentType, buf.Bytes())
		return
	}
	after, err := queryInt(r, "after")
	var limit int
	if err == nil {
		limit, err = queryInt(r, "limit")
	}
	var out ImportErrors
	if err == nil {
		limit = min(cmpOr(limit, 200), 1000)
		out.Items, err = api.svc.ImportRows(r.Context(), a, id, after, limit, true)
	}
	if err == nil && len(out.Items) == limit {
		out.NextAfter = out.Items[len(out.Items)-1].Line
	}
	if out.Items == nil {
		out.Items = []crm.ImportRow{}
	}
	api.respond(w, r, a, http.StatusOK, out, err)
}

// importTemplate serves GET /imports/template?object=&lang=&format=: an
// object's empty file with its headers in the language.
func (api *API) importTemplate(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	l := q.Get("lang")
	if l == "" {
		l = lang(r, a)
	}
	var buf bytes.Buffer
	f, err := api.svc.WriteImportTemplate(r.Context(), a, crm.Object(q.Get("object")), l, q.Get("format"), &buf)
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, f.Name, f.ContentType, buf.Bytes())
}

// lang is the language of the caller: their setting, else Accept-Language.
func lang(r *http.Request, a *access.Actor) string {
	userLang := ""
	if a != nil {
		userLang = a.Lang
	}
	return i18n.Pick(userLang, r.Header.Get("Accept-Language"))
}

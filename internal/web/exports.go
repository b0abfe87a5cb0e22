package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// Exports (issue 15 §4): each exportable list has CSV and XLSX buttons
// that export it with its current filters (GET /export/{collection});
// an export above the role's threshold asks for a fresh second factor and
// is filed for approval (the approval's page follows); the export log
// (/exports) lists everyone's exports to administrators and auditors and
// one's own to anyone else, with the one-time download of an approved
// file; administrators trace a leaked file there.

// exportCollection is the object of an exportable list path segment.
func exportCollection(path string) (crm.Object, bool) {
	for _, s := range crm.Specs() {
		if s.Path == path && service.ExportObjects(s.Name) {
			return s.Name, true
		}
	}
	return "", false
}

// exportOf is, on an exportable list page, the list's export route and
// its filters (paging left out; the task list's "show=all" as "all").
func exportOf(r *http.Request) (string, url.Values) {
	segment := strings.TrimPrefix(r.URL.Path, "/")
	if _, ok := exportCollection(segment); !ok {
		return "", nil
	}
	q := url.Values{}
	for k, v := range r.URL.Query() {
		switch k {
		case "cursor", "prev", "format", "show":
		default:
			q[k] = v
		}
	}
	if r.URL.Query().Get("show") == "all" {
		q.Set("all", "true")
	}
	return "/export/" + segment, q
}

// ExportURL is the list's export as a file of the format, or "" when the
// page is no exportable list or the user may not export it.
func (p Page) ExportURL(format string) string {
	if p.exportPath == "" {
		return ""
	}
	o, _ := exportCollection(strings.TrimPrefix(p.exportPath, "/export/"))
	if !p.Actor.Can(o, crm.ActRead) || !p.Actor.Role.Grant(o).Export {
		return ""
	}
	q := url.Values{}
	for k, v := range p.exportQuery {
		q[k] = v
	}
	q.Set("format", format)
	return p.exportPath + "?" + q.Encode()
}

// exportList serves GET /export/{collection}: the file, or the step-up
// page, or the approval request it filed.
func (s *Server) exportList(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, ok := exportCollection(r.PathValue("collection"))
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f, err := service.ParseExportFilter(o, r.URL.Query())
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	var buf bytes.Buffer
	file, err := s.svc.Export(r.Context(), a, service.ExportRequest{Object: o, Filter: f, Format: r.URL.Query().Get("format"),
		Lang: lang(r, a)}, &buf)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, file.Name, file.ContentType, buf.Bytes())
}

// ExportsView is the export log and, for administrators, the trace form
// and its answer.
type ExportsView struct {
	Page
	Exports  []ExportItem
	Errors   FormErrors
	Trace    *crm.TraceResult
	TraceAt  When
	CanTrace bool
}

// ExportItem is one export in the log.
type ExportItem struct {
	ID       int64
	User     string
	Object   string
	Format   string
	Rows     int
	Status   string
	Filter   string
	Created  When
	Download bool // the viewer's own approved file, not fetched yet
}

func (s *Server) exports(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showExports(w, r, a, http.StatusOK, FormErrors{}, nil)
}

func (s *Server) showExports(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, e FormErrors, trace *crm.TraceResult) {
	list, err := s.svc.ListExports(r.Context(), a, 0, 100)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p := s.page(r, a, "exports.title", "exports")
	v := ExportsView{Page: p, Errors: e, Trace: trace, CanTrace: a.IsAdmin()}
	if trace != nil && trace.Match {
		v.TraceAt = p.when(trace.At)
	}
	for _, x := range list {
		v.Exports = append(v.Exports, ExportItem{ID: x.ID, User: x.UserName, Object: p.T("object." + string(x.Object)), Format: x.Format,
			Rows: x.Rows, Status: p.Enum("export_status", string(x.Status)), Filter: x.Filter, Created: p.when(x.CreatedAt),
			Download: x.Status == crm.ExportReady && x.UserID == a.UserID})
	}
	s.render(w, r, status, "exports", v)
}

// downloadExport serves GET /exports/{id}/download: an approved file, once.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	var buf bytes.Buffer
	file, err := s.svc.DownloadExport(r.Context(), a, id, &buf)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, file.Name, file.ContentType, buf.Bytes())
}

// traceUpload serves POST /exports/trace: the uploaded file traced back to
// its export, the answer shown on the export log (administrators).
func (s *Server) traceUpload(w http.ResponseWriter, r *http.Request, a *access.Actor, _ url.Values, file *httpx.Upload) {
	res, err := s.svc.Trace(r.Context(), a, file, file.Size, file.Name)
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showExports(w, r, a, status, formErrors(lang(r, a), err), nil) })
		return
	}
	s.showExports(w, r, a, http.StatusOK, FormErrors{}, &res)
}

// Percent shows a confidence as a percentage with enough digits to tell
// 99.9999% from 100%.
func (v ExportsView) Percent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 6, 64) + "%"
}

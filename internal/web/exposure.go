package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// The exposure report page (administrators and auditors): a query form and
// the report, with CSV and JSON downloads of the whole of it.

// maxShownRows bounds the rows a page shows; the downloads hold them all.
const maxShownRows = 500

// ExposureView is the exposure report page.
type ExposureView struct {
	Page
	Query  ExposureFormView
	Report *ExposureReportView
}

// ExposureFormView is the query form, here and on an incident (where it
// links the incident to a query).
type ExposureFormView struct {
	Page
	Action string // where the form goes
	Post   bool   // a POST with the CSRF token, else a GET
	Button string
	Form   ExposureForm
	Users  []Option
	Errors FormErrors
}

// ExposureForm is the query as typed.
type ExposureForm struct{ Since, Until, ActorID, TokenID, EventID string }

// ExposureReportView is a report as a page shows it (here and on an
// incident): the first rows and where to download it all.
type ExposureReportView struct {
	service.ExposureReport
	Shown           []service.ExposureRow
	CSVURL, JSONURL string
}

// exposureFields are the form's inputs, for errors shown beside them.
var exposureFields = []string{"since", "until", "actor_id", "token_id", "event_id"}

// readExposureForm reads a report query from URL values: times as typed in
// the user's time zone (or RFC 3339, as links carry them), ids as numbers.
func readExposureForm(v url.Values, loc *time.Location) (service.ExposureQuery, ExposureForm, crm.Problems) {
	f := ExposureForm{Since: v.Get("since"), Until: v.Get("until"), ActorID: v.Get("actor_id"), TokenID: v.Get("token_id"), EventID: v.Get("event_id")}
	var q service.ExposureQuery
	var p crm.Problems
	for field, dst := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if t, err := time.Parse(time.RFC3339Nano, v.Get(field)); err == nil {
			*dst = t
		} else if t := parseLocalTime(loc, &p, field, v.Get(field)); t != nil {
			*dst = *t
		}
	}
	for field, dst := range map[string]*int64{"actor_id": &q.ActorID, "token_id": &q.TokenID, "event_id": &q.EventID} {
		if s := strings.TrimSpace(v.Get(field)); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				p.Add(field, "number")
			}
			*dst = n
		}
	}
	return q, f, p
}

// exposureValues is a query as URL values, for links to its report.
func exposureValues(q service.ExposureQuery) url.Values {
	v := url.Values{}
	if q.EventID != 0 {
		v.Set("event_id", strconv.FormatInt(q.EventID, 10))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.ActorID != 0 {
		v.Set("actor_id", strconv.FormatInt(q.ActorID, 10))
	}
	if q.TokenID != 0 {
		v.Set("token_id", strconv.FormatInt(q.TokenID, 10))
	}
	return v
}

// reportView prepares a report for a page; download is the URL of its
// files, to which the format is added.
func reportView(rep service.ExposureReport, download string) *ExposureReportView {
	sep := "?"
	if strings.Contains(download, "?") {
		sep = "&"
	}
	v := &ExposureReportView{ExposureReport: rep, Shown: rep.Rows, CSVURL: download + sep + "format=csv", JSONURL: download + sep + "format=json"}
	if len(v.Shown) > maxShownRows {
		v.Shown = v.Shown[:maxShownRows]
	}
	return v
}

// queryForm builds the query form with the users to choose from.
func (s *Server) queryForm(r *http.Request, a *access.Actor, p Page, f ExposureForm, actorID int64, e FormErrors) (ExposureFormView, error) {
	dir, err := s.svc.Directory(r.Context(), a)
	if err != nil {
		return ExposureFormView{}, err
	}
	return ExposureFormView{Page: p, Action: "/exposure", Button: p.T("exposure.run"), Form: f, Errors: e,
		Users: idOptions(dir.Users, userID, userLabel, actorID, "—")}, nil
}

// MaxRecords and MaxEvents are where a report stops, for its message.
func (ExposureReportView) MaxRecords() int { return service.MaxExposureRecords }

// MaxEvents: see MaxRecords.
func (ExposureReportView) MaxEvents() int { return service.MaxExposureEvents }

// exposure serves GET /exposure: the form, and the report once asked
// (since or event_id given).
func (s *Server) exposure(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := ExposureView{Page: s.page(r, a, "exposure.title", "exposure")}
	query := r.URL.Query()
	q, form, p := readExposureForm(query, v.Location())
	status := http.StatusOK
	var errs FormErrors
	if query.Has("since") || query.Has("event_id") {
		var err error = p.Err()
		var rep service.ExposureReport
		if err == nil {
			rep, err = s.svc.ExposureReport(r.Context(), a, q)
		}
		switch {
		case err == nil:
			v.Report = reportView(rep, "/exposure/download?"+exposureValues(rep.Query).Encode())
		case hasFieldErrors(err):
			errs, status = formErrors(v.Lang, err, exposureFields...), httpx.Status(err)
		default:
			s.fail(w, r, a, err)
			return
		}
	} else if err := s.svc.MayReportExposure(r.Context(), a); err != nil {
		s.fail(w, r, a, err)
		return
	}
	var err error
	if v.Query, err = s.queryForm(r, a, v.Page, form, q.ActorID, errs); err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, status, "exposure", v)
}

// exposureDownload serves GET /exposure/download?format=csv|json&…: the
// whole report as a file.
func (s *Server) exposureDownload(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q, _, p := readExposureForm(r.URL.Query(), s.svc.Location(a))
	err := p.Err()
	var rep service.ExposureReport
	if err == nil {
		rep, err = s.svc.ExposureReport(r.Context(), a, q)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	writeReport(w, r, rep, s)
}

// writeReport sends a report as a CSV file or, for format=json, a JSON one.
func writeReport(w http.ResponseWriter, r *http.Request, rep service.ExposureReport, s *Server) {
	name := "exposure-" + rep.GeneratedAt.Format("20060102-150405")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			s.logger.Error("write exposure json", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	if err := rep.WriteCSV(w); err != nil {
		s.logger.Error("write exposure csv", "err", err)
	}
}

// FieldNames lists report fields in the page's language ("*": every field
// the reader's role showed).
func (p Page) FieldNames(fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		switch f {
		case "*":
			out[i] = p.T("exposure.all_fields")
		case "custom":
			out[i] = p.T("exposure.custom_fields")
		default:
			out[i] = p.FieldLabel(f)
		}
	}
	return strings.Join(out, ", ")
}

// RecordURL links a report's record for administrators ("" for others,
// who may not open records from the report).
func (p Page) RecordURL(o crm.Object, id int64) string {
	if !p.IsAdmin() || o == "" || o == crm.ObjFollowUp || o == crm.ObjTask {
		return ""
	}
	return "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)
}

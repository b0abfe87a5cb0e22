package web

import (
	"net/http"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The incident pages: the list and a new incident's form, and one incident
// with its timeline and its linked exposure report. The trail's readers
// read them; administrators keep them.

// incidentFieldNames are the incident form's inputs.
var incidentFieldNames = []string{"title", "severity", "status", "detected_at", "description"}

// incidentLabels name the incident's fields in forms and messages (a
// "title" here is not a contact's job title).
func incidentLabels(p Page) map[string]string {
	out := map[string]string{}
	for _, f := range incidentFieldNames {
		out[f] = p.T("incident.field." + f)
	}
	out["note"], out["at"] = p.T("incident.field.note"), p.T("incident.field.at")
	return out
}

// IncidentForm is an incident as typed.
type IncidentForm struct{ Title, Severity, Status, DetectedAt, Description, Version string }

// incidentFields are the inputs of an incident's form.
func incidentFields(p Page, f IncidentForm, e FormErrors) []FieldView {
	labels := incidentLabels(p)
	fs := []FieldView{
		{Name: "title", Value: f.Title, Required: true, Max: 200, Wide: true},
		{Name: "severity", Options: p.enumOptions("incident_severity", crm.IncidentSeverities, f.Severity, "")},
		{Name: "status", Options: p.enumOptions("incident_status", crm.IncidentStatuses, f.Status, "")},
		{Name: "detected_at", Type: "datetime-local", Value: f.DetectedAt, Required: true},
		{Name: "description", Type: "textarea", Value: f.Description, Max: 20_000, Wide: true},
	}
	for i := range fs {
		fs[i].Label, fs[i].Error = labels[fs[i].Name], e.For(fs[i].Name)
	}
	return fs
}

// readIncidentForm reads the form into fields.
func readIncidentForm(r *http.Request, loc *time.Location) (IncidentForm, crm.IncidentFields, crm.Problems) {
	f := IncidentForm{Title: r.PostFormValue("title"), Severity: r.PostFormValue("severity"), Status: r.PostFormValue("status"),
		DetectedAt: r.PostFormValue("detected_at"), Description: r.PostFormValue("description"), Version: r.PostFormValue("version")}
	var p crm.Problems
	in := crm.IncidentFields{Title: f.Title, Severity: f.Severity, Status: f.Status, Description: f.Description}
	if t := parseLocalTime(loc, &p, "detected_at", f.DetectedAt); t != nil {
		in.DetectedAt = *t
	}
	return f, in, p
}

// IncidentsView is the incident list with a new incident's form.
type IncidentsView struct {
	Page
	Incidents []crm.Incident
	Fields    []FieldView
	Errors    FormErrors
}

func (s *Server) incidents(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	p := s.page(r, a, "incident.title", "incidents")
	s.showIncidents(w, r, a, http.StatusOK, IncidentForm{Severity: "high", Status: "open", DetectedAt: p.LocalInput(time.Now())}, FormErrors{})
}

func (s *Server) showIncidents(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f IncidentForm, e FormErrors) {
	list, err := s.svc.Incidents(r.Context(), a, "")
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := IncidentsView{Page: s.page(r, a, "incident.title", "incidents"), Incidents: list, Errors: e}
	v.Fields = incidentFields(v.Page, f, e)
	s.render(w, r, status, "incidents", v)
}

// createIncident serves POST /incidents (administrators).
func (s *Server) createIncident(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	loc := s.svc.Location(a)
	f, fields, p := readIncidentForm(r, loc)
	err := p.Err()
	var in crm.Incident
	if err == nil {
		in, err = s.svc.CreateIncident(r.Context(), a, fields)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			l := lang(r, a)
			s.showIncidents(w, r, a, status, f, labeledFormErrors(l, err, incidentLabels(Page{Lang: l}), incidentFieldNames...))
		})
		return
	}
	redirect(w, r, incidentURL(in.ID))
}

func incidentURL(id int64) string { return "/incidents/" + strconv.FormatInt(id, 10) }

// IncidentView is one incident.
type IncidentView struct {
	Page
	Incident    service.IncidentDetail
	Fields      []FieldView
	Errors      FormErrors
	Note        string
	NoteAt      string
	NoteErrors  FormErrors
	Query       ExposureFormView
	Linked      bool
	LinkedQuery service.ExposureQuery
	Report      *ExposureReportView
}

// URL is the incident's page.
func (v IncidentView) URL() string { return incidentURL(v.Incident.ID) }

// incident serves GET /incidents/{id}; ?report=1 makes the linked
// exposure report again and shows it.
func (s *Server) incident(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showIncident(w, r, a, http.StatusOK, nil)
}

// incidentProblem is a refused form of the incident page, shown again.
type incidentProblem struct {
	form   *IncidentForm
	errors FormErrors
	which  string // "edit", "note" or "link"
	note   [2]string
	query  ExposureForm
}

func (s *Server) showIncident(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, prob *incidentProblem) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	d, err := s.svc.Incident(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := IncidentView{Page: s.page(r, a, "incident.title", "incidents"), Incident: d}
	v.Title = d.Title
	form := IncidentForm{Title: d.Title, Severity: d.Severity, Status: d.Status, DetectedAt: v.LocalInput(d.DetectedAt),
		Description: d.Description, Version: strconv.FormatInt(d.Version, 10)}
	var editErrs, linkErrs FormErrors
	var queryForm ExposureForm
	v.LinkedQuery, v.Linked = service.LinkedExposure(d.Incident)
	if v.Linked {
		queryForm = ExposureForm{Since: v.LocalInput(v.LinkedQuery.Since), Until: v.LocalInput(v.LinkedQuery.Until)}
		if v.LinkedQuery.ActorID != 0 {
			queryForm.ActorID = strconv.FormatInt(v.LinkedQuery.ActorID, 10)
		}
		if v.LinkedQuery.TokenID != 0 {
			queryForm.TokenID = strconv.FormatInt(v.LinkedQuery.TokenID, 10)
		}
		if v.LinkedQuery.EventID != 0 {
			queryForm.EventID = strconv.FormatInt(v.LinkedQuery.EventID, 10)
		}
	}
	if prob != nil {
		switch prob.which {
		case "edit":
			form, editErrs = *prob.form, prob.errors
		case "note":
			v.NoteAt, v.Note, v.NoteErrors = prob.note[0], prob.note[1], prob.errors
		case "link":
			queryForm, linkErrs = prob.query, prob.errors
		}
	}
	v.Errors = editErrs
	v.Fields = incidentFields(v.Page, form, editErrs)
	if v.Query, err = s.queryForm(r, a, v.Page, queryForm, v.LinkedQuery.ActorID, linkErrs); err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Query.Action, v.Query.Post, v.Query.Button = v.URL()+"/exposure", true, v.T("incident.link")
	if v.Linked && r.URL.Query().Get("report") == "1" {
		rep, err := s.svc.IncidentExposure(r.Context(), a, id)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Report = reportView(rep, v.URL()+"/exposure")
	}
	s.render(w, r, status, "incident", v)
}

// updateIncident serves POST /incidents/{id} (administrators).
func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f, fields, p := readIncidentForm(r, s.svc.Location(a))
	version, _ := strconv.ParseInt(f.Version, 10, 64)
	err := p.Err()
	if err == nil {
		_, err = s.svc.UpdateIncident(r.Context(), a, id, crm.IncidentUpdate{Version: version, Title: &fields.Title,
			Severity: &fields.Severity, Status: &fields.Status, DetectedAt: &fields.DetectedAt, Description: &fields.Description})
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			l := lang(r, a)
			s.showIncident(w, r, a, status, &incidentProblem{form: &f, which: "edit",
				errors: labeledFormErrors(l, err, incidentLabels(Page{Lang: l}), incidentFieldNames...)})
		})
		return
	}
	redirect(w, r, incidentURL(id))
}

// addIncidentEntry serves POST /incidents/{id}/timeline (administrators).
func (s *Server) addIncidentEntry(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	var p crm.Problems
	e := crm.IncidentEntry{Note: r.PostFormValue("note")}
	if t := parseLocalTime(s.svc.Location(a), &p, "at", r.PostFormValue("at")); t != nil {
		e.At = *t
	}
	err := p.Err()
	if err == nil {
		_, err = s.svc.AddIncidentEntry(r.Context(), a, id, e)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			l := lang(r, a)
			s.showIncident(w, r, a, status, &incidentProblem{which: "note", note: [2]string{r.PostFormValue("at"), e.Note},
				errors: labeledFormErrors(l, err, incidentLabels(Page{Lang: l}), "at", "note")})
		})
		return
	}
	redirect(w, r, incidentURL(id)+"#timeline")
}

// linkIncidentExposure serves POST /incidents/{id}/exposure (administrators).
func (s *Server) linkIncidentExposure(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, a, crm.Errorf(crm.Invalid, "unreadable form"))
		return
	}
	q, form, p := readExposureForm(r.PostForm, s.svc.Location(a))
	err := p.Err()
	if err == nil {
		_, err = s.svc.LinkIncidentExposure(r.Context(), a, id, q)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showIncident(w, r, a, status, &incidentProblem{which: "link", query: form,
				errors: formErrors(lang(r, a), err, exposureFields...)})
		})
		return
	}
	redirect(w, r, incidentURL(id)+"?report=1#exposure-report")
}

// incidentExposure serves GET /incidents/{id}/exposure?format=csv|json:
// the linked report as a file.
func (s *Server) incidentExposure(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	rep, err := s.svc.IncidentExposure(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	writeReport(w, r, rep, s)
}

// QueryLink is the exposure page asking the linked query, to adjust it.
func (v IncidentView) QueryLink() string {
	return "/exposure?" + exposureValues(v.LinkedQuery).Encode()
}

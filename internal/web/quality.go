package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The data-quality page (issue 14 §4): per object, owner and department the
// average completeness and the counts of stale, incomplete and invalid
// records, each a link to its records; for administrators also the
// settings and the "push fix-up tasks now" button.

// QualityView is the quality page.
type QualityView struct {
	Page
	Report   service.QualityReport
	Objects  []QualityObjectView
	Settings *QualitySettingsView // administrators only
	Pushed   *service.FixupRun    // what the button just did
	Errors   FormErrors
}

// QualityObjectView is one object's figures with a table per owner and
// one per department.
type QualityObjectView struct {
	service.QualityObject
	Tables []QualityTable
}

// QualityTable is a table of groups: By is the drill-down's parameter
// ("owner_id", "department_id"), Label the first column's heading key.
type QualityTable struct {
	By, Label string
	Groups    []service.QualityGroup
}

// QualitySettingsView is the settings form: the stale window and, per
// object, a weight for each field a user sets.
type QualitySettingsView struct {
	StaleDays string
	Objects   []QualityWeightsView
}

// QualityWeightsView is one object's weights in the form.
type QualityWeightsView struct {
	Object crm.Object
	Label  string
	Fields []QualityWeightField
}

// QualityWeightField is one field's input.
type QualityWeightField struct {
	Name, Label, Weight string
}

// Drill is the URL of the records behind a figure: an object's records
// with a problem (issue; "all" every record) of an owner or department
// (by "owner_id" or "department_id"; "" for all).
func (QualityView) Drill(o crm.Object, issue, by string, id int64) string {
	v := url.Values{"object": {string(o)}, "issue": {issue}}
	if by != "" {
		v.Set(by, strconv.FormatInt(id, 10))
	}
	return "/quality/records?" + v.Encode()
}

// ObjectLabel names an object as the menus do.
func (p Page) ObjectLabel(o crm.Object) string {
	s, _ := crm.Spec(o)
	return p.T(s.Label)
}

// weightInput names a weight's input.
func weightInput(o crm.Object, field string) string { return "w." + string(o) + "." + field }

// settingsView fills the form from settings.
func settingsView(p Page, q crm.QualitySettings) *QualitySettingsView {
	v := &QualitySettingsView{StaleDays: strconv.Itoa(q.StaleDays)}
	for _, o := range crm.QualityObjects() {
		spec, _ := crm.Spec(o)
		ov := QualityWeightsView{Object: o, Label: p.T(spec.Label)}
		for _, f := range spec.Fields {
			if f.System {
				continue
			}
			w := ""
			for _, qw := range q.Weights[o] {
				if qw.Field == f.Name {
					w = strconv.Itoa(qw.Weight)
				}
			}
			ov.Fields = append(ov.Fields, QualityWeightField{Name: weightInput(o, f.Name), Label: p.T(f.Label), Weight: w})
		}
		v.Objects = append(v.Objects, ov)
	}
	return v
}

// readQualitySettings reads the settings form; an empty weight is 0, a
// malformed one is refused naming its field.
func readQualitySettings(r *http.Request) (crm.QualitySettings, crm.Problems) {
	var p crm.Problems
	q := crm.QualitySettings{Weights: map[crm.Object][]crm.QualityWeight{}}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("stale_days")))
	if err != nil {
		p.Add("stale_days", "number")
	}
	q.StaleDays = days
	for _, o := range crm.QualityObjects() {
		spec, _ := crm.Spec(o)
		for _, f := range spec.Fields {
			raw := strings.TrimSpace(r.PostFormValue(weightInput(o, f.Name)))
			if f.System || raw == "" {
				continue
			}
			w, err := strconv.Atoi(raw)
			if err != nil {
				p.Add("weight", "number")
				continue
			}
			if w > 0 {
				q.Weights[o] = append(q.Weights[o], crm.QualityWeight{Field: f.Name, Weight: w})
			}
		}
		if len(q.Weights[o]) == 0 {
			q.Weights[o] = []crm.QualityWeight{} // validated: an object needs a weight
		}
	}
	return q, p
}

// qualityPage builds the page; settings (administrators) come from the
// stored ones unless a refused form is shown again.
func (s *Server) qualityPage(r *http.Request, a *access.Actor, form *crm.QualitySettings) (QualityView, error) {
	v := QualityView{Page: s.page(r, a, "quality.title", "quality")}
	var err error
	if v.Report, err = s.svc.QualityReport(r.Context(), a); err != nil {
		return v, err
	}
	for _, o := range v.Report.Objects {
		v.Objects = append(v.Objects, QualityObjectView{QualityObject: o, Tables: []QualityTable{
			{By: "owner_id", Label: "field.owner_id", Groups: o.Owners}, {By: "department_id", Label: "field.department_id", Groups: o.Departments}}})
	}
	if a.IsAdmin() {
		q := form
		if q == nil {
			stored, err := s.svc.QualitySettings(r.Context(), a)
			if err != nil {
				return v, err
			}
			q = &stored
		}
		v.Settings = settingsView(v.Page, *q)
	}
	return v, nil
}

// quality serves GET /quality.
func (s *Server) quality(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, err := s.qualityPage(r, a, nil)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if q := r.URL.Query(); q.Has("created") {
		created, _ := strconv.Atoi(q.Get("created"))
		closed, _ := strconv.Atoi(q.Get("closed"))
		v.Pushed = &service.FixupRun{Created: created, Closed: closed}
	}
	s.render(w, r, http.StatusOK, "quality", v)
}

// saveQualitySettings serves POST /quality/settings (administrators).
func (s *Server) saveQualitySettings(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q, p := readQualitySettings(r)
	err := p.Err()
	if err == nil {
		err = s.svc.SaveQualitySettings(r.Context(), a, q)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			v, verr := s.qualityPage(r, a, &q)
			if verr != nil {
				s.fail(w, r, a, verr)
				return
			}
			v.Settings.StaleDays = r.PostFormValue("stale_days")
			v.Errors = formErrors(v.Lang, err, "stale_days")
			s.render(w, r, status, "quality", v)
		})
		return
	}
	redirect(w, r, "/quality")
}

// pushFixups serves POST /quality/fixups (administrators): the fix-up job
// now, then the page saying what it did.
func (s *Server) pushFixups(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	run, err := s.svc.PushFixupTasks(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/quality?created="+strconv.Itoa(run.Created)+"&closed="+strconv.Itoa(run.Closed))
}

// QualityRecordsView is a drill-down: the records behind a figure.
type QualityRecordsView struct {
	Page
	Query   service.QualityQuery
	Records service.QualityRecords
	Path    string // the object's URL segment, for links to the records
	NextURL string
}

// readQualityQuery reads a drill-down's filter from the URL.
func readQualityQuery(v url.Values) (service.QualityQuery, crm.Problems) {
	q := service.QualityQuery{Object: crm.Object(v.Get("object")), Issue: crm.QualityIssue(v.Get("issue"))}
	var p crm.Problems
	readDrillIDs(v, &p, &q.OwnerID, &q.DeptID, &q.After)
	return q, p
}

// readDrillIDs reads a drill-down's owner_id, department_id and after from
// the URL, naming a malformed one.
func readDrillIDs(v url.Values, p *crm.Problems, owner, dept, after *int64) {
	for field, dst := range map[string]*int64{"owner_id": owner, "department_id": dept, "after": after} {
		if raw := v.Get(field); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				p.Add(field, "number")
			}
			*dst = n
		}
	}
}

// qualityRecords serves GET /quality/records.
func (s *Server) qualityRecords(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q, p := readQualityQuery(r.URL.Query())
	err := p.Err()
	var recs service.QualityRecords
	if err == nil {
		recs, err = s.svc.QualityRecords(r.Context(), a, q)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	spec, _ := crm.Spec(q.Object)
	v := QualityRecordsView{Page: s.page(r, a, "quality.drilldown", "quality"), Query: q, Records: recs, Path: spec.Path}
	if recs.Next != 0 {
		next := r.URL.Query()
		next.Set("after", strconv.FormatInt(recs.Next, 10))
		v.NextURL = "/quality/records?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "quality_records", v)
}

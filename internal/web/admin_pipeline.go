package web

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
)

// The administration pages of the pipeline stages and the custom fields.
// Routes are wrapped in s.admin; the service checks again on every write.

// formNumber reads an optional whole number typed in a form; a bad one
// adds a field problem.
func formNumber(p *crm.Problems, field, value string) int {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(field, "number")
	}
	return n
}

// ---- stages ----

var stageKinds = []string{crm.StageOpen, crm.StageWon, crm.StageLost}

// StageForm is the stage form's input as typed.
type StageForm struct {
	Name, NameEn, Position, Probability, Kind string
	Active                                    bool
}

var stageFieldNames = []string{"name", "name_en", "position", "probability", "kind", "active"}

func readStageForm(r *http.Request) StageForm {
	g := r.PostFormValue
	return StageForm{Name: g("name"), NameEn: g("name_en"), Position: g("position"), Probability: g("probability"),
		Kind: g("kind"), Active: g("active") == "on"}
}

func stageFormOf(st crm.Stage) StageForm {
	return StageForm{Name: st.Name, NameEn: st.NameEn, Position: strconv.Itoa(st.Position), Probability: strconv.Itoa(st.Probability),
		Kind: st.Kind, Active: st.Active}
}

// stage reads the form; problems are numbers the page could not read.
func (f StageForm) stage(id int64) (crm.Stage, crm.Problems) {
	var p crm.Problems
	st := crm.Stage{ID: id, Name: f.Name, NameEn: f.NameEn, Kind: f.Kind, Active: f.Active,
		Position: formNumber(&p, "position", f.Position), Probability: formNumber(&p, "probability", f.Probability)}
	return st, p
}

// stageLabels words the stage's own fields: its kind is not a follow-up's.
func stageLabels(p Page) map[string]string { return map[string]string{"kind": p.T("field.stage_kind")} }

func stageFields(p Page, f StageForm, e FormErrors) []FieldView {
	fs := labelFields(p, []FieldView{
		{Name: "name", Value: f.Name, Required: true, Max: 40},
		{Name: "name_en", Value: f.NameEn, Max: 40},
		{Name: "position", Value: f.Position, InputMode: "numeric", Hint: p.T("hint.position")},
		{Name: "probability", Value: f.Probability, InputMode: "numeric", Hint: p.T("hint.probability")},
		{Name: "kind", Options: p.enumOptions("stage_kind", stageKinds, f.Kind, ""), Hint: p.T("hint.stage_kind")},
		{Name: "active", Check: true, Checked: f.Active},
	}, e)
	fs[4].Label = p.T("field.stage_kind")
	return fs
}

// saveStageForm validates and saves a stage form.
func (s *Server) saveStageForm(r *http.Request, a *access.Actor, id int64, f StageForm) error {
	st, p := f.stage(id)
	if len(p) > 0 {
		check := st
		var domain crm.Problems
		if err := check.Validate(); err != nil {
			domain = fieldErrors(err)
		}
		return mergeProblems(p, domain)
	}
	_, err := s.svc.SaveStage(r.Context(), a, st)
	return err
}

// StageRow is one stage in the list.
type StageRow struct {
	crm.Stage
	Label string
}

// URL is the stage's edit page.
func (st StageRow) URL() string { return "/admin/stages/" + strconv.FormatInt(st.ID, 10) }

// AdminStagesView lists the stages with a form to add one.
type AdminStagesView struct {
	Page
	Stages []StageRow
	Form   StageForm
	Errors FormErrors
}

// Fields are the add-stage form's inputs.
func (v AdminStagesView) Fields() []FieldView { return stageFields(v.Page, v.Form, v.Errors) }

func (s *Server) adminStages(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminStages(w, r, a, http.StatusOK, nil, FormErrors{})
}

func (s *Server) showAdminStages(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f *StageForm, e FormErrors) {
	pl, err := s.pipeline(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := AdminStagesView{Page: s.adminPage(r, a, "admin.stages", "stages"), Errors: e}
	last := 0
	for _, st := range pl.all {
		v.Stages = append(v.Stages, StageRow{Stage: st, Label: st.Label(v.Lang)})
		last = max(last, st.Position)
	}
	if f != nil {
		v.Form = *f
	} else {
		v.Form = StageForm{Position: strconv.Itoa(last + 1), Probability: "0", Kind: crm.StageOpen, Active: true}
	}
	s.render(w, r, status, "admin_stages", v)
}

func (s *Server) createStage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := readStageForm(r)
	if err := s.saveStageForm(r, a, 0, f); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			l := lang(r, a)
			s.showAdminStages(w, r, a, status, &f, labeledFormErrors(l, err, stageLabels(Page{Lang: l}), stageFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/stages")
}

// AdminStageView edits one stage and its criteria.
type AdminStageView struct {
	Page
	Stage  crm.Stage
	Form   StageForm
	Errors FormErrors
	// Criteria is the criteria form as typed, CriteriaErrors its problems;
	// customs are the opportunity's custom fields it offers.
	Criteria       CriteriaForm
	CriteriaErrors FormErrors
	customs        []crm.CustomField
}

// CriteriaURL is where the criteria form posts.
func (v AdminStageView) CriteriaURL() string { return v.URL() + "/criteria" }

// CriteriaOpen reports whether the stage takes criteria (a lost one does not).
func (v AdminStageView) CriteriaOpen() bool { return v.Stage.Kind != crm.StageLost }

// CriteriaHint says when the criteria apply: before leaving an open stage,
// before entering a won one.
func (v AdminStageView) CriteriaHint() string {
	if v.Stage.Kind == crm.StageWon {
		return v.T("criteria.hint_won")
	}
	return v.T("criteria.hint_open")
}

// CriteriaFields are the criteria form's inputs: the opportunity fields
// to require (built-in and custom), the tasks and the contract.
func (v AdminStageView) CriteriaFields() []FieldView {
	fields := FieldView{Name: "fields", Multi: true, Wide: true}
	spec, _ := crm.Spec(crm.ObjOpportunity)
	for _, name := range crm.CriteriaFields() {
		f, _ := spec.Field(name)
		fields.Options = append(fields.Options, Option{Value: name, Label: v.T(f.Label), Selected: slices.Contains(v.Criteria.Fields, name)})
	}
	for _, d := range v.customs {
		if d.Active {
			key := "custom." + d.Key
			fields.Options = append(fields.Options, Option{Value: key, Label: d.LabelFor(v.Lang), Selected: slices.Contains(v.Criteria.Fields, key)})
		}
	}
	fs := labelFields(v.Page, []FieldView{fields,
		{Name: "tasks", Type: "textarea", Value: v.Criteria.Tasks, Wide: true, Hint: v.T("criteria.hint_tasks")},
		{Name: "contract", Check: true, Checked: v.Criteria.Contract}}, v.CriteriaErrors)
	fs[0].Label, fs[1].Label, fs[2].Label = v.T("criteria.fields"), v.T("criteria.tasks"), v.T("criteria.contract")
	return fs
}

// CriteriaForm is the criteria form's input as typed: the required
// fields, the tasks one per line ("方案评审" or "拜访 ×2"), the contract.
type CriteriaForm struct {
	Fields   []string
	Tasks    string
	Contract bool
}

var criteriaFieldNames = []string{"fields", "tasks", "contract"}

// taskCount is a task line's count suffix: "拜访 ×2", "visit x2", "visit *2".
var taskCount = regexp.MustCompile(`^(.*?)\s*[×xX*]\s*(\d+)$`)

func readCriteriaForm(r *http.Request) CriteriaForm {
	r.ParseForm()
	return CriteriaForm{Fields: r.PostForm["fields"], Tasks: r.PostFormValue("tasks"), Contract: r.PostFormValue("contract") == "on"}
}

func criteriaFormOf(c crm.StageCriteria) CriteriaForm {
	lines := make([]string, len(c.Tasks))
	for i, k := range c.Tasks {
		lines[i] = k.Title
		if k.Count > 1 {
			lines[i] += " ×" + strconv.Itoa(k.Count)
		}
	}
	return CriteriaForm{Fields: c.Fields, Tasks: strings.Join(lines, "\n"), Contract: c.Contract}
}

// criteria reads the form into the stage's criteria.
func (f CriteriaForm) criteria(stageID int64) crm.StageCriteria {
	c := crm.StageCriteria{StageID: stageID, Fields: f.Fields, Contract: f.Contract}
	for _, line := range strings.Split(strings.ReplaceAll(f.Tasks, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k := crm.TaskCriterion{Title: line, Count: 1}
		if m := taskCount.FindStringSubmatch(line); m != nil && strings.TrimSpace(m[1]) != "" {
			k.Title = m[1]
			k.Count, _ = strconv.Atoi(m[2])
		}
		c.Tasks = append(c.Tasks, k)
	}
	return c
}

// URL is where the form posts.
func (v AdminStageView) URL() string { return "/admin/stages/" + strconv.FormatInt(v.Stage.ID, 10) }

// Fields are the edit form's inputs.
func (v AdminStageView) Fields() []FieldView { return stageFields(v.Page, v.Form, v.Errors) }

func (s *Server) adminStage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminStage(w, r, a, http.StatusOK, nil, FormErrors{})
}

func (s *Server) showAdminStage(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f *StageForm, e FormErrors) {
	s.showAdminStageWith(w, r, a, status, f, e, nil, FormErrors{})
}

// showAdminStageWith renders the stage page with either form as typed.
func (s *Server) showAdminStageWith(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f *StageForm, e FormErrors, cf *CriteriaForm, ce FormErrors) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	pl, err := s.pipeline(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	st, ok := pl.byID[id]
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v := AdminStageView{Page: s.adminPage(r, a, "admin.stage", "stages"), Stage: st, Form: stageFormOf(st), Errors: e, CriteriaErrors: ce}
	v.Title = st.Label(v.Lang)
	if f != nil {
		v.Form = *f
	}
	c, err := s.svc.StageCriteria(r.Context(), a, id)
	if err == nil {
		v.customs, err = s.svc.CustomFields(r.Context(), a, crm.ObjOpportunity)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Criteria = criteriaFormOf(c)
	if cf != nil {
		v.Criteria = *cf
	}
	s.render(w, r, status, "admin_stage", v)
}

// updateStageCriteria saves a stage's criteria from its page.
func (s *Server) updateStageCriteria(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f := readCriteriaForm(r)
	if _, err := s.svc.SaveStageCriteria(r.Context(), a, f.criteria(id)); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminStageWith(w, r, a, status, nil, FormErrors{}, &f, formErrors(lang(r, a), err, criteriaFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/stages/"+strconv.FormatInt(id, 10))
}

func (s *Server) updateStage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	pl, err := s.pipeline(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if _, ok := pl.byID[id]; !ok {
		s.notFound(w, r, a)
		return
	}
	f := readStageForm(r)
	if err := s.saveStageForm(r, a, id, f); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			l := lang(r, a)
			s.showAdminStage(w, r, a, status, &f, labeledFormErrors(l, err, stageLabels(Page{Lang: l}), stageFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/stages")
}

// ---- custom fields ----

// CustomFieldForm is the custom field form's input as typed; options are
// one per line.
type CustomFieldForm struct {
	Object, Key, Label, LabelEn, Type, Options, Position string
	Required, Unique, InList, Active, Sensitive          bool
}

var customFieldFieldNames = []string{"object", "key", "label", "label_en", "type", "options", "position", "required", "unique", "in_list", "active", "sensitive"}

func readCustomFieldForm(r *http.Request) CustomFieldForm {
	g := r.PostFormValue
	on := func(name string) bool { return g(name) == "on" }
	return CustomFieldForm{Object: g("object"), Key: strings.TrimSpace(g("key")), Label: g("label"), LabelEn: g("label_en"),
		Type: g("type"), Options: g("options"), Position: g("position"), Required: on("required"), Unique: on("unique"),
		InList: on("in_list"), Active: on("active"), Sensitive: on("sensitive")}
}

func customFieldFormOf(d crm.CustomField) CustomFieldForm {
	return CustomFieldForm{Object: string(d.Object), Key: d.Key, Label: d.Label, LabelEn: d.LabelEn, Type: d.Type,
		Options: strings.Join(d.Options, "\n"), Position: strconv.Itoa(d.Position), Required: d.Required, Unique: d.Unique,
		InList: d.InList, Active: d.Active, Sensitive: d.Sensitive}
}

// definition reads the form; problems are numbers the page could not read.
func (f CustomFieldForm) definition(id int64) (crm.CustomField, crm.Problems) {
	var p crm.Problems
	d := crm.CustomField{ID: id, Object: crm.Object(f.Object), Key: f.Key, Label: f.Label, LabelEn: f.LabelEn, Type: f.Type,
		Required: f.Required, Unique: f.Unique, InList: f.InList, Active: f.Active, Sensitive: f.Sensitive, Position: formNumber(&p, "position", f.Position)}
	for _, line := range strings.Split(strings.ReplaceAll(f.Options, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			d.Options = append(d.Options, line)
		}
	}
	return d, p
}

// saveCustomFieldForm validates and saves a definition.
func (s *Server) saveCustomFieldForm(r *http.Request, a *access.Actor, d crm.CustomField, p crm.Problems) error {
	if len(p) > 0 {
		check := d
		var domain crm.Problems
		if err := check.Validate(); err != nil {
			domain = fieldErrors(err)
		}
		return mergeProblems(p, domain)
	}
	_, err := s.svc.SaveCustomField(r.Context(), a, d)
	return err
}

// customFieldFields are the form's inputs; object, key and type only when
// creating (they never change, so stored values keep their meaning).
func customFieldFields(p Page, f CustomFieldForm, e FormErrors, creating bool) []FieldView {
	var fs []FieldView
	if creating {
		objects := make([]string, len(crm.CustomObjects))
		for i, o := range crm.CustomObjects {
			objects[i] = string(o)
		}
		fs = append(fs,
			FieldView{Name: "object", Options: p.enumOptions("object", objects, f.Object, "")},
			FieldView{Name: "type", Options: p.enumOptions("custom_type", crm.CustomFieldTypes, f.Type, "")},
			FieldView{Name: "key", Value: f.Key, Required: true, Max: 40, Autocomplete: "off", Hint: p.T("hint.custom_key")},
			FieldView{Name: "sensitive", Check: true, Checked: f.Sensitive, Hint: p.T("hint.custom_sensitive")})
	}
	fs = append(fs,
		FieldView{Name: "label", Value: f.Label, Required: true, Max: 60},
		FieldView{Name: "label_en", Value: f.LabelEn, Max: 60},
		FieldView{Name: "position", Value: f.Position, InputMode: "numeric", Hint: p.T("hint.position")},
		FieldView{Name: "options", Type: "textarea", Value: f.Options, Wide: true, Hint: p.T("hint.options")},
		FieldView{Name: "required", Check: true, Checked: f.Required},
		FieldView{Name: "unique", Check: true, Checked: f.Unique},
		FieldView{Name: "in_list", Check: true, Checked: f.InList})
	if !creating {
		fs = append(fs, FieldView{Name: "active", Check: true, Checked: f.Active})
	}
	return labelFields(p, fs, e)
}

// CustomFieldGroup is one object's custom fields.
type CustomFieldGroup struct {
	Object string
	Label  string
	Fields []crm.CustomField
}

// AdminCustomFieldsView lists the custom fields per object with a form to
// add one.
type AdminCustomFieldsView struct {
	Page
	Groups []CustomFieldGroup
	Form   CustomFieldForm
	Errors FormErrors
}

// Fields are the add form's inputs.
func (v AdminCustomFieldsView) Fields() []FieldView {
	return customFieldFields(v.Page, v.Form, v.Errors, true)
}

func (s *Server) adminCustomFields(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := CustomFieldForm{Object: r.URL.Query().Get("object"), Type: "text"}
	if !slices.Contains(crm.CustomObjects, crm.Object(f.Object)) {
		f.Object = string(crm.ObjCustomer)
	}
	s.showAdminCustomFields(w, r, a, http.StatusOK, f, FormErrors{})
}

func (s *Server) showAdminCustomFields(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f CustomFieldForm, e FormErrors) {
	all, err := s.svc.CustomFields(r.Context(), a, "")
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := AdminCustomFieldsView{Page: s.adminPage(r, a, "admin.custom_fields", "custom"), Form: f, Errors: e}
	for _, o := range crm.CustomObjects {
		g := CustomFieldGroup{Object: string(o), Label: v.T("object." + string(o))}
		for _, d := range all {
			if d.Object == o {
				g.Fields = append(g.Fields, d)
			}
		}
		v.Groups = append(v.Groups, g)
	}
	s.render(w, r, status, "admin_custom_fields", v)
}

func (s *Server) createCustomField(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := readCustomFieldForm(r)
	f.Active = true
	d, p := f.definition(0)
	if err := s.saveCustomFieldForm(r, a, d, p); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminCustomFields(w, r, a, status, f, formErrors(lang(r, a), err, customFieldFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/custom-fields")
}

// AdminCustomFieldView edits one definition.
type AdminCustomFieldView struct {
	Page
	Def    crm.CustomField
	Form   CustomFieldForm
	Errors FormErrors
}

// URL is where the form posts.
func (v AdminCustomFieldView) URL() string {
	return "/admin/custom-fields/" + strconv.FormatInt(v.Def.ID, 10)
}

// Fields are the edit form's inputs.
func (v AdminCustomFieldView) Fields() []FieldView {
	return customFieldFields(v.Page, v.Form, v.Errors, false)
}

// customField finds a definition by the path id, or writes "not found".
func (s *Server) customField(w http.ResponseWriter, r *http.Request, a *access.Actor) (crm.CustomField, bool) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return crm.CustomField{}, false
	}
	all, err := s.svc.CustomFields(r.Context(), a, "")
	if err != nil {
		s.fail(w, r, a, err)
		return crm.CustomField{}, false
	}
	i := slices.IndexFunc(all, func(d crm.CustomField) bool { return d.ID == id })
	if i < 0 {
		s.notFound(w, r, a)
		return crm.CustomField{}, false
	}
	return all[i], true
}

func (s *Server) adminCustomField(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	d, ok := s.customField(w, r, a)
	if !ok {
		return
	}
	s.showAdminCustomField(w, r, a, http.StatusOK, d, customFieldFormOf(d), FormErrors{})
}

func (s *Server) showAdminCustomField(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, d crm.CustomField, f CustomFieldForm, e FormErrors) {
	v := AdminCustomFieldView{Page: s.adminPage(r, a, "admin.custom_field", "custom"), Def: d, Form: f, Errors: e}
	v.Title = d.LabelFor(v.Lang)
	s.render(w, r, status, "admin_custom_field", v)
}

func (s *Server) updateCustomField(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	before, ok := s.customField(w, r, a)
	if !ok {
		return
	}
	f := readCustomFieldForm(r)
	// Object, key and type are fixed; the form does not offer them.
	f.Object, f.Key, f.Type = string(before.Object), before.Key, before.Type
	d, p := f.definition(before.ID)
	if err := s.saveCustomFieldForm(r, a, d, p); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminCustomField(w, r, a, status, before, f, formErrors(lang(r, a), err, customFieldFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/custom-fields")
}

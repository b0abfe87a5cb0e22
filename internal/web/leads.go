package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
)

// editableLeadStatuses are the statuses a user sets by hand; "converted"
// is set only by the conversion.
var editableLeadStatuses = []string{"new", "contacted", "qualified", "disqualified"}

// ---- list ----

// LeadListView is the lead list with search, a status filter and the
// custom columns and filters.
type LeadListView struct {
	Page
	Pager
	CustomList
	Path        string
	Query       string
	Status      string
	Rows        []LeadRow
	Total       int
	TotalCapped bool // Total is a lower bound
}

// LeadRow is one lead in the list, with its cells ready (see When).
type LeadRow struct {
	crm.Lead
	StatusLabel, SourceLabel string
	Updated                  When
	Cells                    []string
}

// SearchHint is the search box's placeholder.
func (v LeadListView) SearchHint() string { return v.T("leads.search_placeholder") }

// FilterSelects are the status filter and the custom choice fields' filters.
func (v LeadListView) FilterSelects() []FilterSelect {
	status := FilterSelect{Name: "status", Label: v.T("field.status"), Options: v.enumOptions("lead_status", crm.LeadStatuses, v.Status, "list.any_status")}
	return append([]FilterSelect{status}, v.CustomList.selects(v.Page)...)
}

func (s *Server) listLeads(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	cl, err := s.customList(r, a, crm.ObjLead)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	q := r.URL.Query()
	f := crm.ListFilter{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Custom: cl.Chosen, OwnerID: cl.Team.Owner, DeptID: cl.Team.Dept, Cursor: q.Get("cursor"), Limit: 20}
	if !slices.Contains(crm.LeadStatuses, f.Status) {
		f.Status = ""
	}
	if f.Drill, err = drillFilter(r); err != nil {
		s.fail(w, r, a, err)
		return
	}
	cl.Drill = drillView(s.page(r, a, "leads.title", "leads"), f.Drill)
	page, err := s.svc.ListLeads(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := LeadListView{Page: s.page(r, a, "leads.title", "leads"), CustomList: cl, Path: "/leads", Query: f.Query, Status: f.Status,
		Rows: make([]LeadRow, len(page.Items)), Total: page.Total, TotalCapped: page.TotalCapped}
	for i, l := range page.Items {
		v.Rows[i] = LeadRow{Lead: l, StatusLabel: v.Enum("lead_status", l.Status), SourceLabel: v.Enum("source", l.Source),
			Updated: v.when(l.UpdatedAt), Cells: cl.Cells(l.Custom)}
	}
	params := url.Values{}
	if f.Query != "" {
		params.Set("q", f.Query)
	}
	if f.Status != "" {
		params.Set("status", f.Status)
	}
	cl.params(params)
	drillParams(params, f.Drill)
	v.Pager = makePager(v.Path, params, f.Cursor, readPrev(q), page.Next)
	s.showList(w, r, "leads", v)
}

// ---- detail ----

// LeadView is a lead's detail page; a converted lead links to the records
// it became.
type LeadView struct {
	Page
	L          crm.Lead
	Custom     []CustomValue
	CanEdit    bool
	CanConvert bool
	Consents   ConsentCard
}

// URL is the lead's own address.
func (v LeadView) URL() string { return "/leads/" + strconv.FormatInt(v.L.ID, 10) }

// Converted reports whether the lead became a customer.
func (v LeadView) Converted() bool { return v.L.Status == "converted" }

func (s *Server) showLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	l, err := s.svc.GetLead(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p, defs, consents, ok := s.personPage(w, r, a, crm.ObjLead, id)
	if !ok {
		return
	}
	v := LeadView{Page: p, L: l, Consents: consents}
	v.Title = l.Name
	v.Custom = v.customValues(defs, l.Custom)
	v.CanEdit = l.Status != "converted" && l.ArchivedAt == nil && a.Can(crm.ObjLead, crm.ActEdit)
	v.CanConvert = v.CanEdit && a.Can(crm.ObjCustomer, crm.ActCreate) && a.Can(crm.ObjContact, crm.ActCreate)
	s.render(w, r, http.StatusOK, "lead", v)
}

// ---- form ----

// LeadForm is the lead form's input as typed.
type LeadForm struct {
	Name, Company, Title, Mobile, Email, WeChat, Source, Notes, Status string
}

var leadFieldNames = []string{"name", "company", "title", "mobile", "email", "wechat", "source", "status", "notes"}

func readLeadForm(r *http.Request) LeadForm {
	g := r.PostFormValue
	return LeadForm{Name: g("name"), Company: g("company"), Title: g("title"), Mobile: g("mobile"), Email: g("email"),
		WeChat: g("wechat"), Source: g("source"), Notes: g("notes"), Status: g("status")}
}

func (f LeadForm) fields() crm.LeadFields {
	return crm.LeadFields{Name: f.Name, Company: f.Company, Title: f.Title, Mobile: f.Mobile, Email: f.Email, WeChat: f.WeChat,
		Source: f.Source, Notes: f.Notes}
}

// LeadFormView is the create and edit form; the status is set when editing.
type LeadFormView struct {
	Page
	ID      int64
	Version int64
	Form    LeadForm
	Custom  customInput
	Errors  FormErrors
	Stale   bool
	defs    customDefs
}

// Action is where the form posts.
func (v LeadFormView) Action() string {
	if v.ID == 0 {
		return "/leads"
	}
	return "/leads/" + strconv.FormatInt(v.ID, 10)
}

// CancelURL is where "cancel" leads.
func (v LeadFormView) CancelURL() string {
	if v.ID == 0 {
		return "/leads"
	}
	return v.Action()
}

// Fields are the form's inputs.
func (v LeadFormView) Fields() []FieldView {
	f := v.Form
	fs := []FieldView{
		{Name: "name", Value: f.Name, Required: true, Max: 100, Autocomplete: "off"},
		{Name: "company", Value: f.Company, Max: 200},
		{Name: "title", Value: f.Title, Max: 100},
		{Name: "mobile", Type: "tel", Value: f.Mobile, Max: 40, Autocomplete: "off"},
		{Name: "email", Type: "email", Value: f.Email, Max: 200, Autocomplete: "off"},
		{Name: "wechat", Value: f.WeChat, Max: 60, Autocomplete: "off"},
		{Name: "source", Options: v.enumOptions("source", crm.CustomerSources, f.Source, "form.none")},
	}
	if v.ID != 0 {
		fs = append(fs, FieldView{Name: "status", Options: v.enumOptions("lead_status", editableLeadStatuses, f.Status, "")})
	}
	fs = append(fs, FieldView{Name: "notes", Type: "textarea", Value: f.Notes, Max: 2000, Wide: true})
	fs = labelFields(v.Page, fs, v.Errors)
	fs[0].Label = v.T("field.person_name")
	return append(fs, v.customFields(v.defs, v.Custom, v.Errors)...)
}

func (s *Server) leadForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string) (LeadFormView, bool) {
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjLead)
	if err != nil {
		s.fail(w, r, a, err)
		return LeadFormView{}, false
	}
	return LeadFormView{Page: s.page(r, a, titleKey, "leads"), defs: defs, Custom: customInput{}}, true
}

func (v LeadFormView) refused(err error) LeadFormView {
	v.Stale = isStale(err)
	v.Errors = labeledFormErrors(v.Lang, err, contactLabels(v.Page, v.defs), append(slices.Clone(leadFieldNames), v.defs.names()...)...)
	return v
}

func (s *Server) newLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.leadForm(w, r, a, "lead.new")
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "lead_form", v)
}

func (s *Server) createLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.leadForm(w, r, a, "lead.new")
	if !ok {
		return
	}
	v.Form, v.Custom = readLeadForm(r), readCustom(r, v.defs)
	fields := v.Form.fields()
	fields.Custom = v.Custom.values(v.defs)
	l, err := s.svc.CreateLead(r.Context(), a, fields)
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.render(w, r, status, "lead_form", v.refused(err))
		})
		return
	}
	redirect(w, r, "/leads/"+strconv.FormatInt(l.ID, 10))
}

func (s *Server) editLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	l, err := s.svc.GetLead(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if l.Status == "converted" {
		redirect(w, r, "/leads/"+strconv.FormatInt(id, 10))
		return
	}
	v, ok := s.leadForm(w, r, a, "lead.edit")
	if !ok {
		return
	}
	v.ID, v.Version, v.Custom = l.ID, l.Version, customInputOf(v.defs, l.Custom)
	v.Form = LeadForm{Name: l.Name, Company: l.Company, Title: l.Title, Mobile: l.Mobile, Email: l.Email, WeChat: l.WeChat,
		Source: l.Source, Notes: l.Notes, Status: l.Status}
	s.render(w, r, http.StatusOK, "lead_form", v)
}

func (s *Server) updateLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, ok := s.leadForm(w, r, a, "lead.edit")
	if !ok {
		return
	}
	v.ID, v.Version, v.Form, v.Custom = id, formInt(r, "version"), readLeadForm(r), readCustom(r, v.defs)
	f := v.Form.fields()
	_, err := s.svc.UpdateLead(r.Context(), a, id, crm.LeadUpdate{Version: v.Version, Name: &f.Name, Company: &f.Company,
		Title: &f.Title, Mobile: &f.Mobile, Email: &f.Email, WeChat: &f.WeChat, Source: &f.Source, Notes: &f.Notes,
		Status: &v.Form.Status, Custom: v.Custom.values(v.defs)})
	if err == nil {
		redirect(w, r, "/leads/"+strconv.FormatInt(id, 10))
		return
	}
	if !isStale(err) && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, httpx.Status(err), "lead_form", v.refused(err))
}

// ---- conversion ----

// ConvertForm is the conversion form's input as typed.
type ConvertForm struct {
	CustomerID                                   int64
	OppName, Amount, Currency, ExpectedCloseDate string
}

var convertFieldNames = []string{"customer_id", "opportunity.name", "opportunity.amount", "opportunity.currency", "opportunity.expected_close_date"}

// ConvertView converts a lead into a customer (new or existing), a contact
// and optionally an opportunity.
type ConvertView struct {
	Page
	L         crm.Lead
	Form      ConvertForm
	Errors    FormErrors
	Stale     bool
	customers []Option
}

// URL is the lead's own address.
func (v ConvertView) URL() string { return "/leads/" + strconv.FormatInt(v.L.ID, 10) }

// CustomerFields is the choice of customer.
func (v ConvertView) CustomerFields() []FieldView {
	fv := pickerField(v.Page, v.customers, "new", v.Errors)
	fv.Label = v.T("convert.customer")
	return []FieldView{fv}
}

// OpportunityFields are the optional opportunity's inputs.
func (v ConvertView) OpportunityFields() []FieldView {
	f := v.Form
	fs := []FieldView{
		{Name: "opportunity.name", Label: v.T("field.name"), Value: f.OppName, Max: 200, Wide: true},
		{Name: "opportunity.amount", Label: v.T("field.amount"), Value: f.Amount, InputMode: "decimal", Hint: v.T("hint.amount")},
		{Name: "opportunity.currency", Label: v.T("field.currency"), Value: f.Currency, Max: 3, Autocomplete: "off"},
		{Name: "opportunity.expected_close_date", Label: v.T("field.expected_close_date"), Type: "date", Value: f.ExpectedCloseDate},
	}
	for i := range fs {
		fs[i].Error = v.Errors.For(fs[i].Name)
	}
	return fs
}

func (s *Server) convertPage(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, id int64, f ConvertForm, convErr error) {
	l, err := s.svc.GetLead(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if l.Status == "converted" && convErr == nil {
		redirect(w, r, "/leads/"+strconv.FormatInt(id, 10))
		return
	}
	v := ConvertView{Page: s.page(r, a, "convert.title", "leads"), L: l, Form: f}
	if convErr != nil {
		v.Stale = isStale(convErr)
		v.Errors = formErrors(v.Lang, convErr, convertFieldNames...)
	}
	if v.customers, err = s.customerOptions(r.Context(), a, v.Page, "", f.CustomerID, "", "new"); err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, status, "lead_convert", v)
}

func (s *Server) convertLeadForm(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	s.convertPage(w, r, a, http.StatusOK, id, ConvertForm{Currency: "CNY"}, nil)
}

// convertLead runs the conversion; afterwards the lead's page links to the
// customer, contact and opportunity it became.
func (s *Server) convertLead(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	g := r.PostFormValue
	f := ConvertForm{CustomerID: formInt(r, "customer_id"), OppName: g("opportunity.name"), Amount: g("opportunity.amount"),
		Currency: strings.ToUpper(strings.TrimSpace(g("opportunity.currency"))), ExpectedCloseDate: g("opportunity.expected_close_date")}
	conv := crm.LeadConversion{Version: formInt(r, "version"), CustomerID: f.CustomerID}
	var err error
	// An opportunity is created when any of its fields is filled in.
	if strings.TrimSpace(f.OppName+f.Amount+f.ExpectedCloseDate) != "" {
		of, p := OpportunityForm{Name: f.OppName, Amount: f.Amount, Currency: f.Currency, ExpectedCloseDate: f.ExpectedCloseDate}.fields()
		if len(p) > 0 {
			err = prefixProblems(p, "opportunity.")
		}
		conv.Opportunity = &of
	}
	if err == nil {
		_, err = s.svc.ConvertLead(r.Context(), a, id, conv)
	}
	if err != nil {
		if !isStale(err) && !hasFieldErrors(err) {
			s.fail(w, r, a, err)
			return
		}
		s.convertPage(w, r, a, httpx.Status(err), id, f, err)
		return
	}
	redirect(w, r, "/leads/"+strconv.FormatInt(id, 10))
}

// prefixProblems names nested fields ("opportunity.amount").
func prefixProblems(p crm.Problems, prefix string) error {
	for i := range p {
		p[i].Field = prefix + p[i].Field
	}
	return p.Err()
}

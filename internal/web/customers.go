package web

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/quality"
	"custos/internal/service"
)

// CustomerRow is one customer in a list.
type CustomerRow struct {
	ID               int64
	Name             string
	Industry         string
	Level            string
	Status           string
	City             string
	OwnerID          int64
	OwnerName        string
	UpdatedAt        time.Time
	LastFollowedUpAt *time.Time
	NextFollowUpAt   *time.Time
	DeletedAt        *time.Time
	PurgeAt          *time.Time // in the recycle bin: when it is removed for good
	Overdue          bool
	Custom           map[string]any // stored custom values, for the list columns

	// Shown as they are (see When): the detail page, labels, times and
	// the custom columns' cells.
	URL                                         string
	LevelLabel, StatusLabel                     string
	Updated, LastFollowed, Next, Deleted, Purge When
	Cells                                       []string
}

func customerRow(p Page, cl CustomList, c crm.Customer) CustomerRow {
	return CustomerRow{ID: c.ID, Name: c.Name, Industry: c.Industry, Level: c.Level, Status: c.Status, City: c.City,
		OwnerID: c.OwnerID, OwnerName: c.OwnerName, UpdatedAt: c.UpdatedAt, LastFollowedUpAt: c.LastFollowedUpAt,
		NextFollowUpAt: c.NextFollowUpAt, DeletedAt: c.DeletedAt, PurgeAt: c.PurgeAt, Custom: c.Custom,
		URL: "/customers/" + strconv.FormatInt(c.ID, 10), LevelLabel: p.Enum("level", c.Level), StatusLabel: p.Enum("status", c.Status),
		Updated: p.when(c.UpdatedAt), LastFollowed: p.when(c.LastFollowedUpAt), Next: p.when(c.NextFollowUpAt),
		Deleted: p.when(c.DeletedAt), Purge: p.when(c.PurgeAt), Cells: cl.Cells(c.Custom)}
}

func customerRows(p Page, cl CustomList, cs []crm.Customer) []CustomerRow {
	out := make([]CustomerRow, len(cs))
	for i, c := range cs {
		out[i] = customerRow(p, cl, c)
	}
	return out
}

// customerSorts are the list orderings the store supports.
var customerSorts = listSorts(crm.ObjCustomer)

// listSorts are the orderings of an object's list (the registry's), the
// default first.
func listSorts(o crm.Object) []string {
	s, _ := crm.Spec(o)
	return s.Sorts
}

// CustomerListView is a customer list: my customers, the pool or the
// recycle bin. Path is the list's own URL, for the filter form and paging.
type CustomerListView struct {
	Page
	Pager
	CustomList  // custom columns and filters; none on the pool and the bin
	Path        string
	Query       string
	Level       string
	Status      string
	Due         string // crm.DueOverdue, crm.DueToday or ""
	Sort        string
	Rows        []CustomerRow
	Total       int
	TotalCapped bool // Total is a lower bound
}

// LevelOptions, StatusOptions and SortOptions fill the filter selects.
func (v CustomerListView) LevelOptions() []Option {
	return v.enumOptions("level", crm.CustomerLevels, v.Level, "list.any_level")
}

// StatusOptions fills the status filter.
func (v CustomerListView) StatusOptions() []Option {
	return v.enumOptions("status", crm.CustomerStatuses, v.Status, "list.any_status")
}

// SortOptions fills the sort select.
func (v CustomerListView) SortOptions() []Option {
	opts := v.enumOptions("sort", customerSorts, v.Sort, "")
	for i := range opts {
		opts[i].Label = v.T("list.sort_by") + " " + opts[i].Label
	}
	return opts
}

// SearchHint is the search box's placeholder.
func (v CustomerListView) SearchHint() string { return v.T("list.search_placeholder") }

// FilterSelects are the filter form's selects: level, status, sort and the
// custom choice fields on the customer list; none on the pool and bin.
func (v CustomerListView) FilterSelects() []FilterSelect {
	if v.Nav != "customers" {
		return nil
	}
	out := []FilterSelect{
		{Name: "level", Label: v.T("field.level"), Options: v.LevelOptions()},
		{Name: "status", Label: v.T("field.status"), Options: v.StatusOptions()},
		{Name: "due", Label: v.T("field.next_follow_up_at"), Options: []Option{
			{Value: "", Label: v.T("team.any_due"), Selected: v.Due == ""},
			{Value: crm.DueOverdue, Label: v.T("team.overdue"), Selected: v.Due == crm.DueOverdue},
			{Value: crm.DueToday, Label: v.T("team.due_today"), Selected: v.Due == crm.DueToday}}},
	}
	out = append(out, v.CustomList.selects(v.Page)...)
	return append(out, FilterSelect{Name: "sort", Label: v.T("field.sort"), Options: v.SortOptions()})
}

// DoneView replaces an action button after htmx ran it: a short message
// and a link to the record.
type DoneView struct {
	Page
	Message string
	URL     string
}

// listFilter reads the list's query string; unknown enum values are
// dropped rather than sent to the store.
func listFilter(r *http.Request) crm.CustomerFilter {
	q := r.URL.Query()
	f := crm.CustomerFilter{Query: strings.TrimSpace(q.Get("q")), Level: q.Get("level"), Status: q.Get("status"),
		Due: q.Get("due"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: 20}
	if f.Due != crm.DueOverdue && f.Due != crm.DueToday {
		f.Due = ""
	}
	if !slices.Contains(crm.CustomerLevels, f.Level) {
		f.Level = ""
	}
	if !slices.Contains(crm.CustomerStatuses, f.Status) {
		f.Status = ""
	}
	if !slices.Contains(customerSorts, f.Sort) {
		f.Sort = "updated"
	}
	return f
}

// listView fills a list page from a service page. cl is the custom columns
// and filters (none on the pool and the bin).
func (s *Server) listView(r *http.Request, a *access.Actor, titleKey, nav, path string, f crm.CustomerFilter, page service.CustomerPage, cl CustomList) CustomerListView {
	p := s.page(r, a, titleKey, nav)
	cl.Drill = drillView(p, f.Drill)
	v := CustomerListView{Page: p, CustomList: cl, Path: path, Query: f.Query, Level: f.Level, Status: f.Status, Due: f.Due,
		Sort: f.Sort, Rows: customerRows(p, cl, page.Items), Total: page.Total, TotalCapped: page.TotalCapped}
	params := url.Values{}
	for k, val := range map[string]string{"q": f.Query, "level": f.Level, "status": f.Status, "due": f.Due} {
		if val != "" {
			params.Set(k, val)
		}
	}
	cl.params(params)
	drillParams(params, f.Drill)
	if f.Sort != "updated" {
		params.Set("sort", f.Sort)
	}
	v.Pager = makePager(path, params, f.Cursor, readPrev(r.URL.Query()), page.Next)
	return v
}

// drillFilter reads a report drill-down's filters from a list's query,
// as the API list reads them (a drill-down links to the web list with
// the API list's query); a malformed one is a field error, not ignored.
func drillFilter(r *http.Request) (crm.DrillFilter, error) {
	return crm.ParseDrillFilter(r.URL.Query())
}

// DrillParam is one drill-down filter a list shows: its query name and
// value, and its label in the reader's language.
type DrillParam struct{ Name, Label, Value string }

// drillView lists a drill-down's filters for the page, in name order.
func drillView(p Page, d crm.DrillFilter) []DrillParam {
	q := d.Query()
	var out []DrillParam
	for _, name := range slices.Sorted(maps.Keys(q)) {
		out = append(out, DrillParam{Name: name, Label: p.T("field." + name), Value: q.Get(name)})
	}
	return out
}

// drillParams keeps a drill-down's filters in a list's paging links.
func drillParams(v url.Values, d crm.DrillFilter) {
	for k, vals := range d.Query() {
		if v.Get(k) == "" {
			v[k] = vals
		}
	}
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// showList renders a list page, or only its results for an htmx filter or
// paging request.
func (s *Server) showList(w http.ResponseWriter, r *http.Request, page string, v any) {
	if isHTMX(r) && r.Header.Get("HX-Target") == "results" {
		s.renderPartial(w, r, http.StatusOK, page, "results", v)
		return
	}
	s.render(w, r, http.StatusOK, page, v)
}

// listCustomers is the customer list with search, filters (custom choice
// fields too), custom columns, sort and paging.
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	cl, err := s.customList(r, a, crm.ObjCustomer)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	f := listFilter(r)
	f.Custom, f.OwnerID, f.DeptID = cl.Chosen, cl.Team.Owner, cl.Team.Dept
	if f.Drill, err = drillFilter(r); err != nil {
		s.fail(w, r, a, err)
		return
	}
	f.Drill.Level = "" // the list's own level filter (its select) holds it

	page, err := s.svc.ListCustomers(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.showList(w, r, "customers", s.listView(r, a, "customers.title", "customers", "/customers", f, page, cl))
}

// pool lists the public pool: customers without owner, to claim.
func (s *Server) pool(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := listFilter(r)
	f.Level, f.Status, f.Pool = "", "", true
	var err error
	if f.Drill, err = drillFilter(r); err != nil { // the pool figure's level, source, industry
		s.fail(w, r, a, err)
		return
	}
	page, err := s.svc.ListCustomers(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.showList(w, r, "pool", s.listView(r, a, "pool.title", "pool", "/pool", f, page, CustomList{}))
}

// recycleBin lists deleted customers, to restore.
func (s *Server) recycleBin(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := listFilter(r)
	f.Level, f.Status = "", ""
	page, err := s.svc.ListRecycledCustomers(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.showList(w, r, "recycle_bin", s.listView(r, a, "recycle.title", "recycle", "/recycle-bin", f, page, CustomList{}))
}

// CustomerView is the customer detail page: the record, its custom
// fields, the follow-up timeline with its quick form, and the customer's
// contacts, opportunities, contracts and open tasks. A pool customer shows only the
// record: its history belongs to whoever claims it.
type CustomerView struct {
	Page
	C             crm.Customer
	InPool        bool
	CanEdit       bool
	CanDelete     bool
	Custom        []CustomValue
	Timeline      *TimelineView // nil when not shown
	Contacts      []crm.Contact
	Opportunities []OpportunityRow
	Contracts     []ContractRow
	Tasks         []TaskRow
	ShowContacts  bool
	ShowOpps      bool
	ShowContracts bool
	ShowTasks     bool
	OOB           bool     // rendered out of band, beside an htmx answer
	Takers        []Option // colleagues the customer can be handed to
	Sharing       *SharesView
	Warnings      []WarningView // after a save that let a possible duplicate through
}

// WarningView is a warning of a save, with a link to the other record when
// the user may see it.
type WarningView struct {
	Text string
	URL  string
}

// warningViews puts the service's warnings in the user's language.
func warningViews(p Page, ws []crm.Warning) []WarningView {
	out := make([]WarningView, 0, len(ws))
	for _, w := range ws {
		v := WarningView{Text: p.Tf("warning."+w.Code, w.Owner)}
		if w.Owner == "" {
			v.Text = p.T("warning." + w.Code + "_pool")
		}
		if w.RecordID != 0 {
			v.URL = "/" + collectionPath(w.Object) + "/" + strconv.FormatInt(w.RecordID, 10)
		}
		out = append(out, v)
	}
	return out
}

// reviewQuery marks the customer page shown after a save that gave
// warnings: the page asks the service for them again (they are not carried
// in the URL, which anyone could write).
const reviewQuery = "?review=duplicates"

// savedCustomer is where a saved customer form leads: the customer's page,
// with the warnings to review if the save gave any.
func savedCustomer(w http.ResponseWriter, r *http.Request, c crm.Customer) {
	to := "/customers/" + strconv.FormatInt(c.ID, 10)
	if len(c.Warnings) > 0 {
		to += reviewQuery
	}
	redirect(w, r, to)
}

// URL is the customer's own address.
func (v CustomerView) URL() string { return "/customers/" + strconv.FormatInt(v.C.ID, 10) }

// IDParam is the customer's id for "add" links pre-filled with it.
func (v CustomerView) IDParam() string { return strconv.FormatInt(v.C.ID, 10) }

func (s *Server) showCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	s.customerPage(w, r, a, id, http.StatusOK, nil)
}

// customerPage renders the detail page; tl is a follow-up form refused
// without htmx (shown with its errors), or nil for a fresh one.
func (s *Server) customerPage(w http.ResponseWriter, r *http.Request, a *access.Actor, id int64, status int, tl *TimelineView) {
	ctx := r.Context()
	d, err := s.svc.CustomerDetail(ctx, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	c := d.Customer
	defs, err := s.activeCustomFields(ctx, a, crm.ObjCustomer)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := CustomerView{Page: s.page(r, a, "customer.title", "customers"), C: c, InPool: c.OwnerID == 0}
	v.Title = c.Name
	if r.URL.Query().Get("review") == "duplicates" {
		ws, err := s.svc.CustomerWarnings(ctx, a, id)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Warnings = warningViews(v.Page, ws)
	}
	v.Custom = v.customValues(defs, c.Custom)
	// A visible customer with an owner is within the user's scope, so the
	// role's grants decide; the service checks again on every write.
	v.CanEdit = !v.InPool && a.Can(crm.ObjCustomer, crm.ActEdit)
	v.CanDelete = !v.InPool && a.Can(crm.ObjCustomer, crm.ActDelete)
	if !v.InPool {
		if d.ShowFollowUps {
			if tl == nil {
				tl = &TimelineView{Form: newFollowUpForm(v.Location())}
			}
			// Recording needs the follow-up permission and the customer in
			// the user's scope (it is: it is not in the pool).
			tl.Page, tl.CustomerID, tl.Items, tl.CanCreate = v.Page, id, d.FollowUps, a.Can(crm.ObjFollowUp, crm.ActCreate)
			v.Timeline = tl
		}
		v.ShowContacts, v.Contacts = d.ShowContacts, d.Contacts
		if v.ShowOpps = d.ShowOpportunities; v.ShowOpps {
			stages, err := s.stageMap(ctx, a)
			if err != nil {
				s.fail(w, r, a, err)
				return
			}
			v.Opportunities = opportunityRows(v.Page, d.Opportunities, stages)
		}
		if v.ShowContracts = d.ShowContracts; v.ShowContracts {
			v.Contracts = contractRows(v.Page, d.Contracts)
		}
		if v.ShowTasks = d.ShowTasks; v.ShowTasks {
			v.Tasks = taskRows(v.Location(), d.Tasks, map[int64]string{id: c.Name})
		}
		if v.CanEdit {
			dir, ok := s.directory(w, r, a)
			if !ok {
				return
			}
			takers := slices.DeleteFunc(dir.Users, func(u crm.User) bool { return u.Disabled || u.ID == c.OwnerID })
			v.Takers = idOptions(takers, userID, userLabel, 0, "")
			if v.Sharing, err = s.sharesCard(r, a, v.Page, crm.ObjCustomer, id); err != nil {
				s.fail(w, r, a, err)
				return
			}
		}
	}
	s.render(w, r, status, "customer", v)
}

// CustomerForm is the customer form's input exactly as typed, so a refused
// submission shows the user what they entered.
type CustomerForm struct {
	Name, Industry, Level, Source, Status, Province, City, Address, Website, Phone, Email, CreditCode, Tags string
}

func readCustomerForm(r *http.Request) CustomerForm {
	g := r.PostFormValue
	return CustomerForm{Name: g("name"), Industry: g("industry"), Level: g("level"), Source: g("source"), Status: g("status"),
		Province: g("province"), City: g("city"), Address: g("address"), Website: g("website"), Phone: g("phone"),
		Email: g("email"), CreditCode: g("credit_code"), Tags: g("tags")}
}

func customerFormOf(c crm.CustomerFields) CustomerForm {
	return CustomerForm{Name: c.Name, Industry: c.Industry, Level: c.Level, Source: c.Source, Status: c.Status,
		Province: c.Province, City: c.City, Address: c.Address, Website: c.Website, Phone: c.Phone, Email: c.Email,
		CreditCode: c.CreditCode, Tags: strings.Join(c.Tags, ", ")}
}

func (f CustomerForm) fields() crm.CustomerFields {
	return crm.CustomerFields{Name: f.Name, Industry: f.Industry, Level: f.Level, Source: f.Source, Status: f.Status,
		Province: f.Province, City: f.City, Address: f.Address, Website: f.Website, Phone: f.Phone, Email: f.Email,
		CreditCode: f.CreditCode, Tags: splitTags(f.Tags)}
}

// update sends every field of the form: the form shows them all, so an
// emptied field is meant to be empty.
func (f CustomerForm) update(version int64) crm.CustomerUpdate {
	c := f.fields()
	return crm.CustomerUpdate{Version: version, Name: &c.Name, Industry: &c.Industry, Level: &c.Level, Source: &c.Source,
		Status: &c.Status, Province: &c.Province, City: &c.City, Address: &c.Address, Website: &c.Website,
		Phone: &c.Phone, Email: &c.Email, CreditCode: &c.CreditCode, Tags: &c.Tags}
}

// customerFieldNames are the form's fields in display order.
var customerFieldNames = []string{"name", "credit_code", "industry", "level", "source", "status", "phone", "email",
	"website", "province", "city", "address", "tags"}

// CustomerFormView is the create and edit form.
type CustomerFormView struct {
	Page
	ID      int64 // 0 for a new customer
	Version int64
	Form    CustomerForm
	Custom  customInput
	Errors  FormErrors
	Stale   bool
	// AccessFields holds the values a new customer was refused with as a
	// duplicate (JSON), for the request to its owner for access.
	AccessFields string
	defs         customDefs
}

// Action is where the form posts.
func (v CustomerFormView) Action() string {
	if v.ID == 0 {
		return "/customers"
	}
	return "/customers/" + strconv.FormatInt(v.ID, 10)
}

// CancelURL is where "cancel" leads.
func (v CustomerFormView) CancelURL() string {
	if v.ID == 0 {
		return "/customers"
	}
	return v.Action()
}

// Fields are the form's inputs with values and inline errors, the custom
// fields last.
func (v CustomerFormView) Fields() []FieldView {
	f := v.Form
	specs := map[string]FieldView{
		"name":        {Value: f.Name, Required: true, Max: 200, Wide: true},
		"credit_code": {Value: f.CreditCode, Max: 18, Hint: v.T("hint.credit_code")},
		"industry":    {Value: f.Industry, Max: 100, List: "industries"},
		"level":       {Options: v.enumOptions("level", crm.CustomerLevels, f.Level, "form.none")},
		"source":      {Options: v.enumOptions("source", crm.CustomerSources, f.Source, "form.none")},
		"status":      {Options: v.enumOptions("status", crm.CustomerStatuses, f.Status, "")},
		"phone":       {Value: f.Phone, Type: "tel", Max: 40, Autocomplete: "off"},
		"email":       {Value: f.Email, Type: "email", Max: 200, Autocomplete: "off"},
		"website":     {Value: f.Website, Max: 500, Autocomplete: "off"},
		"province":    {Value: f.Province, Max: 50, List: "provinces"},
		"city":        {Value: f.City, Max: 50, List: "cities"},
		"address":     {Value: f.Address, Type: "textarea", Max: 500, Wide: true},
		"tags":        {Value: f.Tags, Max: 700, Wide: true, Hint: v.T("hint.tags")},
	}
	out := make([]FieldView, 0, len(customerFieldNames)+len(v.defs))
	for _, name := range customerFieldNames {
		fv := specs[name]
		fv.Name, fv.Label, fv.Error = name, v.T("field."+name), v.Errors.For(name)
		out = append(out, fv)
	}
	return append(out, v.customFields(v.defs, v.Custom, v.Errors)...)
}

// Industries, Provinces and Cities are the standard lists the form
// suggests (GB/T 4754 sections, GB/T 2260 divisions); the service maps a
// free-text value onto them when it matches one.
func (v CustomerFormView) Industries() []Option {
	var out []Option
	for _, s := range quality.Industries() {
		label := s.Code + " " + s.Name
		if v.Lang != i18n.ZH {
			label = s.Code + " " + s.En
		}
		out = append(out, Option{Value: s.Name, Label: label})
	}
	return out
}

// Provinces are the provincial-level divisions.
func (v CustomerFormView) Provinces() []string { return quality.Provinces() }

// Cities are the prefecture-level divisions and the municipalities.
func (v CustomerFormView) Cities() []string { return quality.Cities() }

// customerForm builds the form view with the customer's custom fields, or
// writes the error.
func (s *Server) customerForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string) (CustomerFormView, bool) {
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjCustomer)
	if err != nil {
		s.fail(w, r, a, err)
		return CustomerFormView{}, false
	}
	return CustomerFormView{Page: s.page(r, a, titleKey, "customers"), defs: defs, Custom: customInput{}}, true
}

// refused shows the form again with the service's objections.
func (v CustomerFormView) refused(err error) CustomerFormView {
	v.Errors = labeledFormErrors(v.Lang, err, v.defs.labels(v.Lang), append(slices.Clone(customerFieldNames), v.defs.names()...)...)
	return v
}

func (s *Server) newCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.customerForm(w, r, a, "customer.new")
	if !ok {
		return
	}
	v.Form = CustomerForm{Status: "prospect"}
	s.render(w, r, http.StatusOK, "customer_form", v)
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.customerForm(w, r, a, "customer.new")
	if !ok {
		return
	}
	v.Form, v.Custom = readCustomerForm(r), readCustom(r, v.defs)
	fields := v.Form.fields()
	fields.Custom = v.Custom.values(v.defs)
	c, err := s.svc.CreateCustomer(r.Context(), a, service.CustomerInput{CustomerFields: fields})
	if err != nil {
		if crm.IsCode(err, crm.Duplicate) {
			b, _ := json.Marshal(fields)
			v.AccessFields = string(b)
		}
		s.refuse(w, r, a, err, func(status int) {
			s.render(w, r, status, "customer_form", v.refused(err))
		})
		return
	}
	savedCustomer(w, r, c)
}

func (s *Server) editCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	c, err := s.svc.GetCustomer(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if c.OwnerID == 0 {
		// Pool customers are claimed, not edited.
		s.fail(w, r, a, crm.ErrNotFound("customer"))
		return
	}
	v, ok := s.customerForm(w, r, a, "customer.edit")
	if !ok {
		return
	}
	v.ID, v.Version, v.Form, v.Custom = c.ID, c.Version, customerFormOf(c.CustomerFields), customInputOf(v.defs, c.Custom)
	s.render(w, r, http.StatusOK, "customer_form", v)
}

// updateCustomer saves the edit form if its version is still current. A
// stale version changes nothing; the form comes back with the user's input
// and the "changed by someone else" message.
func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, ok := s.customerForm(w, r, a, "customer.edit")
	if !ok {
		return
	}
	v.ID, v.Form, v.Custom = id, readCustomerForm(r), readCustom(r, v.defs)
	v.Version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	up := v.Form.update(v.Version)
	up.Custom = v.Custom.values(v.defs)
	c, err := s.svc.UpdateCustomer(r.Context(), a, id, up)
	if err == nil {
		savedCustomer(w, r, c)
		return
	}
	v.Stale = isStale(err)
	if !v.Stale && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, httpx.Status(err), "customer_form", v.refused(err))
}

// isStale reports a refused write carrying an old version.
func isStale(err error) bool {
	var ce *crm.Error
	return errors.As(err, &ce) && ce.Key == "stale_version"
}

func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.DeleteCustomer(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/customers")
}

func (s *Server) releaseCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.ReleaseCustomer(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/customers/"+strconv.FormatInt(id, 10))
}

// claimCustomer takes a pool customer. From the pool list htmx swaps the
// button for "claimed"; a plain form goes to the customer.
func (s *Server) claimCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.ClaimCustomer(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	to := "/customers/" + strconv.FormatInt(id, 10)
	if isHTMX(r) {
		p := s.page(r, a, "pool.title", "pool")
		s.renderPartial(w, r, http.StatusOK, "pool", "done", DoneView{Page: p, Message: p.T("pool.claimed"), URL: to})
		return
	}
	redirect(w, r, to)
}

// restoreCustomer brings a customer back from the recycle bin.
func (s *Server) restoreCustomer(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.RestoreCustomer(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	if isHTMX(r) {
		p := s.page(r, a, "recycle.title", "recycle")
		s.renderPartial(w, r, http.StatusOK, "recycle_bin", "done", DoneView{Page: p, Message: p.T("recycle.restored"),
			URL: "/customers/" + strconv.FormatInt(id, 10)})
		return
	}
	redirect(w, r, "/recycle-bin")
}

// requestAccess files the refused entrant's request to the owner of the
// record their values duplicate: a share or a hand-over (an approval the
// owner decides; the answer shows the filed request).
func (s *Server) requestAccess(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	in := service.AccessRequest{Object: crm.Object(r.PostFormValue("object")), Fields: json.RawMessage(r.PostFormValue("fields")),
		Access: r.PostFormValue("access")}
	if !json.Valid(in.Fields) {
		in.Fields = json.RawMessage("{}")
	}
	s.fail(w, r, a, s.svc.RequestAccess(r.Context(), a, in))
}

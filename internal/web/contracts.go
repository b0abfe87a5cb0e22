package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
)

// Contracts (合同, issue 13 §5): a list, a detail page and a form, built
// like the opportunities' from the shared helpers. The labels of the
// fields come from the record registry.

// ---- rows ----

// ContractRow is one contract in the list or on its customer's page.
type ContractRow struct {
	ID           int64
	Number       string
	Name         string
	CustomerID   int64
	CustomerName string
	Amount       string
	AmountMasked bool // the reader's field rules withhold the amount
	Status       string
	SignedOn     string
	EndsOn       string
	OwnerName    string
	UpdatedAt    time.Time
	Custom       map[string]any // stored custom values, for the list columns
}

// URL is the contract's detail page.
func (k ContractRow) URL() string { return "/contracts/" + strconv.FormatInt(k.ID, 10) }

func contractRows(p Page, items []crm.Contract) []ContractRow {
	out := make([]ContractRow, len(items))
	for i, k := range items {
		out[i] = ContractRow{ID: k.ID, Number: k.Number, Name: k.Name, CustomerID: k.CustomerID, CustomerName: k.CustomerName,
			Amount: contractAmount(p, k), AmountMasked: slices.Contains(k.Masked, "amount"),
			Status: contractStatus(p, k), SignedOn: k.SignedOn, EndsOn: k.EndsOn, OwnerName: k.OwnerName, UpdatedAt: k.UpdatedAt,
			Custom: k.Custom}
	}
	return out
}

// contractAmount is a contract's amount in the reader's language; a
// hidden one shows as nothing (a masked one has no masked form: the pages
// show it withheld).
func contractAmount(p Page, k crm.Contract) string {
	if slices.Contains(k.Hidden, "amount") {
		return "—"
	}
	return p.Money(k.Amount, k.Currency)
}

// contractStatus is a contract's status in the reader's language, or its
// masked form when the reader's rules mask it.
func contractStatus(p Page, k crm.Contract) string {
	if k.Status == "" || slices.Contains(k.Masked, "status") {
		return k.Status
	}
	return p.Enum("contract_status", k.Status)
}

// ---- list ----

// contractSorts are the list orderings the store supports.
var contractSorts = listSorts(crm.ObjContract)

// ContractListView is the contract list: search by number or name, filters
// by customer, opportunity (from links), status and custom choice fields,
// sort and cursor paging.
type ContractListView struct {
	Page
	Pager
	CustomList
	Path          string
	Query         string
	CustomerID    int64
	OpportunityID int64
	Status        string
	Sort          string
	Rows          []ContractRow
	Total         int
	TotalCapped   bool // Total is a lower bound
}

// SearchHint is the search box's placeholder.
func (v ContractListView) SearchHint() string { return v.T("contracts.search_placeholder") }

// FilterSelects are the status, custom and sort selects.
func (v ContractListView) FilterSelects() []FilterSelect {
	status := FilterSelect{Name: "status", Label: v.T("field.status"), Options: v.enumOptions("contract_status", crm.ContractStatuses, v.Status, "list.any_status")}
	sort := FilterSelect{Name: "sort", Label: v.T("field.sort"), Options: v.enumOptions("sort", contractSorts, v.Sort, "")}
	for i := range sort.Options {
		sort.Options[i].Label = v.T("list.sort_by") + " " + sort.Options[i].Label
	}
	return append(append([]FilterSelect{status}, v.CustomList.selects(v.Page)...), sort)
}

// HiddenFilters are the filters the list carries without a select: the
// customer and the opportunity a link narrowed it to.
func (v ContractListView) HiddenFilters() []Option {
	var out []Option
	if v.CustomerID != 0 {
		out = append(out, Option{Value: idString(v.CustomerID), Label: "customer_id"})
	}
	if v.OpportunityID != 0 {
		out = append(out, Option{Value: idString(v.OpportunityID), Label: "opportunity_id"})
	}
	return out
}

func (s *Server) listContracts(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	cl, err := s.customList(r, a, crm.ObjContract)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	q := r.URL.Query()
	f := crm.ListFilter{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Custom: cl.Chosen, OwnerID: cl.Team.Owner, DeptID: cl.Team.Dept, Sort: q.Get("sort"),
		Cursor: q.Get("cursor"), Limit: 20}
	if !slices.Contains(contractSorts, f.Sort) {
		f.Sort = contractSorts[0]
	}
	if f.Status != "" && !slices.Contains(crm.ContractStatuses, f.Status) {
		f.Status = ""
	}
	f.CustomerID, _ = strconv.ParseInt(q.Get("customer_id"), 10, 64)
	f.OpportunityID, _ = strconv.ParseInt(q.Get("opportunity_id"), 10, 64)
	page, err := s.svc.ListContracts(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := ContractListView{Page: s.page(r, a, "contracts.title", "contracts"), CustomList: cl, Path: "/contracts", Query: f.Query,
		CustomerID: f.CustomerID, OpportunityID: f.OpportunityID, Status: f.Status, Sort: f.Sort, Total: page.Total, TotalCapped: page.TotalCapped}
	v.Rows = contractRows(v.Page, page.Items)
	params := url.Values{}
	for name, value := range map[string]string{"q": f.Query, "status": f.Status} {
		if value != "" {
			params.Set(name, value)
		}
	}
	for _, h := range v.HiddenFilters() {
		params.Set(h.Label, h.Value)
	}
	if f.Sort != contractSorts[0] {
		params.Set("sort", f.Sort)
	}
	cl.params(params)
	v.Pager = makePager(v.Path, params, f.Cursor, readPrev(q), page.Next)
	s.showList(w, r, "contracts", v)
}

// ---- detail ----

// ContractView is a contract's detail page.
type ContractView struct {
	Page
	K            crm.Contract
	Amount       string
	AmountMasked bool
	Status       string
	Custom       []CustomValue
	CanEdit      bool
	CanDelete    bool
}

// URL is the contract's own address.
func (v ContractView) URL() string { return "/contracts/" + strconv.FormatInt(v.K.ID, 10) }

func (s *Server) showContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	k, err := s.svc.GetContract(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjContract)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := ContractView{Page: s.page(r, a, "contract.title", "contracts"), K: k,
		CanEdit: a.Can(crm.ObjContract, crm.ActEdit), CanDelete: a.Can(crm.ObjContract, crm.ActDelete)}
	v.Title = k.Name
	v.Amount, v.AmountMasked = contractAmount(v.Page, k), slices.Contains(k.Masked, "amount")
	v.Status = contractStatus(v.Page, k)
	v.Custom = v.customValues(defs, k.Custom)
	s.render(w, r, http.StatusOK, "contract", v)
}

func (s *Server) deleteContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.DeleteContract(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/contracts")
}

// ---- form ----

// ContractForm is the contract form's input as typed; the amount is in
// major units ("12,000.50").
type ContractForm struct {
	CustomerID, OpportunityID                                                 int64
	CustomerName                                                              string
	Number, Name, Amount, Currency, SignedOn, StartsOn, EndsOn, Status, Notes string
}

// contractFieldNames are the fields the form shows, so their errors stand
// next to them.
var contractFieldNames = crm.FieldNames(crm.ObjContract, func(crm.FieldSpec) bool { return true })

func readContractForm(r *http.Request) ContractForm {
	g := r.PostFormValue
	return ContractForm{CustomerID: formInt(r, "customer_id"), OpportunityID: formInt(r, "opportunity_id"), Number: g("number"),
		Name: g("name"), Amount: g("amount"), Currency: strings.ToUpper(strings.TrimSpace(g("currency"))), SignedOn: g("signed_on"),
		StartsOn: g("starts_on"), EndsOn: g("ends_on"), Status: g("status"), Notes: g("notes")}
}

// fields reads the form into domain fields; problems are what the page
// could not read (the amount).
func (f ContractForm) fields() (crm.ContractFields, crm.Problems) {
	out := crm.ContractFields{CustomerID: f.CustomerID, OpportunityID: f.OpportunityID, Number: f.Number, Name: f.Name,
		Currency: f.Currency, SignedOn: f.SignedOn, StartsOn: f.StartsOn, EndsOn: f.EndsOn, Status: f.Status, Notes: f.Notes}
	if out.Currency == "" {
		out.Currency = "CNY"
	}
	var p crm.Problems
	if strings.TrimSpace(f.Amount) != "" {
		n, ok := parseMoney(f.Amount, minorDigits(out.Currency))
		if !ok {
			p.Add("amount", "amount")
		}
		out.Amount = n
	}
	return out, p
}

// ContractFormView is the create and edit form. The customer is chosen at
// creation and fixed afterwards; the opportunity is one of its customer's.
type ContractFormView struct {
	Page
	ID            int64
	Version       int64
	Form          ContractForm
	Custom        customInput
	Errors        FormErrors
	Stale         bool
	customers     []Option
	opportunities []Option
	defs          customDefs
}

// Action is where the form posts.
func (v ContractFormView) Action() string {
	if v.ID == 0 {
		return "/contracts"
	}
	return "/contracts/" + strconv.FormatInt(v.ID, 10)
}

// CancelURL is where "cancel" leads.
func (v ContractFormView) CancelURL() string {
	switch {
	case v.ID != 0:
		return v.Action()
	case v.Form.CustomerID != 0:
		return "/customers/" + strconv.FormatInt(v.Form.CustomerID, 10)
	}
	return "/contracts"
}

// Fields are the form's inputs, labelled as the registry names them.
func (v ContractFormView) Fields() []FieldView {
	f := v.Form
	var fs []FieldView
	if v.ID == 0 {
		fs = append(fs, pickerField(v.Page, v.customers, "choose", v.Errors))
	} else {
		// Fixed, but sent along: the opportunities offered are its.
		fs = append(fs, FieldView{Name: "customer_id", Type: "hidden", Value: idString(f.CustomerID)})
	}
	fs = append(fs, specFields(v.Page, crm.ObjContract, []FieldView{
		{Name: "opportunity_id", Options: v.opportunities, Hint: v.T("contract.opportunity_hint")},
		{Name: "number", Value: f.Number, Required: true, Max: 64, Autocomplete: "off"},
		{Name: "name", Value: f.Name, Required: true, Max: 200, Wide: true},
		{Name: "amount", Value: f.Amount, InputMode: "decimal", Hint: v.T("hint.amount")},
		{Name: "currency", Value: f.Currency, Max: 3, Autocomplete: "off", Hint: v.T("hint.currency")},
		{Name: "status", Options: v.enumOptions("contract_status", crm.ContractStatuses, f.Status, "")},
		{Name: "signed_on", Type: "date", Value: f.SignedOn},
		{Name: "starts_on", Type: "date", Value: f.StartsOn},
		{Name: "ends_on", Type: "date", Value: f.EndsOn},
		{Name: "notes", Type: "textarea", Value: f.Notes, Max: 5000, Wide: true},
	}, v.Errors)...)
	return append(fs, v.customFields(v.defs, v.Custom, v.Errors)...)
}

// specFields labels a form's inputs with the registry's labels of o's
// fields and sets their errors.
func specFields(p Page, o crm.Object, fs []FieldView, e FormErrors) []FieldView {
	spec, _ := crm.Spec(o)
	for i := range fs {
		label := "field." + fs[i].Name
		if f, ok := spec.Field(fs[i].Name); ok {
			label = f.Label
		}
		fs[i].Label, fs[i].Error = p.T(label), e.For(fs[i].Name)
	}
	return fs
}

func (s *Server) contractForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string) (ContractFormView, bool) {
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjContract)
	if err != nil {
		s.fail(w, r, a, err)
		return ContractFormView{}, false
	}
	return ContractFormView{Page: s.page(r, a, titleKey, "contracts"), defs: defs, Custom: customInput{}}, true
}

// withChoices fills the customer picker of a new contract's form and the
// opportunity select with the chosen customer's opportunities (none to
// choose before a customer is). An opportunity the form names that is not
// among them stays selected, so nothing typed is lost.
func (s *Server) withChoices(w http.ResponseWriter, r *http.Request, a *access.Actor, v *ContractFormView) bool {
	ctx := r.Context()
	if v.ID == 0 {
		opts, err := s.customerOptions(ctx, a, v.Page, "", v.Form.CustomerID, v.Form.CustomerName, "choose")
		if err != nil {
			s.fail(w, r, a, err)
			return false
		}
		v.customers = opts
	}
	v.opportunities = []Option{{Value: "", Label: "—", Selected: v.Form.OpportunityID == 0}}
	found := v.Form.OpportunityID == 0
	if v.Form.CustomerID != 0 && a.Can(crm.ObjOpportunity, crm.ActRead) {
		page, err := s.svc.ListOpportunities(ctx, a, crm.ListFilter{CustomerID: v.Form.CustomerID, Limit: 50})
		if err != nil {
			s.fail(w, r, a, err)
			return false
		}
		for _, o := range page.Items {
			selected := o.ID == v.Form.OpportunityID
			found = found || selected
			v.opportunities = append(v.opportunities, Option{Value: idString(o.ID), Label: o.Name, Selected: selected})
		}
	}
	if !found {
		v.opportunities = append(v.opportunities, Option{Value: idString(v.Form.OpportunityID), Label: "#" + idString(v.Form.OpportunityID), Selected: true})
	}
	return true
}

func (s *Server) newContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.contractForm(w, r, a, "contract.new")
	if !ok {
		return
	}
	q := r.URL.Query()
	v.Form = ContractForm{Currency: "CNY", Status: crm.ContractStatuses[0]}
	v.Form.CustomerID, _ = strconv.ParseInt(q.Get("customer_id"), 10, 64)
	v.Form.OpportunityID, _ = strconv.ParseInt(q.Get("opportunity_id"), 10, 64)
	if !s.withChoices(w, r, a, &v) {
		return
	}
	s.render(w, r, http.StatusOK, "contract_form", v)
}

// refusedContract shows the form again with the objections next to their
// fields and everything as typed.
func (s *Server) refusedContract(w http.ResponseWriter, r *http.Request, a *access.Actor, v ContractFormView, err error) {
	v.Stale = isStale(err)
	if !v.Stale && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	v.Errors = labeledFormErrors(v.Lang, err, v.defs.labels(v.Lang), append(slices.Clone(contractFieldNames), v.defs.names()...)...)
	if !s.withChoices(w, r, a, &v) {
		return
	}
	s.render(w, r, httpx.Status(err), "contract_form", v)
}

func (s *Server) createContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.contractForm(w, r, a, "contract.new")
	if !ok {
		return
	}
	v.Form, v.Custom = readContractForm(r), readCustom(r, v.defs)
	fields, p := v.Form.fields()
	fields.Custom = v.Custom.values(v.defs)
	var err error
	var k crm.Contract
	if len(p) > 0 {
		err = mergeProblems(p, fields.Validate())
	} else {
		k, err = s.svc.CreateContract(r.Context(), a, fields)
	}
	if err != nil {
		s.refusedContract(w, r, a, v, err)
		return
	}
	redirect(w, r, "/contracts/"+strconv.FormatInt(k.ID, 10))
}

func (s *Server) editContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	k, err := s.svc.GetContract(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v, ok := s.contractForm(w, r, a, "contract.edit")
	if !ok {
		return
	}
	v.ID, v.Version = k.ID, k.Version
	v.Form = ContractForm{CustomerID: k.CustomerID, OpportunityID: k.OpportunityID, CustomerName: k.CustomerName, Number: k.Number,
		Name: k.Name, Currency: k.Currency, SignedOn: k.SignedOn, StartsOn: k.StartsOn, EndsOn: k.EndsOn, Status: k.Status, Notes: k.Notes}
	// A withheld amount stays empty: sent back so, it leaves the amount as it is.
	if !slices.Contains(k.Masked, "amount") && !slices.Contains(k.Hidden, "amount") {
		v.Form.Amount = formatMinor(k.Amount, minorDigits(k.Currency), false)
	}
	v.Custom = customInputOf(v.defs, k.Custom)
	if !s.withChoices(w, r, a, &v) {
		return
	}
	s.render(w, r, http.StatusOK, "contract_form", v)
}

func (s *Server) updateContract(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, ok := s.contractForm(w, r, a, "contract.edit")
	if !ok {
		return
	}
	v.ID, v.Version = id, formInt(r, "version")
	v.Form, v.Custom = readContractForm(r), readCustom(r, v.defs)
	fields, p := v.Form.fields()
	var err error
	if len(p) > 0 {
		fields.CustomerID = 1 // fixed after creation; not the form's concern
		err = mergeProblems(p, fields.Validate())
	} else {
		_, err = s.svc.UpdateContract(r.Context(), a, id, crm.ContractUpdate{Version: v.Version, OpportunityID: &fields.OpportunityID,
			Number: &fields.Number, Name: &fields.Name, Amount: &fields.Amount, Currency: &fields.Currency, SignedOn: &fields.SignedOn,
			StartsOn: &fields.StartsOn, EndsOn: &fields.EndsOn, Status: &fields.Status, Notes: &fields.Notes, Custom: v.Custom.values(v.defs)})
	}
	if err != nil {
		s.refusedContract(w, r, a, v, err)
		return
	}
	redirect(w, r, "/contracts/"+strconv.FormatInt(id, 10))
}

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

// ---- list ----

// ContactListView is the contact list: search by name, or exactly by
// mobile, landline or e-mail; custom columns and filters; cursor paging.
type ContactListView struct {
	Page
	Pager
	CustomList
	Path        string
	Query       string
	Rows        []ContactRow
	Total       int
	TotalCapped bool // Total is a lower bound
}

// ContactRow is one contact in the list, with its cells ready (see When).
type ContactRow struct {
	crm.Contact
	Updated When
	Cells   []string
}

// SearchHint is the search box's placeholder.
func (v ContactListView) SearchHint() string { return v.T("contacts.search_placeholder") }

// FilterSelects are the custom choice fields' filters.
func (v ContactListView) FilterSelects() []FilterSelect { return v.CustomList.selects(v.Page) }

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	cl, err := s.customList(r, a, crm.ObjContact)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	q := r.URL.Query()
	f := crm.ListFilter{Query: strings.TrimSpace(q.Get("q")), Custom: cl.Chosen, OwnerID: cl.Team.Owner, DeptID: cl.Team.Dept, Cursor: q.Get("cursor"), Limit: 20}
	page, err := s.svc.ListContacts(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := ContactListView{Page: s.page(r, a, "contacts.title", "contacts"), CustomList: cl, Path: "/contacts", Query: f.Query,
		Rows: make([]ContactRow, len(page.Items)), Total: page.Total, TotalCapped: page.TotalCapped}
	for i, c := range page.Items {
		v.Rows[i] = ContactRow{Contact: c, Updated: v.when(c.UpdatedAt), Cells: cl.Cells(c.Custom)}
	}
	params := url.Values{}
	if f.Query != "" {
		params.Set("q", f.Query)
	}
	cl.params(params)
	v.Pager = makePager(v.Path, params, f.Cursor, readPrev(q), page.Next)
	s.showList(w, r, "contacts", v)
}

// ---- detail ----

// ContactView is a contact's detail page.
type ContactView struct {
	Page
	C         crm.Contact
	Custom    []CustomValue
	CanEdit   bool
	CanDelete bool
	Consents  ConsentCard
}

// URL is the contact's own address.
func (v ContactView) URL() string { return "/contacts/" + strconv.FormatInt(v.C.ID, 10) }

// personPage loads what the page of a person's record (a contact or a lead)
// shows beside the record: the page frame, the custom field definitions and
// the consent card. ok is false when it answered with an error already.
func (s *Server) personPage(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, id int64) (Page, customDefs, ConsentCard, bool) {
	spec, _ := crm.Spec(o)
	p := s.page(r, a, string(o)+".title", spec.Path)
	defs, err := s.activeCustomFields(r.Context(), a, o)
	var consents ConsentCard
	if err == nil {
		consents, err = s.consentCard(r, a, p, o, id)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return p, nil, consents, false
	}
	return p, defs, consents, true
}

func (s *Server) showContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	c, err := s.svc.GetContact(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p, defs, consents, ok := s.personPage(w, r, a, crm.ObjContact, id)
	if !ok {
		return
	}
	v := ContactView{Page: p, C: c, Consents: consents,
		CanEdit: c.ArchivedAt == nil && a.Can(crm.ObjContact, crm.ActEdit), CanDelete: a.Can(crm.ObjContact, crm.ActDelete)}
	v.Title = c.Name
	v.Custom = v.customValues(defs, c.Custom)
	s.render(w, r, http.StatusOK, "contact", v)
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.DeleteContact(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/contacts")
}

// ---- form ----

// ContactForm is the contact form's input as typed.
type ContactForm struct {
	CustomerID                                       int64
	CustomerName                                     string
	Name, Title, Mobile, Phone, Email, WeChat, Notes string
}

var contactFieldNames = []string{"customer_id", "name", "title", "mobile", "phone", "email", "wechat", "notes"}

func readContactForm(r *http.Request) ContactForm {
	g := r.PostFormValue
	return ContactForm{CustomerID: formInt(r, "customer_id"), Name: g("name"), Title: g("title"), Mobile: g("mobile"),
		Phone: g("phone"), Email: g("email"), WeChat: g("wechat"), Notes: g("notes")}
}

func (f ContactForm) fields() crm.ContactFields {
	return crm.ContactFields{CustomerID: f.CustomerID, Name: f.Name, Title: f.Title, Mobile: f.Mobile, Phone: f.Phone,
		Email: f.Email, WeChat: f.WeChat, Notes: f.Notes}
}

// ContactFormView is the create and edit form.
type ContactFormView struct {
	Page
	ID        int64
	Version   int64
	Form      ContactForm
	Custom    customInput
	Errors    FormErrors
	Stale     bool
	customers []Option
	defs      customDefs
}

// Action is where the form posts.
func (v ContactFormView) Action() string {
	if v.ID == 0 {
		return "/contacts"
	}
	return "/contacts/" + strconv.FormatInt(v.ID, 10)
}

// CancelURL is where "cancel" leads.
func (v ContactFormView) CancelURL() string {
	switch {
	case v.ID != 0:
		return v.Action()
	case v.Form.CustomerID != 0:
		return "/customers/" + strconv.FormatInt(v.Form.CustomerID, 10)
	}
	return "/contacts"
}

// contactLabels words the contact's own fields: a person's name.
func contactLabels(p Page, defs customDefs) map[string]string {
	labels := defs.labels(p.Lang)
	labels["name"] = p.T("field.person_name")
	return labels
}

// Fields are the form's inputs.
func (v ContactFormView) Fields() []FieldView {
	f := v.Form
	fs := []FieldView{pickerField(v.Page, v.customers, "none", v.Errors)}
	fs = append(fs, labelFields(v.Page, []FieldView{
		{Name: "name", Value: f.Name, Required: true, Max: 100, Autocomplete: "off"},
		{Name: "title", Value: f.Title, Max: 100},
		{Name: "mobile", Type: "tel", Value: f.Mobile, Max: 40, Autocomplete: "off"},
		{Name: "phone", Type: "tel", Value: f.Phone, Max: 40, Autocomplete: "off"},
		{Name: "email", Type: "email", Value: f.Email, Max: 200, Autocomplete: "off"},
		{Name: "wechat", Value: f.WeChat, Max: 60, Autocomplete: "off"},
		{Name: "notes", Type: "textarea", Value: f.Notes, Max: 2000, Wide: true},
	}, v.Errors)...)
	fs[1].Label = v.T("field.person_name")
	return append(fs, v.customFields(v.defs, v.Custom, v.Errors)...)
}

func (s *Server) contactForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string, f ContactForm) (ContactFormView, bool) {
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjContact)
	if err != nil {
		s.fail(w, r, a, err)
		return ContactFormView{}, false
	}
	v := ContactFormView{Page: s.page(r, a, titleKey, "contacts"), Form: f, defs: defs, Custom: customInput{}}
	if v.customers, err = s.customerOptions(r.Context(), a, v.Page, "", f.CustomerID, f.CustomerName, "none"); err != nil {
		s.fail(w, r, a, err)
		return ContactFormView{}, false
	}
	return v, true
}

func (v ContactFormView) refused(err error) ContactFormView {
	v.Stale = isStale(err)
	v.Errors = labeledFormErrors(v.Lang, err, contactLabels(v.Page, v.defs), append(slices.Clone(contactFieldNames), v.defs.names()...)...)
	return v
}

func (s *Server) newContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	customerID, _ := strconv.ParseInt(r.URL.Query().Get("customer_id"), 10, 64)
	v, ok := s.contactForm(w, r, a, "contact.new", ContactForm{CustomerID: customerID})
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "contact_form", v)
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.contactForm(w, r, a, "contact.new", readContactForm(r))
	if !ok {
		return
	}
	v.Custom = readCustom(r, v.defs)
	fields := v.Form.fields()
	fields.Custom = v.Custom.values(v.defs)
	c, err := s.svc.CreateContact(r.Context(), a, fields)
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.render(w, r, status, "contact_form", v.refused(err))
		})
		return
	}
	redirect(w, r, "/contacts/"+strconv.FormatInt(c.ID, 10))
}

func (s *Server) editContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	c, err := s.svc.GetContact(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	f := ContactForm{CustomerID: c.CustomerID, CustomerName: c.CustomerName, Name: c.Name, Title: c.Title, Mobile: c.Mobile,
		Phone: c.Phone, Email: c.Email, WeChat: c.WeChat, Notes: c.Notes}
	v, ok := s.contactForm(w, r, a, "contact.edit", f)
	if !ok {
		return
	}
	v.ID, v.Version, v.Custom = c.ID, c.Version, customInputOf(v.defs, c.Custom)
	s.render(w, r, http.StatusOK, "contact_form", v)
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, ok := s.contactForm(w, r, a, "contact.edit", readContactForm(r))
	if !ok {
		return
	}
	v.ID, v.Version, v.Custom = id, formInt(r, "version"), readCustom(r, v.defs)
	f := v.Form.fields()
	_, err := s.svc.UpdateContact(r.Context(), a, id, crm.ContactUpdate{Version: v.Version, CustomerID: &f.CustomerID, Name: &f.Name,
		Title: &f.Title, Mobile: &f.Mobile, Phone: &f.Phone, Email: &f.Email, WeChat: &f.WeChat, Notes: &f.Notes,
		Custom: v.Custom.values(v.defs)})
	if err == nil {
		redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10))
		return
	}
	if !isStale(err) && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, httpx.Status(err), "contact_form", v.refused(err))
}

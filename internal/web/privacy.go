package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The privacy officer's pages: the register of requests, one request with
// what completing it does, everything held about one person (with its
// downloads, legal hold and unarchiving), and the retention policies. The
// service refuses everyone but privacy officers and administrators.

// ---- the register ----

// PrivacyRequestForm is the form filing a request, as typed.
type PrivacyRequestForm struct {
	Object, RecordID, Kind, Received, Due, Purpose, Channel, Notes string
}

var privacyRequestFields = []string{"object", "record_id", "kind", "received_at", "due_at", "purpose", "channel", "notes"}

// PrivacyView is the register.
type PrivacyView struct {
	Page
	Status       string
	Filters      []Option
	Items        []crm.PrivacyRequest
	Overdue      int
	NextURL      string
	Form         PrivacyRequestForm
	Errors       FormErrors
	DeadlineDays int
}

// Kinds are the kinds of request, for the filing form.
func (v PrivacyView) Kinds() []Option {
	return v.enumOptions("request_kind", crm.RequestKinds, v.Form.Kind, "")
}

// Objects are the records a request can name.
func (v PrivacyView) Objects() []Option {
	return v.enumOptions("object", []string{string(crm.ObjContact), string(crm.ObjLead)}, v.Form.Object, "")
}

// Purposes are the consent purposes a withdrawal can name ("" for all).
func (v PrivacyView) Purposes() []Option {
	return v.enumOptions("consent_purpose", crm.ConsentPurposes, v.Form.Purpose, "consent.any")
}

// Channels are the consent channels a withdrawal can name ("" for all).
func (v PrivacyView) Channels() []Option {
	return v.enumOptions("consent_channel", crm.ConsentChannels, v.Form.Channel, "consent.any")
}

func (s *Server) privacyRegister(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showRegister(w, r, a, http.StatusOK, PrivacyRequestForm{Object: string(crm.ObjContact), Kind: crm.RequestAccess}, nil)
}

// showRegister renders the register with the filing form as typed and its
// errors.
func (s *Server) showRegister(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, form PrivacyRequestForm, ferr error) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	v := PrivacyView{Page: s.page(r, a, "privacy.title", "privacy"), Status: q.Get("status"), Form: form,
		DeadlineDays: s.svc.PrivacyDeadlineDays()}
	page, err := s.svc.PrivacyRequests(r.Context(), a, service.PrivacyQuery{Status: v.Status, Before: before})
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Items, v.Overdue = page.Items, page.Overdue
	if page.Next != 0 {
		next := url.Values{"before": {strconv.FormatInt(page.Next, 10)}}
		if v.Status != "" {
			next.Set("status", v.Status)
		}
		v.NextURL = "/privacy?" + next.Encode()
	}
	v.Filters = append([]Option{{Value: "", Label: v.T("privacy.filter_all"), Selected: v.Status == ""}},
		v.enumOptions("request_filter", []string{crm.RequestOpen, "overdue", crm.RequestDone, crm.RequestRefused}, v.Status, "")...)
	if ferr != nil {
		v.Errors = formErrors(v.Lang, ferr, privacyRequestFields...)
	}
	s.render(w, r, status, "privacy", v)
}

func (s *Server) filePrivacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	g := r.PostFormValue
	form := PrivacyRequestForm{Object: g("object"), RecordID: g("record_id"), Kind: g("kind"), Received: g("received_at"),
		Due: g("due_at"), Purpose: g("purpose"), Channel: g("channel"), Notes: g("notes")}
	in := crm.PrivacyRequestInput{Object: crm.Object(form.Object), Kind: form.Kind, Purpose: form.Purpose, Channel: form.Channel, Notes: form.Notes}
	var p crm.Problems
	in.RecordID, _ = strconv.ParseInt(strings.TrimSpace(form.RecordID), 10, 64)
	loc := s.svc.Location(a)
	in.ReceivedAt = parseDay(loc, &p, "received_at", form.Received)
	if due := parseDay(loc, &p, "due_at", form.Due); due != nil {
		end := due.Add(24*time.Hour - time.Millisecond) // the whole of the day given
		in.DueAt = &end
	}
	var req crm.PrivacyRequest
	err := p.Err()
	if err == nil {
		req, err = s.svc.FilePrivacyRequest(r.Context(), a, in)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showRegister(w, r, a, status, form, err) })
		return
	}
	redirect(w, r, "/privacy/requests/"+strconv.FormatInt(req.ID, 10))
}

// parseDay reads a date input as the start of that day in loc; "" is nil.
func parseDay(loc *time.Location, p *crm.Problems, field, value string) *time.Time {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		p.Add(field, "date")
		return nil
	}
	return &t
}

// ---- one request ----

// PrivacyRequestView is one request and what completing it does.
type PrivacyRequestView struct {
	Page
	R         crm.PrivacyRequest
	Contact   *crm.Contact // the record a correction changes
	Lead      *crm.Lead
	Errors    FormErrors
	Corrected url.Values // the correction as typed, after an error
}

// PersonURL is the page of everything held about the person.
func (v PrivacyRequestView) PersonURL() string { return personURL(v.R.Object, v.R.RecordID) }

// Value is a correction field as typed, else as stored.
func (v PrivacyRequestView) Value(field, stored string) string {
	if v.Corrected != nil {
		return v.Corrected.Get(field)
	}
	return stored
}

func personURL(o crm.Object, id int64) string {
	return "/privacy/people/" + string(o) + "/" + strconv.FormatInt(id, 10)
}

func (s *Server) privacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showRequest(w, r, a, http.StatusOK, nil)
}

// showRequest renders a request; a correction shows the record's current
// fields to change (reading them is audited as a view of the person).
func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, ferr error) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	req, err := s.svc.PrivacyRequest(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := PrivacyRequestView{Page: s.page(r, a, "", "privacy"), R: req}
	v.Title = v.Tf("privacy.request_title", req.ID)
	if req.Kind == crm.RequestCorrection && req.Status == crm.RequestOpen {
		e, err := s.svc.PersonPrivacy(r.Context(), a, req.Object, req.RecordID)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		for i := range e.Contacts {
			if req.Object == crm.ObjContact && e.Contacts[i].ID == req.RecordID {
				v.Contact = &e.Contacts[i]
			}
		}
		for i := range e.Leads {
			if req.Object == crm.ObjLead && e.Leads[i].ID == req.RecordID {
				v.Lead = &e.Leads[i]
			}
		}
	}
	if ferr != nil {
		v.Errors = formErrors(v.Lang, ferr, "reason", "notes", "contact.name", "contact.title", "contact.mobile", "contact.phone",
			"contact.email", "contact.wechat", "contact.notes", "lead.name", "lead.company", "lead.title", "lead.mobile", "lead.email",
			"lead.wechat", "lead.notes")
		v.Corrected = r.PostForm
	}
	s.render(w, r, status, "privacy_request", v)
}

// correctionFields are the fields a correction form sends, per person
// object: from the registry, the text a user writes about the person (not
// the choices, links or what the system keeps).
var correctionFields = func() map[crm.Object][]string {
	out := map[crm.Object][]string{}
	for _, o := range crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Personal }) {
		out[o] = crm.FieldNames(o, func(f crm.FieldSpec) bool {
			return !f.System && slices.Contains([]crm.FieldType{crm.TypeText, crm.TypeLongText, crm.TypePhone, crm.TypeEmail}, f.Type)
		})
	}
	return out
}()

func (s *Server) completePrivacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	in, err := readCompletion(r)
	if err == nil {
		_, err = s.svc.CompletePrivacyRequest(r.Context(), a, id, in)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showRequest(w, r, a, status, err) })
		return
	}
	redirect(w, r, "/privacy/requests/"+strconv.FormatInt(id, 10))
}

// readCompletion reads the completion form; a correction form carries the
// record's object and version and every field it shows.
func readCompletion(r *http.Request) (service.PrivacyCompletion, error) {
	g := r.PostFormValue
	in := service.PrivacyCompletion{Status: g("status"), Reason: g("reason"), Notes: g("notes")}
	if in.Status != crm.RequestDone || g("version") == "" {
		return in, nil
	}
	version, err := strconv.ParseInt(g("version"), 10, 64)
	if err != nil {
		return in, crm.Problems{{Field: "version", Rule: "number"}}.Err()
	}
	o := crm.Object(g("object"))
	values := map[string]*string{}
	for _, f := range correctionFields[o] {
		v := g(f)
		values[f] = &v
	}
	switch o {
	case crm.ObjContact:
		in.Contact = &service.ContactCorrection{ContactUpdate: crm.ContactUpdate{Version: version, Name: values["name"], Title: values["title"],
			Mobile: values["mobile"], Phone: values["phone"], Email: values["email"], WeChat: values["wechat"], Notes: values["notes"]}}
	case crm.ObjLead:
		in.Lead = &service.LeadCorrection{LeadUpdate: crm.LeadUpdate{Version: version, Name: values["name"], Company: values["company"],
			Title: values["title"], Mobile: values["mobile"], Email: values["email"], WeChat: values["wechat"], Notes: values["notes"]}}
	}
	return in, nil
}

// ---- one person ----

// PrivacyPersonView is everything held about one person.
type PrivacyPersonView struct {
	Page
	E          service.PersonExport
	Name       string
	URL        string
	HoldErrors FormErrors
}

// Fields shows an audit event's fields as text.
func (v PrivacyPersonView) Fields(raw json.RawMessage) string { return string(raw) }

// MaxAccess is the access log's limit, for the page to say so.
func (v PrivacyPersonView) MaxAccess() int { return service.MaxAccessEntries }

// personTarget reads /privacy/people/{object}/{id}.
func personTarget(r *http.Request) (crm.Object, int64, bool) {
	id, ok := pathID(r)
	return crm.Object(r.PathValue("object")), id, ok
}

func (s *Server) privacyPerson(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showPerson(w, r, a, http.StatusOK, nil)
}

func (s *Server) showPerson(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, holdErr error) {
	o, id, ok := personTarget(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	e, err := s.svc.PersonPrivacy(r.Context(), a, o, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := PrivacyPersonView{Page: s.page(r, a, "", "privacy"), E: e, URL: personURL(o, id)}
	for _, c := range e.Contacts {
		v.Name = c.Name
	}
	for _, l := range e.Leads {
		if v.Name == "" {
			v.Name = l.Name
		}
	}
	v.Title = v.Tf("privacy.person_title", v.Name)
	if holdErr != nil {
		v.HoldErrors = formErrors(v.Lang, holdErr, "reason")
	}
	s.render(w, r, status, "privacy_person", v)
}

// exportPerson serves the download of everything held about a person:
// ?format=json (the default) or csv (a zip of one CSV file per section).
func (s *Server) exportPerson(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, ok := personTarget(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = service.ExportJSON
	}
	e, err := s.svc.ExportPerson(r.Context(), a, o, id, format)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	var buf bytes.Buffer
	name, typ := fmt.Sprintf("person-%s-%d", o, id), "application/json; charset=utf-8"
	if format == service.ExportCSV {
		name, typ, err = name+".zip", "application/zip", e.WriteCSVZip(&buf)
	} else {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		name, err = name+".json", enc.Encode(e)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) setLegalHold(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, ok := personTarget(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.SetLegalHold(r.Context(), a, o, id, r.PostFormValue("reason")); err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showPerson(w, r, a, status, err) })
		return
	}
	redirect(w, r, personURL(o, id))
}

func (s *Server) clearLegalHold(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, ok := personTarget(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.ClearLegalHold(r.Context(), a, o, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, personURL(o, id))
}

func (s *Server) unarchive(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, ok := personTarget(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.UnarchiveRecord(r.Context(), a, o, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, safeNext(r.PostFormValue("back")))
}

// ---- retention ----

// RetentionView is the retention policies' page.
type RetentionView struct {
	Page
	Policies []crm.RetentionPolicy
	Errors   map[crm.Object]FormErrors
}

func (s *Server) retention(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showRetention(w, r, a, http.StatusOK, "", nil)
}

func (s *Server) showRetention(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, o crm.Object, ferr error) {
	policies, err := s.svc.RetentionPolicies(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := RetentionView{Page: s.page(r, a, "privacy.retention", "privacy"), Policies: policies, Errors: map[crm.Object]FormErrors{}}
	if ferr != nil {
		v.Errors[o] = formErrors(v.Lang, ferr, "archive_months", "destroy_years")
	}
	s.render(w, r, status, "privacy_retention", v)
}

func (s *Server) saveRetention(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o := crm.Object(r.PathValue("object"))
	months, err1 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("archive_months")))
	years, err2 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("destroy_years")))
	var p crm.Problems
	if err1 != nil {
		p.Add("archive_months", "number")
	}
	if err2 != nil {
		p.Add("destroy_years", "number")
	}
	err := p.Err()
	if err == nil {
		err = s.svc.SaveRetentionPolicy(r.Context(), a, crm.RetentionPolicy{Object: o, ArchiveMonths: months, DestroyYears: years})
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showRetention(w, r, a, status, o, err) })
		return
	}
	redirect(w, r, "/privacy/retention")
}

// ---- consents on a contact's or lead's page ----

// ConsentCard is the consents card of a contact or lead page, with the
// page it is on.
type ConsentCard struct {
	Page
	Items     []crm.Consent
	Action    string // the record's consents address
	CanChange bool
}

// Live are the consents not withdrawn.
func (c ConsentCard) Live() []crm.Consent { return c.pick(true) }

// Withdrawn are the consents withdrawn, kept as evidence.
func (c ConsentCard) Withdrawn() []crm.Consent { return c.pick(false) }

func (c ConsentCard) pick(live bool) []crm.Consent {
	var out []crm.Consent
	for _, x := range c.Items {
		if x.Live() == live {
			out = append(out, x)
		}
	}
	return out
}

// ConsentPurposes are the purposes to grant.
func (p Page) ConsentPurposes() []Option {
	return p.enumOptions("consent_purpose", crm.ConsentPurposes, "", "")
}

// ConsentChannels are the channels to grant.
func (p Page) ConsentChannels() []Option {
	return p.enumOptions("consent_channel", crm.ConsentChannels, "", "")
}

// consentCard reads the consents of a record the actor sees, for page p.
func (s *Server) consentCard(r *http.Request, a *access.Actor, p Page, o crm.Object, id int64) (ConsentCard, error) {
	items, err := s.svc.Consents(r.Context(), a, o, id)
	return ConsentCard{Page: p, Items: items, Action: "/" + string(o) + "s/" + strconv.FormatInt(id, 10) + "/consents",
		CanChange: a.Can(o, crm.ActEdit) || a.CanPrivacy()}, err
}

// grantConsent serves POST /{contacts,leads}/{id}/consents.
func (s *Server) grantConsent(o crm.Object) handler {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		s.changeConsent(w, r, a, o, func(id int64, in crm.ConsentInput) error {
			_, err := s.svc.GrantConsent(r.Context(), a, o, id, in)
			return err
		})
	}
}

// withdrawConsent serves POST /{contacts,leads}/{id}/consents/withdraw:
// one button, as granting is one form.
func (s *Server) withdrawConsent(o crm.Object) handler {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		s.changeConsent(w, r, a, o, func(id int64, in crm.ConsentInput) error {
			_, err := s.svc.WithdrawConsent(r.Context(), a, o, id, in)
			return err
		})
	}
}

func (s *Server) changeConsent(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, do func(int64, crm.ConsentInput) error) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	in := crm.ConsentInput{Purpose: r.PostFormValue("purpose"), Channel: r.PostFormValue("channel"), Source: r.PostFormValue("source")}
	if err := do(id, in); err != nil {
		s.fail(w, r, a, err)
		return
	}
	back := "/" + string(o) + "s/" + strconv.FormatInt(id, 10) + "#consents"
	if b := r.PostFormValue("back"); b != "" {
		back = safeNext(b)
	}
	redirect(w, r, back)
}

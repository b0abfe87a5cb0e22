package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
)

// FollowUpForm is the quick follow-up form's input as typed.
type FollowUpForm struct {
	Kind, Content, OccurredAt, NextAt string
}

// newFollowUpForm starts a follow-up as a call happening now, in the
// user's time zone loc.
func newFollowUpForm(loc *time.Location) FollowUpForm {
	return FollowUpForm{Kind: "call", OccurredAt: time.Now().In(loc).Format(localInputLayout)}
}

func readFollowUpForm(r *http.Request) FollowUpForm {
	g := r.PostFormValue
	return FollowUpForm{Kind: g("kind"), Content: g("content"), OccurredAt: g("occurred_at"), NextAt: g("next_at")}
}

// followUpFieldNames are the quick form's fields in display order.
var followUpFieldNames = []string{"kind", "occurred_at", "next_at", "content"}

// TimelineView is a customer's follow-up timeline with the quick form. It
// is a section of the customer page and, for htmx, a fragment of its own.
type TimelineView struct {
	Page
	CustomerID int64
	Items      []crm.FollowUp
	Form       FollowUpForm
	Errors     FormErrors
	CanCreate  bool
	Saved      bool          // a follow-up was just recorded
	Summary    *CustomerView // the customer's follow-up dates, swapped out of band after a save
}

// Action is where the quick form posts.
func (v TimelineView) Action() string {
	return "/customers/" + strconv.FormatInt(v.CustomerID, 10) + "/follow-ups"
}

// Fields are the quick form's inputs.
func (v TimelineView) Fields() []FieldView {
	f := v.Form
	fs := []FieldView{
		{Name: "kind", Options: v.enumOptions("kind", crm.FollowUpKinds, f.Kind, "")},
		{Name: "occurred_at", Type: "datetime-local", Value: f.OccurredAt},
		{Name: "next_at", Type: "datetime-local", Value: f.NextAt, Hint: v.T("hint.next_at")},
		{Name: "content", Type: "textarea", Value: f.Content, Required: true, Max: 5000, Wide: true},
	}
	return labelFields(v.Page, fs, v.Errors)
}

// createFollowUp records a follow-up from the customer page. With htmx the
// timeline section is swapped in place (the new entry on top, or the form
// with its errors); without, the browser goes back to the customer page.
func (s *Server) createFollowUp(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	form := readFollowUpForm(r)
	// Times the page cannot read are reported with the domain's own checks,
	// so the user sees every problem at once and nothing is stored.
	var p crm.Problems
	loc := s.svc.Location(a)
	in := crm.FollowUpInput{CustomerID: id, Kind: form.Kind, Content: form.Content,
		OccurredAt: parseLocalTime(loc, &p, "occurred_at", form.OccurredAt), NextAt: parseLocalTime(loc, &p, "next_at", form.NextAt)}
	check := in
	err := submit(p, func() crm.Problems { return fieldErrors(check.Validate(time.Now())) }, func() error {
		_, err := s.svc.CreateFollowUp(r.Context(), a, in)
		return err
	})
	if err != nil && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	tl := &TimelineView{Form: newFollowUpForm(loc), Saved: err == nil}
	status := http.StatusOK
	if err != nil {
		tl.Form, tl.Saved, status = form, false, httpx.Status(err)
		tl.Errors = formErrors(lang(r, a), err, followUpFieldNames...)
	}
	if !isHTMX(r) {
		if err == nil {
			redirect(w, r, "/customers/"+strconv.FormatInt(id, 10)+"#timeline")
			return
		}
		s.customerPage(w, r, a, id, status, tl)
		return
	}
	// One read for the new timeline and the customer's follow-up dates.
	d, derr := s.svc.CustomerTimeline(r.Context(), a, id)
	if derr != nil {
		s.fail(w, r, a, derr)
		return
	}
	tl.Page, tl.CustomerID, tl.Items, tl.CanCreate = s.page(r, a, "customer.title", "customers"), id, d.FollowUps, true
	if tl.Saved {
		// The customer's last and next follow-up changed too.
		tl.Summary = &CustomerView{Page: tl.Page, C: d.Customer, OOB: true}
	}
	s.renderPartial(w, r, status, "customer", "timeline-response", *tl)
}

// FollowUpListView is the list of the follow-ups the user may see across
// records, narrowed by rep, department and a report's drill-down filters:
// the web side of GET /api/v1/follow-ups without a record, which the
// reports' follow-up figures drill down to.
type FollowUpListView struct {
	Page
	Pager
	Rows        []FollowUpRow
	Total       int
	TotalCapped bool         // Total is a lower bound
	Drill       []DrillParam // the drill-down's filters, named above the list
	Path        string
}

// FollowUpRow is one follow-up with the record it is about.
type FollowUpRow struct {
	crm.FollowUp
	RecordURL string
}

// followUpRecordURL links a follow-up to its record: its opportunity,
// contact, customer or lead.
func followUpRecordURL(f crm.FollowUp) string {
	for _, r := range []struct {
		id   int64
		path string
	}{{f.OpportunityID, "/opportunities/"}, {f.ContactID, "/contacts/"}, {f.CustomerID, "/customers/"}, {f.LeadID, "/leads/"}} {
		if r.id != 0 {
			return r.path + strconv.FormatInt(r.id, 10)
		}
	}
	return ""
}

// listFollowUps lists the follow-ups in scope with the API list's query:
// owner_id, department_id (or the web's owner, department) and the
// drill-down filters, kept in the paging links.
func (s *Server) listFollowUps(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	f := crm.ListFilter{OwnerID: cmp.Or(queryID(q, "owner"), queryID(q, "owner_id")), DeptID: cmp.Or(queryID(q, "department"), queryID(q, "department_id")),
		Cursor: q.Get("cursor"), Limit: 20}
	var err error
	if f.Drill, err = drillFilter(r); err != nil {
		s.fail(w, r, a, err)
		return
	}
	page, err := s.svc.ListFollowUpsBy(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := FollowUpListView{Page: s.page(r, a, "timeline.title", "customers"), Rows: make([]FollowUpRow, len(page.Items)),
		Total: page.Total, TotalCapped: page.TotalCapped, Path: "/follow-ups"}
	v.Drill = drillView(v.Page, f.Drill)
	for i, x := range page.Items {
		v.Rows[i] = FollowUpRow{FollowUp: x, RecordURL: followUpRecordURL(x)}
	}
	params := url.Values{}
	TeamPick{Owner: f.OwnerID, Dept: f.DeptID}.params(params)
	drillParams(params, f.Drill)
	v.Pager = makePager("/follow-ups", params, f.Cursor, readPrev(q), page.Next)
	s.showList(w, r, "followups", v)
}

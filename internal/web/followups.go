package web

import (
	"net/http"
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

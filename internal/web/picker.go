package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
)

// The customer picker: a select of the customers the user may attach
// records to (their scope, not the pool), sorted by name, with a search box
// that reloads the options through htmx. Without script the select still
// works with the first page of customers.

// pickerLimit bounds the options of one picker load.
const pickerLimit = 100

// pickerEmpty names the picker's empty first choice by context.
var pickerEmpty = map[string]string{"none": "form.none", "new": "convert.new_customer", "choose": "form.choose"}

// customerOptions lists customers matching q. The selected customer stays
// in the list even when the search does not find it; its name is looked up
// when the caller does not know it.
func (s *Server) customerOptions(ctx context.Context, a *access.Actor, p Page, q string, selected int64, selectedName, empty string) ([]Option, error) {
	var opts []Option
	if key, ok := pickerEmpty[empty]; ok {
		opts = append(opts, Option{Value: "", Label: p.T(key), Selected: selected == 0})
	}
	if !a.Can(crm.ObjCustomer, crm.ActRead) {
		// A role without customers can still save records about none.
		return append(opts[:0:0], Option{Value: "", Label: p.T("form.none"), Selected: true}), nil
	}
	sort := "name"
	if !a.Field(crm.ObjCustomer, "name").Visible() {
		sort = "updated" // an order by a name the role may not see is refused: it would rank the names
	}
	page, err := s.svc.ListCustomers(ctx, a, crm.CustomerFilter{Query: strings.TrimSpace(q), Sort: sort, Limit: pickerLimit})
	if err != nil {
		return nil, err
	}
	found := false
	for _, c := range page.Items {
		found = found || c.ID == selected
		opts = append(opts, Option{Value: idString(c.ID), Label: c.Name, Selected: c.ID == selected})
	}
	if selected != 0 && !found {
		if selectedName == "" {
			if c, err := s.svc.GetCustomer(ctx, a, selected); err == nil && c.OwnerID != 0 {
				selectedName = c.Name
			}
		}
		if selectedName != "" {
			chosen := Option{Value: idString(selected), Label: selectedName, Selected: true}
			at := 0
			if len(opts) > 0 && opts[0].Value == "" {
				at = 1
			}
			opts = append(opts[:at], append([]Option{chosen}, opts[at:]...)...)
		}
	}
	if len(opts) == 0 {
		opts = append(opts, Option{Value: "", Label: p.T("picker.none_found"), Selected: true})
	}
	// Someone who searched means the first match until they choose.
	if selected == 0 && strings.TrimSpace(q) != "" && len(page.Items) > 0 {
		for i := range opts {
			opts[i].Selected = opts[i].Value == idString(page.Items[0].ID)
		}
	}
	return opts, nil
}

// pickerField is the customer_id field of a form.
func pickerField(p Page, opts []Option, empty string, errs FormErrors) FieldView {
	return FieldView{Name: "customer_id", Label: p.T("field.customer_id"), Options: opts, Required: empty != "none" && empty != "new",
		Picker: "/customers/options?empty=" + empty, Hint: p.T("picker.search"), Error: errs.For("customer_id"), Wide: true}
}

// customerPickerOptions answers the picker's search with new options.
func (s *Server) customerPickerOptions(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	selected, _ := strconv.ParseInt(q.Get("customer_id"), 10, 64)
	p := s.page(r, a, "customers.title", "customers")
	opts, err := s.customerOptions(r.Context(), a, p, q.Get("picker_q"), selected, "", q.Get("empty"))
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.renderPartial(w, r, http.StatusOK, "customer_form", "customer-options", opts)
}

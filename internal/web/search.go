package web

import (
	"net/http"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
)

// searchLimit is how many records of each kind the search page shows.
const searchLimit = 20

// SearchView is the global search: customers, contacts and leads found by
// name or by an exact phone, e-mail or credit code, each within the user's
// scope.
type SearchView struct {
	Page
	Query     string
	Kind      string // how the text was matched: name, phone, email, credit_code
	Customers []CustomerRow
	Contacts  []crm.Contact
	Leads     []crm.Lead
	Searched  bool
}

// Count is the number of records found.
func (v SearchView) Count() int { return len(v.Customers) + len(v.Contacts) + len(v.Leads) }

// Limit is the per-kind cap, to say when a group may have more.
func (v SearchView) Limit() int { return searchLimit }

func (s *Server) search(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) > 100 {
		q = string([]rune(q)[:100])
	}
	v := SearchView{Page: s.page(r, a, "search.title", "search"), Query: q}
	if q != "" {
		res, err := s.svc.Search(r.Context(), a, q, searchLimit)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Searched, v.Kind = true, res.Kind
		v.Customers, v.Contacts, v.Leads = customerRows(v.Page, CustomList{}, res.Customers), res.Contacts, res.Leads
	}
	s.render(w, r, http.StatusOK, "search", v)
}

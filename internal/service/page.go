package service

import (
	"context"
	"slices"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// Page is one page of a list: the items, the cursor of the next page ("" on
// the last) and the number of records the whole list reaches — or, when
// TotalCapped, that it reaches more than Total (store.CountCap).
type Page[T any] struct {
	Items       []T    `json:"items"`
	Next        string `json:"next_cursor,omitempty"`
	Total       int    `json:"total"`
	TotalCapped bool   `json:"total_capped,omitempty"`
}

// The pages of each object.
type (
	CustomerPage    = Page[crm.Customer]
	ContactPage     = Page[crm.Contact]
	LeadPage        = Page[crm.Lead]
	OpportunityPage = Page[crm.Opportunity]
	ContractPage    = Page[crm.Contract]
)

// searchText reads a list's search text: an exact key (phone, e-mail,
// credit code), name terms, or nothing — already blinded for the index.
// none reports text that can match nothing (only punctuation), so the list
// is empty without a query.
func (s *Service) searchText(text string) (key *store.DedupKey, terms []string, none bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil, false
	}
	if key = s.exactKey(text); key != nil {
		return &s.lookupKeys([]store.DedupKey{*key})[0], nil, false
	}
	terms = quality.SearchTerms(text)
	return nil, s.lookupTerms(terms), len(terms) == 0
}

// searchFor is searchText for a list of one object: a search that would
// match a field hidden from the actor finds nothing.
func (s *Service) searchFor(a *access.Actor, o crm.Object, text string) (key *store.DedupKey, terms []string, none bool) {
	key, terms, none = s.searchText(text)
	if key != nil && !searchesKind(o, key.Kind) {
		t := quality.SearchTerms(strings.TrimSpace(text))
		key, terms, none = nil, s.lookupTerms(t), len(t) == 0
	}
	if (key != nil || terms != nil) && searchHidden(a, o, searchKind(key)) {
		return nil, nil, true
	}
	return key, terms, none
}

// checkListFields refuses a list's filters and sort on fields the actor
// may not see in the clear: filtering by a hidden field or ordering by it
// answers what it holds one question at a time (?level=A, then ?level=B),
// and so does a masked one (an exact filter on a masked custom value
// confirms a guess, an order by a masked name ranks it), so both are
// refused — with a per-field 422, not an empty page that would look like
// "no match". filters are the field names the filter uses; sort is the
// list's order, checked when it is a field that takes rules. Every list,
// search, board and picker of every surface goes through the object's
// List… method, which calls this first.
func checkListFields(a *access.Actor, o crm.Object, filters []string, sort string) error {
	var p crm.Problems
	for _, f := range filters {
		if !a.Field(o, f).Visible() {
			p.Add(f, "not_visible")
		}
	}
	if sort != "" && slices.ContainsFunc(crm.RuleFields[o], func(f crm.RuleField) bool { return f.Name == sort }) &&
		!a.Field(o, sort).Visible() {
		p.Add("sort", "not_visible_sort", sort)
	}
	return p.Err()
}

// customFilterFields names the fields of a list's custom filters.
func customFilterFields(custom map[string]string, fields ...string) []string {
	for k, v := range custom {
		if strings.TrimSpace(v) != "" {
			fields = append(fields, "custom."+k)
		}
	}
	return fields
}

// recordList is how the store answers one object's paged list: the
// object's own query, reached through closures that set its search and
// custom-field matches and run it. The rest — permission, field rules on
// filters and orders, search, audit, opening, shaping — is listRecords',
// the same for every object.
type recordList[T any] struct {
	object crm.Object
	// filters are the built-in fields the filter narrows by (field rules
	// refuse a filter on a field the reader may not see).
	filters []string
	search  func(key *store.DedupKey, terms []string)
	custom  func([]store.CustomMatch)
	list    func(tx *store.Tx) ([]T, string, error)
	count   func(tx *store.Tx) (int, error)
	id      func(T) int64
}

// listRecords returns a page of an object's records the actor may see,
// filtered, searched and ordered as f asks.
func listRecords[T any](ctx context.Context, s *Service, a *access.Actor, f crm.ListFilter, l recordList[T]) (Page[T], error) {
	if err := s.require(ctx, a, l.object, crm.ActRead); err != nil {
		return Page[T]{}, err
	}
	if err := checkListFields(a, l.object, customFilterFields(f.Custom, l.filters...), f.Sort); err != nil {
		return Page[T]{}, err
	}
	if err := checkTeamFilter(f.OwnerID, f.DeptID); err != nil {
		return Page[T]{}, err
	}
	if err := checkDrill(a, l.object, f.Drill); err != nil {
		return Page[T]{}, err
	}
	key, terms, none := s.searchFor(a, l.object, f.Query)
	if none {
		return Page[T]{Items: []T{}}, nil
	}
	l.search(key, terms)
	return listPage(ctx, s, a, s.listAction(l.object, strings.TrimSpace(f.Query)), l.object,
		func(tx *store.Tx) ([]T, string, int, error) {
			custom, err := s.customMatches(ctx, tx, a, l.object, f.Custom)
			if err != nil {
				return nil, "", 0, err
			}
			l.custom(custom)
			items, next, err := l.list(tx)
			if err != nil {
				return nil, "", 0, err
			}
			total, err := l.count(tx)
			return items, next, total, err
		}, l.id)
}

// listPage reads one page and its total in one snapshot, then records the
// ids shown in one audit event before returning them (DESIGN.md §2).
func listPage[T any](ctx context.Context, s *Service, a *access.Actor, action string, object crm.Object,
	read func(tx *store.Tx) ([]T, string, int, error), id func(T) int64) (Page[T], error) {
	var p Page[T]
	if err := s.checkSearchRate(ctx, a, action); err != nil {
		return p, err
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		p.Items, p.Next, p.Total, err = read(tx)
		return err
	})
	if err != nil {
		return Page[T]{}, err
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	if err := openRecords(ctx, s, p.Items); err != nil {
		return Page[T]{}, err
	}
	if p.Total > store.CountCap {
		p.Total, p.TotalCapped = store.CountCap, true
	}
	e := s.event(a, action, object, 0)
	e.RecordIDs, e.Fields = ids(p.Items, id), shownFields(a, object, p.Items)
	shapeAll(s, a, p.Items)
	if exporting(ctx) {
		return p, nil // the export records every page's ids in its own event
	}
	if err := s.recordRead(ctx, e); err != nil {
		return Page[T]{}, err
	}
	return p, nil
}

// normPhone normalises a phone field to E.164, adding its key of the kind.
func (s *Service) normPhone(p *crm.Problems, field string, v *string, kind string, keys *[]store.DedupKey) {
	if *v == "" {
		return
	}
	n, err := s.norm.Phone(*v)
	if err != nil {
		p.Add(field, "phone")
		return
	}
	*v = n
	*keys = append(*keys, store.DedupKey{Kind: kind, Key: n})
}

// normEmail normalises an e-mail field, adding its key.
func normEmail(p *crm.Problems, field string, v *string, keys *[]store.DedupKey) {
	if *v == "" {
		return
	}
	e, err := quality.Email(*v)
	if err != nil {
		p.Add(field, "email")
		return
	}
	*v = e
	*keys = append(*keys, store.DedupKey{Kind: "email", Key: e})
}

// viewOne checks the read permission, reads one record in a read
// transaction and records the view before returning it: a view that cannot
// be recorded is not served (DESIGN.md §2).
func viewOne[T any](ctx context.Context, s *Service, a *access.Actor, object crm.Object, id int64, read func(tx *store.Tx) (T, error)) (T, error) {
	var v, zero T
	if err := s.require(ctx, a, object, crm.ActRead); err != nil {
		return zero, err
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		v, err = read(tx)
		return err
	})
	if err == nil {
		err = s.openRecord(ctx, &v)
	}
	if err != nil {
		return zero, err
	}
	e := s.event(a, string(object)+".view", object, id)
	e.Fields = shownFields(a, object, []T{v})
	if err := s.recordRead(ctx, e); err != nil {
		return zero, err
	}
	s.shape(a, &v)
	return v, nil
}

package service

import (
	"context"
	"encoding/json"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// SearchResults is what the global search found, per object, each list
// within the actor's scope.
type SearchResults struct {
	Kind      string         `json:"kind"` // name, phone, email or credit_code
	Customers []crm.Customer `json:"customers"`
	Contacts  []crm.Contact  `json:"contacts"`
	Leads     []crm.Lead     `json:"leads"`
}

// Search looks across customers, contacts and leads: by name (words and
// Chinese character bigrams) or, when the text is a phone number, an e-mail
// or a credit code, by its exact normalised value. Objects the actor may not
// read are skipped. One audit event records the kind of search and the ids
// shown, never the searched value.
func (s *Service) Search(ctx context.Context, a *access.Actor, text string, limit int) (SearchResults, error) {
	res := SearchResults{Kind: "name", Customers: []crm.Customer{}, Contacts: []crm.Contact{}, Leads: []crm.Lead{}}
	text = strings.TrimSpace(text)
	if text == "" {
		return res, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	key, terms, none := s.searchText(text)
	if none {
		return res, nil
	}
	res.Kind = searchKind(key)
	if err := s.checkSearchRate(ctx, a, "search."+res.Kind); err != nil {
		return SearchResults{}, err
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if a.Can(crm.ObjCustomer, crm.ActRead) && !searchHidden(a, crm.ObjCustomer, res.Kind) {
			q := store.CustomerQuery{Scope: a.SharedScope(crm.ObjCustomer, false), Terms: terms, Key: key, Filter: crm.CustomerFilter{Limit: limit}}
			if res.Customers, _, err = tx.ListCustomers(ctx, q); err != nil {
				return err
			}
		}
		if a.Can(crm.ObjContact, crm.ActRead) && !searchHidden(a, crm.ObjContact, res.Kind) {
			q := store.ContactQuery{Scope: contactScope(a), Terms: terms, Key: key, Filter: crm.ListFilter{Limit: limit}}
			if res.Contacts, _, err = tx.ListContacts(ctx, q); err != nil {
				return err
			}
		}
		if a.Can(crm.ObjLead, crm.ActRead) && !searchHidden(a, crm.ObjLead, res.Kind) {
			q := store.LeadQuery{Scope: a.SharedScope(crm.ObjLead, false), Terms: terms, Key: key, Filter: crm.ListFilter{Limit: limit}}
			if res.Leads, _, err = tx.ListLeads(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = openRecords(ctx, s, res.Contacts)
	}
	if err == nil {
		err = openRecords(ctx, s, res.Leads)
	}
	if err != nil {
		return SearchResults{}, err
	}
	// The event lists every id shown and, per object, which ids and fields,
	// since one search shows records of three objects.
	objects := map[crm.Object]searchShown{}
	shownOf := func(o crm.Object, ids []int64, fields json.RawMessage) {
		if len(ids) > 0 {
			objects[o] = searchShown{IDs: ids, Fields: fields}
		}
	}
	shownOf(crm.ObjCustomer, ids(res.Customers, func(c crm.Customer) int64 { return c.ID }), shownFields(a, crm.ObjCustomer, res.Customers))
	shownOf(crm.ObjContact, ids(res.Contacts, func(c crm.Contact) int64 { return c.ID }), shownFields(a, crm.ObjContact, res.Contacts))
	shownOf(crm.ObjLead, ids(res.Leads, func(l crm.Lead) int64 { return l.ID }), shownFields(a, crm.ObjLead, res.Leads))
	shapeAll(s, a, res.Customers)
	shapeAll(s, a, res.Contacts)
	shapeAll(s, a, res.Leads)
	e := s.event(a, "search."+res.Kind, "", 0)
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead} {
		e.RecordIDs = append(e.RecordIDs, objects[o].IDs...)
	}
	if len(objects) > 0 {
		e.Fields = mustJSON(objects)
	}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) }); err != nil {
		return SearchResults{}, err
	}
	return res, nil
}

// searchShown is what a global search showed of one object, in its event
// (kernel.SearchShown: compliance reads it back).
type searchShown = kernel.SearchShown

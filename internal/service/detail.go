package service

import (
	"context"
	"encoding/json"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// CustomerDetail is what the customer page shows of one customer: the
// customer and, when the actor's role reads them and the customer is not
// in the public pool, its latest follow-ups, contacts, opportunities,
// contracts and open tasks. One use case reads it all in one snapshot and records one
// view event naming everything shown (issue 13: the page used to make a
// service call, a transaction and an audit event per section).
type CustomerDetail struct {
	Customer      crm.Customer
	FollowUps     []crm.FollowUp    // newest first, up to detailFollowUps
	Contacts      []crm.Contact     // up to detailRows
	Opportunities []crm.Opportunity // up to detailRows
	Contracts     []crm.Contract    // up to detailRows
	Tasks         []crm.Task        // open ones, up to detailRows
	// The sections the actor's role reads (none for a pool customer).
	ShowFollowUps, ShowContacts, ShowOpportunities, ShowContracts, ShowTasks bool
}

// How much of each section the detail shows.
const (
	detailFollowUps = 200
	detailRows      = 50
)

// detailShown is the view event's record of what a detail showed: the
// customer's fields, and per section the records and their fields. The
// exposure report reads the sections (exposureHits) as it reads searches.
type detailShown struct {
	fieldsShown
	With map[crm.Object]searchShown `json:"with,omitempty"`
}

// CustomerDetail reads a customer the actor may see with its sections, in
// one read transaction, and records one view event.
func (s *Service) CustomerDetail(ctx context.Context, a *access.Actor, id int64) (CustomerDetail, error) {
	return s.customerDetail(ctx, a, id, true)
}

// CustomerTimeline is CustomerDetail with the follow-ups alone (what a page
// shows after a follow-up is recorded): its event names only them.
func (s *Service) CustomerTimeline(ctx context.Context, a *access.Actor, id int64) (CustomerDetail, error) {
	return s.customerDetail(ctx, a, id, false)
}

func (s *Service) customerDetail(ctx context.Context, a *access.Actor, id int64, all bool) (CustomerDetail, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return CustomerDetail{}, err
	}
	var d CustomerDetail
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if d.Customer, err = tx.GetCustomer(ctx, id, customerQuery(a)); err != nil || isPool(&d.Customer) {
			return err
		}
		return s.readSections(ctx, tx, a, &d, all)
	})
	if err == nil {
		err = s.openDetail(ctx, &d)
	}
	if err != nil {
		return CustomerDetail{}, err
	}
	e := s.event(a, "customer.view", crm.ObjCustomer, id)
	e.Fields = d.shown(a)
	if err := s.recordRead(ctx, e); err != nil {
		return CustomerDetail{}, err
	}
	s.shape(a, &d.Customer)
	shapeAll(s, a, d.FollowUps)
	shapeAll(s, a, d.Contacts)
	shapeAll(s, a, d.Opportunities)
	shapeAll(s, a, d.Contracts)
	return d, nil
}

// readSections reads the sections the actor's role reads, each within the
// actor's scope for its object, as the lists of each object would.
func (s *Service) readSections(ctx context.Context, tx *store.Tx, a *access.Actor, d *CustomerDetail, all bool) error {
	id := d.Customer.ID
	var err error
	if d.ShowFollowUps = a.Can(crm.ObjFollowUp, crm.ActRead); d.ShowFollowUps {
		if d.FollowUps, _, err = tx.ListRecordFollowUps(ctx, crm.ObjCustomer, id, "", detailFollowUps); err != nil {
			return err
		}
	}
	if !all {
		return nil
	}
	filter := crm.ListFilter{CustomerID: id, Limit: detailRows}
	if d.ShowContacts = a.Can(crm.ObjContact, crm.ActRead); d.ShowContacts {
		if d.Contacts, _, err = tx.ListContacts(ctx, store.ContactQuery{Scope: contactScope(a), Filter: filter}); err != nil {
			return err
		}
	}
	if d.ShowOpportunities = a.Can(crm.ObjOpportunity, crm.ActRead); d.ShowOpportunities {
		q := opportunityScope(a)
		q.Filter = filter
		if d.Opportunities, _, err = tx.ListOpportunities(ctx, q); err != nil {
			return err
		}
	}
	if d.ShowContracts = a.Can(crm.ObjContract, crm.ActRead); d.ShowContracts {
		q := contractScope(a, false)
		q.Filter = filter
		if d.Contracts, _, err = tx.ListContracts(ctx, q); err != nil {
			return err
		}
	}
	if d.ShowTasks = a.Can(crm.ObjTask, crm.ActRead); d.ShowTasks {
		q := store.TaskQuery{Scope: taskScope(a), OpenOnly: true, CustomerID: id}
		if d.Tasks, err = tx.ListTasks(ctx, q, detailRows); err != nil {
			return err
		}
	}
	return nil
}

// openDetail opens every sealed value the detail holds, with one trip to
// the key store.
func (s *Service) openDetail(ctx context.Context, d *CustomerDetail) error {
	ps := []any{&d.Customer}
	for i := range d.FollowUps {
		ps = append(ps, &d.FollowUps[i])
	}
	for i := range d.Contacts {
		ps = append(ps, &d.Contacts[i])
	}
	for i := range d.Opportunities {
		ps = append(ps, &d.Opportunities[i])
	}
	for i := range d.Contracts {
		ps = append(ps, &d.Contracts[i])
	}
	return openAll(ctx, s, ps)
}

// shown is the view event's fields: what each part showed, unshaped
// records in hand.
func (d *CustomerDetail) shown(a *access.Actor) json.RawMessage {
	var out detailShown
	_ = json.Unmarshal(shownFields(a, crm.ObjCustomer, []crm.Customer{d.Customer}), &out.fieldsShown)
	with := map[crm.Object]searchShown{}
	add := func(o crm.Object, ids []int64, fields json.RawMessage, show bool) {
		if show {
			with[o] = searchShown{IDs: ids, Fields: fields}
		}
	}
	add(crm.ObjFollowUp, ids(d.FollowUps, func(f crm.FollowUp) int64 { return f.ID }), shownFields(a, crm.ObjFollowUp, d.FollowUps), d.ShowFollowUps)
	add(crm.ObjContact, ids(d.Contacts, func(t crm.Contact) int64 { return t.ID }), shownFields(a, crm.ObjContact, d.Contacts), d.ShowContacts)
	add(crm.ObjOpportunity, ids(d.Opportunities, func(o crm.Opportunity) int64 { return o.ID }),
		shownFields(a, crm.ObjOpportunity, d.Opportunities), d.ShowOpportunities)
	add(crm.ObjContract, ids(d.Contracts, func(k crm.Contract) int64 { return k.ID }), shownFields(a, crm.ObjContract, d.Contracts), d.ShowContracts)
	add(crm.ObjTask, ids(d.Tasks, func(k crm.Task) int64 { return k.ID }), nil, d.ShowTasks)
	if len(with) > 0 {
		out.With = with
	}
	return mustJSON(out)
}

package service

import (
	"context"
	"errors"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

func contactScope(a *access.Actor) store.ChildScope {
	return childScope(a, crm.ObjContact, false)
}

// childScope is the scope of records hanging off a customer: their own
// owner scope, or the customer's — widened by customers shared with the
// actor (for edit: shared to edit).
func childScope(a *access.Actor, o crm.Object, edit bool) store.ChildScope {
	return store.ChildScope{Own: a.Scope(o), Customer: a.SharedScope(crm.ObjCustomer, edit)}
}

// normalizeContact validates a contact and returns its index keys: mobile
// and e-mail are checked for duplicates; a landline is only searchable. The
// spaces typed inside a Chinese name go (罗 建华 → 罗建华).
func (s *Service) normalizeContact(f *crm.ContactFields) ([]store.DedupKey, error) {
	p := f.Validate()
	f.Name = quality.PersonName(f.Name)
	var keys []store.DedupKey
	s.normPhone(&p, "mobile", &f.Mobile, "phone", &keys)
	s.normPhone(&p, "phone", &f.Phone, "landline", &keys)
	normEmail(&p, "email", &f.Email, &keys)
	return keys, p.Err()
}

// checkedKeys drops the keys that are indexed but not duplicate-checked: a
// contact's landline (shared by a switchboard) and a company name's core.
func checkedKeys(keys []store.DedupKey) []store.DedupKey {
	var out []store.DedupKey
	for _, k := range keys {
		if k.Kind != "landline" && k.Kind != companyCoreKey {
			out = append(out, k)
		}
	}
	return out
}

// linkCustomer checks that a contact may hang off the customer: the actor
// must be able to edit it (so nobody attaches people to strangers' accounts).
func linkCustomer(ctx context.Context, tx *store.Tx, a *access.Actor, customerID int64) error {
	if customerID == 0 {
		return nil
	}
	_, err := changeableCustomer(ctx, tx, a, customerID)
	return refError(err, "customer_id")
}

// contactWrite is the contact's part of the generic create and update.
var contactWrite = recordWrite[crm.Contact, crm.ContactFields]{
	object: crm.ObjContact,
	parts: func(t *crm.Contact) (*crm.Record, *crm.ContactFields, *map[string]any) {
		return &t.Record, &t.ContactFields, &t.Custom
	},
	personal:  true,
	normalize: (*Service).normalizeContact,
	checked:   checkedKeys,
	dupField:  contactDupField,
	links:     func(f *crm.ContactFields) recordLinks { return recordLinks{customer: f.CustomerID} },
	terms:     func(t *crm.Contact) []string { return quality.SearchTerms(t.Name) },
	get: func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contact, error) {
		return tx.GetContact(ctx, id, store.ContactQuery{Scope: childScope(a, crm.ObjContact, true)})
	},
	insert: func(ctx context.Context, tx *store.Tx, t *crm.Contact) error { return tx.InsertContact(ctx, t) },
	update: func(ctx context.Context, tx *store.Tx, t *crm.Contact) error { return tx.UpdateContact(ctx, t) },
}

// CreateContact stores a new contact owned by the actor.
func (s *Service) CreateContact(ctx context.Context, a *access.Actor, f crm.ContactFields) (crm.Contact, error) {
	return createRecord(ctx, s, a, contactWrite, crm.Contact{ContactFields: f})
}

// contactDupField names the contact's own field for a duplicate phone.
func contactDupField(err error) error {
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && ce.Code == crm.Duplicate && len(ce.Fields) == 1 && ce.Fields[0].Field == "phone" {
		ce.Fields[0].Field = "mobile"
	}
	return err
}

// GetContact returns a contact the actor may see and records the view.
func (s *Service) GetContact(ctx context.Context, a *access.Actor, id int64) (crm.Contact, error) {
	return viewOne(ctx, s, a, crm.ObjContact, id, func(tx *store.Tx) (crm.Contact, error) {
		return tx.GetContact(ctx, id, store.ContactQuery{Scope: contactScope(a)})
	})
}

// UpdateContact applies a partial update if the version is current.
func (s *Service) UpdateContact(ctx context.Context, a *access.Actor, id int64, up crm.ContactUpdate) (crm.Contact, error) {
	return updateRecord(ctx, s, a, contactWrite, contactEdit(id, up, true))
}

// contactEdit is a contact update for updateRecord; holds as in recordEdit.
func contactEdit(id int64, up crm.ContactUpdate, holds bool) recordEdit[crm.Contact] {
	return recordEdit[crm.Contact]{id: id, version: up.Version, payload: up, holds: holds,
		apply: func(t *crm.Contact) crm.Problems { t.ContactFields = up.Apply(t.ContactFields); return nil }}
}

// DeleteContact moves a contact to the recycle bin.
func (s *Service) DeleteContact(ctx context.Context, a *access.Actor, id int64) error {
	return s.DeleteRecord(ctx, a, crm.ObjContact, id)
}

// ListContacts returns a page of the contacts the actor may see.
func (s *Service) ListContacts(ctx context.Context, a *access.Actor, f crm.ListFilter) (ContactPage, error) {
	q := store.ContactQuery{Scope: contactScope(a), Filter: f}
	return listRecords(ctx, s, a, f, recordList[crm.Contact]{object: crm.ObjContact,
		search: func(key *store.DedupKey, terms []string) { q.Key, q.Terms = key, terms },
		custom: func(m []store.CustomMatch) { q.Custom = m },
		list:   func(tx *store.Tx) ([]crm.Contact, string, error) { return tx.ListContacts(ctx, q) },
		count:  func(tx *store.Tx) (int, error) { return tx.CountContacts(ctx, q) },
		id:     func(t crm.Contact) int64 { return t.ID }})
}

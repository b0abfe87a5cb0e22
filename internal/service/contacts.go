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
// and e-mail are checked for duplicates; a landline is only searchable.
func (s *Service) normalizeContact(f *crm.ContactFields) ([]store.DedupKey, error) {
	p := f.Validate()
	var keys []store.DedupKey
	s.normPhone(&p, "mobile", &f.Mobile, "phone", &keys)
	s.normPhone(&p, "phone", &f.Phone, "landline", &keys)
	normEmail(&p, "email", &f.Email, &keys)
	return keys, p.Err()
}

// checkedKeys drops the keys that are indexed but not duplicate-checked.
func checkedKeys(keys []store.DedupKey) []store.DedupKey {
	var out []store.DedupKey
	for _, k := range keys {
		if k.Kind != "landline" {
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

func (s *Service) indexContact(ctx context.Context, tx *store.Tx, t crm.Contact, keys []store.DedupKey) error {
	return s.writeIndex(ctx, tx, crm.ObjContact, t.ID, keys, quality.SearchTerms(t.Name))
}

// CreateContact stores a new contact owned by the actor.
func (s *Service) CreateContact(ctx context.Context, a *access.Actor, f crm.ContactFields) (crm.Contact, error) {
	if err := s.require(ctx, a, crm.ObjContact, crm.ActCreate); err != nil {
		return crm.Contact{}, err
	}
	t := crm.Contact{ContactFields: f}
	if err := s.guardFields(a, crm.ObjContact, &crm.ContactFields{}, &t.ContactFields); err != nil {
		return crm.Contact{}, err
	}
	var err error
	if t.DataKey, err = s.newPersonKey(ctx); err != nil {
		return crm.Contact{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		_, err := s.insertContactTx(ctx, tx, a, &t, s.clock())
		return err
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &t)
	return t, err
}

// insertContactTx validates, checks and stores a contact owned by the actor
// inside tx, with its indexes and audit event.
func (s *Service) insertContactTx(ctx context.Context, tx *store.Tx, a *access.Actor, t *crm.Contact, now timeT) (int64, error) {
	keys, err := s.normalizeContact(&t.ContactFields)
	if keys, err = s.withCustom(ctx, tx, crm.ObjContact, &t.Custom, keys, err); err != nil {
		return 0, err
	}
	t.OwnerID, t.CreatedBy, t.UpdatedBy, t.CreatedAt, t.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	if err := linkCustomer(ctx, tx, a, t.CustomerID); err != nil {
		return 0, err
	}
	if err := s.checkNewDuplicate(ctx, tx, a, checkedKeys(keys), crm.ObjContact, 0); err != nil {
		return 0, contactDupField(err)
	}
	if err := s.insertSealedContact(ctx, tx, t); err != nil {
		return 0, err
	}
	if err := s.indexContact(ctx, tx, *t, keys); err != nil {
		return 0, err
	}
	if err := s.keepVersion(ctx, tx, a, crm.ObjContact, t.ID, t.Version, t.DataKey, t.ContactFields); err != nil {
		return 0, err
	}
	return t.ID, s.audit(ctx, tx, a, "contact.create", crm.ObjContact, t.ID, auditDiff(crm.ObjContact, crm.ContactFields{}, t.ContactFields))
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
	if err := s.require(ctx, a, crm.ObjContact, crm.ActEdit); err != nil {
		return crm.Contact{}, err
	}
	var t crm.Contact
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		t, err = s.updateContactTx(ctx, tx, a, id, up, true)
		return err
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &t)
	return t, s.filed(ctx, a, err)
}

// updateContactTx is UpdateContact inside tx. holds false skips the
// approval of key-field changes: for a correction a privacy officer makes
// on the person's request, which is itself the authorisation.
func (s *Service) updateContactTx(ctx context.Context, tx *store.Tx, a *access.Actor, id int64, up crm.ContactUpdate, holds bool) (crm.Contact, error) {
	var t crm.Contact
	err := func() error {
		before, err := tx.GetContact(ctx, id, store.ContactQuery{Scope: childScope(a, crm.ObjContact, true)})
		if err == nil {
			err = s.openRecord(ctx, &before)
		}
		if err != nil {
			return err
		}
		if err := checkVersion(up.Version, before.Version); err != nil {
			return err
		}
		if before.ArchivedAt != nil {
			return errArchived(crm.ObjContact)
		}
		t = before
		t.ContactFields = up.Apply(before.ContactFields)
		if err := s.guardFields(a, crm.ObjContact, &before.ContactFields, &t.ContactFields); err != nil {
			return err
		}
		keys, err := s.normalizeContact(&t.ContactFields)
		if keys, err = s.withCustom(ctx, tx, crm.ObjContact, &t.Custom, keys, err); err != nil {
			return err
		}
		if t.CustomerID != before.CustomerID {
			if err := linkCustomer(ctx, tx, a, t.CustomerID); err != nil {
				return err
			}
		}
		if err := s.checkNewDuplicate(ctx, tx, a, checkedKeys(keys), crm.ObjContact, id); err != nil {
			return contactDupField(err)
		}
		if holds {
			changes := diff(before.ContactFields, t.ContactFields)
			if err := holdKeyFields(ctx, tx, crm.ObjContact, id, before.Version, up, changes); err != nil {
				return err
			}
		}
		t.UpdatedBy, t.UpdatedAt = a.UserID, s.clock()
		if err := s.updateSealedContact(ctx, tx, &t); err != nil {
			return err
		}
		if err := s.indexContact(ctx, tx, t, keys); err != nil {
			return err
		}
		if err := s.keepVersion(ctx, tx, a, crm.ObjContact, id, t.Version, t.DataKey, t.ContactFields); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "contact.update", crm.ObjContact, id, auditDiff(crm.ObjContact, before.ContactFields, t.ContactFields))
	}()
	return t, err
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

// insertSealedContact stores a contact with its personal fields sealed
// (under a new data key unless it brings one, as a converted lead does);
// t keeps its plaintext and gets its id and version.
func (s *Service) insertSealedContact(ctx context.Context, tx *store.Tx, t *crm.Contact) error {
	if err := s.ensureDataKey(ctx, &t.Record); err != nil {
		return err
	}
	stored, err := sealedCopy(ctx, s, tx, *t)
	if err == nil {
		err = tx.InsertContact(ctx, &stored)
	}
	t.ID, t.Version = stored.ID, stored.Version
	return err
}

// updateSealedContact is UpdateContact with the personal fields sealed.
func (s *Service) updateSealedContact(ctx context.Context, tx *store.Tx, t *crm.Contact) error {
	if err := s.ensureDataKey(ctx, &t.Record); err != nil {
		return err
	}
	stored, err := sealedCopy(ctx, s, tx, *t)
	if err == nil {
		err = tx.UpdateContact(ctx, &stored)
	}
	t.Version = stored.Version
	return err
}

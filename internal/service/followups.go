package service

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// CreateFollowUp records a follow-up about a customer (directly or through
// one of its contacts or opportunities) or a lead, each of which the actor
// must be able to see; a customer must be one the actor may edit.
//
// A follow-up on a customer keeps the customer's last_followed_up_at and
// next_follow_up_at. Those are system-kept fields: they bump no version, so
// a colleague editing the customer at the same moment gets no conflict. The
// most recent follow-up's next time is the customer's (none clears it: the
// due follow-up is done); a backdated one does not override a later plan.
func (s *Service) CreateFollowUp(ctx context.Context, a *access.Actor, in crm.FollowUpInput) (crm.FollowUp, error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActCreate); err != nil {
		return crm.FollowUp{}, err
	}
	f, err := s.newFollowUp(a, in)
	if err != nil {
		return crm.FollowUp{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertFollowUpTx(ctx, tx, a, &f) })
	s.shape(a, &f)
	return f, err
}

// newFollowUp validates a new follow-up and stamps it as the actor's.
func (s *Service) newFollowUp(a *access.Actor, in crm.FollowUpInput) (crm.FollowUp, error) {
	now := s.clock()
	if err := in.Validate(now); err != nil {
		return crm.FollowUp{}, err
	}
	f := crm.FollowUp{Kind: in.Kind, Content: in.Content, OccurredAt: in.OccurredAt.UTC().Truncate(time.Millisecond),
		CustomerID: in.CustomerID, ContactID: in.ContactID, OpportunityID: in.OpportunityID, LeadID: in.LeadID}
	if in.NextAt != nil {
		next := in.NextAt.UTC().Truncate(time.Millisecond)
		f.NextAt = &next
	}
	f.OwnerID, f.CreatedBy, f.UpdatedBy, f.CreatedAt, f.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	err := s.guardFollowUp(a, followUpFields{}, &f)
	return f, err
}

// insertFollowUpTx stores a new follow-up inside tx: its links checked,
// its content sealed, its first version, its customer's follow-up dates
// and its audit event.
func (s *Service) insertFollowUpTx(ctx context.Context, tx *store.Tx, a *access.Actor, f *crm.FollowUp) error {
	personKey, err := s.resolveFollowUpLinks(ctx, tx, a, f)
	if err != nil {
		return err
	}
	if f.DataKey, err = s.followUpKey(ctx, tx, personKey, f.CustomerID); err != nil {
		return err
	}
	stored, err := sealedCopy(ctx, s, tx, *f)
	if err != nil {
		return err
	}
	if err := tx.InsertFollowUp(ctx, &stored); err != nil {
		return err
	}
	f.ID, f.Version = stored.ID, stored.Version
	if err := s.keepVersion(ctx, tx, a, crm.ObjFollowUp, f.ID, f.Version, f.DataKey, followUpFieldsOf(f)); err != nil {
		return err
	}
	if f.CustomerID != 0 {
		if err := tx.RecomputeCustomerFollowUp(ctx, f.CustomerID); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, a, "followup.create", crm.ObjFollowUp, f.ID, map[string]any{"customer_id": f.CustomerID,
		"contact_id": f.ContactID, "opportunity_id": f.OpportunityID, "lead_id": f.LeadID, "kind": f.Kind, "next_at": f.NextAt})
}

// followUpFields are the fields of a follow-up a user edits, as its
// versions keep them: its times and links stay (they drive the customer's
// follow-up dates).
type followUpFields struct {
	Kind    string `json:"kind"`
	Content string `json:"content"`
}

func followUpFieldsOf(f *crm.FollowUp) *followUpFields {
	return &followUpFields{Kind: f.Kind, Content: f.Content}
}

// guardFollowUp is guardFields for a follow-up about to be written: a field
// echoed as the actor was shown it is taken as unchanged.
func (s *Service) guardFollowUp(a *access.Actor, before followUpFields, f *crm.FollowUp) error {
	after := followUpFieldsOf(f)
	if err := s.guardFields(a, crm.ObjFollowUp, &before, after); err != nil {
		return err
	}
	f.Kind, f.Content = after.Kind, after.Content
	return nil
}

// followUpKey chooses the data key a follow-up's content is sealed under:
// the person's (a contact's or lead's) when it is about one, so erasing the
// person destroys what was written about them; else its customer's, made
// when the customer's first follow-up needs it. A follow-up about an erased
// person goes under the customer's key (or, with none, a key of its own).
func (s *Service) followUpKey(ctx context.Context, tx *store.Tx, personKey string, customerID int64) (string, error) {
	if personKey != "" {
		ring, err := s.vault.DataKeys(ctx, []string{personKey})
		if err != nil {
			return "", err
		}
		if !ring.Erased(personKey) {
			return personKey, nil
		}
	}
	if customerID == 0 {
		return s.newPersonKey(ctx)
	}
	key, err := tx.CustomerDataKey(ctx, customerID)
	if err != nil || key != "" {
		return key, err
	}
	// Made inside the write: the key store usually hands out a pooled key,
	// and a key whose write then fails stays unused.
	if key, err = s.newPersonKey(ctx); err != nil {
		return "", err
	}
	return tx.ClaimCustomerDataKey(ctx, customerID, key)
}

// resolveFollowUpLinks checks every record the follow-up names and derives
// its customer from a contact or an opportunity; links that disagree about
// the customer are refused. It returns the data key of the person the
// follow-up is about (the lead or contact), "" for none.
func (s *Service) resolveFollowUpLinks(ctx context.Context, tx *store.Tx, a *access.Actor, f *crm.FollowUp) (string, error) {
	if f.LeadID != 0 {
		l, err := tx.GetLead(ctx, f.LeadID, leadEditQuery(a))
		return l.DataKey, refError(err, "lead_id")
	}
	agree := func(field string, customerID int64) error {
		if customerID == 0 || f.CustomerID == 0 || customerID == f.CustomerID {
			if f.CustomerID == 0 {
				f.CustomerID = customerID
			}
			return nil
		}
		return &crm.Error{Code: crm.Invalid, Message: field + " belongs to another customer",
			Fields: []crm.FieldError{{Field: field, Rule: "other_customer"}}}
	}
	var personKey string
	if f.ContactID != 0 {
		t, err := tx.GetContact(ctx, f.ContactID, store.ContactQuery{Scope: childScope(a, crm.ObjContact, true)})
		if err != nil {
			return "", refError(err, "contact_id")
		}
		if err := agree("contact_id", t.CustomerID); err != nil {
			return "", err
		}
		personKey = t.DataKey
	}
	if f.OpportunityID != 0 {
		o, err := tx.GetOpportunity(ctx, f.OpportunityID, store.OpportunityQuery{Scope: childScope(a, crm.ObjOpportunity, true)})
		if err != nil {
			return "", refError(err, "opportunity_id")
		}
		if err := agree("opportunity_id", o.CustomerID); err != nil {
			return "", err
		}
	}
	if f.CustomerID != 0 {
		_, err := changeableCustomer(ctx, tx, a, f.CustomerID)
		return personKey, refError(err, "customer_id")
	}
	return personKey, nil
}

// ListFollowUps returns the timeline of a customer the actor may see.
func (s *Service) ListFollowUps(ctx context.Context, a *access.Actor, customerID int64) ([]crm.FollowUp, error) {
	page, err := s.ListRecordFollowUps(ctx, a, crm.ObjCustomer, customerID, "", 200)
	return page.Items, err
}

// ListRecordFollowUps returns a page of the timeline of a customer, contact,
// opportunity or lead the actor may see, newest first. Pool customers show
// no history until claimed.
func (s *Service) ListRecordFollowUps(ctx context.Context, a *access.Actor, parent crm.Object, id int64, cursor string, limit int) (Page[crm.FollowUp], error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActRead); err != nil {
		return Page[crm.FollowUp]{}, err
	}
	// The event names the follow-ups shown (not the record they hang off),
	// so the ids it lists are read as follow-ups.
	return listPage(ctx, s, a, "followup.list", crm.ObjFollowUp, func(tx *store.Tx) ([]crm.FollowUp, string, int, error) {
		var err error
		switch parent {
		case crm.ObjCustomer:
			_, err = tx.GetCustomer(ctx, id, store.CustomerQuery{Scope: a.SharedScope(crm.ObjCustomer, false)})
		case crm.ObjContact:
			_, err = tx.GetContact(ctx, id, store.ContactQuery{Scope: contactScope(a)})
		case crm.ObjOpportunity:
			_, err = tx.GetOpportunity(ctx, id, opportunityScope(a))
		case crm.ObjLead:
			_, err = tx.GetLead(ctx, id, leadQuery(a))
		default:
			err = crm.ErrNotFound(string(parent))
		}
		if err != nil {
			return nil, "", 0, err
		}
		items, next, err := tx.ListRecordFollowUps(ctx, parent, id, cursor, limit)
		if err != nil {
			return nil, "", 0, err
		}
		total, err := tx.CountRecordFollowUps(ctx, parent, id)
		return items, next, total, err
	}, func(f crm.FollowUp) int64 { return f.ID })
}

// GetFollowUp returns a follow-up the actor may see and records the view.
func (s *Service) GetFollowUp(ctx context.Context, a *access.Actor, id int64) (crm.FollowUp, error) {
	return viewOne(ctx, s, a, crm.ObjFollowUp, id, func(tx *store.Tx) (crm.FollowUp, error) {
		return tx.GetFollowUp(ctx, id, childScope(a, crm.ObjFollowUp, false))
	})
}

// UpdateFollowUp corrects a follow-up's kind or content if the version is
// current: one the actor owns within scope, or on a customer within their
// scope or shared with them to edit (a read share corrects nothing). Field
// rules hold as for any record, and the correction is a new version.
func (s *Service) UpdateFollowUp(ctx context.Context, a *access.Actor, id int64, up crm.FollowUpUpdate) (crm.FollowUp, error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActEdit); err != nil {
		return crm.FollowUp{}, err
	}
	var f crm.FollowUp
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetFollowUp(ctx, id, childScope(a, crm.ObjFollowUp, true))
		if err == nil {
			err = s.openRecord(ctx, &before)
		}
		if err != nil {
			return err
		}
		if err := checkVersion(up.Version, before.Version); err != nil {
			return err
		}
		f = before
		setIf(&f.Kind, up.Kind)
		setIf(&f.Content, up.Content)
		if err := s.guardFollowUp(a, *followUpFieldsOf(&before), &f); err != nil {
			return err
		}
		var p crm.Problems
		f.Kind = p.Enum("kind", f.Kind, true, crm.FollowUpKinds)
		f.Content = p.Text("content", f.Content, true, 5000)
		if err := p.Err(); err != nil {
			return err
		}
		f.UpdatedBy, f.UpdatedAt = a.UserID, s.clock()
		if f.DataKey == "" { // what was written about an erased person went with them: a new text takes the customer's key
			if f.DataKey, err = s.followUpKey(ctx, tx, "", f.CustomerID); err != nil {
				return err
			}
		}
		stored, err := sealedCopy(ctx, s, tx, f)
		if err != nil {
			return err
		}
		if err := tx.UpdateFollowUp(ctx, &stored); err != nil {
			return err
		}
		f.Version = stored.Version
		if err := s.keepVersion(ctx, tx, a, crm.ObjFollowUp, id, f.Version, f.DataKey, followUpFieldsOf(&f)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "followup.update", crm.ObjFollowUp, id,
			map[string]change{"kind": {From: before.Kind, To: f.Kind}, "content": {Changed: before.Content != f.Content}})
	})
	s.shape(a, &f)
	return f, err
}

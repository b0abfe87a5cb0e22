package service

import (
	"context"
	"errors"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// normalizeLead validates a lead and returns its duplicate-check keys. The
// spaces typed inside a Chinese name go (罗 建华 → 罗建华).
func (s *Service) normalizeLead(f *crm.LeadFields) ([]store.DedupKey, error) {
	p := f.Validate()
	f.Name = quality.PersonName(f.Name)
	keys := []store.DedupKey{{Kind: companyKey, Key: quality.CompanyKey(f.Company)}}
	s.normPhone(&p, "mobile", &f.Mobile, "phone", &keys)
	normEmail(&p, "email", &f.Email, &keys)
	return keys, p.Err()
}

// leadDupField names the lead's own fields in a duplicate answer.
func leadDupField(err error) error {
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && ce.Code == crm.Duplicate && len(ce.Fields) == 1 {
		switch ce.Fields[0].Field {
		case "phone":
			ce.Fields[0].Field = "mobile"
		case "name":
			ce.Fields[0].Field = "company"
		}
	}
	return err
}

// leadTerms are a lead's search terms: its name's and its company's. The
// line break keeps them apart: a space between two Han characters would
// not (quality.SearchTerms), and 罗建华 of 中铭 is no match for 华中.
func leadTerms(l *crm.Lead) []string { return quality.SearchTerms(l.Name + "\n" + l.Company) }

// leadWrite is the lead's part of the generic create and update.
var leadWrite = recordWrite[crm.Lead, crm.LeadFields]{
	object: crm.ObjLead,
	parts: func(l *crm.Lead) (*crm.Record, *crm.LeadFields, *map[string]any) {
		return &l.Record, &l.LeadFields, &l.Custom
	},
	personal:  true,
	normalize: (*Service).normalizeLead,
	dupField:  leadDupField,
	terms:     leadTerms,
	editable: func(l *crm.Lead) error {
		if l.Status == "converted" {
			return &crm.Error{Code: crm.Conflict, Key: "lead_converted", Message: "the lead has already been converted"}
		}
		return nil
	},
	changes: func(before, after *crm.Lead, m map[string]change) {
		if after.Status != before.Status {
			m["status"] = change{From: before.Status, To: after.Status}
		}
	},
	get: func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Lead, error) {
		return tx.GetLead(ctx, id, leadEditQuery(a))
	},
	insert: func(ctx context.Context, tx *store.Tx, l *crm.Lead) error { return tx.InsertLead(ctx, l) },
	update: func(ctx context.Context, tx *store.Tx, l *crm.Lead) error { return tx.UpdateLead(ctx, l) },
}

// CreateLead stores a new lead owned by the actor.
func (s *Service) CreateLead(ctx context.Context, a *access.Actor, f crm.LeadFields) (crm.Lead, error) {
	return createRecord(ctx, s, a, leadWrite, crm.Lead{LeadFields: f, Status: "new"})
}

func leadQuery(a *access.Actor) store.LeadQuery {
	return store.LeadQuery{Scope: a.SharedScope(crm.ObjLead, false)}
}

// leadEditQuery reaches the leads the actor may change: within scope, or
// shared with them to edit.
func leadEditQuery(a *access.Actor) store.LeadQuery {
	return store.LeadQuery{Scope: a.SharedScope(crm.ObjLead, true)}
}

// GetLead returns a lead the actor may see and records the view.
func (s *Service) GetLead(ctx context.Context, a *access.Actor, id int64) (crm.Lead, error) {
	return viewOne(ctx, s, a, crm.ObjLead, id, func(tx *store.Tx) (crm.Lead, error) {
		return tx.GetLead(ctx, id, leadQuery(a))
	})
}

// UpdateLead applies a partial update. A converted lead is read-only.
func (s *Service) UpdateLead(ctx context.Context, a *access.Actor, id int64, up crm.LeadUpdate) (crm.Lead, error) {
	return updateRecord(ctx, s, a, leadWrite, leadEdit(id, up, true))
}

// leadEdit is a lead update for updateRecord; holds as in recordEdit. The
// status is no field of LeadFields: its problems join theirs.
func leadEdit(id int64, up crm.LeadUpdate, holds bool) recordEdit[crm.Lead] {
	return recordEdit[crm.Lead]{id: id, version: up.Version, payload: up, holds: holds,
		apply: func(l *crm.Lead) crm.Problems {
			l.LeadFields = up.Apply(l.LeadFields)
			var p crm.Problems
			if up.Status != nil {
				l.Status = p.Enum("status", *up.Status, true, []string{"new", "contacted", "qualified", "disqualified"})
			}
			return p
		}}
}

// ConvertLead turns a lead into a customer (or joins an existing one the
// actor may edit), a contact carrying the lead's person, and optionally an
// opportunity — all in one transaction, keeping the links on the lead.
func (s *Service) ConvertLead(ctx context.Context, a *access.Actor, id int64, conv crm.LeadConversion) (crm.Lead, error) {
	for _, o := range []crm.Object{crm.ObjLead, crm.ObjCustomer, crm.ObjContact} {
		act := crm.ActCreate
		if o == crm.ObjLead {
			act = crm.ActEdit
		}
		if err := s.require(ctx, a, o, act); err != nil {
			return crm.Lead{}, err
		}
	}
	var l crm.Lead
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockRecord(ctx, crm.ObjLead, id); err != nil {
			return err
		}
		var err error
		if l, err = tx.GetLead(ctx, id, leadEditQuery(a)); err == nil {
			err = s.openRecord(ctx, &l)
		}
		if err != nil {
			return err
		}
		if l.Status == "converted" {
			return &crm.Error{Code: crm.Conflict, Key: "lead_converted", Message: "the lead has already been converted"}
		}
		if err := checkVersion(conv.Version, l.Version); err != nil {
			return err
		}
		if l.ArchivedAt != nil {
			return errArchived(crm.ObjLead)
		}
		// The lead's keys move to the records it becomes.
		if err := tx.ReplaceDedupKeys(ctx, string(crm.ObjLead), l.ID, nil); err != nil {
			return err
		}
		now := s.clock()
		if l.CustomerID, err = s.conversionCustomer(ctx, tx, a, l, conv.CustomerID, now); err != nil {
			return err
		}
		contact := crm.Contact{ContactFields: crm.ContactFields{CustomerID: l.CustomerID, Name: l.Name, Title: l.Title,
			Mobile: l.Mobile, Email: l.Email, WeChat: l.WeChat, Notes: l.Notes}}
		contact.DataKey = l.DataKey // the lead's person, under the same key
		if err := createTx(ctx, s, tx, a, contactWrite, &contact, now, nil); err != nil {
			return err
		}
		l.ContactID = contact.ID
		if conv.Opportunity != nil {
			f := *conv.Opportunity
			f.CustomerID = l.CustomerID
			opp := crm.Opportunity{OpportunityFields: f}
			if err := createTx(ctx, s, tx, a, opportunityWrite, &opp, now, nil); err != nil {
				return prefixFields(err, "opportunity.")
			}
			l.OpportunityID = opp.ID
		}
		l.UpdatedBy = a.UserID
		if err := tx.MarkLeadConverted(ctx, &l, now); err != nil {
			return err
		}
		l.Status, l.ConvertedAt = "converted", &now
		return s.audit(ctx, tx, a, "lead.convert", crm.ObjLead, l.ID, map[string]int64{
			"customer_id": l.CustomerID, "contact_id": l.ContactID, "opportunity_id": l.OpportunityID})
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &l)
	return l, err
}

// conversionCustomer returns the customer a lead converts into: an existing
// one the actor may edit, or a new one named after the lead's company.
func (s *Service) conversionCustomer(ctx context.Context, tx *store.Tx, a *access.Actor, l crm.Lead, customerID int64, now timeT) (int64, error) {
	if customerID != 0 {
		_, err := changeableCustomer(ctx, tx, a, customerID)
		return customerID, refError(err, "customer_id")
	}
	name := l.Company
	if name == "" {
		name = l.Name
	}
	c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Source: l.Source}}
	keys, err := s.normalizeCustomer(&c.CustomerFields)
	if err != nil {
		return 0, err
	}
	c.OwnerID, c.CreatedBy, c.UpdatedBy, c.CreatedAt, c.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	if err := s.checkNewDuplicate(ctx, tx, a, keys, crm.ObjCustomer, 0); err != nil {
		return 0, leadDupField(err)
	}
	stored, err := sealedCopy(ctx, s, tx, c)
	if err == nil {
		err = tx.InsertCustomer(ctx, &stored)
	}
	if c.ID = stored.ID; err != nil {
		return 0, err
	}
	if err := s.indexCustomer(ctx, tx, c, keys); err != nil {
		return 0, err
	}
	return c.ID, s.audit(ctx, tx, a, "customer.create", crm.ObjCustomer, c.ID, auditDiff(crm.ObjCustomer, crm.CustomerFields{}, c.CustomerFields))
}

// ListLeads returns a page of the leads the actor may see.
// listStatusField names the status filter of a list, when it has one.
func listStatusField(f crm.ListFilter) []string {
	if f.Status == "" {
		return nil
	}
	return []string{"status"}
}

func (s *Service) ListLeads(ctx context.Context, a *access.Actor, f crm.ListFilter) (LeadPage, error) {
	q := leadQuery(a)
	q.Filter = f
	return listRecords(ctx, s, a, f, recordList[crm.Lead]{object: crm.ObjLead, filters: listStatusField(f),
		search: func(key *store.DedupKey, terms []string) { q.Key, q.Terms = key, terms },
		custom: func(m []store.CustomMatch) { q.Custom = m },
		list:   func(tx *store.Tx) ([]crm.Lead, string, error) { return tx.ListLeads(ctx, q) },
		count:  func(tx *store.Tx) (int, error) { return tx.CountLeads(ctx, q) },
		id:     func(l crm.Lead) int64 { return l.ID }})
}

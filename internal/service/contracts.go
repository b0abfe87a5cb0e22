package service

import (
	"context"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// contractNumberKey is the duplicate-check key kind of a contract number:
// unique among the organisation's live contracts, settled under the key's
// advisory lock like every duplicate check (DESIGN.md §2).
const contractNumberKey = "contract_number"

func contractScope(a *access.Actor, edit bool) store.ContractQuery {
	return store.ContractQuery{Scope: childScope(a, crm.ObjContract, edit)}
}

// contractIndex returns a contract's duplicate-check key (its number, in
// upper case) and search terms (number and name).
func contractIndex(f crm.ContractFields) ([]store.DedupKey, []string) {
	keys := []store.DedupKey{{Kind: contractNumberKey, Key: strings.ToUpper(strings.TrimSpace(f.Number))}}
	return keys, quality.SearchTerms(f.Number + " " + f.Name)
}

// checkContractLinks checks that the actor may hang a contract off its
// customer (they must be able to edit it) and that its opportunity, if
// any, is one of that customer's the actor may see.
func checkContractLinks(ctx context.Context, tx *store.Tx, a *access.Actor, f crm.ContractFields) error {
	if err := linkCustomer(ctx, tx, a, f.CustomerID); err != nil {
		return err
	}
	if f.OpportunityID == 0 {
		return nil
	}
	o, err := tx.GetOpportunity(ctx, f.OpportunityID, opportunityScope(a))
	if err != nil {
		return refError(err, "opportunity_id")
	}
	if o.CustomerID != f.CustomerID {
		return &crm.Error{Code: crm.Invalid, Message: "the opportunity belongs to another customer",
			Fields: []crm.FieldError{{Field: "opportunity_id", Rule: "other_customer"}}}
	}
	return nil
}

// CreateContract stores a new contract on a customer the actor may edit.
func (s *Service) CreateContract(ctx context.Context, a *access.Actor, f crm.ContractFields) (crm.Contract, error) {
	if err := s.require(ctx, a, crm.ObjContract, crm.ActCreate); err != nil {
		return crm.Contract{}, err
	}
	if err := s.guardFields(a, crm.ObjContract, &crm.ContractFields{}, &f); err != nil {
		return crm.Contract{}, err
	}
	var k crm.Contract
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		keys, err := s.withCustom(ctx, tx, crm.ObjContract, &f.Custom, nil, f.Validate().Err())
		if err != nil {
			return err
		}
		number, terms := contractIndex(f)
		keys = append(number, keys...)
		if err := s.checkNewDuplicate(ctx, tx, a, keys, crm.ObjContract, 0); err != nil {
			return err
		}
		if err := checkContractLinks(ctx, tx, a, f); err != nil {
			return err
		}
		now := s.clock()
		k = crm.Contract{ContractFields: f}
		k.OwnerID, k.CreatedBy, k.UpdatedBy, k.CreatedAt, k.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
		stored, err := sealedCopy(ctx, s, tx, k)
		if err == nil {
			err = tx.InsertContract(ctx, &stored)
		}
		if k.ID, k.Version = stored.ID, stored.Version; err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, crm.ObjContract, k.ID, keys, terms); err != nil {
			return err
		}
		if err := s.keepVersion(ctx, tx, a, crm.ObjContract, k.ID, k.Version, "", k.ContractFields); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "contract.create", crm.ObjContract, k.ID, auditDiff(crm.ObjContract, crm.ContractFields{}, k.ContractFields))
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &k)
	return k, s.filed(ctx, a, err)
}

// GetContract returns a contract the actor may see and records the view.
func (s *Service) GetContract(ctx context.Context, a *access.Actor, id int64) (crm.Contract, error) {
	return viewOne(ctx, s, a, crm.ObjContract, id, func(tx *store.Tx) (crm.Contract, error) {
		return tx.GetContract(ctx, id, contractScope(a, false))
	})
}

// UpdateContract applies a partial update if the version is current.
func (s *Service) UpdateContract(ctx context.Context, a *access.Actor, id int64, up crm.ContractUpdate) (crm.Contract, error) {
	if err := s.require(ctx, a, crm.ObjContract, crm.ActEdit); err != nil {
		return crm.Contract{}, err
	}
	var k crm.Contract
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetContract(ctx, id, contractScope(a, true))
		if err == nil {
			err = s.openRecord(ctx, &before)
		}
		if err != nil {
			return err
		}
		if err := checkVersion(up.Version, before.Version); err != nil {
			return err
		}
		k = before
		k.ContractFields = up.Apply(before.ContractFields)
		if err := s.guardFields(a, crm.ObjContract, &before.ContractFields, &k.ContractFields); err != nil {
			return err
		}
		keys, err := s.withCustom(ctx, tx, crm.ObjContract, &k.Custom, nil, k.ContractFields.Validate().Err())
		if err != nil {
			return err
		}
		number, terms := contractIndex(k.ContractFields)
		keys = append(number, keys...)
		if err := s.checkNewDuplicate(ctx, tx, a, keys, crm.ObjContract, id); err != nil {
			return err
		}
		if k.OpportunityID != before.OpportunityID {
			if err := checkContractLinks(ctx, tx, a, k.ContractFields); err != nil {
				return err
			}
		}
		changes := diff(before.ContractFields, k.ContractFields)
		if err := holdKeyFields(ctx, tx, crm.ObjContract, id, before.Version, up, changes); err != nil {
			return err
		}
		k.UpdatedBy, k.UpdatedAt = a.UserID, s.clock()
		stored, err := sealedCopy(ctx, s, tx, k)
		if err == nil {
			err = tx.UpdateContract(ctx, &stored)
		}
		if k.Version = stored.Version; err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, crm.ObjContract, id, keys, terms); err != nil {
			return err
		}
		if err := s.keepVersion(ctx, tx, a, crm.ObjContract, id, k.Version, "", k.ContractFields); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "contract.update", crm.ObjContract, id, auditDiff(crm.ObjContract, before.ContractFields, k.ContractFields))
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &k)
	return k, s.filed(ctx, a, err)
}

// DeleteContract moves a contract to the recycle bin.
func (s *Service) DeleteContract(ctx context.Context, a *access.Actor, id int64) error {
	return s.DeleteRecord(ctx, a, crm.ObjContract, id)
}

// ListContracts returns a page of the contracts the actor may see. Its
// search matches numbers and names, and finds nothing when either is
// hidden from the actor.
func (s *Service) ListContracts(ctx context.Context, a *access.Actor, f crm.ListFilter) (ContractPage, error) {
	q := contractScope(a, false)
	q.Filter = f
	return listRecords(ctx, s, a, f, recordList[crm.Contract]{object: crm.ObjContract, filters: listStatusField(f),
		search: func(_ *store.DedupKey, terms []string) { q.Terms = terms }, // found by number and name terms
		custom: func(m []store.CustomMatch) { q.Custom = m },
		list:   func(tx *store.Tx) ([]crm.Contract, string, error) { return tx.ListContracts(ctx, q) },
		count:  func(tx *store.Tx) (int, error) { return tx.CountContracts(ctx, q) },
		id:     func(k crm.Contract) int64 { return k.ID }})
}

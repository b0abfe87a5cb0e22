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

// contractWrite is the contract's part of the generic create and update:
// its number is a duplicate-check key, and it links to a customer and
// maybe one of that customer's opportunities.
var contractWrite = recordWrite[crm.Contract, crm.ContractFields]{
	object: crm.ObjContract,
	parts: func(k *crm.Contract) (*crm.Record, *crm.ContractFields, *map[string]any) {
		return &k.Record, &k.ContractFields, &k.Custom
	},
	normalize: func(_ *Service, f *crm.ContractFields) ([]store.DedupKey, error) {
		err := f.Validate().Err()
		keys, _ := contractIndex(*f)
		return keys, err
	},
	links: func(f *crm.ContractFields) recordLinks {
		return recordLinks{customer: f.CustomerID, opportunity: f.OpportunityID}
	},
	terms: func(k *crm.Contract) []string { _, terms := contractIndex(k.ContractFields); return terms },
	get: func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contract, error) {
		return tx.GetContract(ctx, id, contractScope(a, true))
	},
	insert: func(ctx context.Context, tx *store.Tx, k *crm.Contract) error { return tx.InsertContract(ctx, k) },
	update: func(ctx context.Context, tx *store.Tx, k *crm.Contract) error { return tx.UpdateContract(ctx, k) },
}

// CreateContract stores a new contract on a customer the actor may edit.
func (s *Service) CreateContract(ctx context.Context, a *access.Actor, f crm.ContractFields) (crm.Contract, error) {
	return createRecord(ctx, s, a, contractWrite, crm.Contract{ContractFields: f})
}

// GetContract returns a contract the actor may see and records the view.
func (s *Service) GetContract(ctx context.Context, a *access.Actor, id int64) (crm.Contract, error) {
	return viewOne(ctx, s, a, crm.ObjContract, id, func(tx *store.Tx) (crm.Contract, error) {
		return tx.GetContract(ctx, id, contractScope(a, false))
	})
}

// UpdateContract applies a partial update if the version is current.
func (s *Service) UpdateContract(ctx context.Context, a *access.Actor, id int64, up crm.ContractUpdate) (crm.Contract, error) {
	return updateRecord(ctx, s, a, contractWrite, recordEdit[crm.Contract]{id: id, version: up.Version, payload: up, holds: true,
		apply: func(k *crm.Contract) crm.Problems { k.ContractFields = up.Apply(k.ContractFields); return nil }})
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

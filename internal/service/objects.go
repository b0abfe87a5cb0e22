package service

import (
	"context"
	"encoding/json"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// recordHooks are what the generic use cases need of one object beyond its
// registry description: how to read one record within an actor's read
// scope (reveals, versions, histories), how to run the object's edit from
// a JSON update (version restores, approved changes), how many records an
// actor's own role reaches (the job-change preview), and a record's index
// rows (blind-index rotation). Adding an object adds one entry to
// objectHooks; the use cases stay as they are.
type recordHooks struct {
	read  func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64) (any, error)
	edit  func(ctx context.Context, s *Service, a *access.Actor, id int64, update []byte) error
	count func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error)
	index func(s *Service, rec any) (keys []store.DedupKey, terms []string)
	// imports is how a file's rows become records (nil: the object is not
	// imported).
	imports *importHooks
}

var objectHooks = map[crm.Object]recordHooks{
	crm.ObjCustomer: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Customer, error) {
			return tx.GetCustomer(ctx, id, customerQuery(a))
		}),
		edit:    editWith((*Service).UpdateCustomer),
		imports: &customerImport,
		count: func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error) {
			return tx.CountCustomers(ctx, store.CustomerQuery{Scope: a.Scope(crm.ObjCustomer)})
		},
		index: indexWith(func(s *Service, r *crm.Customer) ([]store.DedupKey, []string) {
			keys, _ := s.normalizeCustomer(&r.CustomerFields)
			return keys, quality.SearchTerms(r.Name)
		}),
	},
	crm.ObjContact: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contact, error) {
			return tx.GetContact(ctx, id, store.ContactQuery{Scope: contactScope(a)})
		}),
		edit: editWith((*Service).UpdateContact),
		imports: importWith[crm.Contact, crm.ContactFields, crm.ContactUpdate](contactWrite,
			func(f crm.ContactFields) crm.Contact { return crm.Contact{ContactFields: f} }),
		count: func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error) {
			return tx.CountContacts(ctx, store.ContactQuery{Scope: ownChildScope(a, crm.ObjContact)})
		},
		index: indexWith(func(s *Service, r *crm.Contact) ([]store.DedupKey, []string) {
			keys, _ := s.normalizeContact(&r.ContactFields)
			return keys, quality.SearchTerms(r.Name)
		}),
	},
	crm.ObjLead: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Lead, error) {
			return tx.GetLead(ctx, id, leadQuery(a))
		}),
		edit: editWith((*Service).UpdateLead),
		imports: importWith[crm.Lead, crm.LeadFields, crm.LeadUpdate](leadWrite,
			func(f crm.LeadFields) crm.Lead { return crm.Lead{LeadFields: f, Status: "new"} }),
		count: func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error) {
			return tx.CountLeads(ctx, store.LeadQuery{Scope: a.Scope(crm.ObjLead)})
		},
		index: indexWith(func(s *Service, r *crm.Lead) ([]store.DedupKey, []string) {
			terms := leadTerms(r)
			if r.Status == "converted" { // its keys moved to what it became
				return nil, terms
			}
			keys, _ := s.normalizeLead(&r.LeadFields)
			return keys, terms
		}),
	},
	crm.ObjOpportunity: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Opportunity, error) {
			return tx.GetOpportunity(ctx, id, opportunityScope(a))
		}),
		edit:    editWith((*Service).UpdateOpportunity),
		imports: opportunityImport(),
		count: func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error) {
			return tx.CountOpportunities(ctx, store.OpportunityQuery{Scope: ownChildScope(a, crm.ObjOpportunity)})
		},
		index: indexWith(func(_ *Service, r *crm.Opportunity) ([]store.DedupKey, []string) {
			return nil, quality.SearchTerms(r.Name)
		}),
	},
	crm.ObjContract: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contract, error) {
			return tx.GetContract(ctx, id, contractScope(a, false))
		}),
		edit: editWith((*Service).UpdateContract),
		count: func(ctx context.Context, tx *store.Tx, a *access.Actor) (int, error) {
			return tx.CountContracts(ctx, store.ContractQuery{Scope: ownChildScope(a, crm.ObjContract)})
		},
		index: indexWith(func(_ *Service, r *crm.Contract) ([]store.DedupKey, []string) {
			return contractIndex(r.ContractFields)
		}),
	},
	crm.ObjFollowUp: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.FollowUp, error) {
			return tx.GetFollowUp(ctx, id, childScope(a, crm.ObjFollowUp, false))
		}),
		edit:    editWith((*Service).UpdateFollowUp),
		imports: followUpImport,
	},
	crm.ObjTask: {imports: taskImport},
}

// ownChildScope is the scope of an actor's own role over records hanging
// off customers, without shares (what a job change would leave them).
func ownChildScope(a *access.Actor, o crm.Object) store.ChildScope {
	return store.ChildScope{Own: a.Scope(o), Customer: a.Scope(crm.ObjCustomer)}
}

// indexWith makes an index hook of a typed one.
func indexWith[T any](index func(s *Service, rec *T) ([]store.DedupKey, []string)) func(*Service, any) ([]store.DedupKey, []string) {
	return func(s *Service, rec any) ([]store.DedupKey, []string) {
		r, ok := rec.(*T)
		if !ok {
			return nil, nil
		}
		return index(s, r)
	}
}

// readWith makes a read hook of a scoped store read: the record, opened.
func readWith[T any](get func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (T, error)) func(context.Context, *Service, *store.Tx, *access.Actor, int64) (any, error) {
	return func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64) (any, error) {
		rec, err := get(ctx, tx, a, id)
		if err == nil {
			err = s.openRecord(ctx, &rec)
		}
		return &rec, err
	}
}

// editWith makes an edit hook of an object's Update use case.
func editWith[U, T any](update func(*Service, context.Context, *access.Actor, int64, U) (T, error)) func(context.Context, *Service, *access.Actor, int64, []byte) error {
	return func(ctx context.Context, s *Service, a *access.Actor, id int64, raw []byte) error {
		var up U
		if err := json.Unmarshal(raw, &up); err != nil {
			return err
		}
		_, err := update(s, ctx, a, id, up)
		return err
	}
}

package service

import (
	"context"
	"encoding/json"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// recordHooks are what the generic use cases need of one object beyond its
// registry description: how to read one record within an actor's read
// scope (reveals, versions, histories), and how to run the object's edit
// from a JSON update (version restores, approved changes). Adding an
// object adds one entry to objectHooks; the use cases stay as they are.
type recordHooks struct {
	read func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64) (any, error)
	edit func(ctx context.Context, s *Service, a *access.Actor, id int64, update []byte) error
}

var objectHooks = map[crm.Object]recordHooks{
	crm.ObjCustomer: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Customer, error) {
			return tx.GetCustomer(ctx, id, customerQuery(a))
		}),
		edit: editWith((*Service).UpdateCustomer),
	},
	crm.ObjContact: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contact, error) {
			return tx.GetContact(ctx, id, store.ContactQuery{Scope: contactScope(a)})
		}),
		edit: editWith((*Service).UpdateContact),
	},
	crm.ObjLead: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Lead, error) {
			return tx.GetLead(ctx, id, leadQuery(a))
		}),
		edit: editWith((*Service).UpdateLead),
	},
	crm.ObjOpportunity: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Opportunity, error) {
			return tx.GetOpportunity(ctx, id, opportunityScope(a))
		}),
		edit: editWith((*Service).UpdateOpportunity),
	},
	crm.ObjContract: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Contract, error) {
			return tx.GetContract(ctx, id, contractScope(a, false))
		}),
		edit: editWith((*Service).UpdateContract),
	},
	crm.ObjFollowUp: {
		read: readWith(func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.FollowUp, error) {
			return tx.GetFollowUp(ctx, id, childScope(a, crm.ObjFollowUp, false))
		}),
		edit: editWith((*Service).UpdateFollowUp),
	},
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

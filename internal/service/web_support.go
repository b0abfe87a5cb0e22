package service

import (
	"context"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// maxCustomerNames bounds one CustomerNames call: a page's worth of rows.
const maxCustomerNames = 200

// CustomerNames returns the names of those of the given customers the actor
// may see (their scope, and the public pool), so a page listing records
// about customers — tasks — can name them without opening each customer.
// Customers outside the scope are simply absent. The read is recorded with
// the ids whose names were returned.
func (s *Service) CustomerNames(ctx context.Context, a *access.Actor, ids []int64) (map[int64]string, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return nil, err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > maxCustomerNames {
		return nil, &crm.Error{Code: crm.Invalid, Message: "too many customers at once", Fields: []crm.FieldError{{Field: "ids", Rule: "too_many", Param: "200"}}}
	}
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		q := customerQuery(a)
		q.IDs, q.Filter.Limit = ids, maxCustomerNames
		found, _, err := tx.ListCustomers(ctx, q)
		for _, c := range found {
			s.shape(a, &c)
			out[c.ID] = c.Name
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	shown := make([]int64, 0, len(out))
	for id := range out {
		shown = append(shown, id)
	}
	slices.Sort(shown)
	e := s.event(a, "customer.names", crm.ObjCustomer, 0)
	e.RecordIDs = shown
	if len(shown) > 0 {
		e.Fields = mustJSON(namesShown(a, crm.ObjCustomer))
	}
	if err := s.recordRead(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

package service

import (
	"context"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// recycleScope is the actor's scope for an object in the recycle bin:
// child records are reachable through their customer too.
func recycleScope(a *access.Actor, o crm.Object) store.ChildScope {
	return store.ChildScope{Own: a.Scope(o), Customer: a.Scope(crm.ObjCustomer)}
}

// DeleteRecord moves a contact, lead, opportunity, task or follow-up the
// actor may delete into the recycle bin. (Customers: DeleteCustomer.)
func (s *Service) DeleteRecord(ctx context.Context, a *access.Actor, o crm.Object, id int64) error {
	if !store.Recyclable(o) {
		return crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActDelete); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := editableRecord(ctx, tx, a, o, id); err != nil {
			return err
		}
		now := s.clock()
		if err := tx.SetDeleted(ctx, o, id, a.UserID, &now, now); err != nil {
			return err
		}
		if err := recomputeFollowUpCustomer(ctx, tx, o, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(o)+".delete", o, id, nil)
	})
}

// RestoreRecord brings a record back from the recycle bin, unless a live
// record has meanwhile taken one of its duplicate-check keys.
func (s *Service) RestoreRecord(ctx context.Context, a *access.Actor, o crm.Object, id int64) error {
	if !store.Recyclable(o) {
		return crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActDelete); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockRecord(ctx, o, id); err != nil {
			return err
		}
		if err := tx.RecordInScope(ctx, o, id, recycleScope(a, o), true); err != nil {
			return notInBin(o, err)
		}
		if slices.Contains(store.CustomerBound, o) {
			// An opportunity or contract cannot live without its customer
			// (and the purge removes a customer only once none points at it).
			live, err := tx.CustomerLive(ctx, o, id)
			if err != nil {
				return err
			}
			if !live {
				return &crm.Error{Code: crm.Conflict, Key: "customer_in_recycle_bin", Message: "its customer is in the recycle bin: restore the customer first"}
			}
		}
		keys, err := tx.RecordDedupKeys(ctx, o, id)
		if err != nil {
			return err
		}
		if err := checkDuplicate(ctx, tx, keys, o, id); err != nil {
			return err
		}
		if err := tx.SetDeleted(ctx, o, id, a.UserID, nil, s.clock()); err != nil {
			return err
		}
		if err := recomputeFollowUpCustomer(ctx, tx, o, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(o)+".restore", o, id, nil)
	})
}

// notInBin is the answer to restoring what the actor's recycle bin does not
// hold: restored already, purged after the retention window, never there
// or out of scope get the same sentence, so it reveals nothing.
func notInBin(o crm.Object, err error) error {
	if !crm.IsCode(err, crm.NotFound) {
		return err
	}
	return &crm.Error{Code: crm.NotFound, Key: "not_in_recycle_bin",
		Message: string(o) + " is not in the recycle bin (restored already, purged after the retention period, or not yours to restore)"}
}

// RecycleBin lists the recycled records of an object the actor may delete.
func (s *Service) RecycleBin(ctx context.Context, a *access.Actor, o crm.Object, limit int) ([]DeletedRecord, error) {
	if !store.Recyclable(o) {
		return nil, crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActDelete); err != nil {
		return nil, err
	}
	var out []DeletedRecord
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListDeleted(ctx, o, recycleScope(a, o), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.openDeletedNames(ctx, o, out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Name = s.shapeField(a, o, nameField(o), out[i].Name)
		out[i].PurgeAt = s.purgeAt(out[i].DeletedAt)
	}
	return out, s.auditRead(ctx, a, string(o)+".recycle_bin", o, 0, ids(out, func(d crm.DeletedRecord) int64 { return d.ID }))
}

// recomputeFollowUpCustomer keeps a customer's follow-up dates true when one
// of its follow-ups leaves or returns from the recycle bin.
func recomputeFollowUpCustomer(ctx context.Context, tx *store.Tx, o crm.Object, id int64) error {
	if o != crm.ObjFollowUp {
		return nil
	}
	customerID, err := tx.FollowUpCustomer(ctx, id)
	if err != nil || customerID == 0 {
		return err
	}
	return tx.RecomputeCustomerFollowUp(ctx, customerID)
}

// DeletedRecord is one entry of the recycle bin, as the surfaces show it.
type DeletedRecord = crm.DeletedRecord

package service

import (
	"context"
	"fmt"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// transferPayload is a held ownership transfer.
type transferPayload struct {
	To int64 `json:"to"`
}

// transferObjects are the records whose owner can be handed to a colleague.
var transferObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Transferable })

// TransferRecord hands one record the actor may edit to another active
// user. Under a transfer approval policy the change is filed for approval
// (any active colleague may then be named); without one, the new owner must
// be within the actor's scope. version, when not 0, must still be current.
func (s *Service) TransferRecord(ctx context.Context, a *access.Actor, o crm.Object, id, to, version int64) error {
	if !slices.Contains(transferObjects, o) {
		return crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := editableRecord(ctx, tx, a, o, id); err != nil {
			return err
		}
		current, err := tx.CurrentVersion(ctx, o, id)
		if err != nil {
			return err
		}
		if version != 0 && version != current {
			return crm.ErrStale()
		}
		from, err := tx.RecordOwner(ctx, o, id)
		if err != nil {
			return err
		}
		if err := checkTaker(ctx, tx, to, from); err != nil {
			return err
		}
		p, active, err := activePolicy(ctx, tx, crm.ApproveTransfer)
		if err != nil {
			return err
		}
		if active {
			return needApproval(p, o, id, current, transferPayload{To: to}, fmt.Sprintf("transfer %s %d to user %d", o, id, to))
		}
		if !carryingOut(ctx) && to != a.UserID {
			if err := s.checkAssignable(ctx, tx, a, o, to); err != nil {
				return renameField(err, "owner_id", "to")
			}
		}
		if err := tx.SetOwner(ctx, o, id, to, a.UserID, s.clock()); err != nil {
			return err
		}
		if err := s.notifyHandedOver(ctx, tx, a, to, o, []int64{id}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(o)+".transfer", o, id, map[string]change{"owner_id": {From: from, To: to}})
	})
	return s.filed(ctx, a, err)
}

// checkTaker refuses a transfer to nobody, to the current owner, or to a
// disabled or unknown user.
func checkTaker(ctx context.Context, tx *store.Tx, to, from int64) error {
	bad := &crm.Error{Code: crm.Invalid, Message: "the new owner must be another active user",
		Fields: []crm.FieldError{{Field: "to", Rule: "not_assignable"}}}
	if to == 0 || to == from {
		return bad
	}
	u, err := tx.GetUser(ctx, to)
	if crm.IsCode(err, crm.NotFound) || err == nil && u.Disabled {
		return bad
	}
	return err
}

// editableRecord checks that a live record is within the actor's scope for
// changes: a customer they own within scope (not the pool), or a child
// record reachable through its customer or owned.
func editableRecord(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) error {
	if o == crm.ObjCustomer {
		_, err := editableCustomer(ctx, tx, a, id, false)
		return err
	}
	if err := tx.LockRecord(ctx, o, id); err != nil {
		return err
	}
	return tx.RecordInScope(ctx, o, id, recycleScope(a, o), false)
}

// maxBulk bounds one bulk operation.
const maxBulk = 1000

// BulkDelete moves many records of one object into the recycle bin, all or
// none, with one audit event listing them. Above the bulk-delete policy's
// threshold the deletion is filed for approval instead.
func (s *Service) BulkDelete(ctx context.Context, a *access.Actor, o crm.Object, ids []int64) (int, error) {
	if spec, ok := crm.Spec(o); !ok || !spec.Recyclable {
		return 0, crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActDelete); err != nil {
		return 0, err
	}
	// Carrying out an approved request needs no second factor from the
	// requester: the approver gave theirs when deciding.
	if !carryingOut(ctx) {
		if err := s.requireStepUp(ctx, a, string(o)+".bulk_delete"); err != nil {
			return 0, err
		}
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 || len(ids) > maxBulk {
		return 0, &crm.Error{Code: crm.Invalid, Message: "between 1 and 1000 records at once",
			Fields: []crm.FieldError{{Field: "ids", Rule: "too_many", Param: "1000"}}}
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			if err := editableRecord(ctx, tx, a, o, id); err != nil {
				return err
			}
		}
		p, active, err := activePolicy(ctx, tx, crm.ApproveBulkDelete)
		if err != nil {
			return err
		}
		if active && int64(len(ids)) > p.Threshold {
			need := needApproval(p, o, 0, 0, struct{}{}, fmt.Sprintf("delete %d %s records", len(ids), o))
			need.(*approvalNeeded).req.RecordIDs = ids
			return need
		}
		now := s.clock()
		for _, id := range ids {
			if err := s.softDelete(ctx, tx, a, o, id, now); err != nil {
				return err
			}
		}
		e := s.event(a, string(o)+".bulk_delete", o, 0)
		e.RecordIDs = ids
		return s.insertEvent(ctx, tx, e)
	})
	if err != nil {
		return 0, s.filed(ctx, a, err)
	}
	return len(ids), nil
}

// softDelete moves one record into the recycle bin inside tx.
func (s *Service) softDelete(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64, now timeT) error {
	if o == crm.ObjCustomer {
		if err := tx.SetCustomerDeleted(ctx, id, a.UserID, &now, now); err != nil {
			return err
		}
		_, err := tx.CascadeCustomerDeleted(ctx, id, &now, a.UserID, now)
		return err
	}
	if err := tx.SetDeleted(ctx, o, id, a.UserID, &now, now); err != nil {
		return err
	}
	return recomputeFollowUpCustomer(ctx, tx, o, id)
}

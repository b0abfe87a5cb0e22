package service

import (
	"context"
	"slices"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Sharing (issue 3): the owner of a record, or a manager whose scope reaches
// it, shares it with a user or a department, to read or to edit, optionally
// until a date. Shares widen reads and edits only where the service asks
// for a shared scope; deleting, restoring, releasing and transferring stay
// with the owner's scope.

// shareObjects are the objects that can be shared; a customer's contacts,
// opportunities and follow-ups come with it.
var shareObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Shareable })

// ShareInput shares a record with one user or one department.
type ShareInput struct {
	UserID    int64      `json:"user_id,omitempty"`
	DeptID    int64      `json:"dept_id,omitempty"`
	Level     string     `json:"level"` // read or edit
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ShareRecord shares a record the actor may edit through their own scope
// (the owner, or a manager above the owner); a share cannot be passed on.
func (s *Service) ShareRecord(ctx context.Context, a *access.Actor, o crm.Object, id int64, in ShareInput) (crm.RecordShare, error) {
	if !slices.Contains(shareObjects, o) {
		return crm.RecordShare{}, crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return crm.RecordShare{}, err
	}
	now := s.clock()
	var p crm.Problems
	in.Level = p.Enum("level", in.Level, true, []string{"read", "edit"})
	if (in.UserID == 0) == (in.DeptID == 0) {
		p.Add("user_id", "one_of", "user_id, dept_id")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		p.Add("expires_at", "after_now")
	}
	if err := p.Err(); err != nil {
		return crm.RecordShare{}, err
	}
	sh := crm.RecordShare{Object: o, RecordID: id, UserID: in.UserID, DeptID: in.DeptID, Level: in.Level,
		ExpiresAt: in.ExpiresAt, CreatedBy: a.UserID, CreatedAt: now}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := ownedRecord(ctx, tx, a, o, id); err != nil {
			return err
		}
		if err := checkShareTarget(ctx, tx, in); err != nil {
			return err
		}
		if err := tx.InsertShare(ctx, &sh); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(o)+".share", o, id, in)
	})
	return sh, err
}

// ownedRecord checks a live record against the actor's owner-based scope.
func ownedRecord(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) error {
	if o == crm.ObjCustomer {
		_, err := editableCustomer(ctx, tx, a, id, false)
		return err
	}
	if err := tx.LockRecord(ctx, o, id); err != nil {
		return err
	}
	_, err := tx.GetLead(ctx, id, store.LeadQuery{Scope: a.Scope(o)})
	return err
}

func checkShareTarget(ctx context.Context, tx *store.Tx, in ShareInput) error {
	if in.UserID != 0 {
		u, err := tx.GetUser(ctx, in.UserID)
		if crm.IsCode(err, crm.NotFound) || err == nil && u.Disabled {
			return &crm.Error{Code: crm.Invalid, Message: "unknown or disabled user", Fields: []crm.FieldError{{Field: "user_id", Rule: "not_found"}}}
		}
		return err
	}
	_, err := tx.GetDepartment(ctx, in.DeptID)
	return refError(err, "dept_id")
}

// ListShares returns the shares of a record the actor may share.
func (s *Service) ListShares(ctx context.Context, a *access.Actor, o crm.Object, id int64) ([]crm.RecordShare, error) {
	if !slices.Contains(shareObjects, o) {
		return nil, crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return nil, err
	}
	var out []crm.RecordShare
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := ownedRecord(ctx, tx, a, o, id); err != nil {
			return err
		}
		var err error
		out, err = tx.ListShares(ctx, store.ShareFilter{Object: o, RecordID: id})
		return err
	})
	if out == nil {
		out = []crm.RecordShare{}
	}
	return out, err
}

// MyGrants lists the shares the actor granted, for review and bulk revoke.
func (s *Service) MyGrants(ctx context.Context, a *access.Actor) ([]crm.RecordShare, error) {
	var out []crm.RecordShare
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListShares(ctx, store.ShareFilter{CreatedBy: a.UserID})
		return err
	})
	if out == nil {
		out = []crm.RecordShare{}
	}
	return out, err
}

// RevokeShares ends shares, all or none: each must be one the actor
// granted, one to someone in the subtree the actor reviews, or on a record
// within the actor's own scope (administrators: any), and the actor's role
// must edit the shared object — revoking
// changes who sees what, so a role or token that only reads changes
// nothing. A share the actor may not revoke is "not found". One audit
// event lists them.
func (s *Service) RevokeShares(ctx context.Context, a *access.Actor, ids []int64) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 || len(ids) > maxBulk {
		return &crm.Error{Code: crm.Invalid, Message: "between 1 and 1000 shares at once", Fields: []crm.FieldError{{Field: "ids", Rule: "too_many", Param: "1000"}}}
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		shares, err := tx.ListShares(ctx, store.ShareFilter{IDs: ids})
		if err != nil {
			return err
		}
		if len(shares) != len(ids) {
			return crm.ErrNotFound("share")
		}
		reviewed, err := reviewPaths(ctx, tx, a)
		if err != nil {
			return err
		}
		for _, sh := range shares {
			if a.IsAdmin() {
				continue
			}
			if !a.Can(sh.Object, crm.ActEdit) {
				return crm.ErrNotFound("share")
			}
			if sh.CreatedBy == a.UserID || granteeReviewed(ctx, tx, sh, reviewed) {
				continue
			}
			if err := ownedRecord(ctx, tx, a, sh.Object, sh.RecordID); err != nil {
				return crm.ErrNotFound("share")
			}
		}
		if err := tx.DeleteShares(ctx, ids); err != nil {
			return err
		}
		e := s.event(a, "share.revoke", "", 0)
		e.RecordIDs, e.Fields = ids, mustJSON(shares)
		return s.insertEvent(ctx, tx, e)
	})
}

// granteeReviewed reports whether a share went to someone (or a department)
// in the subtree the actor reviews, so the access review can revoke it.
func granteeReviewed(ctx context.Context, tx *store.Tx, sh crm.RecordShare, reviewed []crm.Department) bool {
	dept := sh.DeptID
	if sh.UserID != 0 {
		u, err := tx.GetUser(ctx, sh.UserID)
		if err != nil {
			return false
		}
		dept = u.DepartmentID
	}
	return slices.ContainsFunc(reviewed, func(d crm.Department) bool { return d.ID == dept })
}

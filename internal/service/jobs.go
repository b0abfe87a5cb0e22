package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Job changes (issue 3): before moving someone to another department or
// role, an administrator sees what their visibility becomes, and can hand
// their records over with the move, in the same transaction.

// JobChange moves a user; zero keeps the department or the role. Handover,
// when set, moves their records like offboarding does (the user stays
// active).
type JobChange struct {
	DepartmentID int64     `json:"department_id,omitempty"`
	RoleID       int64     `json:"role_id,omitempty"`
	Handover     *Handover `json:"handover,omitempty"`
}

// JobChangePreview counts, per object, the records the user reaches now and
// would reach after the move (counts stop above store.CountCap), and what
// they own that a hand-over would move.
type JobChangePreview struct {
	Before map[crm.Object]int `json:"before"`
	After  map[crm.Object]int `json:"after"`
	Owned  map[crm.Object]int `json:"owned"`
}

// previewObjects are the objects whose visibility the preview counts: those
// with a counted list of their own.
var previewObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Paged })

// PreviewJobChange shows what a move would change (administrators).
func (s *Service) PreviewJobChange(ctx context.Context, a *access.Actor, userID int64, jc JobChange) (JobChangePreview, error) {
	if err := s.requireAdmin(ctx, a, "user.job_preview"); err != nil {
		return JobChangePreview{}, err
	}
	pv := JobChangePreview{Before: map[crm.Object]int{}, After: map[crm.Object]int{}, Owned: map[crm.Object]int{}}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		now, err := s.loadActor(ctx, tx, userID)
		if err != nil {
			return err
		}
		next, err := movedActor(ctx, tx, now, jc)
		if err != nil {
			return err
		}
		for _, o := range previewObjects {
			if pv.Before[o], err = visibleCount(ctx, tx, now, o); err != nil {
				return err
			}
			if pv.After[o], err = visibleCount(ctx, tx, next, o); err != nil {
				return err
			}
		}
		for _, o := range handoverObjects {
			if pv.Owned[o], err = tx.CountOwned(ctx, o, userID); err != nil {
				return err
			}
		}
		return nil
	})
	return pv, err
}

// movedActor is the user's actor as it would be after the move.
func movedActor(ctx context.Context, tx *store.Tx, a *access.Actor, jc JobChange) (*access.Actor, error) {
	next := *a
	if jc.DepartmentID != 0 {
		d, err := tx.GetDepartment(ctx, jc.DepartmentID)
		if err != nil {
			return nil, refError(err, "department_id")
		}
		next.DeptID, next.DeptPath = d.ID, d.Path
	}
	if jc.RoleID != 0 {
		r, err := tx.GetRole(ctx, jc.RoleID)
		if err != nil {
			return nil, refError(err, "role_id")
		}
		next.Role = r
	}
	return &next, nil
}

// visibleCount counts what an actor's scope reaches of an object (shares
// left aside: they do not move with a job).
func visibleCount(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object) (int, error) {
	if !a.Can(o, crm.ActRead) {
		return 0, nil
	}
	if h := objectHooks[o]; h.count != nil {
		return h.count(ctx, tx, a)
	}
	return 0, nil
}

// ChangeJob moves a user to another department and/or role and, when asked,
// hands their records over in the same transaction. Changing a role needs
// a fresh second factor, as in UpdateUser.
func (s *Service) ChangeJob(ctx context.Context, a *access.Actor, userID int64, jc JobChange) (HandoverResult, error) {
	if err := s.requireAdmin(ctx, a, "user.job_change"); err != nil {
		return HandoverResult{}, err
	}
	if jc.RoleID != 0 {
		if err := s.stepUpForRole(ctx, a, "user.job_change", jc.RoleID, userID); err != nil {
			return HandoverResult{}, err
		}
	}
	if jc.DepartmentID == 0 && jc.RoleID == 0 {
		return HandoverResult{}, &crm.Error{Code: crm.Invalid, Message: "choose a department or a role",
			Fields: []crm.FieldError{{Field: "department_id", Rule: "required"}}}
	}
	res := HandoverResult{Moved: map[crm.Object][]int64{}}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		takers := []int64{userID}
		if jc.Handover != nil {
			takers = append(takers, jc.Handover.CustomersTo, jc.Handover.OthersTo)
		}
		if err := tx.LockUsers(ctx, takers...); err != nil {
			return err
		}
		before, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		u := before
		if jc.DepartmentID != 0 {
			u.DepartmentID = jc.DepartmentID
		}
		if jc.RoleID != 0 {
			u.RoleID = jc.RoleID
		}
		if err := checkUserRefs(ctx, tx, u); err != nil {
			return err
		}
		if jc.Handover != nil {
			if err := s.checkHandover(ctx, tx, a, u, *jc.Handover); err != nil {
				return err
			}
			if res.Moved, err = s.handOver(ctx, tx, a, u.ID, *jc.Handover); err != nil {
				return err
			}
		}
		u.UpdatedAt = s.clock()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.job_change", "", u.ID, diff(before, u))
	})
	return res, err
}

package service

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

func taskScope(a *access.Actor) store.ChildScope {
	return store.ChildScope{Own: a.Scope(crm.ObjTask), Customer: a.Scope(crm.ObjCustomer)}
}

// CreateTask stores a task for the actor or for an assignee within the
// actor's task scope, optionally about a customer the actor may edit.
func (s *Service) CreateTask(ctx context.Context, a *access.Actor, f crm.TaskFields) (crm.Task, error) {
	if err := s.require(ctx, a, crm.ObjTask, crm.ActCreate); err != nil {
		return crm.Task{}, err
	}
	k, err := s.newTask(a, f)
	if err != nil {
		return k, err
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := s.insertTaskTx(ctx, tx, a, &k); err != nil {
			return err
		}
		return s.notifyHandedOver(ctx, tx, a, k.OwnerID, crm.ObjTask, []int64{k.ID})
	})
	return k, err
}

// newTask validates a new task and stamps it as the actor's.
func (s *Service) newTask(a *access.Actor, f crm.TaskFields) (crm.Task, error) {
	if err := f.Validate().Err(); err != nil {
		return crm.Task{}, err
	}
	now := s.clock()
	k := crm.Task{TaskFields: f}
	if k.DueAt != nil {
		due := k.DueAt.UTC().Truncate(time.Millisecond)
		k.DueAt = &due
	}
	k.OwnerID, k.CreatedBy, k.UpdatedBy, k.CreatedAt, k.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	return k, nil
}

// insertTaskTx stores a new task inside tx, for its assignee if they are
// within the actor's task scope.
func (s *Service) insertTaskTx(ctx context.Context, tx *store.Tx, a *access.Actor, k *crm.Task) error {
	if k.AssigneeID != 0 && k.AssigneeID != a.UserID {
		if err := s.checkAssignable(ctx, tx, a, crm.ObjTask, k.AssigneeID); err != nil {
			return renameField(err, "owner_id", "assignee_id")
		}
		k.OwnerID = k.AssigneeID
	}
	if err := linkTask(ctx, tx, a, &k.TaskFields); err != nil {
		return err
	}
	if err := tx.InsertTask(ctx, k); err != nil {
		return err
	}
	k.AssigneeID = k.OwnerID
	return s.audit(ctx, tx, a, "task.create", crm.ObjTask, k.ID, diff(crm.TaskFields{}, k.TaskFields))
}

// linkTask checks a task's links as any record's (a customer the actor may
// edit, an opportunity of that customer the actor may see); a task linked
// to an opportunity without a customer is about the opportunity's.
func linkTask(ctx context.Context, tx *store.Tx, a *access.Actor, f *crm.TaskFields) error {
	if f.OpportunityID != 0 && f.CustomerID == 0 {
		o, err := tx.GetOpportunity(ctx, f.OpportunityID, opportunityScope(a))
		if err != nil {
			return refError(err, "opportunity_id")
		}
		f.CustomerID = o.CustomerID
	}
	return checkLinks(ctx, tx, a, recordLinks{customer: f.CustomerID, opportunity: f.OpportunityID})
}

// SetTaskDone marks a task the actor may edit as done, or open again.
func (s *Service) SetTaskDone(ctx context.Context, a *access.Actor, id int64, done bool) error {
	if err := s.require(ctx, a, crm.ObjTask, crm.ActEdit); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		k, err := tx.GetTask(ctx, id, store.TaskQuery{Scope: taskScope(a)})
		if err != nil {
			return err
		}
		if k.Done == done {
			return nil
		}
		if err := tx.SetTaskDone(ctx, id, done, a.UserID, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "task.done", crm.ObjTask, id, map[string]change{"done": {From: k.Done, To: done}})
	})
}

// TaskFilter selects tasks: the actor's own open tasks by default.
type TaskFilter struct {
	CustomerID int64 // the tasks of one customer instead of mine
	// OpportunityID asks for the tasks linked to one opportunity instead.
	OpportunityID int64
	DueBefore     *time.Time // only tasks due before this time
	// OwnerID and DeptID ask for the tasks of one assignee, or of the
	// assignees in a department and below, instead of mine; like every
	// filter they only narrow the actor's scope.
	OwnerID, DeptID int64
	Overdue         bool // only tasks past their due time
	All             bool // include done tasks
	Limit           int
}

// ListTasks returns tasks the actor may see: by default their own open ones.
func (s *Service) ListTasks(ctx context.Context, a *access.Actor, f TaskFilter) ([]crm.Task, error) {
	if err := s.require(ctx, a, crm.ObjTask, crm.ActRead); err != nil {
		return nil, err
	}
	if err := checkTeamFilter(f.OwnerID, f.DeptID); err != nil {
		return nil, err
	}
	q := store.TaskQuery{Scope: taskScope(a), OpenOnly: !f.All, DueBefore: f.DueBefore, CustomerID: f.CustomerID,
		OpportunityID: f.OpportunityID, OwnerID: f.OwnerID, DeptID: f.DeptID}
	if f.CustomerID == 0 && f.OpportunityID == 0 && f.OwnerID == 0 && f.DeptID == 0 {
		q.OwnerID = a.UserID
	}
	if now := s.clock(); f.Overdue && (q.DueBefore == nil || q.DueBefore.After(now)) {
		q.DueBefore = &now
	}
	var out []crm.Task
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListTasks(ctx, q, f.Limit)
		return err
	})
	if err != nil || exporting(ctx) {
		return out, err // an export records the ids in its own event
	}
	return out, s.auditRead(ctx, a, "task.list", crm.ObjTask, 0, ids(out, func(k crm.Task) int64 { return k.ID }))
}

// GetTask returns a task the actor may see and records the view.
func (s *Service) GetTask(ctx context.Context, a *access.Actor, id int64) (crm.Task, error) {
	return viewOne(ctx, s, a, crm.ObjTask, id, func(tx *store.Tx) (crm.Task, error) {
		return tx.GetTask(ctx, id, store.TaskQuery{Scope: taskScope(a)})
	})
}

// UpdateTask changes a task's title, notes, due time, customer or assignee
// if the version is current. A new customer must be one the actor may edit
// and a new assignee one the actor may assign tasks to, as at creation.
func (s *Service) UpdateTask(ctx context.Context, a *access.Actor, id int64, up crm.TaskUpdate) (crm.Task, error) {
	if err := s.require(ctx, a, crm.ObjTask, crm.ActEdit); err != nil {
		return crm.Task{}, err
	}
	var k crm.Task
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetTask(ctx, id, store.TaskQuery{Scope: taskScope(a)})
		if err != nil {
			return err
		}
		if err := checkVersion(up.Version, before.Version); err != nil {
			return err
		}
		k = before
		k.TaskFields = up.Apply(before.TaskFields)
		if err := k.TaskFields.Validate().Err(); err != nil {
			return err
		}
		if k.AssigneeID != before.OwnerID {
			if err := s.checkAssignable(ctx, tx, a, crm.ObjTask, k.AssigneeID); err != nil {
				return renameField(err, "owner_id", "assignee_id")
			}
			k.OwnerID = k.AssigneeID
		}
		if k.CustomerID != before.CustomerID || k.OpportunityID != before.OpportunityID {
			if err := linkTask(ctx, tx, a, &k.TaskFields); err != nil {
				return err
			}
		}
		k.UpdatedBy, k.UpdatedAt = a.UserID, s.clock()
		if err := tx.UpdateTask(ctx, &k); err != nil {
			return err
		}
		if k.OwnerID != before.OwnerID {
			if err := s.notifyHandedOver(ctx, tx, a, k.OwnerID, crm.ObjTask, []int64{id}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "task.update", crm.ObjTask, id, diff(before.TaskFields, k.TaskFields))
	})
	return k, err
}

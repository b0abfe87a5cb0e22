package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

const taskCols = `k.id, k.owner_id, COALESCE(u.display_name, ''), k.title, k.notes, k.due_at, k.done, k.done_at, COALESCE(k.customer_id, 0),
	COALESCE(k.opportunity_id, 0), k.created_by, k.updated_by, k.created_at, k.updated_at, k.version`

func scanTask(row scanner) (crm.Task, error) {
	var k crm.Task
	var due, doneAt sql.NullInt64
	var created, updated int64
	err := row.Scan(&k.ID, &k.OwnerID, &k.OwnerName, &k.Title, &k.Notes, &due, &k.Done, &doneAt, &k.CustomerID,
		&k.OpportunityID, &k.CreatedBy, &k.UpdatedBy, &created, &updated, &k.Version)
	k.DueAt, k.DoneAt, k.CreatedAt, k.UpdatedAt = fromNullMS(due), fromNullMS(doneAt), fromMS(created), fromMS(updated)
	k.AssigneeID = k.OwnerID
	return k, err
}

// InsertTask stores a new task.
func (tx *Tx) InsertTask(ctx context.Context, k *crm.Task) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO tasks (owner_id, title, notes, due_at, customer_id, created_by, updated_by, created_at,
		updated_at, version, opportunity_id) VALUES ($1,$2,$3,$4,$5,$6,$6,$7,$7,1,$8) RETURNING id`,
		k.OwnerID, k.Title, k.Notes, msPtr(k.DueAt), nullID(k.CustomerID), k.CreatedBy, ms(k.CreatedAt), nullID(k.OpportunityID)).Scan(&k.ID)
	k.Version = 1
	return mapErr("insert task", err)
}

// SetTaskDone marks a task done or open again; it is a status flip, not an
// edit of user fields, so it bumps no version.
func (tx *Tx) SetTaskDone(ctx context.Context, id int64, done bool, by int64, at time.Time) error {
	var doneAt any
	if done {
		doneAt = ms(at)
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE tasks SET done = $1, done_at = $2, updated_by = $3, updated_at = $4 WHERE id = $5 AND deleted_at IS NULL",
		done, doneAt, by, ms(at), id)
	return expectOne(res, err, "task")
}

// TaskQuery is a scoped task read.
type TaskQuery struct {
	Scope      ChildScope
	OpenOnly   bool
	DueBefore  *time.Time
	CustomerID int64
	// OpportunityID narrows to the tasks linked to one opportunity.
	OpportunityID int64
	OwnerID       int64
	DeptID        int64 // owners in this department or below it
}

func (q TaskQuery) where(a *args) string {
	w := q.Scope.cond("k", a) + " AND k.deleted_at IS NULL"
	// Written as an equality and a range on the expressions of
	// tasks_live_owner_due (migration 0027), so a user's open or overdue
	// tasks are a range of that index, already in order. A task without a
	// due time sorts as noTime, never before a real time.
	if q.OpenOnly {
		w += " AND k.done = FALSE"
	}
	if q.DueBefore != nil {
		w += " AND COALESCE(k.due_at, " + noTimeSQL + ") < " + a.add(ms(*q.DueBefore))
	}
	if q.CustomerID != 0 {
		w += " AND k.customer_id = " + a.add(q.CustomerID)
	}
	if q.OpportunityID != 0 {
		w += " AND k.opportunity_id = " + a.add(q.OpportunityID)
	}
	return w + teamCond("k.owner_id", q.OwnerID, q.DeptID, a)
}

// GetTask returns one task within the scope, or not found.
func (tx *Tx) GetTask(ctx context.Context, id int64, q TaskQuery) (crm.Task, error) {
	var a args
	w := q.where(&a)
	k, err := scanTask(tx.q.QueryRowContext(ctx, "SELECT "+taskCols+" FROM tasks k LEFT JOIN users u ON u.id = k.owner_id WHERE k.id = "+a.add(id)+" AND "+w, a...))
	return k, mapErr("task", err)
}

// ListTasks returns up to limit tasks, open first, by due time (no due
// time last), then newest.
func (tx *Tx) ListTasks(ctx context.Context, q TaskQuery, limit int) ([]crm.Task, error) {
	var a args
	w := q.where(&a)
	rows, err := tx.q.QueryContext(ctx, "SELECT "+taskCols+" FROM tasks k LEFT JOIN users u ON u.id = k.owner_id WHERE "+w+
		" ORDER BY k.done, COALESCE(k.due_at, "+noTimeSQL+"), k.id DESC LIMIT "+a.add(pageLimit(limit)), a...)
	if err != nil {
		return nil, mapErr("list tasks", err)
	}
	defer rows.Close()
	out := []crm.Task{}
	for rows.Next() {
		k, err := scanTask(rows)
		if err != nil {
			return nil, mapErr("scan task", err)
		}
		out = append(out, k)
	}
	return out, mapErr("list tasks", rows.Err())
}

// UpdateTask stores a task's editable fields, its customer, opportunity and owner
// (the assignee) if the version is current.
func (tx *Tx) UpdateTask(ctx context.Context, k *crm.Task) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE tasks SET title=$1, notes=$2, due_at=$3, customer_id=$4, owner_id=$5, updated_by=$6,
		updated_at=$7, version = version + 1, opportunity_id=$10 WHERE id = $8 AND version = $9 AND deleted_at IS NULL`,
		k.Title, k.Notes, msPtr(k.DueAt), nullID(k.CustomerID), k.OwnerID, k.UpdatedBy, ms(k.UpdatedAt), k.ID, k.Version, nullID(k.OpportunityID))
	return staleOrNil(res, err, "task", &k.Version)
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"custos/internal/crm"
)

// transferRows says, per object the registry hands over, which of a
// person's records move when their work is handed over: live ones, and of
// those with work that ends (transferOpen) only the open ones.
var transferRows = func() map[crm.Object]struct{ table, cond string } {
	out := map[crm.Object]struct{ table, cond string }{}
	for o, table := range tablesWhere(func(s crm.ObjectSpec) bool { return s.HandedOver }) {
		out[o] = struct{ table, cond string }{table, "deleted_at IS NULL" + transferOpen[o]}
	}
	return out
}()

// transferOpen narrows a hand-over to the records whose work is not done:
// leads not yet converted, open opportunities (closed ones stay with who
// closed them, so reports keep crediting them), contracts still running
// (ended ones likewise) and open tasks. It is SQL
// of each object's own state, which its description does not carry.
var transferOpen = map[crm.Object]string{
	crm.ObjLead:        " AND status <> 'converted'",
	crm.ObjOpportunity: " AND closed_at IS NULL",
	crm.ObjContract:    " AND status NOT IN ('expired', 'terminated')",
	crm.ObjTask:        " AND done = FALSE",
}

// TransferOwner moves every transferable record of an object owned by from
// to to (0: no owner — the public pool, for customers only) and returns the
// ids moved. Ownership is system-kept: versions do not change.
func (tx *Tx) TransferOwner(ctx context.Context, o crm.Object, from, to, by int64, at time.Time) ([]int64, error) {
	r, ok := transferRows[o]
	if !ok {
		return nil, fmt.Errorf("store: %s records are not transferable", o)
	}
	if to == 0 && o != crm.ObjCustomer {
		return nil, fmt.Errorf("store: only customers can go to the public pool")
	}
	rows, err := tx.q.QueryContext(ctx, "UPDATE "+r.table+" SET owner_id = $1, updated_by = $2, updated_at = $3 WHERE owner_id = $4 AND "+
		r.cond+" RETURNING id", nullID(to), by, ms(at), from)
	if err != nil {
		return nil, mapErr("transfer "+string(o), err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("transfer "+string(o), err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr("transfer "+string(o), rows.Err())
}

// CountOwned counts the transferable records of an object a user owns, for
// the hand-over form.
func (tx *Tx) CountOwned(ctx context.Context, o crm.Object, owner int64) (int, error) {
	r, ok := transferRows[o]
	if !ok {
		return 0, fmt.Errorf("store: %s records are not transferable", o)
	}
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+r.table+" WHERE owner_id = $1 AND "+r.cond, owner).Scan(&n)
	return n, mapErr("count owned", err)
}

// ownedTables are the tables of the records that move with their owner
// (hand-over), whose version an approval of a move or change checks.
var ownedTables = tablesWhere(func(s crm.ObjectSpec) bool { return s.HandedOver })

// CurrentVersion returns the version of a live record.
func (tx *Tx) CurrentVersion(ctx context.Context, o crm.Object, id int64) (int64, error) {
	t, ok := ownedTables[o]
	if !ok {
		return 0, crm.ErrNotFound(string(o))
	}
	var v int64
	err := tx.q.QueryRowContext(ctx, "SELECT version FROM "+t+" WHERE id = $1 AND deleted_at IS NULL", id).Scan(&v)
	return v, mapErr(string(o), err)
}

// RecordOwner returns the owner of a live record (0: none).
func (tx *Tx) RecordOwner(ctx context.Context, o crm.Object, id int64) (int64, error) {
	t, ok := ownedTables[o]
	if !ok {
		return 0, crm.ErrNotFound(string(o))
	}
	var owner sql.NullInt64
	err := tx.q.QueryRowContext(ctx, "SELECT owner_id FROM "+t+" WHERE id = $1 AND deleted_at IS NULL", id).Scan(&owner)
	return owner.Int64, mapErr(string(o), err)
}

// SetOwner gives one live record a new owner. Ownership is system-kept: the
// version does not change.
func (tx *Tx) SetOwner(ctx context.Context, o crm.Object, id, owner, by int64, at time.Time) error {
	t, ok := ownedTables[o]
	if !ok {
		return crm.ErrNotFound(string(o))
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE "+t+" SET owner_id = $1, updated_by = $2, updated_at = $3 WHERE id = $4 AND deleted_at IS NULL",
		nullID(owner), by, ms(at), id)
	return expectOne(res, err, string(o))
}

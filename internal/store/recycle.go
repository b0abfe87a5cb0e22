package store

import (
	"context"
	"slices"
	"time"

	"custos/internal/crm"
)

// recyclable describes the tables whose records go to the recycle bin
// through the generic path (customers have their own, with the pool).
// child tables are visible through their customer too (DESIGN.md §4).
var recyclable = func() map[crm.Object]recycled {
	out := map[crm.Object]recycled{}
	for _, s := range crm.Specs() {
		if !s.Recyclable || s.Name == crm.ObjCustomer {
			continue
		}
		title, _ := s.Field(s.Title)
		r := recycled{table: s.Table, alias: s.Alias, name: s.Alias + "." + title.Column, key: "''", child: s.Parent != ""}
		if col := s.DataKeyColumn(); col != "" {
			r.key = s.Alias + "." + col
		}
		out[s.Name] = r
	}
	return out
}()

// recycled is how the generic recycle bin reaches one object's table.
type recycled struct {
	table, alias, name string
	key                string // the column naming the data key a sealed name is under
	child              bool
}

// Recyclable reports whether an object uses the generic recycle bin.
func Recyclable(o crm.Object) bool { _, ok := recyclable[o]; return ok }

func (s ChildScope) condFor(o crm.Object, a *args) string {
	r := recyclable[o]
	if !r.child {
		return ownerCond(s.Own, r.alias+".owner_id", a)
	}
	return s.cond(r.alias, a)
}

// RecordInScope returns nil if the live (or, with deleted, recycled) record
// is within the scope, else crm.ErrNotFound.
func (tx *Tx) RecordInScope(ctx context.Context, o crm.Object, id int64, s ChildScope, deleted bool) error {
	r, ok := recyclable[o]
	if !ok {
		return crm.ErrNotFound(string(o))
	}
	var a args
	cond := s.condFor(o, &a)
	del := " AND " + r.alias + ".deleted_at IS NULL"
	if deleted {
		del = " AND " + r.alias + ".deleted_at IS NOT NULL"
	}
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+r.table+" "+r.alias+" WHERE "+r.alias+".id = "+a.add(id)+" AND "+cond+del, a...).Scan(&n)
	if err != nil {
		return mapErr(string(o), err)
	}
	if n == 0 {
		return crm.ErrNotFound(string(o))
	}
	return nil
}

// SetDeleted moves a record into the recycle bin (at non-nil) or out of it.
func (tx *Tx) SetDeleted(ctx context.Context, o crm.Object, id, by int64, at *time.Time, now time.Time) error {
	r, ok := recyclable[o]
	if !ok {
		return crm.ErrNotFound(string(o))
	}
	mark := ""
	if isCustomerChild(o) {
		mark = ", deleted_with_customer = FALSE" // deleted or restored on its own from now on
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE "+r.table+" SET deleted_at = $1, updated_by = $2, updated_at = $3"+mark+" WHERE id = $4",
		msPtr(at), by, ms(now), id)
	return expectOne(res, err, string(o))
}

// DeletedRecord is crm.DeletedRecord: the type lives with the domain so no surface needs the store.
type DeletedRecord = crm.DeletedRecord

// ListDeleted returns the recycled records of an object within the scope,
// most recently deleted first.
func (tx *Tx) ListDeleted(ctx context.Context, o crm.Object, s ChildScope, limit int) ([]DeletedRecord, error) {
	r, ok := recyclable[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	var a args
	cond := s.condFor(o, &a)
	rows, err := tx.q.QueryContext(ctx, "SELECT "+r.alias+".id, "+r.name+", "+r.key+", COALESCE(u.display_name, ''), "+r.alias+".deleted_at FROM "+
		r.table+" "+r.alias+" LEFT JOIN users u ON u.id = "+r.alias+".owner_id WHERE "+r.alias+".deleted_at IS NOT NULL AND "+cond+
		" ORDER BY "+r.alias+".deleted_at DESC, "+r.alias+".id DESC LIMIT "+a.add(pageLimit(limit)), a...)
	if err != nil {
		return nil, mapErr("list recycle bin", err)
	}
	defer rows.Close()
	out := []DeletedRecord{}
	for rows.Next() {
		d := DeletedRecord{Object: o}
		var at int64
		if err := rows.Scan(&d.ID, &d.Name, &d.DataKey, &d.OwnerName, &at); err != nil {
			return nil, mapErr("scan recycle bin", err)
		}
		d.DeletedAt = fromMS(at)
		out = append(out, d)
	}
	return out, mapErr("list recycle bin", rows.Err())
}

// RecordDedupKeys returns the duplicate-check keys stored for a record.
func (tx *Tx) RecordDedupKeys(ctx context.Context, o crm.Object, id int64) ([]DedupKey, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT kind, key FROM dedup_keys WHERE object = $1 AND record_id = $2", string(o), id)
	if err != nil {
		return nil, mapErr("dedup keys", err)
	}
	defer rows.Close()
	var out []DedupKey
	for rows.Next() {
		var k DedupKey
		if err := rows.Scan(&k.Kind, &k.Key); err != nil {
			return nil, mapErr("scan dedup key", err)
		}
		if k.Kind != "landline" {
			out = append(out, k)
		}
	}
	return out, mapErr("dedup keys", rows.Err())
}

// customerChildren are the records that go to the recycle bin with their
// customer and come back with it.
var customerChildren = func() []childTable {
	var out []childTable
	for _, s := range crm.Specs() {
		if s.FollowsParent && s.Parent == crm.ObjCustomer {
			out = append(out, childTable{s.Name, s.Table})
		}
	}
	return out
}()

type childTable struct {
	object crm.Object
	table  string
}

func isCustomerChild(o crm.Object) bool {
	return slices.ContainsFunc(customerChildren, func(c childTable) bool { return c.object == o })
}

// CascadeCustomerDeleted moves a customer's live contacts, opportunities and
// follow-ups into the recycle bin with it (at set), or brings back exactly
// those that went with it (at nil) — not those deleted on their own before.
// It returns the ids moved.
func (tx *Tx) CascadeCustomerDeleted(ctx context.Context, customerID int64, at *time.Time, by int64, now time.Time) (map[crm.Object][]int64, error) {
	out := map[crm.Object][]int64{}
	for _, ch := range customerChildren {
		var a args
		q := "UPDATE " + ch.table + " SET deleted_at = " + a.add(msPtr(at)) + ", deleted_with_customer = " + a.add(at != nil) +
			", updated_by = " + a.add(by) + ", updated_at = " + a.add(ms(now)) + " WHERE customer_id = " + a.add(customerID)
		if at != nil {
			q += " AND deleted_at IS NULL"
		} else {
			q += " AND deleted_at IS NOT NULL AND deleted_with_customer = TRUE"
		}
		ids, err := tx.returningIDs(ctx, q+" RETURNING id", a...)
		if err != nil {
			return nil, mapErr("cascade "+string(ch.object), err)
		}
		if len(ids) > 0 {
			out[ch.object] = ids
		}
	}
	return out, nil
}

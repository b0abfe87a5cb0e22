package store

import (
	"context"
	"slices"
	"time"

	"custos/internal/crm"
)

// The recycle-bin purge (issue 5): records deleted longer ago than the
// retention window are removed for good, with every row that hangs off
// them. Rows that merely point at a purged record and live on (a task of a
// purged customer, a follow-up naming a purged contact) lose the link.

// PurgeOrder lists the recycled objects children first: a batch purges a
// customer's follow-ups, tasks, opportunities and contacts before the
// customer, so no row is left referencing a removed one.
var PurgeOrder = []crm.Object{crm.ObjFollowUp, crm.ObjTask, crm.ObjContract, crm.ObjOpportunity, crm.ObjContact, crm.ObjLead, crm.ObjCustomer}

// purgeTables are the tables of the objects with a recycle bin.
var purgeTables = tablesWhere(func(s crm.ObjectSpec) bool { return s.Recyclable })

// purgeLock is the PostgreSQL advisory lock a purge batch holds for its
// transaction, so with several instances one purges at a time.
const purgeLock = 0x637573746f7370 // "custosp"

// TryPurgeLock takes the purge's lock for this transaction; false means
// another instance is purging. SQLite has one writer, so it always succeeds.
func (tx *Tx) TryPurgeLock(ctx context.Context) (bool, error) { return tx.tryXactLock(ctx, purgeLock) }

// ExpiredRecord is a recycled record past the retention window.
type ExpiredRecord struct {
	ID        int64
	DeletedAt time.Time
}

// ExpiredRecords returns up to limit records of an object deleted at or
// before cutoff, oldest first, locked against a concurrent restore on
// PostgreSQL. A customer that an opportunity or a contract still
// references (one restored or deleted on its own after it) waits: they
// cannot exist without their customer (CustomerBound). A contact or lead
// whose person is under a legal hold waits too.
func (tx *Tx) ExpiredRecords(ctx context.Context, o crm.Object, cutoff time.Time, limit int) ([]ExpiredRecord, error) {
	table, ok := purgeTables[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	q := "SELECT r.id, r.deleted_at FROM " + table + " r WHERE r.deleted_at IS NOT NULL AND r.deleted_at <= $1"
	if o == crm.ObjCustomer {
		for _, b := range CustomerBound {
			q += " AND NOT EXISTS (SELECT 1 FROM " + recyclable[b].table + " b WHERE b.customer_id = r.id)"
		}
	}
	if key := dataKeyColumn(o); key != "" {
		// A legal hold keeps a person from destruction, the recycle bin's
		// too, and what was written about them (follow-ups under their key).
		q += " AND r." + key + " NOT IN (SELECT person_key FROM legal_holds)"
	}
	q += " ORDER BY r.deleted_at, r.id LIMIT $2"
	if tx.d == Postgres {
		q += " FOR UPDATE OF r"
	}
	rows, err := tx.q.QueryContext(ctx, q, ms(cutoff), limit)
	if err != nil {
		return nil, mapErr("expired "+string(o), err)
	}
	defer rows.Close()
	var out []ExpiredRecord
	for rows.Next() {
		var r ExpiredRecord
		var at int64
		if err := rows.Scan(&r.ID, &at); err != nil {
			return nil, mapErr("expired "+string(o), err)
		}
		r.DeletedAt = fromMS(at)
		out = append(out, r)
	}
	return out, mapErr("expired "+string(o), rows.Err())
}

// purgeLinks are, per object, the nullable columns of other tables that
// point at its records: they are cleared when the record is purged. They
// are the registry's references, but for a CustomerBound record's customer
// (the purge keeps that customer waiting instead).
var purgeLinks = func() map[crm.Object][]purgeLink {
	out := map[crm.Object][]purgeLink{}
	for _, s := range crm.Specs() {
		for _, f := range s.Fields {
			if f.Type != crm.TypeRef || f.Ref == crm.ObjCustomer && slices.Contains(CustomerBound, s.Name) {
				continue
			}
			out[f.Ref] = append(out[f.Ref], purgeLink{s.Name, s.Table, f.Column})
		}
	}
	return out
}()

// purgeLink is one column that points at a purged object's records.
type purgeLink struct {
	object        crm.Object
	table, column string
}

// dataKeyColumn names the column of o's table holding the data key its
// sealed values are under ("" for objects with none of their own).
func dataKeyColumn(o crm.Object) string {
	s, _ := crm.Spec(o)
	return s.DataKeyColumn()
}

// purgeIndexes are the tables keyed by (object, record_id) whose rows
// belong to one record: its search terms, duplicate-check keys, shares and
// version snapshots.
var purgeIndexes = []string{"search_terms", "dedup_keys", "record_shares", "record_versions"}

// PurgedResult is what purging one record touched besides the record.
type PurgedResult struct {
	// Unlinked lists the records that pointed at the purged one and keep
	// living without the link, by object.
	Unlinked map[crm.Object][]int64
	// Approvals counts the approval requests about the record whose
	// requested change was erased (pending ones are closed as failed).
	Approvals int
	// PersonKey is the data key the purged record held: a contact's or lead's, or
	// the one a follow-up's content or a customer's follow-ups are under.
	PersonKey string
}

// PurgeRecord removes a recycled record deleted at or before cutoff for
// good: its row, its stage history, search terms, duplicate-check keys,
// shares and version snapshots; it clears the links other records hold to
// it and erases the requested change of approval requests about it,
// closing pending ones as failed. A record that is not in the recycle bin
// (restored meanwhile) is crm.ErrNotFound and nothing changes.
func (tx *Tx) PurgeRecord(ctx context.Context, o crm.Object, id int64, cutoff, now time.Time) (PurgedResult, error) {
	res := PurgedResult{Unlinked: map[crm.Object][]int64{}}
	table, ok := purgeTables[o]
	if !ok {
		return res, crm.ErrNotFound(string(o))
	}
	key := "''"
	if col := dataKeyColumn(o); col != "" {
		key = col
	}
	err := tx.q.QueryRowContext(ctx, "SELECT "+key+" FROM "+table+" WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at <= $2",
		id, ms(cutoff)).Scan(&res.PersonKey)
	if err != nil {
		return res, mapErr(string(o), err) // not in the bin, or not expired: not found
	}
	for _, l := range purgeLinks[o] {
		ids, err := tx.returningIDs(ctx, "UPDATE "+l.table+" SET "+l.column+" = NULL WHERE "+l.column+" = $1 RETURNING id", id)
		if err != nil {
			return res, mapErr("purge "+string(o)+": unlink "+l.table, err)
		}
		if len(ids) > 0 {
			res.Unlinked[l.object] = append(res.Unlinked[l.object], ids...)
		}
	}
	if o == crm.ObjOpportunity {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM opportunity_stage_changes WHERE opportunity_id = $1", id); err != nil {
			return res, mapErr("purge stage changes", err)
		}
	}
	for _, t := range purgeIndexes {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM "+t+" WHERE object = $1 AND record_id = $2", string(o), id); err != nil {
			return res, mapErr("purge "+t, err)
		}
	}
	if _, err := tx.q.ExecContext(ctx, `UPDATE approval_requests SET status = $1, result = $2, decided_at = $3
		WHERE object = $4 AND record_id = $5 AND status = $6`, crm.ApprovalFailed, "the record was purged from the recycle bin",
		ms(now), string(o), id, crm.ApprovalPending); err != nil {
		return res, mapErr("purge approvals", err)
	}
	// The requested change may hold the record's personal values; the
	// request itself (who asked, who decided) stays.
	r, err := tx.q.ExecContext(ctx, "UPDATE approval_requests SET payload = '{}' WHERE object = $1 AND record_id = $2", string(o), id)
	erased, err := affected(r, err, "purge approvals")
	if err != nil {
		return res, err
	}
	res.Approvals = int(erased)
	r, err = tx.q.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = $1", id)
	return res, expectOne(r, err, string(o))
}

// returningIDs runs a statement with RETURNING id and collects the ids.
func (tx *Tx) returningIDs(ctx context.Context, q string, a ...any) ([]int64, error) {
	return queryColumn[int64](ctx, tx, q, a...)
}

// queryColumn runs a query of one column and collects its values.
func queryColumn[T any](ctx context.Context, tx *Tx, q string, a ...any) ([]T, error) {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// QueueKeyErasures records data keys to destroy once this transaction
// commits (see purge_key_erasures).
func (tx *Tx) QueueKeyErasures(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO purge_key_erasures (key_id) VALUES ($1) ON CONFLICT DO NOTHING", k); err != nil {
			return mapErr("queue key erasure", err)
		}
	}
	return nil
}

// PendingKeyErasures returns up to limit queued data keys.
func (tx *Tx) PendingKeyErasures(ctx context.Context, limit int) ([]string, error) {
	keys, err := queryColumn[string](ctx, tx, "SELECT key_id FROM purge_key_erasures ORDER BY key_id LIMIT $1", limit)
	return keys, mapErr("pending key erasures", err)
}

// DoneKeyErasures removes data keys from the queue.
func (tx *Tx) DoneKeyErasures(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	var a args
	_, err := tx.q.ExecContext(ctx, "DELETE FROM purge_key_erasures WHERE "+inList("key_id", keys, &a), a...)
	return mapErr("done key erasures", err)
}

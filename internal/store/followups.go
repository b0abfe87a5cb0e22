package store

import (
	"context"
	"database/sql"

	"custos/internal/crm"
)

// InsertFollowUp stores a follow-up and sets its id.
func (tx *Tx) InsertFollowUp(ctx context.Context, f *crm.FollowUp) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO follow_ups (owner_id, kind, content, occurred_at, next_at, customer_id, contact_id,
		opportunity_id, lead_id, created_by, updated_by, created_at, updated_at, version, data_key)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11,$11,1,$12) RETURNING id`,
		f.OwnerID, f.Kind, f.Content, ms(f.OccurredAt), msPtr(f.NextAt), nullID(f.CustomerID), nullID(f.ContactID),
		nullID(f.OpportunityID), nullID(f.LeadID), f.CreatedBy, ms(f.CreatedAt), f.DataKey).Scan(&f.ID)
	f.Version = 1
	return mapErr("insert follow-up", err)
}

// followUpParents are the columns a follow-up hangs off, by the object
// they point at: the follow-up's references.
var followUpParents = func() map[crm.Object]string {
	s, _ := crm.Spec(crm.ObjFollowUp)
	out := map[crm.Object]string{}
	for _, f := range s.Fields {
		if f.Type == crm.TypeRef {
			out[f.Ref] = s.Alias + "." + f.Column
		}
	}
	return out
}()

// ListRecordFollowUps returns one page of a record's live follow-ups, newest
// first. The caller has already checked that the actor may see the record:
// the follow-ups of a visible record are visible (DESIGN.md §4).
func (tx *Tx) ListRecordFollowUps(ctx context.Context, parent crm.Object, id int64, after string, limit int) ([]crm.FollowUp, string, error) {
	col, ok := followUpParents[parent]
	if !ok {
		return nil, "", crm.ErrNotFound(string(parent))
	}
	var a args
	return runPage(ctx, tx, pageQuery[crm.FollowUp]{
		selectFrom: followUpSelect, where: col + " = " + a.add(id) + " AND f.deleted_at IS NULL", idCol: "f.id",
		sorts: map[string]sortSpec{"occurred": {expr: "f.occurred_at", desc: true}}, sortName: "occurred", after: after, limit: limit,
		scan: scanFollowUp,
		key:  func(f crm.FollowUp) (int64, int64, string) { return f.ID, ms(f.OccurredAt), "" },
	}, &a)
}

const followUpSelect = `SELECT f.id, f.owner_id, COALESCE(u.display_name, ''), f.kind, f.content, f.occurred_at, f.next_at,
		COALESCE(f.customer_id, 0), COALESCE(f.contact_id, 0), COALESCE(f.opportunity_id, 0), COALESCE(f.lead_id, 0), f.created_by,
		f.updated_by, f.created_at, f.updated_at, f.version, f.data_key FROM follow_ups f LEFT JOIN users u ON u.id = f.owner_id`

// GetFollowUp returns one live follow-up within the scope, or not found.
func (tx *Tx) GetFollowUp(ctx context.Context, id int64, s ChildScope) (crm.FollowUp, error) {
	var a args
	cond := s.cond("f", &a)
	row := tx.q.QueryRowContext(ctx, followUpSelect+" WHERE f.id = "+a.add(id)+" AND f.deleted_at IS NULL AND "+cond, a...)
	f, err := scanFollowUp(row)
	return f, mapErr("follow-up", err)
}

// UpdateFollowUp stores a follow-up's kind and content if the version is
// current and the row is still under the key the content was sealed with:
// on PostgreSQL a purge or re-encryption may move it to another key (without
// a new version) between the edit's read and its write, and the edit is then
// stale rather than written under a key the row no longer names. A row
// under no key (its person erased) takes the edit's key.
func (tx *Tx) UpdateFollowUp(ctx context.Context, f *crm.FollowUp) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE follow_ups SET kind=$1, content=$2, updated_by=$3, updated_at=$4, version = version + 1,
		data_key = $7 WHERE id = $5 AND version = $6 AND deleted_at IS NULL AND (data_key = $7 OR data_key = '')`, f.Kind, f.Content, f.UpdatedBy, ms(f.UpdatedAt), f.ID, f.Version, f.DataKey)
	return staleOrNil(res, err, "follow-up", &f.Version)
}

func scanFollowUp(row scanner) (crm.FollowUp, error) {
	var f crm.FollowUp
	var occurred, created, updated int64
	var next sql.NullInt64
	err := row.Scan(&f.ID, &f.OwnerID, &f.OwnerName, &f.Kind, &f.Content, &occurred, &next, &f.CustomerID, &f.ContactID,
		&f.OpportunityID, &f.LeadID, &f.CreatedBy, &f.UpdatedBy, &created, &updated, &f.Version, &f.DataKey)
	f.OccurredAt, f.NextAt, f.CreatedAt, f.UpdatedAt = fromMS(occurred), fromNullMS(next), fromMS(created), fromMS(updated)
	return f, err
}

// FollowUpsLinked returns every follow-up (deleted ones too) linked to a
// record, in id order.
func (tx *Tx) FollowUpsLinked(ctx context.Context, parent crm.Object, id int64) ([]crm.FollowUp, error) {
	col, ok := followUpParents[parent]
	if !ok {
		return nil, crm.ErrNotFound(string(parent))
	}
	return queryAll(ctx, tx, followUpSelect+" WHERE "+col+" = $1 ORDER BY f.id", scanFollowUp, id)
}

// CountRecordFollowUps counts a record's live follow-ups.
func (tx *Tx) CountRecordFollowUps(ctx context.Context, parent crm.Object, id int64) (int, error) {
	col, ok := followUpParents[parent]
	if !ok {
		return 0, crm.ErrNotFound(string(parent))
	}
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM follow_ups f WHERE "+col+" = $1 AND f.deleted_at IS NULL", id).Scan(&n)
	return n, mapErr("count follow-ups", err)
}

// RecomputeCustomerFollowUp derives a customer's system-kept follow-up
// fields from its live follow-ups: the last one's time, and the next
// follow-up time the most recent of them planned (a backdated entry does not
// override a later plan; deleting the latest brings the previous plan back).
// It bumps no version, so it never causes a conflict.
func (tx *Tx) RecomputeCustomerFollowUp(ctx context.Context, customerID int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE customers SET
		last_followed_up_at = (SELECT MAX(f.occurred_at) FROM follow_ups f WHERE f.customer_id = $1 AND f.deleted_at IS NULL),
		next_follow_up_at = (SELECT f.next_at FROM follow_ups f WHERE f.customer_id = $1 AND f.deleted_at IS NULL
			ORDER BY f.occurred_at DESC, f.id DESC LIMIT 1)
		WHERE id = $1`, customerID)
	return mapErr("recompute customer follow-up", err)
}

// FollowUpCustomer returns the customer a follow-up belongs to (0: none).
func (tx *Tx) FollowUpCustomer(ctx context.Context, id int64) (int64, error) {
	var c int64
	err := tx.q.QueryRowContext(ctx, "SELECT COALESCE(customer_id, 0) FROM follow_ups WHERE id = $1", id).Scan(&c)
	return c, mapErr("follow-up", err)
}

// CustomerDataKey returns the data key a customer's follow-ups are sealed
// under ("" until its first follow-up needs one).
func (tx *Tx) CustomerDataKey(ctx context.Context, id int64) (string, error) {
	var key string
	err := tx.q.QueryRowContext(ctx, "SELECT data_key FROM customers WHERE id = $1", id).Scan(&key)
	return key, mapErr("customer", err)
}

// ClaimCustomerDataKey gives a customer the key if it has none yet and
// returns the one it has: with two instances making a key for the same
// customer at once, the first commit wins and the other's key stays unused.
func (tx *Tx) ClaimCustomerDataKey(ctx context.Context, id int64, key string) (string, error) {
	if _, err := tx.q.ExecContext(ctx, "UPDATE customers SET data_key = $1 WHERE id = $2 AND data_key = ''", key, id); err != nil {
		return "", mapErr("customer data key", err)
	}
	return tx.CustomerDataKey(ctx, id)
}

// SetCustomerDataKey moves a customer to another data key (re-encryption).
func (tx *Tx) SetCustomerDataKey(ctx context.Context, id int64, key string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE customers SET data_key = $1 WHERE id = $2", key, id)
	return mapErr("customer data key", err)
}

// UnsealedFollowUp is a follow-up written before its content was sealed,
// with the keys it may go under: its contact's or lead's, else its
// customer's (either may be empty).
type UnsealedFollowUp struct {
	ID          int64
	Content     string
	PersonKey   string
	CustomerID  int64
	CustomerKey string
}

// UnsealedFollowUps returns up to limit follow-ups (deleted ones too) with
// content and no data key, in id order.
func (tx *Tx) UnsealedFollowUps(ctx context.Context, limit int) ([]UnsealedFollowUp, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT f.id, f.content, COALESCE(t.person_key, l.person_key, ''), COALESCE(f.customer_id, 0),
		COALESCE(c.data_key, '') FROM follow_ups f LEFT JOIN contacts t ON t.id = f.contact_id LEFT JOIN leads l ON l.id = f.lead_id
		LEFT JOIN customers c ON c.id = f.customer_id WHERE f.data_key = '' AND f.content <> '' ORDER BY f.id LIMIT $1`, limit)
	if err != nil {
		return nil, mapErr("list unsealed follow-ups", err)
	}
	defer rows.Close()
	var out []UnsealedFollowUp
	for rows.Next() {
		var u UnsealedFollowUp
		if err := rows.Scan(&u.ID, &u.Content, &u.PersonKey, &u.CustomerID, &u.CustomerKey); err != nil {
			return nil, mapErr("scan unsealed follow-up", err)
		}
		out = append(out, u)
	}
	return out, mapErr("list unsealed follow-ups", rows.Err())
}

// SetSealedFollowUp stores a follow-up's sealed content and its data key,
// without touching its version: sealing changes nothing a user sees.
func (tx *Tx) SetSealedFollowUp(ctx context.Context, id int64, key, content string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE follow_ups SET data_key = $1, content = $2 WHERE id = $3", key, content, id)
	return mapErr("seal follow-up", err)
}

// EraseFollowUpsUnder empties the content of every follow-up sealed under
// a person's key and drops their stored versions: erasing the person
// leaves what was written about them nowhere in the live database. The
// follow-ups stay, with their times and links, so customers' histories
// keep their shape. It returns how many follow-ups it emptied.
func (tx *Tx) EraseFollowUpsUnder(ctx context.Context, key string) (int, error) {
	// The key goes too: nothing is sealed under it any more, so the rows no
	// longer keep it from being destroyed.
	ids, err := tx.returningIDs(ctx, "UPDATE follow_ups SET content = '', data_key = '' WHERE data_key = $1 RETURNING id", key)
	if err != nil {
		return 0, mapErr("erase follow-ups", err)
	}
	for _, chunk := range chunks(ids) {
		var a args
		_, err := tx.q.ExecContext(ctx, "DELETE FROM record_versions WHERE object = "+a.add(string(crm.ObjFollowUp))+" AND "+
			inList("record_id", chunk, &a), a...)
		if err != nil {
			return 0, mapErr("erase follow-up versions", err)
		}
	}
	return len(ids), nil
}

// FollowUpQuery is a scoped list of follow-ups across records: the
// follow-ups the actor may see (their own, or those of customers within
// scope), narrowed by owner, department and the drill-down filters.
type FollowUpQuery struct {
	Scope  ChildScope
	Filter crm.ListFilter
}

func (q FollowUpQuery) where(a *args) string {
	w := q.Scope.cond("f", a) + " AND f.deleted_at IS NULL"
	w += teamCond("f.owner_id", q.Filter.OwnerID, q.Filter.DeptID, a)
	return w + drillWhere(crm.ObjFollowUp, "f", q.Filter.Drill, a)
}

// page is the pageQuery of q, newest created first (follow_ups_live_created).
func (q FollowUpQuery) page(a *args) pageQuery[crm.FollowUp] {
	return pageQuery[crm.FollowUp]{
		selectFrom: followUpSelect, table: "follow_ups f", where: q.where(a), idCol: "f.id",
		sorts: map[string]sortSpec{"created": {expr: "f.created_at", desc: true}}, sortName: "created", after: q.Filter.Cursor,
		limit: q.Filter.Limit, scan: scanFollowUp,
		key: func(f crm.FollowUp) (int64, int64, string) { return f.ID, ms(f.CreatedAt), "" },
	}
}

// ListFollowUps returns one page of the follow-ups q reaches.
func (tx *Tx) ListFollowUps(ctx context.Context, q FollowUpQuery) ([]crm.FollowUp, string, error) {
	var a args
	return runPage(ctx, tx, q.page(&a), &a)
}

// CountFollowUps counts, up to CountCap+1, the follow-ups q reaches.
func (tx *Tx) CountFollowUps(ctx context.Context, q FollowUpQuery) (int, error) {
	var a args
	return countPage(ctx, tx, q.page(&a), a, "count follow-ups")
}

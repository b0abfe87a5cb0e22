package store

import (
	"context"
	"database/sql"

	"custos/internal/crm"
)

const contactCols = `t.id, COALESCE(t.owner_id, 0), COALESCE(u.display_name, ''), COALESCE(t.customer_id, 0), COALESCE(c.name, ''),
	t.name, t.title, t.mobile, t.phone, t.email, t.wechat, t.notes, t.custom, t.person_key, t.created_by, t.updated_by, t.created_at, t.updated_at, t.version, t.deleted_at, t.archived_at`

const contactFrom = " FROM contacts t LEFT JOIN users u ON u.id = t.owner_id LEFT JOIN customers c ON c.id = t.customer_id"

func scanContact(row scanner) (crm.Contact, error) {
	var t crm.Contact
	var created, updated int64
	var deleted, archived sql.NullInt64
	var custom string
	err := row.Scan(&t.ID, &t.OwnerID, &t.OwnerName, &t.CustomerID, &t.CustomerName, &t.Name, &t.Title, &t.Mobile, &t.Phone,
		&t.Email, &t.WeChat, &t.Notes, &custom, &t.DataKey, &t.CreatedBy, &t.UpdatedBy, &created, &updated, &t.Version, &deleted, &archived)
	if err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt, t.DeletedAt, t.ArchivedAt = fromMS(created), fromMS(updated), fromNullMS(deleted), fromNullMS(archived)
	t.Custom, err = decodeCustom(custom)
	return t, err
}

// InsertContact stores a new contact.
func (tx *Tx) InsertContact(ctx context.Context, t *crm.Contact) error {
	f := &t.ContactFields
	err := tx.q.QueryRowContext(ctx, `INSERT INTO contacts (owner_id, customer_id, name, title, mobile, phone, email, wechat, notes,
		custom, created_by, updated_by, created_at, updated_at, version, person_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11,$12,$12,1,$13) RETURNING id`,
		nullID(t.OwnerID), nullID(f.CustomerID), f.Name, f.Title, f.Mobile, f.Phone, f.Email, f.WeChat, f.Notes, encodeCustom(f.Custom),
		t.CreatedBy, ms(t.CreatedAt), t.DataKey).Scan(&t.ID)
	t.Version = 1
	return mapErr("insert contact", err)
}

// UpdateContact stores the editable fields if the version is current and
// the row is still under the data key they were sealed with (a concurrent
// re-encryption makes the write stale rather than mixing keys).
func (tx *Tx) UpdateContact(ctx context.Context, t *crm.Contact) error {
	f := &t.ContactFields
	res, err := tx.q.ExecContext(ctx, `UPDATE contacts SET customer_id=$1, name=$2, title=$3, mobile=$4, phone=$5, email=$6, wechat=$7,
		notes=$8, custom=$9, updated_by=$10, updated_at=$11, person_key=$14, version = version + 1
		WHERE id = $12 AND version = $13 AND deleted_at IS NULL AND (person_key = $14 OR person_key = '')`,
		nullID(f.CustomerID), f.Name, f.Title, f.Mobile, f.Phone, f.Email, f.WeChat, f.Notes, encodeCustom(f.Custom), t.UpdatedBy,
		ms(t.UpdatedAt), t.ID, t.Version, t.DataKey)
	if err := expectOne(res, err, "contact"); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return crm.ErrStale()
		}
		return err
	}
	t.Version++
	return nil
}

// ContactQuery is a scoped contact read.
type ContactQuery struct {
	Scope   ChildScope
	Deleted bool
	Terms   []string
	Key     *DedupKey
	Filter  crm.ListFilter
	Custom  []CustomMatch // custom field filters, all must match
}

// scopeWhere renders the part of where that keeps a read within the
// actor's scope and the live records (or the recycle bin).
func (q ContactQuery) scopeWhere(a *args) string {
	if q.Deleted {
		return q.Scope.cond("t", a) + " AND t.deleted_at IS NOT NULL"
	}
	return q.Scope.cond("t", a) + " AND t.deleted_at IS NULL"
}

func (q ContactQuery) where(tx *Tx, a *args) string {
	w := q.scopeWhere(a)
	if len(q.Terms) > 0 {
		w += " AND " + tx.termMatch("t.id", "contact", q.Terms, a)
	}
	if q.Key != nil {
		w += " AND " + keyMatch("t.id", "contact", *q.Key, a)
	}
	if q.Filter.CustomerID != 0 {
		w += " AND t.customer_id = " + a.add(q.Filter.CustomerID)
	}
	w += teamCond("t.owner_id", q.Filter.OwnerID, q.Filter.DeptID, a)
	return w + tx.customWhere("t.custom", q.Custom, a)
}

// GetContact returns one contact within the query's scope, or not found.
func (tx *Tx) GetContact(ctx context.Context, id int64, q ContactQuery) (crm.Contact, error) {
	var a args
	w := q.where(tx, &a)
	t, err := scanContact(tx.q.QueryRowContext(ctx, "SELECT "+contactCols+contactFrom+" WHERE t.id = "+a.add(id)+" AND "+w, a...))
	return t, mapErr("contact", err)
}

var contactSorts = map[string]sortSpec{
	"updated": {expr: "t.updated_at", desc: true},
	"created": {expr: "t.created_at", desc: true},
}

// ListContacts returns one page of contacts.
func (tx *Tx) ListContacts(ctx context.Context, q ContactQuery) ([]crm.Contact, string, error) {
	var a args
	return runPage(ctx, tx, q.page(tx, &a), &a)
}

// page is the pageQuery of q, its where rendered into a.
func (q ContactQuery) page(tx *Tx, a *args) pageQuery[crm.Contact] {
	return pageQuery[crm.Contact]{
		selectFrom: "SELECT " + contactCols + contactFrom, table: "contacts t", where: q.where(tx, a), scope: q.scopeWhere, idCol: "t.id",
		search: len(q.Terms) > 0, sorts: contactSorts, sortName: q.Filter.Sort, after: q.Filter.Cursor, limit: q.Filter.Limit,
		scan: scanContact,
		key:  func(t crm.Contact) (int64, int64, string) { return recordKey(q.Filter.Sort, t.Record) },
	}
}

// CountContacts counts, up to CountCap+1, the contacts the query reaches.
func (tx *Tx) CountContacts(ctx context.Context, q ContactQuery) (int, error) {
	var a args
	return countPage(ctx, tx, q.page(tx, &a), a, "count contacts")
}

// PersonKey returns the data key of a contact or lead ("" for a row sealed
// under none, or another object), deleted or not.
func (tx *Tx) PersonKey(ctx context.Context, o crm.Object, id int64) (string, error) {
	spec, ok := crm.Spec(o)
	if !ok || !spec.Personal {
		return "", nil
	}
	table := spec.Table
	var key string
	err := tx.q.QueryRowContext(ctx, "SELECT person_key FROM "+table+" WHERE id = $1", id).Scan(&key)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return key, mapErr("person key", err)
}

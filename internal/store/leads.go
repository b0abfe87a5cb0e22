package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

const leadCols = `l.id, COALESCE(l.owner_id, 0), COALESCE(u.display_name, ''), l.name, l.company, l.title, l.mobile, l.email, l.wechat,
	l.source, l.notes, l.custom, l.person_key, l.status, COALESCE(l.customer_id, 0), COALESCE(l.contact_id, 0), COALESCE(l.opportunity_id, 0), l.converted_at,
	l.created_by, l.updated_by, l.created_at, l.updated_at, l.version, l.deleted_at, l.archived_at`

const leadFrom = " FROM leads l LEFT JOIN users u ON u.id = l.owner_id"

func scanLead(row scanner) (crm.Lead, error) {
	var l crm.Lead
	var created, updated int64
	var converted, deleted, archived sql.NullInt64
	var custom string
	err := row.Scan(&l.ID, &l.OwnerID, &l.OwnerName, &l.Name, &l.Company, &l.Title, &l.Mobile, &l.Email, &l.WeChat, &l.Source,
		&l.Notes, &custom, &l.DataKey, &l.Status, &l.CustomerID, &l.ContactID, &l.OpportunityID, &converted, &l.CreatedBy, &l.UpdatedBy, &created, &updated,
		&l.Version, &deleted, &archived)
	if err != nil {
		return l, err
	}
	l.CreatedAt, l.UpdatedAt, l.ConvertedAt, l.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(converted), fromNullMS(deleted)
	l.ArchivedAt = fromNullMS(archived)
	l.Custom, err = decodeCustom(custom)
	return l, err
}

// InsertLead stores a new lead.
func (tx *Tx) InsertLead(ctx context.Context, l *crm.Lead) error {
	f := &l.LeadFields
	err := tx.q.QueryRowContext(ctx, `INSERT INTO leads (owner_id, name, company, title, mobile, email, wechat, source, notes, custom, status,
		created_by, updated_by, created_at, updated_at, version, person_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12,$13,$13,1,$14) RETURNING id`,
		nullID(l.OwnerID), f.Name, f.Company, f.Title, f.Mobile, f.Email, f.WeChat, f.Source, f.Notes, encodeCustom(f.Custom), l.Status,
		l.CreatedBy, ms(l.CreatedAt), l.DataKey).Scan(&l.ID)
	l.Version = 1
	return mapErr("insert lead", err)
}

// UpdateLead stores the editable fields and status if the version is
// current and the row is still under the data key they were sealed with.
func (tx *Tx) UpdateLead(ctx context.Context, l *crm.Lead) error {
	f := &l.LeadFields
	res, err := tx.q.ExecContext(ctx, `UPDATE leads SET name=$1, company=$2, title=$3, mobile=$4, email=$5, wechat=$6, source=$7,
		notes=$8, custom=$9, status=$10, updated_by=$11, updated_at=$12, person_key=$15, version = version + 1
		WHERE id = $13 AND version = $14 AND deleted_at IS NULL AND (person_key = $15 OR person_key = '')`,
		f.Name, f.Company, f.Title, f.Mobile, f.Email, f.WeChat, f.Source, f.Notes, encodeCustom(f.Custom), l.Status, l.UpdatedBy,
		ms(l.UpdatedAt), l.ID, l.Version, l.DataKey)
	return staleOrNil(res, err, "lead", &l.Version)
}

// MarkLeadConverted links a lead to what it became.
func (tx *Tx) MarkLeadConverted(ctx context.Context, l *crm.Lead, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE leads SET status='converted', customer_id=$1, contact_id=$2, opportunity_id=$3,
		converted_at=$4, updated_by=$5, updated_at=$4, version = version + 1 WHERE id = $6 AND version = $7 AND deleted_at IS NULL`,
		nullID(l.CustomerID), nullID(l.ContactID), nullID(l.OpportunityID), ms(at), l.UpdatedBy, l.ID, l.Version)
	return staleOrNil(res, err, "lead", &l.Version)
}

// staleOrNil checks a versioned update: no row means someone else changed
// the record first. On success it bumps *version.
func staleOrNil(res sql.Result, err error, what string, version *int64) error {
	if err := expectOne(res, err, what); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return crm.ErrStale()
		}
		return err
	}
	*version++
	return nil
}

// LeadQuery is a scoped lead read.
type LeadQuery struct {
	Scope  Scope
	Terms  []string
	Key    *DedupKey
	Filter crm.ListFilter
	Custom []CustomMatch // custom field filters, all must match
}

// scopeWhere renders the part of where that keeps a read within the
// actor's scope and the live records.
func (q LeadQuery) scopeWhere(a *args) string {
	return recordCond(q.Scope, "l.id", "l.owner_id", a) + " AND l.deleted_at IS NULL"
}

func (q LeadQuery) where(tx *Tx, a *args) string {
	w := q.scopeWhere(a)
	if len(q.Terms) > 0 {
		w += " AND " + tx.termMatch("l.id", "lead", q.Terms, a)
	}
	if q.Key != nil {
		w += " AND " + keyMatch("l.id", "lead", *q.Key, a)
	}
	if q.Filter.Status != "" {
		w += " AND l.status = " + a.add(q.Filter.Status)
	}
	w += teamCond("l.owner_id", q.Filter.OwnerID, q.Filter.DeptID, a)
	w += drillWhere(crm.ObjLead, "l", q.Filter.Drill, a)
	return w + tx.customWhere("l.custom", q.Custom, a)
}

// GetLead returns one lead within the scope, or not found.
func (tx *Tx) GetLead(ctx context.Context, id int64, q LeadQuery) (crm.Lead, error) {
	var a args
	w := q.where(tx, &a)
	l, err := scanLead(tx.q.QueryRowContext(ctx, "SELECT "+leadCols+leadFrom+" WHERE l.id = "+a.add(id)+" AND "+w, a...))
	return l, mapErr("lead", err)
}

var leadSorts = map[string]sortSpec{"updated": {expr: "l.updated_at", desc: true}, "created": {expr: "l.created_at", desc: true}}

// ListLeads returns one page of leads.
func (tx *Tx) ListLeads(ctx context.Context, q LeadQuery) ([]crm.Lead, string, error) {
	var a args
	return runPage(ctx, tx, q.page(tx, &a), &a)
}

// page is the pageQuery of q, its where rendered into a.
func (q LeadQuery) page(tx *Tx, a *args) pageQuery[crm.Lead] {
	return pageQuery[crm.Lead]{
		selectFrom: "SELECT " + leadCols + leadFrom, table: "leads l", where: q.where(tx, a), scope: q.scopeWhere, idCol: "l.id",
		search: len(q.Terms) > 0, sorts: leadSorts, sortName: q.Filter.Sort, after: q.Filter.Cursor, limit: q.Filter.Limit,
		scan: scanLead,
		key:  func(l crm.Lead) (int64, int64, string) { return recordKey(q.Filter.Sort, l.Record) },
	}
}

// CountLeads counts, up to CountCap+1, the leads the query reaches.
func (tx *Tx) CountLeads(ctx context.Context, q LeadQuery) (int, error) {
	var a args
	return countPage(ctx, tx, q.page(tx, &a), a, "count leads")
}

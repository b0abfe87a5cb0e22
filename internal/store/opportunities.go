package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// ListStages returns the pipeline stages in order.
func (tx *Tx) ListStages(ctx context.Context) ([]crm.Stage, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id, name, name_en, position, probability, kind, active FROM stages ORDER BY position, id")
	if err != nil {
		return nil, mapErr("list stages", err)
	}
	defer rows.Close()
	var out []crm.Stage
	for rows.Next() {
		var s crm.Stage
		if err := rows.Scan(&s.ID, &s.Name, &s.NameEn, &s.Position, &s.Probability, &s.Kind, &s.Active); err != nil {
			return nil, mapErr("scan stage", err)
		}
		out = append(out, s)
	}
	return out, mapErr("list stages", rows.Err())
}

// SaveStage inserts (ID 0) or updates a stage.
func (tx *Tx) SaveStage(ctx context.Context, s *crm.Stage) error {
	if s.ID == 0 {
		err := tx.q.QueryRowContext(ctx, "INSERT INTO stages (name, name_en, position, probability, kind, active) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
			s.Name, s.NameEn, s.Position, s.Probability, s.Kind, s.Active).Scan(&s.ID)
		return mapErr("insert stage", err)
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE stages SET name=$1, name_en=$2, position=$3, probability=$4, kind=$5, active=$6 WHERE id=$7",
		s.Name, s.NameEn, s.Position, s.Probability, s.Kind, s.Active, s.ID)
	return expectOne(res, err, "stage")
}

const opportunityCols = `o.id, o.owner_id, COALESCE(u.display_name, ''), o.customer_id, COALESCE(c.name, ''), o.name, o.amount, o.currency,
	o.expected_close_date, o.stage_id, o.probability, o.lost_reason, o.stage_changed_at, o.closed_at, o.custom, o.created_by, o.updated_by,
	o.created_at, o.updated_at, o.version, o.deleted_at`

const opportunityFrom = " FROM opportunities o LEFT JOIN users u ON u.id = o.owner_id LEFT JOIN customers c ON c.id = o.customer_id"

func scanOpportunity(row scanner) (crm.Opportunity, error) {
	var o crm.Opportunity
	var changed, created, updated int64
	var closed, deleted sql.NullInt64
	var custom string
	err := row.Scan(&o.ID, &o.OwnerID, &o.OwnerName, &o.CustomerID, &o.CustomerName, &o.Name, &o.Amount, &o.Currency,
		&o.ExpectedCloseDate, &o.StageID, &o.Probability, &o.LostReason, &changed, &closed, &custom, &o.CreatedBy, &o.UpdatedBy,
		&created, &updated, &o.Version, &deleted)
	if err != nil {
		return o, err
	}
	o.StageChangedAt, o.CreatedAt, o.UpdatedAt = fromMS(changed), fromMS(created), fromMS(updated)
	o.ClosedAt, o.DeletedAt = fromNullMS(closed), fromNullMS(deleted)
	o.Custom, err = decodeCustom(custom)
	return o, err
}

// InsertOpportunity stores a new opportunity and its first stage change.
func (tx *Tx) InsertOpportunity(ctx context.Context, o *crm.Opportunity) error {
	f := &o.OpportunityFields
	err := tx.q.QueryRowContext(ctx, `INSERT INTO opportunities (owner_id, customer_id, name, amount, currency, expected_close_date,
		stage_id, probability, stage_changed_at, custom, created_by, updated_by, created_at, updated_at, version)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11,$9,$9,1) RETURNING id`,
		o.OwnerID, f.CustomerID, f.Name, f.Amount, f.Currency, f.ExpectedCloseDate, o.StageID, o.Probability, ms(o.CreatedAt),
		encodeCustom(f.Custom), o.CreatedBy).Scan(&o.ID)
	if err != nil {
		return mapErr("insert opportunity", err)
	}
	o.Version, o.StageChangedAt = 1, o.CreatedAt
	return tx.insertStageChange(ctx, o.ID, 0, o.StageID, o.CreatedAt, o.CreatedBy)
}

func (tx *Tx) insertStageChange(ctx context.Context, oppID, from, to int64, at time.Time, by int64) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO opportunity_stage_changes (opportunity_id, from_stage_id, to_stage_id, changed_at, changed_by) VALUES ($1,$2,$3,$4,$5)",
		oppID, nullID(from), to, ms(at), by)
	return mapErr("insert stage change", err)
}

// UpdateOpportunity stores the editable fields if the version is current.
func (tx *Tx) UpdateOpportunity(ctx context.Context, o *crm.Opportunity) error {
	f := &o.OpportunityFields
	res, err := tx.q.ExecContext(ctx, `UPDATE opportunities SET name=$1, amount=$2, currency=$3, expected_close_date=$4, custom=$5,
		updated_by=$6, updated_at=$7, version = version + 1 WHERE id = $8 AND version = $9 AND deleted_at IS NULL`,
		f.Name, f.Amount, f.Currency, f.ExpectedCloseDate, encodeCustom(f.Custom), o.UpdatedBy, ms(o.UpdatedAt), o.ID, o.Version)
	return staleOrNil(res, err, "opportunity", &o.Version)
}

// MoveOpportunity changes the stage if the version is current and records
// the change with its time.
func (tx *Tx) MoveOpportunity(ctx context.Context, o *crm.Opportunity, from int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE opportunities SET stage_id=$1, probability=$2, lost_reason=$3, stage_changed_at=$4,
		closed_at=$5, updated_by=$6, updated_at=$4, version = version + 1 WHERE id = $7 AND version = $8 AND deleted_at IS NULL`,
		o.StageID, o.Probability, o.LostReason, ms(o.StageChangedAt), msPtr(o.ClosedAt), o.UpdatedBy, o.ID, o.Version)
	if err := staleOrNil(res, err, "opportunity", &o.Version); err != nil {
		return err
	}
	return tx.insertStageChange(ctx, o.ID, from, o.StageID, o.StageChangedAt, o.UpdatedBy)
}

// StageChange is crm.StageChange: the type lives with the domain so no surface needs the store.
type StageChange = crm.StageChange

// ListStageChanges returns an opportunity's stage history, oldest first.
func (tx *Tx) ListStageChanges(ctx context.Context, oppID int64) ([]StageChange, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT COALESCE(from_stage_id, 0), to_stage_id, changed_at, changed_by FROM opportunity_stage_changes
		WHERE opportunity_id = $1 ORDER BY changed_at, id`, oppID)
	if err != nil {
		return nil, mapErr("list stage changes", err)
	}
	defer rows.Close()
	var out []StageChange
	for rows.Next() {
		var c StageChange
		var at int64
		if err := rows.Scan(&c.FromStageID, &c.ToStageID, &at, &c.ChangedBy); err != nil {
			return nil, mapErr("scan stage change", err)
		}
		c.ChangedAt = fromMS(at)
		out = append(out, c)
	}
	return out, mapErr("list stage changes", rows.Err())
}

// OpportunityQuery is a scoped opportunity read.
type OpportunityQuery struct {
	Scope  ChildScope
	Terms  []string
	Filter crm.ListFilter
	Custom []CustomMatch // custom field filters, all must match
	// StalledBefore narrows to open opportunities without a stage change
	// or a follow-up about them since this time (Filter.StalledDays).
	StalledBefore *time.Time
}

// stalledCond renders "the opportunity is open and nothing happened to it
// since cut": no stage change (stage_changed_at) and no live follow-up
// about it (follow_ups_opportunity, migration 0016).
func stalledCond(alias string, cut int64, a *args) string {
	c := a.add(cut)
	return alias + ".closed_at IS NULL AND " + alias + ".stage_changed_at < " + c +
		" AND EXISTS (SELECT 1 FROM stages st WHERE st.id = " + alias + ".stage_id AND st.kind = 'open')" +
		" AND NOT EXISTS (SELECT 1 FROM follow_ups sf WHERE sf.opportunity_id = " + alias + ".id AND sf.deleted_at IS NULL AND sf.occurred_at >= " + c + ")"
}

func (q OpportunityQuery) where(tx *Tx, a *args) string {
	w := q.Scope.cond("o", a) + " AND o.deleted_at IS NULL"
	if len(q.Terms) > 0 {
		w += " AND " + tx.termMatch("o.id", "opportunity", q.Terms, a)
	}
	if q.Filter.CustomerID != 0 {
		w += " AND o.customer_id = " + a.add(q.Filter.CustomerID)
	}
	if q.Filter.StageID != 0 {
		w += " AND o.stage_id = " + a.add(q.Filter.StageID)
	}
	w += teamCond("o.owner_id", q.Filter.OwnerID, q.Filter.DeptID, a)
	if q.StalledBefore != nil {
		w += " AND " + stalledCond("o", ms(*q.StalledBefore), a)
	}
	w += drillWhere(crm.ObjOpportunity, "o", q.Filter.Drill, a)
	return w + tx.customWhere("o.custom", q.Custom, a)
}

// GetOpportunity returns one opportunity within the scope, or not found.
func (tx *Tx) GetOpportunity(ctx context.Context, id int64, q OpportunityQuery) (crm.Opportunity, error) {
	var a args
	w := q.where(tx, &a)
	o, err := scanOpportunity(tx.q.QueryRowContext(ctx, "SELECT "+opportunityCols+opportunityFrom+" WHERE o.id = "+a.add(id)+" AND "+w, a...))
	return o, mapErr("opportunity", err)
}

var opportunitySorts = map[string]sortSpec{
	"updated": {expr: "o.updated_at", desc: true},
	"amount":  {expr: "o.amount", desc: true},
	"created": {expr: "o.created_at", desc: true},
}

// ListOpportunities returns one page of opportunities.
func (tx *Tx) ListOpportunities(ctx context.Context, q OpportunityQuery) ([]crm.Opportunity, string, error) {
	var a args
	return runPage(ctx, tx, pageQuery[crm.Opportunity]{
		selectFrom: "SELECT " + opportunityCols + opportunityFrom, where: q.where(tx, &a), idCol: "o.id",
		sorts: opportunitySorts, sortName: q.Filter.Sort, after: q.Filter.Cursor, limit: q.Filter.Limit, scan: scanOpportunity,
		key: func(o crm.Opportunity) (int64, int64, string) {
			switch q.Filter.Sort {
			case "amount":
				return o.ID, o.Amount, ""
			case "created":
				return o.ID, ms(o.CreatedAt), ""
			}
			return o.ID, ms(o.UpdatedAt), ""
		},
	}, &a)
}

// CountOpportunities counts, up to CountCap+1, the opportunities the query reaches.
func (tx *Tx) CountOpportunities(ctx context.Context, q OpportunityQuery) (int, error) {
	var a args
	var n int
	err := tx.q.QueryRowContext(ctx, cappedCount("FROM opportunities o WHERE "+q.where(tx, &a), &a), a...).Scan(&n)
	return n, mapErr("count opportunities", err)
}

// CustomerBound are the objects whose records cannot exist without their
// customer (customer_id is required): one cannot come back from the
// recycle bin before its customer, and the purge keeps a customer while
// one of them points at it.
var CustomerBound = []crm.Object{crm.ObjOpportunity, crm.ObjContract}

// CustomerLive reports whether the customer of a record of a CustomerBound
// object is out of the recycle bin.
func (tx *Tx) CustomerLive(ctx context.Context, o crm.Object, id int64) (bool, error) {
	var live bool
	r := recyclable[o]
	err := tx.q.QueryRowContext(ctx, "SELECT c.deleted_at IS NULL FROM "+r.table+" "+r.alias+" JOIN customers c ON c.id = "+r.alias+
		".customer_id WHERE "+r.alias+".id = $1", id).Scan(&live)
	return live, mapErr(string(o), err)
}

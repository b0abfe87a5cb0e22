package store

import (
	"context"
	"database/sql"

	"custos/internal/crm"
)

const contractCols = `ct.id, ct.owner_id, COALESCE(u.display_name, ''), ct.customer_id, COALESCE(c.name, ''), ct.opportunity_id, ct.number, ct.name,
	ct.amount, ct.currency, ct.signed_on, ct.starts_on, ct.ends_on, ct.status, ct.notes, ct.custom, ct.created_by, ct.updated_by,
	ct.created_at, ct.updated_at, ct.version, ct.deleted_at`

const contractFrom = " FROM contracts ct LEFT JOIN users u ON u.id = ct.owner_id LEFT JOIN customers c ON c.id = ct.customer_id"

func scanContract(row scanner) (crm.Contract, error) {
	var k crm.Contract
	var opp, deleted sql.NullInt64
	var created, updated int64
	var custom string
	err := row.Scan(&k.ID, &k.OwnerID, &k.OwnerName, &k.CustomerID, &k.CustomerName, &opp, &k.Number, &k.Name,
		&k.Amount, &k.Currency, &k.SignedOn, &k.StartsOn, &k.EndsOn, &k.Status, &k.Notes, &custom, &k.CreatedBy, &k.UpdatedBy,
		&created, &updated, &k.Version, &deleted)
	if err != nil {
		return k, err
	}
	k.OpportunityID = opp.Int64
	k.CreatedAt, k.UpdatedAt, k.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(deleted)
	k.Custom, err = decodeCustom(custom)
	return k, err
}

// InsertContract stores a new contract.
func (tx *Tx) InsertContract(ctx context.Context, k *crm.Contract) error {
	f := &k.ContractFields
	err := tx.q.QueryRowContext(ctx, `INSERT INTO contracts (owner_id, customer_id, opportunity_id, number, name, amount, currency,
		signed_on, starts_on, ends_on, status, notes, custom, created_by, updated_by, created_at, updated_at, version)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$14,$15,$15,1) RETURNING id`,
		k.OwnerID, f.CustomerID, nullID(f.OpportunityID), f.Number, f.Name, f.Amount, f.Currency, f.SignedOn, f.StartsOn, f.EndsOn,
		f.Status, f.Notes, encodeCustom(f.Custom), k.CreatedBy, ms(k.CreatedAt)).Scan(&k.ID)
	if err != nil {
		return mapErr("insert contract", err)
	}
	k.Version = 1
	return nil
}

// UpdateContract stores the editable fields if the version is current.
func (tx *Tx) UpdateContract(ctx context.Context, k *crm.Contract) error {
	f := &k.ContractFields
	res, err := tx.q.ExecContext(ctx, `UPDATE contracts SET opportunity_id=$1, number=$2, name=$3, amount=$4, currency=$5, signed_on=$6,
		starts_on=$7, ends_on=$8, status=$9, notes=$10, custom=$11, updated_by=$12, updated_at=$13, version = version + 1
		WHERE id = $14 AND version = $15 AND deleted_at IS NULL`,
		nullID(f.OpportunityID), f.Number, f.Name, f.Amount, f.Currency, f.SignedOn, f.StartsOn, f.EndsOn, f.Status, f.Notes,
		encodeCustom(f.Custom), k.UpdatedBy, ms(k.UpdatedAt), k.ID, k.Version)
	return staleOrNil(res, err, "contract", &k.Version)
}

// ContractQuery is a scoped contract read.
type ContractQuery struct {
	Scope  ChildScope
	Terms  []string
	Filter crm.ListFilter
	Custom []CustomMatch // custom field filters, all must match
}

func (q ContractQuery) where(tx *Tx, a *args) string {
	w := q.Scope.cond("ct", a) + " AND ct.deleted_at IS NULL"
	if len(q.Terms) > 0 {
		w += " AND " + tx.termMatch("ct.id", string(crm.ObjContract), q.Terms, a)
	}
	if q.Filter.CustomerID != 0 {
		w += " AND ct.customer_id = " + a.add(q.Filter.CustomerID)
	}
	if q.Filter.OpportunityID != 0 {
		w += " AND ct.opportunity_id = " + a.add(q.Filter.OpportunityID)
	}
	if q.Filter.Status != "" {
		w += " AND ct.status = " + a.add(q.Filter.Status)
	}
	w += teamCond("ct.owner_id", q.Filter.OwnerID, q.Filter.DeptID, a)
	return w + tx.customWhere("ct.custom", q.Custom, a)
}

// GetContract returns one contract within the scope, or not found.
func (tx *Tx) GetContract(ctx context.Context, id int64, q ContractQuery) (crm.Contract, error) {
	var a args
	w := q.where(tx, &a)
	k, err := scanContract(tx.q.QueryRowContext(ctx, "SELECT "+contractCols+contractFrom+" WHERE ct.id = "+a.add(id)+" AND "+w, a...))
	return k, mapErr("contract", err)
}

var contractSorts = map[string]sortSpec{
	"updated": {expr: "ct.updated_at", desc: true},
	"amount":  {expr: "ct.amount", desc: true},
	"created": {expr: "ct.created_at", desc: true},
}

// ListContracts returns one page of contracts.
func (tx *Tx) ListContracts(ctx context.Context, q ContractQuery) ([]crm.Contract, string, error) {
	var a args
	return runPage(ctx, tx, pageQuery[crm.Contract]{
		selectFrom: "SELECT " + contractCols + contractFrom, where: q.where(tx, &a), idCol: "ct.id",
		sorts: contractSorts, sortName: q.Filter.Sort, after: q.Filter.Cursor, limit: q.Filter.Limit, scan: scanContract,
		key: func(k crm.Contract) (int64, int64, string) {
			switch q.Filter.Sort {
			case "amount":
				return k.ID, k.Amount, ""
			case "created":
				return k.ID, ms(k.CreatedAt), ""
			}
			return k.ID, ms(k.UpdatedAt), ""
		},
	}, &a)
}

// CountContracts counts, up to CountCap+1, the contracts the query reaches.
func (tx *Tx) CountContracts(ctx context.Context, q ContractQuery) (int, error) {
	var a args
	var n int
	err := tx.q.QueryRowContext(ctx, cappedCount("FROM contracts ct WHERE "+q.where(tx, &a), &a), a...).Scan(&n)
	return n, mapErr("count contracts", err)
}

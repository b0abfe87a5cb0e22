package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"custos/internal/crm"
)

const customerCols = `c.id, COALESCE(c.owner_id, 0), COALESCE(u.display_name, ''), c.name, c.industry, c.level, c.source, c.status,
	c.province, c.city, c.address, c.website, c.phone, c.email, c.credit_code, c.tags, c.custom, c.last_followed_up_at, c.next_follow_up_at,
	c.created_by, c.updated_by, c.created_at, c.updated_at, c.version, c.deleted_at`

// noTime sorts a missing time after every real one, on both databases
// (they disagree on where NULL sorts).
const (
	noTime    int64 = 9007199254740991
	noTimeSQL       = "9007199254740991"
)

const customerFrom = " FROM customers c LEFT JOIN users u ON u.id = c.owner_id"

func scanCustomer(row scanner) (crm.Customer, error) {
	var c crm.Customer
	var tags, custom string
	var last, next, deleted sql.NullInt64
	var created, updated int64
	err := row.Scan(&c.ID, &c.OwnerID, &c.OwnerName, &c.Name, &c.Industry, &c.Level, &c.Source, &c.Status,
		&c.Province, &c.City, &c.Address, &c.Website, &c.Phone, &c.Email, &c.CreditCode, &tags, &custom, &last, &next,
		&c.CreatedBy, &c.UpdatedBy, &created, &updated, &c.Version, &deleted)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	c.LastFollowedUpAt, c.NextFollowUpAt, c.DeletedAt = fromNullMS(last), fromNullMS(next), fromNullMS(deleted)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return c, fmt.Errorf("decode tags of customer %d: %w", c.ID, err)
	}
	c.Custom, err = decodeCustom(custom)
	return c, err
}

func encodeTags(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// InsertCustomer stores a new customer and sets its id.
func (tx *Tx) InsertCustomer(ctx context.Context, c *crm.Customer) error {
	f := &c.CustomerFields
	err := tx.q.QueryRowContext(ctx, `INSERT INTO customers (owner_id, name, industry, level, source, status, province, city,
		address, website, phone, email, credit_code, tags, custom, created_by, updated_by, created_at, updated_at, version)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17,$17,1) RETURNING id`,
		nullID(c.OwnerID), f.Name, f.Industry, f.Level, f.Source, f.Status, f.Province, f.City, f.Address, f.Website,
		f.Phone, f.Email, f.CreditCode, encodeTags(f.Tags), encodeCustom(f.Custom), c.CreatedBy, ms(c.CreatedAt)).Scan(&c.ID)
	c.Version = 1
	return mapErr("insert customer", err)
}

// UpdateCustomer stores the user-editable fields if the stored version is
// still c.Version, and bumps the version. A stale version changes nothing
// and returns crm.ErrStale.
func (tx *Tx) UpdateCustomer(ctx context.Context, c *crm.Customer) error {
	f := &c.CustomerFields
	res, err := tx.q.ExecContext(ctx, `UPDATE customers SET name=$1, industry=$2, level=$3, source=$4, status=$5, province=$6,
		city=$7, address=$8, website=$9, phone=$10, email=$11, credit_code=$12, tags=$13, custom=$14, updated_by=$15, updated_at=$16,
		version = version + 1 WHERE id = $17 AND version = $18 AND deleted_at IS NULL`,
		f.Name, f.Industry, f.Level, f.Source, f.Status, f.Province, f.City, f.Address, f.Website, f.Phone, f.Email,
		f.CreditCode, encodeTags(f.Tags), encodeCustom(f.Custom), c.UpdatedBy, ms(c.UpdatedAt), c.ID, c.Version)
	if err := expectOne(res, err, "customer"); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return crm.ErrStale()
		}
		return err
	}
	c.Version++
	return nil
}

// SetCustomerOwner moves a customer to a new owner (0: the public pool).
// Ownership is system-kept, so it bumps no version.
func (tx *Tx) SetCustomerOwner(ctx context.Context, id, ownerID, by int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE customers SET owner_id = $1, updated_by = $2, updated_at = $3 WHERE id = $4 AND deleted_at IS NULL",
		nullID(ownerID), by, ms(at), id)
	return expectOne(res, err, "customer")
}

// ClaimPoolCustomer gives a pool customer its first owner, and a next
// follow-up time of followUp unless one after the claim is already set. It
// changes nothing (and answers not found) unless the customer is live and
// still without an owner, so of two claims at once exactly one wins.
func (tx *Tx) ClaimPoolCustomer(ctx context.Context, id, ownerID int64, at, followUp time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE customers SET owner_id = $1, updated_by = $1, updated_at = $2,
		next_follow_up_at = CASE WHEN next_follow_up_at IS NULL OR next_follow_up_at < $2 THEN $3 ELSE next_follow_up_at END
		WHERE id = $4 AND owner_id IS NULL AND deleted_at IS NULL`, ownerID, ms(at), ms(followUp), id)
	return expectOne(res, err, "customer")
}

// SetCustomerDeleted moves a customer into the recycle bin (at non-nil) or
// back out of it (at nil).
func (tx *Tx) SetCustomerDeleted(ctx context.Context, id, by int64, at *time.Time, now time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE customers SET deleted_at = $1, updated_by = $2, updated_at = $3 WHERE id = $4",
		msPtr(at), by, ms(now), id)
	return expectOne(res, err, "customer")
}

// TouchCustomerFollowUp keeps the system fields last_followed_up_at and
// next_follow_up_at; it bumps no version, so it never causes a conflict.
func (tx *Tx) TouchCustomerFollowUp(ctx context.Context, id int64, at time.Time, next *time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE customers SET
		last_followed_up_at = CASE WHEN last_followed_up_at IS NULL OR last_followed_up_at < $1 THEN $1 ELSE last_followed_up_at END,
		next_follow_up_at = $2 WHERE id = $3`, ms(at), msPtr(next), id)
	return mapErr("touch customer follow-up", err)
}

// CustomerQuery is a scoped customer read.
type CustomerQuery struct {
	Scope       Scope
	PoolVisible bool      // pool customers (no owner) are visible too
	OnlyPool    bool      // only pool customers
	Deleted     bool      // the recycle bin instead of live records
	IDs         []int64   // restrict to these ids (search results)
	Terms       []string  // name search terms (all must match)
	Key         *DedupKey // exact phone / e-mail / credit code match
	Filter      crm.CustomerFilter
	Custom      []CustomMatch // custom field filters, all must match
	// DueFrom and DueBefore bound the next follow-up time (Filter.Due,
	// turned into times in the actor's zone by the service).
	DueFrom, DueBefore *time.Time
	// OrderedScan reads a large scope in sort order and filters owners on
	// the way, instead of gathering every owner's rows and sorting them:
	// the service sets it when the scope holds more than CountCap rows.
	OrderedScan bool

	probe bool // set by page: see searchProbe
}

// searchProbe reports whether a plain name search on SQLite finds its
// matches in customer_terms (migration 0026, termPass) and, past CountCap
// matches, checks them in the narrow index customers_search_probe (0024):
// every read commits its audit event, which empties the readers' page
// caches, so each candidate checked in the table costs a page read from the
// operating system (docs/benchmarks.md). Only when those hold all the query
// needs: no other filter, the default order.
func (q CustomerQuery) searchProbe(tx *Tx) bool {
	f := q.Filter
	return tx.d == SQLite && len(q.Terms) > 0 && !q.OrderedScan && q.Key == nil && len(q.IDs) == 0 &&
		len(q.Custom) == 0 && f.Level == "" && f.Status == "" && f.OwnerID == 0 && f.DeptID == 0 && f.Drill.IsZero() && q.DueBefore == nil && q.DueFrom == nil && (f.Sort == "" || f.Sort == "updated")
}

func (q CustomerQuery) where(tx *Tx, a *args) string {
	w := q.scopeWhere(a)
	if len(q.IDs) > 0 {
		w += " AND " + inList("c.id", q.IDs, a)
	}
	if len(q.Terms) > 0 {
		w += " AND " + tx.termMatch("c.id", "customer", q.Terms, a)
	}
	if q.Key != nil {
		w += " AND " + keyMatch("c.id", "customer", *q.Key, a)
	}
	f := q.Filter
	if f.Level != "" {
		w += " AND c.level = " + a.add(f.Level)
	}
	if f.Status != "" {
		w += " AND c.status = " + a.add(f.Status)
	}
	owner := "c.owner_id"
	if q.OrderedScan {
		owner = "+c.owner_id" // as in scopeWhere: the order's index, not the owner's
	}
	w += teamCond(owner, f.OwnerID, f.DeptID, a)
	if q.DueBefore != nil {
		// A range on the expression of customers_live_owner_next (0027).
		w += " AND COALESCE(c.next_follow_up_at, " + noTimeSQL + ") < " + a.add(ms(*q.DueBefore))
	}
	if q.DueFrom != nil {
		w += " AND c.next_follow_up_at >= " + a.add(ms(*q.DueFrom))
	}
	w += drillWhere(crm.ObjCustomer, "c", f.Drill, a)
	return w + tx.customWhere("c.custom", q.Custom, a)
}

// scopeWhere renders the part of where that keeps a read within the
// actor's scope and the live records (or the recycle bin).
func (q CustomerQuery) scopeWhere(a *args) string {
	owner := "c.owner_id"
	// A unary plus keeps the planner off the owner index. The pool keeps
	// it: its own indexes (migration 0027) hold its rows in every order.
	if q.OrderedScan && q.Scope.Kind != crm.ScopeOwn && !q.OnlyPool || q.probe {
		owner = "+c.owner_id"
	}
	deleted := "c.deleted_at IS NULL"
	if q.Deleted {
		deleted = "c.deleted_at IS NOT NULL"
	}
	return q.scopeOn("c.id", owner, deleted, a)
}

// scopeOn renders the scope condition on the given columns of a customer
// and the condition that it is live (or in the recycle bin).
func (q CustomerQuery) scopeOn(idCol, ownerCol, deleted string, a *args) string {
	var w string
	switch {
	case q.OnlyPool:
		w = ownerCol + " IS NULL"
	case q.PoolVisible:
		w = "(" + recordCond(q.Scope, idCol, ownerCol, a) + " OR " + ownerCol + " IS NULL)"
	default:
		w = recordCond(q.Scope, idCol, ownerCol, a)
	}
	return w + " AND " + deleted
}

// termPass finds a plain name search's matches in customer_terms (SQLite,
// migration 0026): a candidate's owner, deletion and update time lie beside
// its term, so checking ~500 candidates reads a few adjacent pages instead
// of a page of customers_search_probe each. Further terms are looked up by
// candidate in the same table.
func (q CustomerQuery) termPass() *matchSource {
	var a args
	w := "ct.term = " + a.add(q.Terms[0])
	for _, t := range q.Terms[1:] {
		w += " AND EXISTS (SELECT 1 FROM customer_terms x WHERE x.term = " + a.add(t) + " AND x.record_id = ct.record_id)"
	}
	deleted := "ct.deleted = 0"
	if q.Deleted {
		deleted = "ct.deleted = 1"
	}
	w += " AND " + q.scopeOn("ct.record_id", "ct.owner_id", deleted, &a)
	return &matchSource{table: "customer_terms ct", idCol: "ct.record_id", sortExpr: "ct.updated_at", where: w, args: a}
}

// GetCustomer returns one customer if it is within the query's scope;
// otherwise crm.ErrNotFound, exactly as if it did not exist.
func (tx *Tx) GetCustomer(ctx context.Context, id int64, q CustomerQuery) (crm.Customer, error) {
	var a args
	w := q.where(tx, &a)
	c, err := scanCustomer(tx.q.QueryRowContext(ctx, "SELECT "+customerCols+customerFrom+" WHERE c.id = "+a.add(id)+" AND "+w, a...))
	return c, mapErr("customer", err)
}

var customerSorts = map[string]sortSpec{
	"updated":        {expr: "c.updated_at", desc: true},
	"created":        {expr: "c.created_at", desc: true},
	"name":           {expr: "c.name", text: true},
	"next_follow_up": {expr: "COALESCE(c.next_follow_up_at, " + noTimeSQL + ")"},
}

// CustomerSorts lists the accepted sort names.
func CustomerSorts() []string { return []string{"updated", "created", "name", "next_follow_up"} }

// ListCustomers returns one page of customers and the cursor of the next
// page ("" on the last page).
func (tx *Tx) ListCustomers(ctx context.Context, q CustomerQuery) ([]crm.Customer, string, error) {
	var a args
	return runPage(ctx, tx, q.page(tx, &a), &a)
}

// page is the pageQuery of q, its where rendered into a.
func (q CustomerQuery) page(tx *Tx, a *args) pageQuery[crm.Customer] {
	table := "customers c"
	if q.probe = q.searchProbe(tx); q.probe {
		table = "customers c INDEXED BY customers_search_probe"
	}
	var pass *matchSource
	if q.probe {
		pass = q.termPass()
	}
	return pageQuery[crm.Customer]{
		selectFrom: "SELECT " + customerCols + customerFrom, table: table, where: q.where(tx, a), scope: q.scopeWhere, idCol: "c.id",
		pass: pass,
		// An ordered scan stops at the page: nothing to sort.
		search: len(q.Terms) > 0 && !q.OrderedScan,
		sorts:  customerSorts, sortName: q.Filter.Sort, after: q.Filter.Cursor, limit: q.Filter.Limit,
		scan: func(r scanner) (crm.Customer, error) { return scanCustomer(r) },
		key:  func(c crm.Customer) (int64, int64, string) { return customerKey(q.Filter.Sort, c) },
	}
}

func customerKey(sortName string, c crm.Customer) (int64, int64, string) {
	switch sortName {
	case "created":
		return c.ID, ms(c.CreatedAt), ""
	case "name":
		return c.ID, 0, c.Name
	case "next_follow_up":
		if c.NextFollowUpAt != nil {
			return c.ID, ms(*c.NextFollowUpAt), ""
		}
		return c.ID, noTime, ""
	}
	return c.ID, ms(c.UpdatedAt), ""
}

// CountCustomers counts the customers the query reaches, up to CountCap+1.
func (tx *Tx) CountCustomers(ctx context.Context, q CustomerQuery) (int, error) {
	var a args
	return countPage(ctx, tx, q.page(tx, &a), a, "count customers")
}

// Pool move kinds: a customer entering the public pool, or leaving it by a claim.
const (
	PoolEnter = "enter"
	PoolLeave = "leave"
)

// InsertPoolMoves records customers entering or leaving the public pool, in
// the transaction that moves them: the pool report counts these rows, since
// the audit trail that also names the moves is archived out of the
// database. ownerID is the owner on the owned side of the move (the owner
// left for an entry, the claimer for a claim).
func (tx *Tx) InsertPoolMoves(ctx context.Context, kind string, ownerID, actorID int64, at time.Time, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO pool_moves (customer_id, kind, owner_id, actor_id, at) VALUES ($1, $2, $3, $4, $5)",
			id, kind, ownerID, actorID, ms(at)); err != nil {
			return mapErr("insert pool move", err)
		}
	}
	return nil
}

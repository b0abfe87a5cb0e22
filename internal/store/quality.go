package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"custos/internal/crm"
)

// Data quality (issue 14 §4): each record's completeness score and
// problems are computed by one SQL expression per object, so the quality
// page, its drill-down and the fix-up job read the same figures, narrowed
// to a scope inside the SQL, without opening a sealed value: a sealed
// field's empty value is stored empty, so emptiness shows.

// QualitySpec is what the quality queries of one object need: the
// weights of its fields and the moment before which a record without a
// follow-up is stale.
type QualitySpec struct {
	Object      crm.Object
	Weights     []crm.QualityWeight
	StaleBefore time.Time
	// Dups, when set, marks the records in an open pair of the object's
	// latest duplicate scan whose other record the reader may see.
	Dups *DupScope
	// BelowScore, when positive, keeps only records scoring under it.
	BelowScore int
}

// DupScope is a duplicate scan's pairs as one reader may count them: a
// record counts as a possible duplicate only when the other record of its
// pair is within Partner (the reader's read scope), so a count never tells
// of a record the reader may not see.
type DupScope struct {
	ScanID  int64
	Partner NameScope
}

// QualityRecord is one record's quality: its score (0–100) and problems.
type QualityRecord struct {
	ID         int64
	OwnerID    int64
	CustomerID int64 // the customer a fix-up task links to: the record's own or its parent; 0 for none
	Score      float64
	Stale      bool
	Incomplete bool
	Invalid    bool
	Duplicate  bool
}

// QualityOwner sums the quality of one owner's records.
type QualityOwner struct {
	OwnerID    int64
	DeptID     int64
	Records    int
	ScoreSum   float64
	Stale      int
	Incomplete int
	Invalid    int
	Duplicate  int
}

// QualityFilter narrows QualityRecords: records with a problem (Issue ""
// any of them; crm.IssueAll every record), of an owner or of the owners of a department, after a
// record id (paging by id), at most Limit. LiveOwners keeps records whose
// owner is an active user (fix-up tasks go to them).
type QualityFilter struct {
	Scope      Scope
	Issue      crm.QualityIssue
	OwnerID    int64
	DeptID     int64
	After      int64
	Limit      int
	LiveOwners bool
	IDs        []int64 // only these records, when given
}

// creditCodeAlphabet and creditCodeWeights are GB 32100-2015's, as
// quality.CreditCode checks them; here they become SQL.
const creditCodeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// filled renders "the field holds a value" by how its type is stored:
// text as the empty string, amounts as 0, references as NULL.
func filled(col string, t crm.FieldType) string {
	switch t {
	case crm.TypeRef, crm.TypeStage, crm.TypeTime, crm.TypeBool:
		return col + " IS NOT NULL"
	case crm.TypeMoney, crm.TypePercent:
		return "COALESCE(" + col + ", 0) <> 0"
	case crm.TypeTags:
		return "COALESCE(" + col + ", '') NOT IN ('', '[]')"
	}
	return "COALESCE(" + col + ", '') <> ''"
}

// validCreditCode renders GB 32100-2015's check of a credit code column:
// 18 characters of the alphabet whose last is the check character.
func (tx *Tx) validCreditCode(col string) string {
	pos := "instr"
	if tx.d == Postgres {
		pos = "strpos"
	}
	val := func(i int) string { // the value of character i (1-based); -1 outside the alphabet
		return "(" + pos + "('" + creditCodeAlphabet + "', substr(" + col + ", " + strconv.Itoa(i) + ", 1)) - 1)"
	}
	var sum, in []string
	for i, w := range creditCodeWeights {
		sum = append(sum, strconv.Itoa(w)+"*"+val(i+1))
	}
	for i := 1; i <= 18; i++ {
		in = append(in, val(i)+" >= 0")
	}
	return "(length(" + col + ") = 18 AND " + strings.Join(in, " AND ") + " AND " + val(18) +
		" = (31 - (" + strings.Join(sum, " + ") + ") % 31) % 31)"
}

// qualitySelect renders the per-record query of an object: id, owner,
// customer, score and problems of its live owned records within the scope.
func (tx *Tx) qualitySelect(q QualitySpec, s Scope, a *args) (string, error) {
	spec, ok := crm.Spec(q.Object)
	if !ok {
		return "", fmt.Errorf("store: quality of unknown object %q", q.Object)
	}
	x := spec.Alias
	var num []string
	total := 0
	for _, w := range q.Weights {
		f, ok := spec.Field(w.Field)
		if !ok || w.Weight <= 0 {
			continue
		}
		total += w.Weight
		num = append(num, "CASE WHEN "+filled(x+"."+f.Column, f.Type)+" THEN "+strconv.Itoa(w.Weight)+" ELSE 0 END")
	}
	score := "CAST(100 AS DOUBLE PRECISION)"
	if total > 0 {
		score = "CAST((" + strings.Join(num, " + ") + ") * 100.0 / " + strconv.Itoa(total) + " AS DOUBLE PRECISION)"
	}
	var channels, invalid []string
	for _, f := range spec.Fields {
		if f.Channel {
			channels = append(channels, filled(x+"."+f.Column, f.Type))
		}
		if f.Type == crm.TypeCreditCode && !f.Sealed {
			invalid = append(invalid, "("+x+"."+f.Column+" <> '' AND NOT "+tx.validCreditCode(x+"."+f.Column)+")")
		}
	}
	incomplete := "FALSE"
	if len(channels) > 0 {
		incomplete = "NOT (" + strings.Join(channels, " OR ") + ")"
	}
	bad := "FALSE"
	if len(invalid) > 0 {
		bad = "(" + strings.Join(invalid, " OR ") + ")"
	}
	stale := "FALSE"
	if spec.FollowedUp {
		cut := a.add(ms(q.StaleBefore))
		if f, ok := spec.Field("last_followed_up_at"); ok {
			// Kept by every follow-up's write; a record never followed up
			// is stale once it is older than the window.
			stale = "COALESCE(" + x + "." + f.Column + ", " + x + ".created_at) < " + cut
		} else {
			col, err := followUpColumn(q.Object)
			if err != nil {
				return "", err
			}
			stale = x + ".created_at < " + cut + " AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f." + col + " = " + x +
				".id AND f.deleted_at IS NULL AND f.occurred_at >= " + cut + ")"
		}
	}
	customer := "NULL"
	if q.Object == crm.ObjCustomer {
		customer = x + ".id"
	} else if spec.Parent == crm.ObjCustomer {
		customer = x + ".customer_id"
	}
	dup := "FALSE"
	if d := q.Dups; d != nil {
		// Either side of a pair, each served by an index (0034, 0037).
		pair := func(self, other string) string {
			return "EXISTS (SELECT 1 FROM dup_pairs p JOIN " + spec.Table + " t2 ON t2.id = p." + other + " WHERE p.scan_id = " + a.add(d.ScanID) +
				" AND p." + self + " = " + x + ".id AND p.status = 'open' AND t2.deleted_at IS NULL AND " + d.Partner.condOn(q.Object, "t2", a) + ")"
		}
		dup = "(" + pair("id_a", "id_b") + " OR " + pair("id_b", "id_a") + ")"
	}
	where := x + ".deleted_at IS NULL AND " + x + ".owner_id IS NOT NULL AND " + ownerCond(s, x+".owner_id", a)
	if q.BelowScore > 0 && total > 0 {
		where += " AND " + score + " < " + a.add(q.BelowScore)
	}
	if _, ok := spec.Excluded["archived_at"]; ok {
		where += " AND " + x + ".archived_at IS NULL"
	}
	if f, ok := spec.Field("converted_at"); ok {
		where += " AND " + x + "." + f.Column + " IS NULL" // a converted record is history; what it became is checked
	}
	return "SELECT " + x + ".id AS id, " + x + ".owner_id AS owner_id, " + customer + " AS customer_id, " + score + " AS score, " +
		"CASE WHEN " + stale + " THEN 1 ELSE 0 END AS stale, CASE WHEN " + incomplete + " THEN 1 ELSE 0 END AS incomplete, " +
		"CASE WHEN " + bad + " THEN 1 ELSE 0 END AS invalid, CASE WHEN " + dup + " THEN 1 ELSE 0 END AS duplicate FROM " + spec.Table + " " + x + " WHERE " + where, nil
}

// followUpColumn is the column of follow_ups pointing at a record of o.
func followUpColumn(o crm.Object) (string, error) {
	spec, _ := crm.Spec(crm.ObjFollowUp)
	for _, f := range spec.Fields {
		if f.Type == crm.TypeRef && f.Ref == o {
			return f.Column, nil
		}
	}
	return "", fmt.Errorf("store: follow-ups do not point at %s", o)
}

// QualityByOwner sums the quality of an object's records per owner within
// the scope, with each owner's current department.
func (tx *Tx) QualityByOwner(ctx context.Context, q QualitySpec, s Scope) ([]QualityOwner, error) {
	var a args
	inner, err := tx.qualitySelect(q, s, &a)
	if err != nil {
		return nil, err
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT r.owner_id, COALESCE(u.department_id, 0), COUNT(*), SUM(r.score), SUM(r.stale), SUM(r.incomplete), SUM(r.invalid), SUM(r.duplicate)
		FROM (`+inner+`) r JOIN users u ON u.id = r.owner_id GROUP BY r.owner_id, u.department_id ORDER BY r.owner_id`, a...)
	if err != nil {
		return nil, mapErr("quality by owner", err)
	}
	defer rows.Close()
	var out []QualityOwner
	for rows.Next() {
		var o QualityOwner
		if err := rows.Scan(&o.OwnerID, &o.DeptID, &o.Records, &o.ScoreSum, &o.Stale, &o.Incomplete, &o.Invalid, &o.Duplicate); err != nil {
			return nil, mapErr("quality by owner", err)
		}
		out = append(out, o)
	}
	return out, mapErr("quality by owner", rows.Err())
}

// QualityRecords lists an object's records with their quality, narrowed
// by the filter, in id order.
func (tx *Tx) QualityRecords(ctx context.Context, q QualitySpec, f QualityFilter) ([]QualityRecord, error) {
	var a args
	inner, err := tx.qualitySelect(q, f.Scope, &a)
	if err != nil {
		return nil, err
	}
	where := []string{"r.id > " + a.add(f.After)}
	switch f.Issue {
	case crm.IssueStale, crm.IssueIncomplete, crm.IssueInvalid, crm.IssueDuplicate:
		where = append(where, "r."+string(f.Issue)+" = 1")
	case "":
		where = append(where, "(r.stale = 1 OR r.incomplete = 1 OR r.invalid = 1)")
	case crm.IssueAll:
	default:
		return nil, fmt.Errorf("store: unknown quality issue %q", f.Issue)
	}
	if f.OwnerID != 0 {
		where = append(where, "r.owner_id = "+a.add(f.OwnerID))
	}
	if f.DeptID != 0 {
		where = append(where, "r.owner_id IN (SELECT id FROM users WHERE department_id = "+a.add(f.DeptID)+")")
	}
	if len(f.IDs) > 0 {
		where = append(where, inList("r.id", f.IDs, &a))
	}
	if f.LiveOwners {
		where = append(where, "r.owner_id IN (SELECT id FROM users WHERE NOT disabled)")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT r.id, r.owner_id, r.customer_id, r.score, r.stale, r.incomplete, r.invalid, r.duplicate FROM ("+inner+") r WHERE "+
		strings.Join(where, " AND ")+" ORDER BY r.id LIMIT "+a.add(limit), a...)
	if err != nil {
		return nil, mapErr("quality records", err)
	}
	defer rows.Close()
	var out []QualityRecord
	for rows.Next() {
		var r QualityRecord
		var customer sql.NullInt64
		var stale, incomplete, invalid, duplicate int
		if err := rows.Scan(&r.ID, &r.OwnerID, &customer, &r.Score, &stale, &incomplete, &invalid, &duplicate); err != nil {
			return nil, mapErr("quality records", err)
		}
		r.CustomerID, r.Stale, r.Incomplete, r.Invalid, r.Duplicate = customer.Int64, stale == 1, incomplete == 1, invalid == 1, duplicate == 1
		out = append(out, r)
	}
	return out, mapErr("quality records", rows.Err())
}

// QualityWeights returns the weights an administrator set, per object
// (objects without rows are absent).
func (tx *Tx) QualityWeights(ctx context.Context) (map[crm.Object][]crm.QualityWeight, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT object, field, weight FROM quality_weights ORDER BY object, field")
	if err != nil {
		return nil, mapErr("quality weights", err)
	}
	defer rows.Close()
	out := map[crm.Object][]crm.QualityWeight{}
	for rows.Next() {
		var o string
		var w crm.QualityWeight
		if err := rows.Scan(&o, &w.Field, &w.Weight); err != nil {
			return nil, mapErr("quality weights", err)
		}
		out[crm.Object(o)] = append(out[crm.Object(o)], w)
	}
	return out, mapErr("quality weights", rows.Err())
}

// PutQualityWeights replaces an object's weights.
func (tx *Tx) PutQualityWeights(ctx context.Context, o crm.Object, ws []crm.QualityWeight) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM quality_weights WHERE object = $1", string(o)); err != nil {
		return mapErr("put quality weights", err)
	}
	for _, w := range ws {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO quality_weights (object, field, weight) VALUES ($1, $2, $3)", string(o), w.Field, w.Weight); err != nil {
			return mapErr("put quality weights", err)
		}
	}
	return nil
}

// QualityFixup is an open fix-up: the task pushed to a record's owner for
// one of its problems.
type QualityFixup struct {
	Object   crm.Object
	RecordID int64
	Reason   crm.QualityIssue
	TaskID   int64
}

// ClaimFixup records that a fix-up task for the record and reason is being
// made, unless one is open: false when another run (or instance) holds it.
// The primary key settles a race, not a prior read.
func (tx *Tx) ClaimFixup(ctx context.Context, f QualityFixup, at time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO quality_fixups (object, record_id, reason, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (object, record_id, reason) DO NOTHING`, string(f.Object), f.RecordID, string(f.Reason), ms(at))
	if err != nil {
		return false, mapErr("claim fix-up", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("claim fix-up", err)
}

// SetFixupTask links a claimed fix-up to its task.
func (tx *Tx) SetFixupTask(ctx context.Context, f QualityFixup) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE quality_fixups SET task_id = $1 WHERE object = $2 AND record_id = $3 AND reason = $4",
		f.TaskID, string(f.Object), f.RecordID, string(f.Reason))
	return mapErr("set fix-up task", err)
}

// ListFixups returns the open fix-ups of an object after a record id, in
// record order, at most limit.
func (tx *Tx) ListFixups(ctx context.Context, o crm.Object, after int64, limit int) ([]QualityFixup, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT record_id, reason, COALESCE(task_id, 0) FROM quality_fixups WHERE object = $1 AND record_id > $2
		ORDER BY record_id, reason LIMIT $3`, string(o), after, limit)
	if err != nil {
		return nil, mapErr("list fix-ups", err)
	}
	defer rows.Close()
	var out []QualityFixup
	for rows.Next() {
		f := QualityFixup{Object: o}
		var reason string
		if err := rows.Scan(&f.RecordID, &reason, &f.TaskID); err != nil {
			return nil, mapErr("list fix-ups", err)
		}
		f.Reason = crm.QualityIssue(reason)
		out = append(out, f)
	}
	return out, mapErr("list fix-ups", rows.Err())
}

// DeleteFixup ends a fix-up (its record was fixed or is gone): false when
// another run ended it first.
func (tx *Tx) DeleteFixup(ctx context.Context, f QualityFixup) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM quality_fixups WHERE object = $1 AND record_id = $2 AND reason = $3",
		string(f.Object), f.RecordID, string(f.Reason))
	if err != nil {
		return false, mapErr("delete fix-up", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("delete fix-up", err)
}

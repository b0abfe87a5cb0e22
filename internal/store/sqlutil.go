package store

import (
	"database/sql"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"custos/internal/crm"
)

// args collects positional parameters; add returns the placeholder. Both
// dialects accept $N (modernc binds $N by number), so SQL text is shared.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// bulkArgs are args for a statement with hundreds of parameters (a
// multi-row insert). modernc.org/sqlite binds $N by asking SQLite each
// parameter's name, which SQLite finds by walking the statement's list of
// names: the binding costs the square of the parameters (0.7 s per 20,000
// imported rows at 320 to a statement). An anonymous "?" has no name to
// look up and binds in order, so on SQLite these statements use it; the
// text then differs between the dialects, which is fine for a statement
// built per call.
type bulkArgs struct {
	args
	anon bool
}

func (tx *Tx) bulkArgs() *bulkArgs { return &bulkArgs{anon: tx.d == SQLite} }

func (a *bulkArgs) add(v any) string {
	if a.anon {
		a.args = append(a.args, v)
		return "?"
	}
	return a.args.add(v)
}

// ms stores a time as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msPtr stores an optional time; nil becomes SQL NULL.
func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Scope is the record scope of one read, computed by the access layer from
// the actor's role (crm.RecordScope); the store renders it as SQL.
type Scope = crm.RecordScope

// ownerCond renders the condition "owner column is within the scope".
func ownerCond(s Scope, col string, a *args) string {
	switch s.Kind {
	case crm.ScopeAll:
		return "TRUE"
	case crm.ScopeDepartment:
		return col + " IN (SELECT id FROM users WHERE department_id = " + a.add(s.DeptID) + ")"
	case crm.ScopeSubtree:
		// A prefix compare, not "LIKE $n": SQLite re-plans a statement whose
		// LIKE pattern is a parameter every time the parameter is bound,
		// which would defeat the statement cache (stmtcache.go).
		return col + " IN (SELECT u.id FROM users u JOIN departments d ON d.id = u.department_id WHERE substr(d.path, 1, " +
			a.add(utf8.RuneCountInString(s.DeptPath)) + ") = " + a.add(s.DeptPath) + ")"
	case crm.ScopeOwn:
		return col + " = " + a.add(s.UserID)
	}
	return "FALSE" // an unknown scope reaches nothing
}

// teamCond renders the owner and department filters of a list (" AND …",
// or "" without them). They are ANDed to the scope, so they only narrow it:
// a department outside the scope reaches nothing. The department reaches
// its subtree by the same path prefix as ScopeSubtree, with the prefix read
// from the department row so the statement text does not depend on it.
func teamCond(col string, ownerID, deptID int64, a *args) string {
	var w string
	if ownerID != 0 {
		w += " AND " + col + " = " + a.add(ownerID)
	}
	if deptID != 0 {
		w += " AND " + col + " IN (SELECT u.id FROM users u JOIN departments d ON d.id = u.department_id" +
			" JOIN departments f ON f.id = " + a.add(deptID) + " WHERE substr(d.path, 1, length(f.path)) = f.path)"
	}
	return w
}

// orderText makes text ordering byte-wise on both databases, so a cursor
// taken on one page finds the same next page everywhere.
func (tx *Tx) orderText(col string) string {
	if tx.d == Postgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// inList renders "col IN ($1,$2,...)" for a non-empty list.
func inList[T any](col string, vals []T, a *args) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.add(v)
	}
	return col + " IN (" + strings.Join(ph, ",") + ")"
}

// ChildScope is the scope of records that hang off a customer (contacts,
// opportunities, follow-ups, tasks): visible to whoever may see the customer,
// and to their own owner (DESIGN.md §4).
type ChildScope struct {
	Own      Scope // the actor's scope for the child object itself
	Customer Scope // the actor's scope for customers
}

// cond renders the visibility condition for a child table alias. For a
// rep (own scopes) the customers they own are few, so their ids are gathered
// once and both halves use indexes; for wider scopes gathering the ids of
// thousands of customers per query costs more than checking each candidate
// row's customer by primary key.
func (s ChildScope) cond(alias string, a *args) string {
	own := ownerCond(s.Own, alias+".owner_id", a)
	if s.Own.Kind == crm.ScopeAll {
		// Every record of the object is in scope: the customer half adds
		// nothing, and leaving it out lets an index cover a count (the
		// planner does not fold "TRUE OR …" away).
		return own
	}
	if s.Own.Kind == crm.ScopeOwn && s.Customer.Kind == crm.ScopeOwn {
		return "(" + own + " OR " + alias + ".customer_id IN (SELECT vc.id FROM customers vc WHERE vc.deleted_at IS NULL AND " +
			recordCond(s.Customer, "vc.id", "vc.owner_id", a) + "))"
	}
	return "(" + own + " OR EXISTS (SELECT 1 FROM customers vc WHERE vc.id = " + alias + ".customer_id AND vc.deleted_at IS NULL AND " +
		recordCond(s.Customer, "vc.id", "vc.owner_id", a) + "))"
}

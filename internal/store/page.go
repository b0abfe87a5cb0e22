package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"custos/internal/crm"
)

// sortSpec is one keyset ordering: expr is an int or text expression,
// followed by id as the tie-breaker in the same direction.
type sortSpec struct {
	expr string
	desc bool
	text bool
}

// cursor is the position after the last row of a page. It is opaque to
// clients (base64 JSON) and carries the sort it was made for, so a cursor
// from one ordering is never applied to another.
type cursor struct {
	Sort string `json:"s"`
	Int  int64  `json:"i,omitempty"`
	Text string `json:"t,omitempty"`
	ID   int64  `json:"id"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Sort != sort {
		return c, &crm.Error{Code: crm.Invalid, Message: "bad cursor", Fields: []crm.FieldError{{Field: "cursor", Rule: "format"}}}
	}
	return c, nil
}

// keyset renders the WHERE condition for rows after the cursor and the ORDER BY.
func (tx *Tx) keyset(spec sortSpec, idCol, sortName, after string, a *args) (where, order string, err error) {
	dir, cmp := "ASC", ">"
	if spec.desc {
		dir, cmp = "DESC", "<"
	}
	expr := spec.expr
	if spec.text {
		expr = tx.orderText(expr)
	}
	order = fmt.Sprintf("%s %s, %s %s", expr, dir, idCol, dir)
	if after == "" {
		return "TRUE", order, nil
	}
	c, err := decodeCursor(after, sortName)
	if err != nil {
		return "", "", err
	}
	var k any = c.Int
	if spec.text {
		k = c.Text
	}
	kp := a.add(k)
	idp := a.add(c.ID)
	// A row value, not "k < x OR (k = x AND id < y)": both databases turn
	// it into an index range, so a deep page costs what the first does.
	return fmt.Sprintf("(%s, %s) %s (%s, %s)", expr, idCol, cmp, kp, idp), order, nil
}

// pageLimit clamps a requested page size.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 20
	case n > 200:
		return 200
	}
	return n
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// pageQuery describes one keyset-paged list of T.
type pageQuery[T any] struct {
	selectFrom string // "SELECT ... FROM ... "
	where      string // already rendered with the args
	table      string // the table alone with its alias, as in selectFrom: "customers c"
	// search marks a name search. A search sorts all its matches; it finds
	// them once, with their count, in searchPass, and reads only the rows
	// of the page.
	search bool
	// scope renders the part of where that keeps rows within the actor's
	// scope (and live or deleted), for reading a search's page by id.
	scope    func(*args) string
	idCol    string
	sorts    map[string]sortSpec
	sortName string
	after    string // the cursor from the client
	limit    int
	scan     func(scanner) (T, error)
	key      func(T) (id int64, intKey int64, textKey string) // position of a row for the next cursor
	// pass, when set, is where searchPass finds a search's matches and
	// their sort keys instead of table and where (SQLite's customer_terms).
	// The page's rows are still read from table, within scope.
	pass *matchSource
}

// matchSource is where a search's matches are found when not in the list's
// own table: the ids and sort keys of the default order, under a condition
// rendered with its own arguments.
type matchSource struct {
	table, idCol, sortExpr, where string
	args                          args
}

// recordKey is the cursor position of a record in the "updated" or
// "created" order.
func recordKey(sort string, r crm.Record) (int64, int64, string) {
	if sort == "created" {
		return r.ID, ms(r.CreatedAt), ""
	}
	return r.ID, ms(r.UpdatedAt), ""
}

// spec returns the sort of q, defaulting to "updated".
func (q *pageQuery[T]) spec() (sortSpec, error) {
	if q.sortName == "" {
		q.sortName = "updated"
	}
	spec, ok := q.sorts[q.sortName]
	if !ok {
		return spec, &crm.Error{Code: crm.Invalid, Message: "unknown sort", Fields: []crm.FieldError{{Field: "sort", Rule: "enum", Param: strings.Join(slices.Sorted(maps.Keys(q.sorts)), ", ")}}}
	}
	return spec, nil
}

// searchResult is what one pass over a search's matches found: their count
// (up to CountCap+1) and, when it is not capped, the ids of the page asked
// for, one more than the limit when another page follows.
type searchResult struct {
	key   string // the search and page it answers
	total int
	ids   []int64
}

// searchPass finds the matches of a search (q.search) once for both
// the count and the page: the service reads both in one transaction, and
// matching a name's bigrams and checking the scope of every candidate is
// most of what a search costs. The matches (at most CountCap+1, as a count
// would stop) are kept with their sort key, counted, and sorted for the
// page. In a read transaction the result is remembered on tx, so the count
// and the list of one page, in either order, make one pass; it never
// outlives tx, and a write transaction, whose own writes could change the
// matches, remembers nothing. whereArgs are the arguments of q.where.
func searchPass[T any](ctx context.Context, tx *Tx, q pageQuery[T], whereArgs args) (*searchResult, error) {
	spec, err := q.spec()
	if err != nil {
		return nil, err
	}
	limit := pageLimit(q.limit)
	src := matchSource{table: q.table, idCol: q.idCol, sortExpr: spec.expr, where: q.where, args: whereArgs}
	if q.pass != nil {
		src = *q.pass
	}
	key := fmt.Sprintf("%s|%s|%#v|%s|%s|%d", src.table, src.where, []any(src.args), q.sortName, q.after, limit)
	if r := tx.search; tx.read && r != nil && r.key == key {
		return r, nil
	}
	a := slices.Clone(src.args)
	after, order, err := tx.keyset(sortSpec{expr: "k", desc: spec.desc, text: spec.text}, "id", q.sortName, q.after, &a)
	if err != nil {
		return nil, err
	}
	_, pageOrder, _ := tx.keyset(sortSpec{expr: "p.k", desc: spec.desc, text: spec.text}, "p.id", q.sortName, "", &a)
	query := "WITH m AS MATERIALIZED (SELECT " + src.idCol + " AS id, " + src.sortExpr + " AS k FROM " + src.table +
		" WHERE " + src.where + " LIMIT " + a.add(CountCap+1) + ")" +
		" SELECT n.total, p.id FROM (SELECT COUNT(*) AS total FROM m) n LEFT JOIN (SELECT id, k FROM m WHERE " + after +
		" ORDER BY " + order + " LIMIT " + a.add(limit+1) + ") p ON TRUE ORDER BY " + pageOrder
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, mapErr("search", err)
	}
	defer rows.Close()
	r := &searchResult{key: key}
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&r.total, &id); err != nil {
			return nil, mapErr("search", err)
		}
		if id.Valid {
			r.ids = append(r.ids, id.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("search", err)
	}
	if r.total > CountCap {
		r.ids = nil // the kept matches are not all of them: no page from them
	}
	if tx.read {
		tx.search = r
	}
	return r, nil
}

// runPage runs a pageQuery and returns the rows and the next cursor.
func runPage[T any](ctx context.Context, tx *Tx, q pageQuery[T], a *args) ([]T, string, error) {
	spec, err := q.spec()
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(q.limit)
	_, order, _ := tx.keyset(spec, q.idCol, q.sortName, "", a) // the order alone adds no arguments
	if q.search {
		r, err := searchPass(ctx, tx, q, *a)
		if err != nil {
			return nil, "", err
		}
		if r.total <= CountCap {
			if len(r.ids) == 0 {
				return []T{}, "", nil
			}
			// The page's rows by id, still within the actor's scope: on
			// PostgreSQL the pass and this read may see different snapshots.
			// (Matching the terms again would cost what the pass saved.)
			var b args
			where := inList(q.idCol, r.ids, &b) + " AND " + q.scope(&b)
			return readPage(ctx, tx, q, q.selectFrom+" WHERE "+where+" ORDER BY "+order+" LIMIT "+b.add(limit+1), b)
		}
	}
	after, _, err := tx.keyset(spec, q.idCol, q.sortName, q.after, a)
	if err != nil {
		return nil, "", err
	}
	where := q.where + " AND " + after
	if q.search {
		// More matches than a search keeps: sort their ids (the inner
		// alias is the outer one), then read the page's rows.
		where = q.idCol + " IN (SELECT " + q.idCol + " FROM " + q.table + " WHERE " + where + " ORDER BY " + order +
			" LIMIT " + a.add(limit+1) + ")"
	}
	return readPage(ctx, tx, q, q.selectFrom+" WHERE "+where+" ORDER BY "+order+" LIMIT "+a.add(limit+1), *a)
}

// readPage runs the query of a page (at most limit+1 rows) and returns the
// rows and the next cursor.
func readPage[T any](ctx context.Context, tx *Tx, q pageQuery[T], query string, a args) ([]T, string, error) {
	limit := pageLimit(q.limit)
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, "", mapErr("list", err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := q.scan(rows)
		if err != nil {
			return nil, "", mapErr("scan", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr("list", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	id, ik, tk := q.key(out[len(out)-1])
	return out, encodeCursor(cursor{Sort: q.sortName, ID: id, Int: ik, Text: tk}), nil
}

// countPage counts the rows of a pageQuery up to CountCap+1: a search
// through searchPass (which also finds the page the list will read), any
// other list with a capped count.
func countPage[T any](ctx context.Context, tx *Tx, q pageQuery[T], a args, op string) (int, error) {
	if q.search {
		r, err := searchPass(ctx, tx, q, a)
		if err != nil {
			return 0, err
		}
		return r.total, nil
	}
	var n int
	err := tx.q.QueryRowContext(ctx, cappedCount("FROM "+q.table+" WHERE "+q.where, &a), a...).Scan(&n)
	return n, mapErr(op, err)
}

// CountCap bounds the counts of lists: beyond it a list says "more than
// CountCap" instead of scanning every match on every page. Counts return at
// most CountCap+1.
const CountCap = 2000

// cappedCount renders a count of the rows of "FROM ... WHERE ..." that stops
// after CountCap+1 rows.
func cappedCount(fromWhere string, a *args) string {
	return "SELECT COUNT(*) FROM (SELECT 1 " + fromWhere + " LIMIT " + a.add(CountCap+1) + ") capped"
}

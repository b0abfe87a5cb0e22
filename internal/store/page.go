package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

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
	idCol      string
	sorts      map[string]sortSpec
	sortName   string
	after      string // the cursor from the client
	limit      int
	scan       func(scanner) (T, error)
	key        func(T) (id int64, intKey int64, textKey string) // position of a row for the next cursor
}

// runPage runs a pageQuery and returns the rows and the next cursor.
func runPage[T any](ctx context.Context, tx *Tx, q pageQuery[T], a *args) ([]T, string, error) {
	if q.sortName == "" {
		q.sortName = "updated"
	}
	spec, ok := q.sorts[q.sortName]
	if !ok {
		return nil, "", &crm.Error{Code: crm.Invalid, Message: "unknown sort", Fields: []crm.FieldError{{Field: "sort", Rule: "enum"}}}
	}
	after, order, err := tx.keyset(spec, q.idCol, q.sortName, q.after, a)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(q.limit)
	rows, err := tx.q.QueryContext(ctx, q.selectFrom+" WHERE "+q.where+" AND "+after+" ORDER BY "+order+" LIMIT "+a.add(limit+1), *a...)
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

// CountCap bounds the counts of lists: beyond it a list says "more than
// CountCap" instead of scanning every match on every page. Counts return at
// most CountCap+1.
const CountCap = 2000

// cappedCount renders a count of the rows of "FROM ... WHERE ..." that stops
// after CountCap+1 rows.
func cappedCount(fromWhere string, a *args) string {
	return "SELECT COUNT(*) FROM (SELECT 1 " + fromWhere + " LIMIT " + a.add(CountCap+1) + ") capped"
}

package store

import (
	"context"
	"slices"
	"strings"

	"custos/internal/crm"
)

// bulkRows are the rows of append-only tables a transaction holds back
// inside Tx.Bulk, to write them as multi-row inserts when it ends: a
// record's search terms, its versions, the audit events and the external
// ids an import gives records. An import batch wrote them with one
// statement each per record (four of its ~25 statements a row, and on
// PostgreSQL four round trips); held back, a batch of 200 rows writes
// them in a few dozen statements.
//
// Only tables the batch does not read back are held: the duplicate-check
// keys are written at once (the check of the next record reads them),
// and the external ids a read asks for are answered from the held rows
// too (ExternalRecords, ExternalIDsOf). A savepoint rolled back drops the
// rows held since it began.
type bulkRows struct {
	terms    []termRow
	versions []versionRow
	events   []*AuditEvent
	external []externalRow
}

type termRow struct {
	object string
	id     int64
	term   string
}

type versionRow struct {
	object crm.Object
	id     int64
	v      RecordVersion
}

type externalRow struct {
	object             crm.Object
	source, externalID string
	recordID, importID int64
}

// bulkMark is how many rows of each kind were held when a savepoint began.
type bulkMark struct{ terms, versions, events, external int }

func (b *bulkRows) mark() bulkMark {
	if b == nil {
		return bulkMark{}
	}
	return bulkMark{len(b.terms), len(b.versions), len(b.events), len(b.external)}
}

// undo drops the rows held since m.
func (b *bulkRows) undo(m bulkMark) {
	if b == nil {
		return
	}
	b.terms, b.versions, b.events, b.external = b.terms[:m.terms], b.versions[:m.versions], b.events[:m.events], b.external[:m.external]
}

// Bulk runs fn with the writes of search terms, versions, audit events
// and external ids held back, and writes them when fn returns, in as few
// statements as the parameter limits allow. The rows land in the same
// transaction as everything else fn writes, so the unit of work stays all
// or nothing; an event's ID is not known until then. When fn fails
// nothing held is written. Bulk does not nest.
func (tx *Tx) Bulk(ctx context.Context, fn func() error) error {
	if tx.bulk != nil {
		return fn()
	}
	tx.bulk = &bulkRows{}
	defer func() { tx.bulk = nil }()
	if err := fn(); err != nil {
		return err
	}
	return tx.flushBulk(ctx)
}

// bulkChunk bounds the parameters of one multi-row insert (bulkArgs; SQLite
// allows 32,766, PostgreSQL 65,535): past a few hundred rows a statement
// saves little more.
const bulkChunk = 800

// flushBulk writes the held rows: terms, versions, external ids, and the
// audit events last, in the order they were appended.
func (tx *Tx) flushBulk(ctx context.Context) error {
	b := tx.bulk
	tx.bulk = nil
	if err := insertRows(ctx, tx, b.terms, "insert search terms",
		"INSERT INTO search_terms (object, term, record_id) VALUES ", " ON CONFLICT DO NOTHING",
		func(a *bulkArgs, r termRow) string {
			return "(" + a.add(r.object) + ", " + a.add(r.term) + ", " + a.add(r.id) + ")"
		}); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, b.versions, "insert version",
		"INSERT INTO record_versions (object, record_id, version, fields, actor_id, actor_name, at) VALUES ", "",
		func(a *bulkArgs, r versionRow) string {
			return "(" + a.add(string(r.object)) + ", " + a.add(r.id) + ", " + a.add(r.v.Version) + ", " + a.add(string(r.v.Fields)) + ", " +
				a.add(r.v.ActorID) + ", " + a.add(r.v.ActorName) + ", " + a.add(ms(r.v.At)) + ")"
		}); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, b.external, "put external id",
		"INSERT INTO external_ids (object, source, external_id, record_id, import_id) VALUES ", "",
		func(a *bulkArgs, r externalRow) string {
			return "(" + a.add(string(r.object)) + ", " + a.add(r.source) + ", " + a.add(r.externalID) + ", " + a.add(r.recordID) + ", " +
				a.add(r.importID) + ")"
		}); err != nil {
		return err
	}
	return tx.insertAuditEvents(ctx, b.events)
}

// insertRows inserts rows with as many to a statement as bulkChunk
// parameters allow; row renders one row's values, adding its parameters.
func insertRows[R any](ctx context.Context, tx *Tx, rows []R, op, head, tail string, row func(a *bulkArgs, r R) string) error {
	for len(rows) > 0 {
		q, a, n := multiRow(tx, rows, head, tail, row)
		if _, err := tx.q.ExecContext(ctx, q, a...); err != nil {
			return mapErr(op, err)
		}
		rows = rows[n:]
	}
	return nil
}

// multiRow builds one multi-row statement from the first of rows: head, as
// many rows as bulkChunk parameters allow, tail. It returns the text, its
// parameters and how many rows it holds.
func multiRow[R any](tx *Tx, rows []R, head, tail string, row func(a *bulkArgs, r R) string) (string, []any, int) {
	a := tx.bulkArgs()
	var b strings.Builder
	b.WriteString(head)
	n := 0
	for n < len(rows) && len(a.args) < bulkChunk {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row(a, rows[n]))
		n++
	}
	b.WriteString(tail)
	return b.String(), a.args, n
}

// heldExternal answers a read of external ids from the rows Bulk holds.
func (tx *Tx) heldExternal(match func(r externalRow) bool, fn func(ext string, id int64)) {
	if tx.bulk == nil {
		return
	}
	for _, r := range tx.bulk.external {
		if match(r) {
			fn(r.externalID, r.recordID)
		}
	}
}

// dropHeldTerms forgets the held terms of a record whose terms are replaced.
func (tx *Tx) dropHeldTerms(object string, id int64) {
	if tx.bulk == nil {
		return
	}
	tx.bulk.terms = slices.DeleteFunc(tx.bulk.terms, func(r termRow) bool { return r.object == object && r.id == id })
}

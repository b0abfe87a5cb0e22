package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"custos/internal/crm"
)

// The duplicate finder's tables (issue 14 §3, schema 34): a scan's row, its
// scratch blocks (blind keys) and the pairs it kept.

// LiveRecordsAfter returns up to limit live records of o (pointers, as
// AnyRecord) with ids above after, in id order: the finder's scan pages
// through an object with it, in no actor's scope.
func (tx *Tx) LiveRecordsAfter(ctx context.Context, o crm.Object, after int64, limit int) ([]any, error) {
	r, ok := recordReaders[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	var a args
	q := r.sel + " WHERE " + r.alias + ".id > " + a.add(after) + " AND " + r.alias + ".deleted_at IS NULL ORDER BY " +
		r.alias + ".id LIMIT " + a.add(limit)
	return tx.readRecords(ctx, r, q, a)
}

// LiveRecordsByID returns the live records of o among ids, in id order.
func (tx *Tx) LiveRecordsByID(ctx context.Context, o crm.Object, ids []int64) ([]any, error) {
	r, ok := recordReaders[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	var out []any
	for _, chunk := range chunks(ids) {
		var a args
		q := r.sel + " WHERE " + inList(r.alias+".id", chunk, &a) + " AND " + r.alias + ".deleted_at IS NULL ORDER BY " + r.alias + ".id"
		recs, err := tx.readRecords(ctx, r, q, a)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

func (tx *Tx) readRecords(ctx context.Context, r recordReader, q string, a args) ([]any, error) {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, mapErr("read records", err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		rec, err := r.scan(rows)
		if err != nil {
			return nil, mapErr("read records", err)
		}
		out = append(out, rec)
	}
	return out, mapErr("read records", rows.Err())
}

// InsertDupScan stores a new scan (running) and sets its id.
func (tx *Tx) InsertDupScan(ctx context.Context, s *crm.DupScan) error {
	s.Status = crm.DupScanRunning
	err := tx.q.QueryRowContext(ctx, `INSERT INTO dup_scans (object, status, threshold, started_at) VALUES ($1, $2, $3, $4)
		RETURNING id`, string(s.Object), s.Status, s.Threshold, ms(s.StartedAt)).Scan(&s.ID)
	return mapErr("insert duplicate scan", err)
}

// FinishDupScan records a scan's outcome and counts.
func (tx *Tx) FinishDupScan(ctx context.Context, s crm.DupScan) error {
	var finished any
	if s.FinishedAt != nil {
		finished = ms(*s.FinishedAt)
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE dup_scans SET status = $1, finished_at = $2, records = $3, keys = $4,
		blocks_skipped = $5, candidates = $6, pairs = $7 WHERE id = $8`,
		s.Status, finished, s.Records, s.Keys, s.BlocksSkipped, s.Candidates, s.Pairs, s.ID)
	return mapErr("finish duplicate scan", err)
}

// LatestDupScan returns the newest finished scan of an object.
func (tx *Tx) LatestDupScan(ctx context.Context, o crm.Object) (crm.DupScan, error) {
	var s crm.DupScan
	var object string
	var started int64
	var finished sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `SELECT id, object, status, threshold, started_at, finished_at, records, keys,
		blocks_skipped, candidates, pairs FROM dup_scans WHERE object = $1 AND status = $2 ORDER BY id DESC LIMIT 1`,
		string(o), crm.DupScanDone).Scan(&s.ID, &object, &s.Status, &s.Threshold, &started, &finished, &s.Records, &s.Keys,
		&s.BlocksSkipped, &s.Candidates, &s.Pairs)
	s.Object, s.StartedAt, s.FinishedAt = crm.Object(object), fromMS(started), fromNullMS(finished)
	return s, mapErr("duplicate scan", err)
}

// DupBlock files one record under one blind key (64 bits of its HMAC).
// A key whose lowest bit is set is weak: its block pairs its records only
// while it is small (IndexDupBlocks).
type DupBlock struct {
	Key      int64
	RecordID int64
}

// PutDupBlocks files records under their blind blocking keys.
func (tx *Tx) PutDupBlocks(ctx context.Context, scanID int64, blocks []DupBlock) error {
	return tx.insertRows(ctx, "put duplicate blocks", "INSERT INTO dup_blocks (scan_id, record_id, key) VALUES ",
		" ON CONFLICT DO NOTHING", len(blocks), func(i int, a *args) []string {
			return []string{a.add(scanID), a.add(blocks[i].RecordID), a.add(blocks[i].Key)}
		})
}

// insertRows inserts n rows with one statement per batch: row renders the
// placeholders of row i. Batches of 100 rows stay under SQLite's parameter
// limit for up to nine columns.
func (tx *Tx) insertRows(ctx context.Context, what, head, tail string, n int, row func(i int, a *args) []string) error {
	for start := 0; start < n; start += 100 {
		var a args
		var b strings.Builder
		b.WriteString(head)
		for i := start; i < min(start+100, n); i++ {
			if i > start {
				b.WriteString(",")
			}
			b.WriteString("(" + strings.Join(row(i, &a), ",") + ")")
		}
		b.WriteString(tail)
		if _, err := tx.q.ExecContext(ctx, b.String(), a...); err != nil {
			return mapErr(what, err)
		}
	}
	return nil
}

// queryIDs runs a query returning one id column.
func (tx *Tx) queryIDs(ctx context.Context, what, q string, a ...any) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, mapErr(what, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(what, err)
		}
		out = append(out, id)
	}
	return out, mapErr(what, rows.Err())
}

// IndexDupBlocks writes a scan's blocks in key order (dup_keys), in one
// sorted statement, leaving out the blocks no pair comes from — keys only
// one record has — and those more than limit records share (a common
// surname's code pairs everyone with everyone; other keys still meet the
// true duplicates), or more than weakLimit for a weak key (lowest bit set):
// a block that grows with the data would make the pairs grow with its
// square. It returns how many oversized blocks it skipped.
func (tx *Tx) IndexDupBlocks(ctx context.Context, scanID int64, limit, weakLimit int) (int64, error) {
	// The casts tell PostgreSQL the limits' type (it infers text in a CASE).
	const over = `COUNT(*) > CASE WHEN (key & 1) = 1 THEN CAST($3 AS BIGINT) ELSE CAST($2 AS BIGINT) END`
	var skipped int64
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT key FROM dup_blocks WHERE scan_id = $1 GROUP BY key
		HAVING `+over+`) big`, scanID, limit, weakLimit).Scan(&skipped)
	if err != nil {
		return 0, mapErr("count oversized blocks", err)
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO dup_keys (scan_id, key, record_id)
		SELECT b.scan_id, b.key, b.record_id FROM dup_blocks b
		JOIN (SELECT key FROM dup_blocks WHERE scan_id = $1 GROUP BY key HAVING COUNT(*) >= 2 AND NOT `+over+`) k
		ON k.key = b.key WHERE b.scan_id = $1 ORDER BY b.key, b.record_id`, scanID, limit, weakLimit)
	return skipped, mapErr("index duplicate blocks", err)
}

// DupBlockRecordsAfter returns up to limit ids of records still in a
// scan's blocks above after, in order: the compare step walks them.
func (tx *Tx) DupBlockRecordsAfter(ctx context.Context, scanID, after int64, limit int) ([]int64, error) {
	return tx.queryIDs(ctx, "duplicate block records", `SELECT DISTINCT record_id FROM dup_blocks WHERE scan_id = $1
		AND record_id > $2 ORDER BY record_id LIMIT $3`, scanID, after, limit)
}

// DupCandidates returns the candidate pairs whose lower id lies in
// [from, to]: two records sharing a key, each pair once, ordered.
func (tx *Tx) DupCandidates(ctx context.Context, scanID, from, to int64) ([][2]int64, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT a.record_id, b.record_id FROM dup_blocks a
		JOIN dup_keys b ON b.scan_id = a.scan_id AND b.key = a.key AND b.record_id > a.record_id
		WHERE a.scan_id = $1 AND a.record_id >= $2 AND a.record_id <= $3 ORDER BY 1, 2`, scanID, from, to)
	if err != nil {
		return nil, mapErr("duplicate candidates", err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, mapErr("duplicate candidates", err)
		}
		out = append(out, p)
	}
	return out, mapErr("duplicate candidates", rows.Err())
}

// DropEarlierDupPairs removes the pairs of an object's scans before scanID:
// a finished scan replaces them. A pair someone dismissed as not a
// duplicate stays dismissed when the new scan finds it again.
func (tx *Tx) DropEarlierDupPairs(ctx context.Context, o crm.Object, scanID int64) error {
	if _, err := tx.q.ExecContext(ctx, `UPDATE dup_pairs SET status = $1 WHERE object = $2 AND scan_id = $3
		AND EXISTS (SELECT 1 FROM dup_pairs e WHERE e.object = $2 AND e.scan_id < $3 AND e.status = $1
			AND e.id_a = dup_pairs.id_a AND e.id_b = dup_pairs.id_b)`, crm.DupPairDismissed, string(o), scanID); err != nil {
		return mapErr("keep dismissed duplicate pairs", err)
	}
	_, err := tx.q.ExecContext(ctx, "DELETE FROM dup_pairs WHERE object = $1 AND scan_id < $2", string(o), scanID)
	return mapErr("drop earlier duplicate pairs", err)
}

// DropDupBlocks removes a scan's scratch blocks.
func (tx *Tx) DropDupBlocks(ctx context.Context, scanID int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM dup_keys WHERE scan_id = $1", scanID); err != nil {
		return mapErr("drop duplicate keys", err)
	}
	_, err := tx.q.ExecContext(ctx, "DELETE FROM dup_blocks WHERE scan_id = $1", scanID)
	return mapErr("drop duplicate blocks", err)
}

// PutDupPairs stores pairs a scan kept.
func (tx *Tx) PutDupPairs(ctx context.Context, pairs []crm.DupPair) error {
	return tx.insertRows(ctx, "put duplicate pairs", "INSERT INTO dup_pairs (scan_id, object, id_a, id_b, score, reasons, status) VALUES ",
		"", len(pairs), func(i int, a *args) []string {
			p := pairs[i]
			return []string{a.add(p.ScanID), a.add(string(p.Object)), a.add(p.IDA), a.add(p.IDB), a.add(p.Score), a.add(p.Reasons), a.add(crm.DupPairOpen)}
		})
}

// DupPairQuery is a scoped read of a scan's pairs: only pairs whose both
// records are live and within Scope, at or above MinScore, ordered by
// score (highest first) then ids, after the cursor pair.
type DupPairQuery struct {
	ScanID   int64
	Object   crm.Object
	Scope    NameScope
	MinScore float64
	After    *crm.DupPair
	Limit    int
	// Status narrows to pairs in one status ("": open ones).
	Status string
}

// DupPairs returns one page of a scan's pairs in the reader's scope.
func (tx *Tx) DupPairs(ctx context.Context, q DupPairQuery) ([]crm.DupPair, error) {
	table, ok := nameTables[q.Object]
	if !ok {
		return nil, crm.ErrNotFound(string(q.Object))
	}
	var a args
	status := q.Status
	if status == "" {
		status = crm.DupPairOpen
	}
	w := "p.scan_id = " + a.add(q.ScanID) + " AND p.status = " + a.add(status) + " AND p.score >= " + a.add(q.MinScore) +
		" AND EXISTS (SELECT 1 FROM " + table + " t WHERE t.id = p.id_a AND t.deleted_at IS NULL AND " + q.Scope.condOn(q.Object, "t", &a) + ")" +
		" AND EXISTS (SELECT 1 FROM " + table + " t WHERE t.id = p.id_b AND t.deleted_at IS NULL AND " + q.Scope.condOn(q.Object, "t", &a) + ")"
	if c := q.After; c != nil {
		s := a.add(c.Score)
		w += " AND (p.score < " + s + " OR (p.score = " + s + " AND (p.id_a > " + a.add(c.IDA) + " OR (p.id_a = " +
			a.add(c.IDA) + " AND p.id_b > " + a.add(c.IDB) + "))))"
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT p.scan_id, p.object, p.id_a, p.id_b, p.score, p.reasons, p.status FROM dup_pairs p WHERE "+
		w+" ORDER BY p.score DESC, p.id_a, p.id_b LIMIT "+a.add(q.Limit), a...)
	if err != nil {
		return nil, mapErr("duplicate pairs", err)
	}
	defer rows.Close()
	var out []crm.DupPair
	for rows.Next() {
		var p crm.DupPair
		var object string
		if err := rows.Scan(&p.ScanID, &object, &p.IDA, &p.IDB, &p.Score, &p.Reasons, &p.Status); err != nil {
			return nil, mapErr("duplicate pairs", err)
		}
		p.Object = crm.Object(object)
		out = append(out, p)
	}
	return out, mapErr("duplicate pairs", rows.Err())
}

// condOn renders the scope for a record of o under alias: through its
// parent for a record with one (ChildScope), else by owner and shares, the
// pool included for customers when it is visible.
func (s NameScope) condOn(o crm.Object, alias string, a *args) string {
	spec, _ := crm.Spec(o)
	if spec.Parent != "" {
		return s.Child.cond(alias, a)
	}
	cond := recordCond(s.Scope, alias+".id", alias+".owner_id", a)
	if o == crm.ObjCustomer && s.PoolVisible {
		cond = "(" + cond + " OR " + alias + ".owner_id IS NULL)"
	}
	return cond
}

// LastDupScanStart returns when the latest scan of an object (running,
// done or failed) started; ok is false if it was never scanned.
func (tx *Tx) LastDupScanStart(ctx context.Context, o crm.Object) (at time.Time, ok bool, err error) {
	var started sql.NullInt64
	err = tx.q.QueryRowContext(ctx, "SELECT MAX(started_at) FROM dup_scans WHERE object = $1", string(o)).Scan(&started)
	if err != nil || !started.Valid {
		return time.Time{}, false, mapErr("last duplicate scan", err)
	}
	return fromMS(started.Int64), true, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"custos/internal/crm"
)

const importColumns = `id, object, source, file_name, file_hash, file_size, data_key, options, status, total, done_rows,
	created, updated, skipped, failed, duplicates, created_by, created_at, started_at, finished_at, error`

// InsertImport stores a new import and sets its id.
func (tx *Tx) InsertImport(ctx context.Context, im *crm.Import) error {
	opts, err := json.Marshal(im.Options)
	if err != nil {
		return err
	}
	err = tx.q.QueryRowContext(ctx, `INSERT INTO imports (object, source, file_name, file_hash, file_size, data_key, options,
		status, total, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		string(im.Object), im.Source, im.FileName, im.FileHash, im.FileSize, im.DataKey, string(opts), string(im.Status),
		im.Total, im.CreatedBy, ms(im.CreatedAt)).Scan(&im.ID)
	return mapErr("insert import", err)
}

// GetImport returns one import.
func (tx *Tx) GetImport(ctx context.Context, id int64) (crm.Import, error) {
	row := tx.q.QueryRowContext(ctx, "SELECT "+importColumns+" FROM imports WHERE id = $1", id)
	im, err := scanImport(row.Scan)
	return im, mapErr("import", err)
}

// ListImports returns the latest imports, newest first: those one user
// made, or everyone's when createdBy is 0.
func (tx *Tx) ListImports(ctx context.Context, createdBy int64, limit int) ([]crm.Import, error) {
	var a args
	q := "SELECT " + importColumns + " FROM imports"
	if createdBy != 0 {
		q += " WHERE created_by = " + a.add(createdBy)
	}
	q += " ORDER BY id DESC LIMIT " + a.add(limit)
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, mapErr("list imports", err)
	}
	defer rows.Close()
	var out []crm.Import
	for rows.Next() {
		im, err := scanImport(rows.Scan)
		if err != nil {
			return nil, mapErr("list imports", err)
		}
		out = append(out, im)
	}
	return out, mapErr("list imports", rows.Err())
}

// ImportsWithStatus returns the ids of the imports in a status, oldest
// first: the queue of the commit job.
func (tx *Tx) ImportsWithStatus(ctx context.Context, status crm.ImportStatus, limit int) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM imports WHERE status = $1 ORDER BY id LIMIT $2", string(status), limit)
	if err != nil {
		return nil, mapErr("imports with status", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("imports with status", err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr("imports with status", rows.Err())
}

func scanImport(scan func(...any) error) (crm.Import, error) {
	var im crm.Import
	var object, opts, status string
	var created int64
	var started, finished sql.NullInt64
	err := scan(&im.ID, &object, &im.Source, &im.FileName, &im.FileHash, &im.FileSize, &im.DataKey, &opts, &status,
		&im.Total, &im.DoneRows, &im.Created, &im.Updated, &im.Skipped, &im.Failed, &im.Duplicates, &im.CreatedBy,
		&created, &started, &finished, &im.Error)
	if err != nil {
		return im, err
	}
	im.Object, im.Status, im.CreatedAt = crm.Object(object), crm.ImportStatus(status), fromMS(created)
	im.StartedAt, im.FinishedAt = fromNullMS(started), fromNullMS(finished)
	if err := json.Unmarshal([]byte(opts), &im.Options); err != nil {
		return im, fmt.Errorf("store: decode import options: %w", err)
	}
	return im, nil
}

// MoveImport changes an import's status if it is in one of from: the
// condition settles races (two commits, a commit and an undo) in the
// database. It reports whether the import moved.
func (tx *Tx) MoveImport(ctx context.Context, id int64, to crm.ImportStatus, now time.Time, from ...crm.ImportStatus) (bool, error) {
	var a args
	set := "status = " + a.add(string(to))
	switch to {
	case crm.ImportRunning:
		set += ", started_at = COALESCE(started_at, " + a.add(ms(now)) + "), error = ''"
	case crm.ImportDone, crm.ImportFailed, crm.ImportUndone:
		set += ", finished_at = " + a.add(ms(now))
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE imports SET "+set+" WHERE id = "+a.add(id)+" AND "+inList("status", from, &a), a...)
	n, err := affected(res, err, "move import")
	return n == 1, err
}

// FailImport marks a running import failed with the reason (resumable).
func (tx *Tx) FailImport(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE imports SET status = $1, error = $2, finished_at = $3 WHERE id = $4 AND status = $5",
		string(crm.ImportFailed), reason, ms(now), id, string(crm.ImportRunning))
	return mapErr("fail import", err)
}

// SetImportPlan records the preview's totals.
func (tx *Tx) SetImportPlan(ctx context.Context, id int64, total int, c crm.ImportCounts) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE imports SET total = $1, created = $2, updated = $3, skipped = $4, failed = $5,
		duplicates = $6 WHERE id = $7`, total, c.Created, c.Updated, c.Skipped, c.Failed, c.Duplicates, id)
	return mapErr("set import plan", err)
}

// AdvanceImport records a committed batch: the rows done so far and the
// counts. It runs in the batch's transaction, so the resume point and the
// records it covers commit together; it refuses (conflict) when the import
// is no longer at the expected point, which stops a second runner.
func (tx *Tx) AdvanceImport(ctx context.Context, id int64, fromRows, toRows int, c crm.ImportCounts) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE imports SET done_rows = $1, created = created + $2, updated = updated + $3,
		skipped = skipped + $4, failed = failed + $5, duplicates = duplicates + $6
		WHERE id = $7 AND done_rows = $8 AND status = $9`,
		toRows, c.Created, c.Updated, c.Skipped, c.Failed, c.Duplicates, id, fromRows, string(crm.ImportRunning))
	n, err := affected(res, err, "advance import")
	if err == nil && n != 1 {
		return &crm.Error{Code: crm.Conflict, Key: "import_moved", Message: "the import was changed by another run"}
	}
	return err
}

// ResetImportCounts clears the counts before a commit starts: the
// preview's planned counts give way to what the commit does.
func (tx *Tx) ResetImportCounts(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE imports SET created = 0, updated = 0, skipped = 0, failed = 0, duplicates = 0
		WHERE id = $1 AND done_rows = 0`, id)
	return mapErr("reset import counts", err)
}

// PutImportChunk stores one sealed piece of an import's file.
func (tx *Tx) PutImportChunk(ctx context.Context, id int64, seq int, data string) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO import_chunks (import_id, seq, data) VALUES ($1, $2, $3)", id, seq, data)
	return mapErr("put import chunk", err)
}

// ImportChunk returns one sealed piece of an import's file.
func (tx *Tx) ImportChunk(ctx context.Context, id int64, seq int) (string, error) {
	var data string
	err := tx.q.QueryRowContext(ctx, "SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2", id, seq).Scan(&data)
	return data, mapErr("import chunk", err)
}

// DropImportFile removes an import's stored file.
func (tx *Tx) DropImportFile(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM import_chunks WHERE import_id = $1", id)
	return mapErr("drop import file", err)
}

// PutImportRows stores rows of an import: the preview's plan, then the
// commit's outcome (which replaces the plan's action, record and reason).
func (tx *Tx) PutImportRows(ctx context.Context, id int64, rows []crm.ImportRow, raw []string) error {
	// As many rows to a statement as bulkChunk parameters allow, bound
	// without names (bulkArgs).
	const chunk = bulkChunk / 9
	for start := 0; start < len(rows); start += chunk {
		end := min(start+chunk, len(rows))
		a := tx.bulkArgs()
		var b strings.Builder
		b.WriteString(`INSERT INTO import_rows (import_id, line, planned, action, external_id, record_id, duplicate_of, reason, raw) VALUES `)
		for i := start; i < end; i++ {
			r := rows[i]
			if i > start {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "(%s,%s,%s,%s,%s,%s,%s,%s,%s)", a.add(id), a.add(r.Line), a.add(r.Planned), a.add(r.Action),
				a.add(r.ExternalID), a.add(r.RecordID), a.add(r.DuplicateOf), a.add(r.Reason), a.add(raw[i]))
		}
		b.WriteString(` ON CONFLICT (import_id, line) DO UPDATE SET action = excluded.action, record_id = excluded.record_id,
			duplicate_of = excluded.duplicate_of, reason = excluded.reason, raw = excluded.raw`)
		if _, err := tx.q.ExecContext(ctx, b.String(), a.args...); err != nil {
			return mapErr("put import rows", err)
		}
	}
	return nil
}

// ImportRows returns rows of an import after a line, in order; only those
// with a reason (failed, skipped or duplicate rows) when problems is set.
// raw is each row's sealed cells ("" when not kept).
func (tx *Tx) ImportRows(ctx context.Context, id int64, afterLine, limit int, problems bool) ([]crm.ImportRow, []string, error) {
	q := `SELECT line, planned, action, external_id, record_id, duplicate_of, reason, raw FROM import_rows
		WHERE import_id = $1 AND line > $2`
	if problems {
		q += " AND reason <> ''"
	}
	rows, err := tx.q.QueryContext(ctx, q+" ORDER BY line LIMIT $3", id, afterLine, limit)
	if err != nil {
		return nil, nil, mapErr("import rows", err)
	}
	defer rows.Close()
	var out []crm.ImportRow
	var raws []string
	for rows.Next() {
		var r crm.ImportRow
		var raw string
		if err := rows.Scan(&r.Line, &r.Planned, &r.Action, &r.ExternalID, &r.RecordID, &r.DuplicateOf, &r.Reason, &raw); err != nil {
			return nil, nil, mapErr("import rows", err)
		}
		out, raws = append(out, r), append(raws, raw)
	}
	return out, raws, mapErr("import rows", rows.Err())
}

// ExternalRecords returns the records that external ids of a source
// became (external id → record id); ids not known are left out.
func (tx *Tx) ExternalRecords(ctx context.Context, object crm.Object, source string, externalIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(externalIDs))
	for start := 0; start < len(externalIDs); start += 500 {
		var a args
		q := "SELECT external_id, record_id FROM external_ids WHERE object = " + a.add(string(object)) +
			" AND source = " + a.add(source) + " AND " + inList("external_id", externalIDs[start:min(start+500, len(externalIDs))], &a)
		if err := tx.scanExternal(ctx, q, a, func(ext string, id int64) { out[ext] = id }); err != nil {
			return nil, err
		}
	}
	tx.heldExternal(func(r externalRow) bool {
		return r.object == object && r.source == source && slices.Contains(externalIDs, r.externalID)
	}, func(ext string, id int64) { out[ext] = id })
	return out, nil
}

// ExternalIDsOf returns the external ids of records (record id → external
// id, of whichever source named it last).
func (tx *Tx) ExternalIDsOf(ctx context.Context, object crm.Object, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	for start := 0; start < len(ids); start += 500 {
		var a args
		q := "SELECT external_id, record_id FROM external_ids WHERE object = " + a.add(string(object)) +
			" AND " + inList("record_id", ids[start:min(start+500, len(ids))], &a) + " ORDER BY import_id"
		if err := tx.scanExternal(ctx, q, a, func(ext string, id int64) { out[id] = ext }); err != nil {
			return nil, err
		}
	}
	// Held rows are the newest import's: they name a record last.
	tx.heldExternal(func(r externalRow) bool {
		return r.object == object && slices.Contains(ids, r.recordID)
	}, func(ext string, id int64) { out[id] = ext })
	return out, nil
}

func (tx *Tx) scanExternal(ctx context.Context, q string, a args, fn func(ext string, id int64)) error {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return mapErr("external ids", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ext string
		var id int64
		if err := rows.Scan(&ext, &id); err != nil {
			return mapErr("external ids", err)
		}
		fn(ext, id)
	}
	return mapErr("external ids", rows.Err())
}

// PutExternalID records the record an external id of a source became.
func (tx *Tx) PutExternalID(ctx context.Context, object crm.Object, source, externalID string, recordID, importID int64) error {
	if tx.bulk != nil {
		tx.bulk.external = append(tx.bulk.external, externalRow{object, source, externalID, recordID, importID})
		return nil
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO external_ids (object, source, external_id, record_id, import_id)
		VALUES ($1,$2,$3,$4,$5)`, string(object), source, externalID, recordID, importID)
	return mapErr("put external id", err)
}

// SaveImportMapping stores a named mapping of an object, replacing one of
// the same name.
func (tx *Tx) SaveImportMapping(ctx context.Context, object crm.Object, name string, mapping []byte, by int64, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO import_mappings (object, name, mapping, created_by, created_at)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT (object, name) DO UPDATE SET mapping = excluded.mapping,
		created_by = excluded.created_by, created_at = excluded.created_at`, string(object), name, string(mapping), by, ms(now))
	return mapErr("save import mapping", err)
}

// ImportMappings returns an object's saved mappings by name.
func (tx *Tx) ImportMappings(ctx context.Context, object crm.Object) (map[string][]byte, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT name, mapping FROM import_mappings WHERE object = $1 ORDER BY name", string(object))
	if err != nil {
		return nil, mapErr("import mappings", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name, m string
		if err := rows.Scan(&name, &m); err != nil {
			return nil, mapErr("import mappings", err)
		}
		out[name] = []byte(m)
	}
	return out, mapErr("import mappings", rows.Err())
}

// ClearImportRows removes an import's planned rows before it is previewed
// again with other choices.
func (tx *Tx) ClearImportRows(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM import_rows WHERE import_id = $1", id)
	return mapErr("clear import rows", err)
}

// SetImportOptions records the choices a preview was made with.
func (tx *Tx) SetImportOptions(ctx context.Context, id int64, opts crm.ImportOptions) error {
	b, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	_, err = tx.q.ExecContext(ctx, "UPDATE imports SET options = $1 WHERE id = $2 AND status = $3", string(b), id, string(crm.ImportPreviewed))
	return mapErr("set import options", err)
}

// ImportsToForget returns imports that ended before a time and still hold
// their data key: their kept cells are to be forgotten.
func (tx *Tx) ImportsToForget(ctx context.Context, before time.Time, limit int) ([]crm.Import, error) {
	// A failed import nobody resumed is forgotten too: its file goes, and
	// with it the chance to resume.
	rows, err := tx.q.QueryContext(ctx, "SELECT "+importColumns+" FROM imports WHERE finished_at < $1 AND data_key <> '' AND status IN ($2, $3, $4) ORDER BY id LIMIT $5",
		ms(before), string(crm.ImportDone), string(crm.ImportUndone), string(crm.ImportFailed), limit)
	if err != nil {
		return nil, mapErr("imports to forget", err)
	}
	defer rows.Close()
	var out []crm.Import
	for rows.Next() {
		im, err := scanImport(rows.Scan)
		if err != nil {
			return nil, mapErr("imports to forget", err)
		}
		out = append(out, im)
	}
	return out, mapErr("imports to forget", rows.Err())
}

// ForgetImportData empties what an import kept of its file: the stored
// pieces, the rows' original cells and the key they were sealed under.
func (tx *Tx) ForgetImportData(ctx context.Context, id int64) error {
	if err := tx.DropImportFile(ctx, id); err != nil {
		return err
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE import_rows SET raw = '' WHERE import_id = $1 AND raw <> ''", id); err != nil {
		return mapErr("forget import rows", err)
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE imports SET data_key = '' WHERE id = $1", id)
	return mapErr("forget import key", err)
}

// recyclableTables are the tables of the objects an import's undo moves
// to the recycle bin.
var recyclableTables = tablesWhere(func(s crm.ObjectSpec) bool { return s.Recyclable })

// LiveVersion returns the version of a live record of any recyclable
// object (not found once it is deleted).
func (tx *Tx) LiveVersion(ctx context.Context, o crm.Object, id int64) (int64, error) {
	t, ok := recyclableTables[o]
	if !ok {
		return 0, crm.ErrNotFound(string(o))
	}
	var v int64
	err := tx.q.QueryRowContext(ctx, "SELECT version FROM "+t+" WHERE id = $1 AND deleted_at IS NULL", id).Scan(&v)
	return v, mapErr(string(o), err)
}

package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"custos/internal/crm"
)

const exportColumns = `e.id, e.user_id, COALESCE(u.display_name, ''), e.object, e.filter, e.query, e.format, e.rows, e.seed, e.status,
	e.approval_id, e.data_key, e.file, e.file_name, e.content_type, e.created_at, e.ready_at, e.expires_at, e.downloaded_at`

// exportListColumns leave the sealed file out: a list never needs it.
var exportListColumns = strings.Replace(exportColumns, "e.file,", "'' AS file,", 1)

const exportFrom = " FROM exports e LEFT JOIN users u ON u.id = e.user_id"

// InsertExport stores a new export and sets its id.
func (tx *Tx) InsertExport(ctx context.Context, e *crm.Export) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO exports (user_id, object, filter, query, format, rows, seed, status, approval_id,
		file_name, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		e.UserID, string(e.Object), e.Filter, e.Query, e.Format, e.Rows, e.Seed, string(e.Status), nullID(e.ApprovalID),
		e.FileName, ms(e.CreatedAt)).Scan(&e.ID)
	return mapErr("insert export", err)
}

// GetExport returns one export, its sealed seed and file included.
func (tx *Tx) GetExport(ctx context.Context, id int64) (crm.Export, error) {
	e, err := scanExport(tx.q.QueryRowContext(ctx, "SELECT "+exportColumns+exportFrom+" WHERE e.id = $1", id).Scan)
	return e, mapErr("export", err)
}

// ExportOfApproval returns the export an approval request is about.
func (tx *Tx) ExportOfApproval(ctx context.Context, approvalID int64) (crm.Export, error) {
	e, err := scanExport(tx.q.QueryRowContext(ctx, "SELECT "+exportColumns+exportFrom+" WHERE e.approval_id = $1", approvalID).Scan)
	return e, mapErr("export", err)
}

// SetExportApproval links a pending export to its approval request.
func (tx *Tx) SetExportApproval(ctx context.Context, id, approvalID int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE exports SET approval_id = $1 WHERE id = $2 AND status = $3",
		approvalID, id, string(crm.ExportPending))
	return exportMoved(res, err)
}

// exportMoved refuses an export update that found the export no longer
// in the state the caller read (a conflict, decided by the database).
func exportMoved(res sql.Result, err error) error {
	n, err := affected(res, err, "update export")
	if err == nil && n != 1 {
		return &crm.Error{Code: crm.Conflict, Key: "export_state", Message: "the export is no longer in that state"}
	}
	return err
}

// ListExports returns exports newest first, before the id before (0: from
// the newest), at most limit; userID 0 lists everyone's.
func (tx *Tx) ListExports(ctx context.Context, userID, before int64, limit int) ([]crm.Export, error) {
	var a args
	w := "TRUE"
	if userID != 0 {
		w += " AND e.user_id = " + a.add(userID)
	}
	if before != 0 {
		w += " AND e.id < " + a.add(before)
	}
	return tx.queryExports(ctx, "list exports", "SELECT "+exportListColumns+exportFrom+" WHERE "+w+" ORDER BY e.id DESC LIMIT "+a.add(limit), a...)
}

// queryExports runs a query of exports and scans them.
func (tx *Tx) queryExports(ctx context.Context, op, query string, a ...any) ([]crm.Export, error) {
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	out := []crm.Export{}
	for rows.Next() {
		e, err := scanExport(rows.Scan)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, e)
	}
	return out, mapErr(op, rows.Err())
}

// CountExportsSince counts the exports (asked for or written) a user made
// since a time: the export rate limit.
func (tx *Tx) CountExportsSince(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM exports WHERE user_id = $1 AND created_at >= $2", userID, ms(since)).Scan(&n)
	return n, mapErr("count exports", err)
}

// ReadyExport stores the sealed file of an approved export and moves it
// from pending to ready (a conditional write: carried out once).
func (tx *Tx) ReadyExport(ctx context.Context, e *crm.Export) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE exports SET status = $1, rows = $2, data_key = $3, file = $4, file_name = $5,
		content_type = $6, ready_at = $7, expires_at = $8 WHERE id = $9 AND status = $10`,
		string(crm.ExportReady), e.Rows, e.DataKey, e.File, e.FileName, e.ContentType, msPtr(e.ReadyAt), msPtr(e.ExpiresAt),
		e.ID, string(crm.ExportPending))
	return exportMoved(res, err)
}

// EndExport moves an export from one of the states from to a final one,
// dropping any sealed file; it reports whether the export moved, so of two
// downloads at once exactly one wins.
func (tx *Tx) EndExport(ctx context.Context, id int64, to crm.ExportStatus, now time.Time, from ...crm.ExportStatus) (bool, error) {
	var a args
	set := "status = " + a.add(string(to)) + ", file = ''"
	if to == crm.ExportDownloaded {
		set += ", downloaded_at = " + a.add(ms(now))
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE exports SET "+set+" WHERE id = "+a.add(id)+" AND "+inList("status", from, &a), a...)
	n, err := affected(res, err, "end export")
	return n == 1, err
}

// ExpiredExports returns the ready exports whose download time ran out.
func (tx *Tx) ExpiredExports(ctx context.Context, now time.Time, limit int) ([]crm.Export, error) {
	return tx.queryExports(ctx, "expired exports", "SELECT "+exportListColumns+exportFrom+" WHERE e.status = $1 AND e.expires_at < $2 ORDER BY e.id LIMIT $3",
		string(crm.ExportReady), ms(now), limit)
}

// ExportSeeds returns the id and sealed seed of every export that wrote a
// file (or may still write one), newest first: the candidates of a trace.
func (tx *Tx) ExportSeeds(ctx context.Context, limit int) ([]crm.Export, error) {
	return tx.queryExports(ctx, "export seeds", "SELECT "+exportListColumns+exportFrom+" WHERE e.status IN ($1, $2, $3, $4) ORDER BY e.id DESC LIMIT $5",
		string(crm.ExportDone), string(crm.ExportReady), string(crm.ExportDownloaded), string(crm.ExportExpired), limit)
}

func scanExport(scan func(...any) error) (crm.Export, error) {
	var e crm.Export
	var object, status string
	var created int64
	var approval, ready, expires, downloaded sql.NullInt64
	err := scan(&e.ID, &e.UserID, &e.UserName, &object, &e.Filter, &e.Query, &e.Format, &e.Rows, &e.Seed, &status, &approval,
		&e.DataKey, &e.File, &e.FileName, &e.ContentType, &created, &ready, &expires, &downloaded)
	if err != nil {
		return e, err
	}
	e.Object, e.Status, e.CreatedAt, e.ApprovalID = crm.Object(object), crm.ExportStatus(status), fromMS(created), approval.Int64
	e.ReadyAt, e.ExpiresAt, e.DownloadedAt = fromNullMS(ready), fromNullMS(expires), fromNullMS(downloaded)
	return e, nil
}

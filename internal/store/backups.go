package store

import (
	"context"
	"strings"

	"custos/internal/crm"
)

// InsertBackupRun records a backup or drill in the history.
func (tx *Tx) InsertBackupRun(ctx context.Context, r *crm.BackupRun) error {
	var backupAt int64
	if !r.BackupAt.IsZero() {
		backupAt = ms(r.BackupAt)
	}
	err := tx.q.QueryRowContext(ctx, `INSERT INTO backup_runs (kind, started_at, finished_at, outcome, path, copies, rows_count, bytes, backup_at, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, r.Kind, ms(r.StartedAt), ms(r.FinishedAt), r.Outcome, r.Path,
		strings.Join(r.Copies, "\n"), r.Rows, r.Bytes, backupAt, r.Detail).Scan(&r.ID)
	return mapErr("insert backup run", err)
}

// ListBackupRuns returns the newest runs first.
func (tx *Tx) ListBackupRuns(ctx context.Context, limit int) ([]crm.BackupRun, error) {
	return tx.backupRuns(ctx, "TRUE ORDER BY started_at DESC, id DESC LIMIT $1", limit)
}

// LastBackupRun returns the newest run of kind with outcome ("" any); ok is
// false when there is none.
func (tx *Tx) LastBackupRun(ctx context.Context, kind, outcome string) (crm.BackupRun, bool, error) {
	runs, err := tx.backupRuns(ctx, "kind = $1 AND ($2 = '' OR outcome = $2) ORDER BY started_at DESC, id DESC LIMIT 1", kind, outcome)
	if err != nil || len(runs) == 0 {
		return crm.BackupRun{}, false, err
	}
	return runs[0], true, nil
}

func (tx *Tx) backupRuns(ctx context.Context, where string, args ...any) ([]crm.BackupRun, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, kind, started_at, finished_at, outcome, path, copies, rows_count, bytes, backup_at, detail
		FROM backup_runs WHERE `+where, args...)
	if err != nil {
		return nil, mapErr("list backup runs", err)
	}
	defer rows.Close()
	var out []crm.BackupRun
	for rows.Next() {
		var r crm.BackupRun
		var started, finished, backupAt int64
		var copies string
		if err := rows.Scan(&r.ID, &r.Kind, &started, &finished, &r.Outcome, &r.Path, &copies, &r.Rows, &r.Bytes, &backupAt, &r.Detail); err != nil {
			return nil, mapErr("scan backup run", err)
		}
		r.StartedAt, r.FinishedAt = fromMS(started), fromMS(finished)
		if backupAt != 0 {
			r.BackupAt = fromMS(backupAt)
		}
		if copies != "" {
			r.Copies = strings.Split(copies, "\n")
		}
		out = append(out, r)
	}
	return out, mapErr("list backup runs", rows.Err())
}

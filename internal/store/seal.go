package store

import (
	"context"
	"database/sql"
	"time"
)

// sealLock is the PostgreSQL advisory lock a sealer holds for its
// transaction, so with several instances one seals at a time.
const sealLock = 0x637573746f7361 // "custosa"

// TrySealLock takes the sealer's lock for this transaction; false means
// another instance is sealing. SQLite has one writer, so it always succeeds.
func (tx *Tx) TrySealLock(ctx context.Context) (bool, error) { return tx.tryXactLock(ctx, sealLock) }

// tryXactLock takes a PostgreSQL advisory lock until the transaction ends,
// without waiting; on SQLite, whose one writer serialises every write
// transaction, it always succeeds.
func (tx *Tx) tryXactLock(ctx context.Context, key int64) (bool, error) {
	if tx.d != Postgres {
		return true, nil
	}
	var ok bool
	err := tx.q.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock($1)", key).Scan(&ok)
	return ok, mapErr("advisory lock", err)
}

// LastSealed returns the newest log position and its chain link (0, "" on
// an empty log). When every sealed event has been archived, the newest
// archive segment holds them.
func (tx *Tx) LastSealed(ctx context.Context) (int64, string, error) {
	var seq int64
	var link string
	err := tx.q.QueryRowContext(ctx, "SELECT seq, link FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").Scan(&seq, &link)
	if err == sql.ErrNoRows {
		seg, _, err := tx.LastAuditSegment(ctx) // zero when nothing was archived
		return seg.LastSeq, seg.Head, err
	}
	return seq, link, mapErr("last sealed", err)
}

// UnsealedAuditEvents returns events waiting for the sealer, oldest first.
func (tx *Tx) UnsealedAuditEvents(ctx context.Context, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEvents(ctx, "WHERE seq IS NULL AND link = '' ORDER BY id LIMIT $1", limit)
}

// RefusedAuditEvents returns unsealed events, including those the sealer
// refused (link "refused"), oldest first, for verification.
func (tx *Tx) RefusedAuditEvents(ctx context.Context, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEvents(ctx, "WHERE seq IS NULL ORDER BY id LIMIT $1", limit)
}

// SealedAuditEvents returns sealed events after a log position, in order.
func (tx *Tx) SealedAuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEvents(ctx, "WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit)
}

// SealAuditEvent gives an event its log position and chain link.
func (tx *Tx) SealAuditEvent(ctx context.Context, id, seq int64, link string) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE audit_events SET seq = $1, link = $2 WHERE id = $3 AND seq IS NULL", seq, link, id)
	return expectOne(res, err, "audit event")
}

// RefuseAuditEvent marks an event the sealer will not seal (its MAC is not
// Custos's): it stays out of the log, and verification reports it.
func (tx *Tx) RefuseAuditEvent(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE audit_events SET link = 'refused' WHERE id = $1 AND seq IS NULL", id)
	return expectOne(res, err, "audit event")
}

// Checkpoint is a signed statement of the log's size and chain head.
type Checkpoint struct {
	Size      int64     `json:"size"`
	Head      string    `json:"head"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// InsertCheckpoint stores a checkpoint.
func (tx *Tx) InsertCheckpoint(ctx context.Context, c Checkpoint) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO audit_checkpoints (size, head, note, created_at) VALUES ($1, $2, $3, $4)",
		c.Size, c.Head, c.Note, ms(c.CreatedAt))
	return mapErr("insert checkpoint", err)
}

// ListCheckpoints returns the stored checkpoints by size.
func (tx *Tx) ListCheckpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT size, head, note, created_at FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, mapErr("list checkpoints", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var at int64
		if err := rows.Scan(&c.Size, &c.Head, &c.Note, &at); err != nil {
			return nil, mapErr("scan checkpoint", err)
		}
		c.CreatedAt = fromMS(at)
		out = append(out, c)
	}
	return out, mapErr("list checkpoints", rows.Err())
}

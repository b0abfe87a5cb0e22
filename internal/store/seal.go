package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
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
	err := tx.q.QueryRowContext(ctx, "SELECT seq, link FROM audit_seals ORDER BY seq DESC LIMIT 1").Scan(&seq, &link)
	if err == sql.ErrNoRows {
		seg, _, err := tx.LastAuditSegment(ctx) // zero when nothing was archived
		return seg.LastSeq, seg.Head, err
	}
	return seq, link, mapErr("last sealed", err)
}

// UnsealedAuditEvents returns the events on the sealer's queue that it has
// not refused, oldest first.
func (tx *Tx) UnsealedAuditEvents(ctx context.Context, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEventsFrom(ctx, auditFromQueue, "ORDER BY audit_pending.event_id", limit)
}

// UnsealedForVerify returns the events without a log position, oldest
// first: those waiting on the sealer's queue, those it refused (Link
// "refused") and those that never reached the queue (Link "unqueued"),
// which only a write behind Custos's back can make.
func (tx *Tx) UnsealedForVerify(ctx context.Context, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEvents(ctx, "WHERE audit_seals.event_id IS NULL ORDER BY audit_events.id LIMIT $1", limit)
}

// SealedAuditEvents returns sealed events after a log position, in order.
func (tx *Tx) SealedAuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error) {
	return tx.queryAuditEventsFrom(ctx, auditFromLog, "ORDER BY audit_seals.seq", after, limit)
}

// Seal is an event's log position and chain link.
type Seal struct {
	EventID, Seq int64
	Link         string
}

// sealChunk bounds the rows of one statement (3 parameters each, well
// under both databases' parameter limits).
const sealChunk = 500

// SealAuditEvents appends log positions and links and takes their events
// off the sealer's queue. Events are written once and never updated, so
// sealing adds two small index entries per event rather than a second
// version of the event in every index of the trail (migration 0025).
func (tx *Tx) SealAuditEvents(ctx context.Context, seals []Seal) error {
	for chunk := range slices.Chunk(seals, sealChunk) {
		var a args
		rows := make([]string, len(chunk))
		ids := make([]int64, len(chunk))
		for i, s := range chunk {
			rows[i] = "(" + a.add(s.Seq) + ", " + a.add(s.EventID) + ", " + a.add(s.Link) + ")"
			ids[i] = s.EventID
		}
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO audit_seals (seq, event_id, link) VALUES "+strings.Join(rows, ", "), a...); err != nil {
			return mapErr("seal audit events", err)
		}
		var d args
		res, err := tx.q.ExecContext(ctx, "DELETE FROM audit_pending WHERE "+inList("event_id", ids, &d), d...)
		n, err := affected(res, err, "dequeue sealed events")
		if err != nil {
			return err
		}
		if n != int64(len(chunk)) {
			return fmt.Errorf("store: %d of %d sealed audit events were not on the sealer's queue", len(chunk)-int(n), len(chunk))
		}
	}
	return nil
}

// RefuseAuditEvent marks an event the sealer will not seal (its MAC is not
// Custos's): it stays out of the log, and verification reports it.
func (tx *Tx) RefuseAuditEvent(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE audit_pending SET refused = TRUE WHERE event_id = $1 AND NOT refused", id)
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
	return tx.CheckpointsAfter(ctx, -1)
}

// CheckpointsAfter returns the stored checkpoints larger than size, by size.
func (tx *Tx) CheckpointsAfter(ctx context.Context, size int64) ([]Checkpoint, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT size, head, note, created_at FROM audit_checkpoints WHERE size > $1 ORDER BY size", size)
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

// LastCheckpoint returns the checkpoint of the largest size, and false when
// there is none.
func (tx *Tx) LastCheckpoint(ctx context.Context) (Checkpoint, bool, error) {
	var c Checkpoint
	var at int64
	err := tx.q.QueryRowContext(ctx, "SELECT size, head, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1").Scan(&c.Size, &c.Head, &c.Note, &at)
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	c.CreatedAt = fromMS(at)
	return c, err == nil, mapErr("last checkpoint", err)
}

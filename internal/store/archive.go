package store

import (
	"context"
	"database/sql"
	"time"
)

// AuditSegment records one archive segment: sealed audit events moved out
// of the database into a signed, compressed file (internal/audit).
type AuditSegment struct {
	Number    int64     `json:"number"`
	FirstSeq  int64     `json:"first_seq"`
	LastSeq   int64     `json:"last_seq"`
	Events    int64     `json:"events"`
	FirstAt   time.Time `json:"first_at"`
	LastAt    time.Time `json:"last_at"`
	Prev      string    `json:"prev"` // the chain link before the first event ("" at the start of the log)
	Head      string    `json:"head"` // the chain link of the last event
	SHA256    string    `json:"sha256"`
	File      string    `json:"file"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

const segmentCols = "number, first_seq, last_seq, events, first_at, last_at, prev, head, sha256, file, note, created_at"

// InsertAuditSegment records a segment whose file is written and verified.
// Its number and first position are unique, so two archivers cannot both
// record one range.
func (tx *Tx) InsertAuditSegment(ctx context.Context, s AuditSegment) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO audit_segments ("+segmentCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
		s.Number, s.FirstSeq, s.LastSeq, s.Events, ms(s.FirstAt), ms(s.LastAt), s.Prev, s.Head, s.SHA256, s.File, s.Note, ms(s.CreatedAt))
	return mapErr("insert audit segment", err)
}

// ListAuditSegments returns the recorded segments in log order.
func (tx *Tx) ListAuditSegments(ctx context.Context) ([]AuditSegment, error) {
	return tx.querySegments(ctx, "ORDER BY first_seq")
}

// LastAuditSegment returns the newest segment; ok is false when nothing
// has been archived.
func (tx *Tx) LastAuditSegment(ctx context.Context) (s AuditSegment, ok bool, err error) {
	segs, err := tx.querySegments(ctx, "ORDER BY last_seq DESC LIMIT 1")
	if err != nil || len(segs) == 0 {
		return AuditSegment{}, false, err
	}
	return segs[0], true, nil
}

func (tx *Tx) querySegments(ctx context.Context, tail string) ([]AuditSegment, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+segmentCols+" FROM audit_segments "+tail)
	if err != nil {
		return nil, mapErr("list audit segments", err)
	}
	defer rows.Close()
	var out []AuditSegment
	for rows.Next() {
		var s AuditSegment
		var first, last, created int64
		if err := rows.Scan(&s.Number, &s.FirstSeq, &s.LastSeq, &s.Events, &first, &last, &s.Prev, &s.Head, &s.SHA256, &s.File,
			&s.Note, &created); err != nil {
			return nil, mapErr("scan audit segment", err)
		}
		s.FirstAt, s.LastAt, s.CreatedAt = fromMS(first), fromMS(last), fromMS(created)
		out = append(out, s)
	}
	return out, mapErr("list audit segments", rows.Err())
}

// FirstSealedAtOrAfter returns the first log position after `after` whose
// event happened at or after t (ok false: none). It walks the log in order
// and stops at the first such event, so it reads about as many rows as an
// archive run moves.
func (tx *Tx) FirstSealedAtOrAfter(ctx context.Context, after int64, t time.Time) (seq int64, ok bool, err error) {
	err = tx.q.QueryRowContext(ctx, `SELECT s.seq FROM audit_seals s JOIN audit_events e ON e.id = s.event_id
		WHERE s.seq > $1 AND e.at >= $2 ORDER BY s.seq LIMIT 1`, after, ms(t)).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return seq, err == nil, mapErr("first young audit event", err)
}

// DeleteArchivedEvents removes the sealed events at log positions from..to
// (inclusive), which an archive segment now holds; it returns how many.
func (tx *Tx) DeleteArchivedEvents(ctx context.Context, from, to int64) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals WHERE seq >= $1 AND seq <= $2)", from, to)
	n, err := affected(res, err, "delete archived events")
	if err != nil {
		return 0, err
	}
	_, err = tx.q.ExecContext(ctx, "DELETE FROM audit_seals WHERE seq >= $1 AND seq <= $2", from, to)
	return n, mapErr("delete archived seals", err)
}

// ClaimLease takes or renews the named job's lease until `until`: it
// succeeds when nobody holds it, its lease ran out, or holder holds it.
func (tx *Tx) ClaimLease(ctx context.Context, name, holder string, until, now time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_leases.expires_at < $4 OR job_leases.holder = excluded.holder`, name, holder, ms(until), ms(now))
	n, err := affected(res, err, "claim lease")
	return n == 1, err
}

// ReleaseLease gives the named job's lease back, if holder still holds it.
func (tx *Tx) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM job_leases WHERE name = $1 AND holder = $2", name, holder)
	return mapErr("release lease", err)
}

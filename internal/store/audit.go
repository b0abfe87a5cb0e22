package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"custos/internal/crm"
)

// AuditEvent is crm.AuditEvent: the type lives with the domain so no surface needs the store.
type AuditEvent = crm.AuditEvent

// InsertAuditEvent appends an event and puts it on the sealer's queue
// (audit_pending), in the caller's transaction.
//
// Inside Tx.Bulk the event is held and written when the bulk ends; its ID
// is set only then.
func (tx *Tx) InsertAuditEvent(ctx context.Context, e *AuditEvent) error {
	if tx.bulk != nil {
		tx.bulk.events = append(tx.bulk.events, e)
		return nil
	}
	return tx.insertAuditEvents(ctx, []*AuditEvent{e})
}

// auditColumns are the columns an event is inserted with.
const auditColumns = `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, action, object, record_id,
		record_ids, fields, outcome, ip, user_agent, request_id, nonce, mac, token_id) VALUES `

// insertAuditEvents appends events in order, with as many to a statement
// as bulkChunk parameters allow, and queues them for the sealer.
func (tx *Tx) insertAuditEvents(ctx context.Context, events []*AuditEvent) error {
	for _, e := range events {
		if e.Outcome == "" {
			e.Outcome = "ok"
		}
	}
	for len(events) > 0 {
		var encodeErr error
		insert, a, n := multiRow(tx, events, auditColumns, " RETURNING id", func(a *bulkArgs, e *AuditEvent) string {
			var ids string
			if len(e.RecordIDs) > 0 {
				j, err := json.Marshal(e.RecordIDs)
				if err != nil {
					encodeErr = fmt.Errorf("store: encode audit ids: %w", err)
				}
				ids = string(j)
			}
			return "(" + strings.Join([]string{a.add(ms(e.At)), a.add(e.ActorKind), a.add(e.ActorID), a.add(e.ActorName),
				a.add(e.Action), a.add(e.Object), a.add(e.RecordID), a.add(ids), a.add(string(e.Fields)), a.add(e.Outcome),
				a.add(e.IP), a.add(e.UserAgent), a.add(e.RequestID), a.add(e.Nonce), a.add(e.MAC), a.add(e.TokenID)}, ",") + ")"
		})
		if encodeErr != nil {
			return encodeErr
		}
		if tx.d == Postgres {
			// The events and their places on the sealer's queue in one
			// round trip.
			insert = "WITH e AS (" + insert + "), q AS (INSERT INTO audit_pending (event_id) SELECT id FROM e) SELECT id FROM e"
		}
		ids, err := tx.returnedIDs(ctx, insert, a)
		if err != nil {
			return mapErr("insert audit event", err)
		}
		if len(ids) != n {
			return fmt.Errorf("store: insert audit events: %d ids for %d events", len(ids), n)
		}
		if n == 1 {
			events[0].ID = ids[0]
		}
		if tx.d == SQLite {
			q := tx.bulkArgs()
			rows := make([]string, len(ids))
			for i, id := range ids {
				rows[i] = "(" + q.add(id) + ")"
			}
			if _, err := tx.q.ExecContext(ctx, "INSERT INTO audit_pending (event_id) VALUES "+strings.Join(rows, ", "), q.args...); err != nil {
				return mapErr("queue audit event", err)
			}
		}
		events = events[n:]
	}
	return nil
}

// returnedIDs runs an insert … RETURNING id and collects the ids.
func (tx *Tx) returnedIDs(ctx context.Context, q string, a args) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AuditFilter narrows an audit listing.
type AuditFilter struct {
	ActorID  int64
	Action   string
	Object   string
	RecordID int64
	BeforeID int64     // cursor: events with a smaller id
	Since    time.Time // events at or after this time (zero: all)
	Until    time.Time // events before this time (zero: all)
	Outcome  string
	Limit    int
}

// ListAuditEvents returns events newest first.
func (tx *Tx) ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	var a args
	where := "TRUE"
	if f.ActorID != 0 {
		where += " AND actor_id = " + a.add(f.ActorID)
	}
	if f.Action != "" {
		where += " AND action = " + a.add(f.Action)
	}
	if f.Object != "" {
		where += " AND object = " + a.add(f.Object)
	}
	if f.RecordID != 0 {
		where += " AND record_id = " + a.add(f.RecordID)
	}
	if f.BeforeID != 0 {
		where += " AND id < " + a.add(f.BeforeID)
	}
	if !f.Since.IsZero() {
		where += " AND at >= " + a.add(ms(f.Since))
	}
	if !f.Until.IsZero() {
		where += " AND at < " + a.add(ms(f.Until))
	}
	if f.Outcome != "" {
		where += " AND outcome = " + a.add(f.Outcome)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return tx.queryAuditEvents(ctx, "WHERE "+where+" ORDER BY id DESC LIMIT "+a.add(f.Limit), a...)
}

// auditCols and auditFrom read an event with its log position and link
// (migration 0025), or, unsealed, 0 and "" — "refused" when the sealer
// refused it, "unqueued" when it never reached the sealer's queue. The
// event's own columns are unique to audit_events, so a WHERE tail may name
// them unqualified; id, seq and link are qualified.
const (
	auditCols = `audit_events.id, at, actor_kind, actor_id, actor_name, action, object, record_id, record_ids,
	fields, outcome, ip, user_agent, request_id, nonce, mac, COALESCE(audit_seals.seq, 0),
	CASE WHEN audit_seals.seq IS NOT NULL THEN audit_seals.link WHEN audit_pending.refused THEN 'refused'
		WHEN audit_pending.event_id IS NULL THEN 'unqueued' ELSE '' END, token_id`
	auditFrom = ` FROM audit_events LEFT JOIN audit_seals ON audit_seals.event_id = audit_events.id
	LEFT JOIN audit_pending ON audit_pending.event_id = audit_events.id `
	// The sealer's queue and the log in order are read from their own
	// tables, the batch chosen there before its events are joined by key:
	// otherwise PostgreSQL may merge-join from the start of the whole trail
	// (seen while sealing a backlog of a million events).
	auditFromQueue = ` FROM (SELECT event_id, refused FROM audit_pending WHERE NOT refused ORDER BY event_id LIMIT $1) audit_pending
	JOIN audit_events ON audit_events.id = audit_pending.event_id LEFT JOIN audit_seals ON audit_seals.event_id = audit_events.id `
	auditFromLog = ` FROM (SELECT seq, event_id, link FROM audit_seals WHERE seq > $1 ORDER BY seq LIMIT $2) audit_seals
	JOIN audit_events ON audit_events.id = audit_seals.event_id LEFT JOIN audit_pending ON audit_pending.event_id = audit_events.id `
)

// queryAuditEvents reads events with the given WHERE/ORDER/LIMIT tail.
func (tx *Tx) queryAuditEvents(ctx context.Context, tail string, a ...any) ([]AuditEvent, error) {
	return tx.queryAuditEventsFrom(ctx, auditFrom, tail, a...)
}

// queryAuditEventsFrom reads events from one of the FROM clauses above.
func (tx *Tx) queryAuditEventsFrom(ctx context.Context, from, tail string, a ...any) ([]AuditEvent, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+auditCols+from+tail, a...)
	if err != nil {
		return nil, mapErr("list audit events", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at int64
		var ids, fields string
		if err := rows.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.Object, &e.RecordID, &ids,
			&fields, &e.Outcome, &e.IP, &e.UserAgent, &e.RequestID, &e.Nonce, &e.MAC, &e.Seq, &e.Link, &e.TokenID); err != nil {
			return nil, mapErr("scan audit event", err)
		}
		e.At = fromMS(at)
		if ids != "" {
			if err := json.Unmarshal([]byte(ids), &e.RecordIDs); err != nil {
				return nil, fmt.Errorf("store: decode audit ids: %w", err)
			}
		}
		if fields != "" {
			e.Fields = json.RawMessage(fields)
		}
		out = append(out, e)
	}
	return out, mapErr("list audit events", rows.Err())
}

// CountActorSearches counts an actor's audit events since a time whose
// action is one of actions (the sensitive searches the rate limit weighs),
// through the (actor_id, at) index: its cost is the actor's events of the
// window, not their whole history.
//
// It counts no further than upTo, so with the (actor_id, action, at) index
// a check reads at most upTo index entries, however busy the actor.
func (tx *Tx) CountActorSearches(ctx context.Context, actorKind string, actorID int64, since time.Time, actions []string, upTo int) (int, error) {
	var a args
	q := "SELECT COUNT(*) FROM (SELECT 1 FROM audit_events WHERE actor_id = " + a.add(actorID) + " AND at >= " + a.add(ms(since)) +
		" AND actor_kind = " + a.add(actorKind) + " AND " + inList("action", actions, &a) + " LIMIT " + a.add(upTo) + ") AS recent"
	var n int
	err := tx.q.QueryRowContext(ctx, q, a...).Scan(&n)
	return n, mapErr("count searches", err)
}

package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// Outbox names a table of deliveries: messages to send on a channel
// (e-mail, a webhook, a group bot) for a row of another table (an alert, a
// notification), queued in the transaction that made the row and sent by a
// background job with retries. The tables share one shape, so one set of
// methods — and one claim, retry and backoff loop above them — serves all.
type Outbox struct {
	table string // the deliveries
	of    string // the column referring to what each sends
}

// The outboxes.
var (
	AlertOutbox        = Outbox{table: "alert_deliveries", of: "alert_id"}
	NotificationOutbox = Outbox{table: "notification_deliveries", of: "notification_id"}
)

// QueueDelivery puts a row's message for a channel in the outbox, due now.
func (tx *Tx) QueueDelivery(ctx context.Context, ob Outbox, of int64, channel string, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO `+ob.table+` (`+ob.of+`, channel, next_attempt, created_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (`+ob.of+`, channel) DO NOTHING`, of, channel, ms(now))
	return mapErr("queue delivery", err)
}

// ClaimDeliveries takes up to limit due deliveries for one sender: each
// gets an attempt more and is not due again until leaseUntil, so a sender
// that dies mid-way leaves it to be retried. On PostgreSQL rows another
// instance is claiming are skipped (FOR UPDATE SKIP LOCKED), so several
// instances never claim one delivery together; SQLite's single writer does
// the same.
func (tx *Tx) ClaimDeliveries(ctx context.Context, ob Outbox, now, leaseUntil time.Time, limit int) ([]crm.Delivery, error) {
	lock := ""
	if tx.d == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := tx.q.QueryContext(ctx, `UPDATE `+ob.table+` SET attempts = attempts + 1, next_attempt = $1
		WHERE id IN (SELECT id FROM `+ob.table+` WHERE next_attempt IS NOT NULL AND next_attempt <= $2
			ORDER BY next_attempt, id LIMIT $3`+lock+`)
		RETURNING id, `+ob.of+`, channel, attempts`, ms(leaseUntil), ms(now), limit)
	if err != nil {
		return nil, mapErr("claim deliveries", err)
	}
	defer rows.Close()
	var out []crm.Delivery
	for rows.Next() {
		var d crm.Delivery
		if err := rows.Scan(&d.ID, &d.Of, &d.Channel, &d.Attempts); err != nil {
			return nil, mapErr("claim deliveries", err)
		}
		out = append(out, d)
	}
	return out, mapErr("claim deliveries", rows.Err())
}

// Delivered marks a delivery done (again, harmlessly, if a lapsed claim
// delivered it twice).
func (tx *Tx) Delivered(ctx context.Context, ob Outbox, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE `+ob.table+` SET delivered_at = COALESCE(delivered_at, $1), next_attempt = NULL,
		last_error = '' WHERE id = $2`, ms(at), id)
	return expectOne(res, err, "delivery")
}

// DeliveryFailed records a failed attempt: due again at next, or given up
// for good when next is nil. A delivery done meanwhile stays done.
func (tx *Tx) DeliveryFailed(ctx context.Context, ob Outbox, id int64, at time.Time, next *time.Time, reason string) error {
	failed := any(nil)
	if next == nil {
		failed = ms(at)
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE `+ob.table+` SET next_attempt = $1, failed_at = $2, last_error = $3
		WHERE id = $4 AND delivered_at IS NULL`, msPtr(next), failed, reason, id)
	return mapErr("delivery failed", err)
}

// Deliveries returns the deliveries of the given rows, by row.
func (tx *Tx) Deliveries(ctx context.Context, ob Outbox, ofIDs []int64) (map[int64][]crm.Delivery, error) {
	out := map[int64][]crm.Delivery{}
	for _, chunk := range chunks(ofIDs) {
		var a args
		rows, err := tx.q.QueryContext(ctx, `SELECT id, `+ob.of+`, channel, attempts, next_attempt, delivered_at, failed_at, last_error
			FROM `+ob.table+` WHERE `+inList(ob.of, chunk, &a)+" ORDER BY id", a...)
		if err != nil {
			return nil, mapErr("deliveries", err)
		}
		for rows.Next() {
			var d crm.Delivery
			var next, done, failed sql.NullInt64
			if err := rows.Scan(&d.ID, &d.Of, &d.Channel, &d.Attempts, &next, &done, &failed, &d.LastError); err != nil {
				rows.Close()
				return nil, mapErr("deliveries", err)
			}
			d.NextAttempt, d.DeliveredAt, d.FailedAt = fromNullMS(next), fromNullMS(done), fromNullMS(failed)
			out[d.Of] = append(out[d.Of], d)
		}
		if err := rows.Close(); err != nil {
			return nil, mapErr("deliveries", err)
		}
	}
	return out, nil
}

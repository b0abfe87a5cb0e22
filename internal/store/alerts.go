package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// SecurityAlert is crm.SecurityAlert: the type lives with the domain so no surface needs the store.
type SecurityAlert = crm.SecurityAlert

// InsertAlert raises an alert unless the same rule already fired for the
// same user in the same window; raised reports which.
func (tx *Tx) InsertAlert(ctx context.Context, al *SecurityAlert) (raised bool, err error) {
	err = tx.q.QueryRowContext(ctx, `INSERT INTO security_alerts (rule, user_id, user_name, window_start, detail, created_at, suspended)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (rule, user_id, user_name, window_start) DO NOTHING RETURNING id`,
		al.Rule, al.UserID, al.UserName, ms(al.WindowStart), al.Detail, ms(al.CreatedAt), al.Suspended).Scan(&al.ID)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, mapErr("insert alert", err)
}

// ListAlerts returns alerts newest first; status "" means all.
func (tx *Tx) ListAlerts(ctx context.Context, status string, limit int) ([]SecurityAlert, error) {
	if status == "" {
		return tx.listAlerts(ctx, "TRUE", limit)
	}
	return tx.listAlerts(ctx, "status = $2", limit, status)
}

// listAlerts reads alerts matching where (its parameters from $2 on).
func (tx *Tx) listAlerts(ctx context.Context, where string, limit int, params ...any) ([]SecurityAlert, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, rule, user_id, user_name, window_start, detail, created_at, status, suspended,
		reviewed_by, reviewed_at FROM security_alerts WHERE `+where+" ORDER BY id DESC LIMIT $1", append([]any{limit}, params...)...)
	if err != nil {
		return nil, mapErr("list alerts", err)
	}
	defer rows.Close()
	var out []SecurityAlert
	for rows.Next() {
		var al SecurityAlert
		var win, created int64
		var reviewed sql.NullInt64
		if err := rows.Scan(&al.ID, &al.Rule, &al.UserID, &al.UserName, &win, &al.Detail, &created, &al.Status, &al.Suspended,
			&al.ReviewedBy, &reviewed); err != nil {
			return nil, mapErr("scan alert", err)
		}
		al.WindowStart, al.CreatedAt, al.ReviewedAt = fromMS(win), fromMS(created), fromNullMS(reviewed)
		out = append(out, al)
	}
	return out, mapErr("list alerts", rows.Err())
}

// ReviewAlert marks an open alert reviewed.
func (tx *Tx) ReviewAlert(ctx context.Context, id, by int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE security_alerts SET status = 'reviewed', reviewed_by = $1, reviewed_at = $2 WHERE id = $3 AND status = 'open'",
		by, ms(at), id)
	return expectOne(res, err, "alert")
}

// LoginNetworks returns the client addresses of a user's successful sign-ins
// in a period, for the new-network rule.
func (tx *Tx) LoginNetworks(ctx context.Context, userID int64, since, until time.Time) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT ip FROM audit_events WHERE actor_id = $1 AND action = 'login'
		AND at >= $2 AND at < $3`, userID, ms(since), ms(until))
	if err != nil {
		return nil, mapErr("login networks", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			return nil, mapErr("login networks", err)
		}
		out = append(out, ip)
	}
	return out, mapErr("login networks", rows.Err())
}

// CountTokenReads counts a user's reads through API tokens in a period.
func (tx *Tx) CountTokenReads(ctx context.Context, userID int64, since, until time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE actor_id = $1 AND actor_kind = 'token'
		AND at >= $2 AND at < $3 AND (action LIKE '%.view' OR action LIKE '%.list' OR action LIKE '%.search')`,
		userID, ms(since), ms(until)).Scan(&n)
	return n, mapErr("count token reads", err)
}

// AlertDelivery is crm.AlertDelivery: the type lives with the domain so no surface needs the store.
type AlertDelivery = crm.AlertDelivery

// InsertAlertDelivery queues an alert for a channel, due now.
func (tx *Tx) InsertAlertDelivery(ctx context.Context, alertID int64, channel string, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO alert_deliveries (alert_id, channel, next_attempt, created_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (alert_id, channel) DO NOTHING`, alertID, channel, ms(now))
	return mapErr("queue alert delivery", err)
}

// ClaimAlertDeliveries takes up to limit due deliveries for one sender:
// each gets an attempt more and is not due again until leaseUntil, so a
// sender that dies mid-way leaves it to be retried. On PostgreSQL rows
// another instance is claiming are skipped (FOR UPDATE SKIP LOCKED), so
// several instances never claim one delivery together; SQLite's single
// writer does the same.
func (tx *Tx) ClaimAlertDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]AlertDelivery, error) {
	lock := ""
	if tx.d == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := tx.q.QueryContext(ctx, `UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt = $1
		WHERE id IN (SELECT id FROM alert_deliveries WHERE next_attempt IS NOT NULL AND next_attempt <= $2
			ORDER BY next_attempt, id LIMIT $3`+lock+`)
		RETURNING id, alert_id, channel, attempts`, ms(leaseUntil), ms(now), limit)
	if err != nil {
		return nil, mapErr("claim alert deliveries", err)
	}
	defer rows.Close()
	var out []AlertDelivery
	for rows.Next() {
		var d AlertDelivery
		if err := rows.Scan(&d.ID, &d.AlertID, &d.Channel, &d.Attempts); err != nil {
			return nil, mapErr("claim alert deliveries", err)
		}
		out = append(out, d)
	}
	return out, mapErr("claim alert deliveries", rows.Err())
}

// AlertDelivered marks a delivery done (again, harmlessly, if a lapsed
// claim delivered it twice).
func (tx *Tx) AlertDelivered(ctx context.Context, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE alert_deliveries SET delivered_at = COALESCE(delivered_at, $1), next_attempt = NULL,
		last_error = '' WHERE id = $2`, ms(at), id)
	return expectOne(res, err, "alert delivery")
}

// AlertDeliveryFailed records a failed attempt: due again at next, or given
// up for good when next is nil. A delivery done meanwhile stays done.
func (tx *Tx) AlertDeliveryFailed(ctx context.Context, id int64, at time.Time, next *time.Time, reason string) error {
	failed := any(nil)
	if next == nil {
		failed = ms(at)
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE alert_deliveries SET next_attempt = $1, failed_at = $2, last_error = $3
		WHERE id = $4 AND delivered_at IS NULL`, msPtr(next), failed, reason, id)
	return mapErr("alert delivery failed", err)
}

// GetAlert returns one alert.
func (tx *Tx) GetAlert(ctx context.Context, id int64) (SecurityAlert, error) {
	list, err := tx.listAlerts(ctx, "id = $2", 1, id)
	if err != nil {
		return SecurityAlert{}, err
	}
	if len(list) == 0 {
		return SecurityAlert{}, crm.ErrNotFound("alert")
	}
	return list[0], nil
}

// AlertDeliveries returns the deliveries of the given alerts.
func (tx *Tx) AlertDeliveries(ctx context.Context, alertIDs []int64) (map[int64][]AlertDelivery, error) {
	out := map[int64][]AlertDelivery{}
	for _, chunk := range chunks(alertIDs) {
		var a args
		rows, err := tx.q.QueryContext(ctx, `SELECT id, alert_id, channel, attempts, next_attempt, delivered_at, failed_at, last_error
			FROM alert_deliveries WHERE `+inList("alert_id", chunk, &a)+" ORDER BY id", a...)
		if err != nil {
			return nil, mapErr("alert deliveries", err)
		}
		for rows.Next() {
			var d AlertDelivery
			var next, done, failed sql.NullInt64
			if err := rows.Scan(&d.ID, &d.AlertID, &d.Channel, &d.Attempts, &next, &done, &failed, &d.LastError); err != nil {
				rows.Close()
				return nil, mapErr("alert deliveries", err)
			}
			d.NextAttempt, d.DeliveredAt, d.FailedAt = fromNullMS(next), fromNullMS(done), fromNullMS(failed)
			out[d.AlertID] = append(out[d.AlertID], d)
		}
		if err := rows.Close(); err != nil {
			return nil, mapErr("alert deliveries", err)
		}
	}
	return out, nil
}

// AdminEmails returns the e-mail addresses of active administrators.
func (tx *Tx) AdminEmails(ctx context.Context) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT u.email FROM users u JOIN roles r ON r.id = u.role_id
		WHERE r.admin AND NOT u.disabled AND u.email <> '' ORDER BY u.id`)
	if err != nil {
		return nil, mapErr("admin e-mails", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, mapErr("admin e-mails", err)
		}
		out = append(out, e)
	}
	return out, mapErr("admin e-mails", rows.Err())
}

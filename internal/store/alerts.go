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

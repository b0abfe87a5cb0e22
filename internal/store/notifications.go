package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"custos/internal/crm"
)

// InsertNotification stores a notification; with a once key it is stored
// only if the user has none with that key yet (inserted reports which),
// so a job racing another instance cannot notify twice. A notification not
// wanted in the app is stored read: it is kept for its deliveries but
// neither listed nor counted.
func (tx *Tx) InsertNotification(ctx context.Context, n *crm.Notification, inApp bool, onceKey string) (inserted bool, err error) {
	params, err := json.Marshal(n.Params)
	if err != nil {
		return false, err
	}
	if n.Params == nil {
		params = []byte("[]")
	}
	var read, once any
	if !inApp {
		read = ms(n.CreatedAt)
		at := n.CreatedAt
		n.ReadAt = &at
	}
	if onceKey != "" {
		once = onceKey
	}
	err = tx.q.QueryRowContext(ctx, `INSERT INTO notifications (user_id, kind, object, record_id, params, in_app, once_key, created_at, read_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id`,
		n.UserID, string(n.Kind), string(n.Object), n.RecordID, string(params), inApp, once, ms(n.CreatedAt), read).Scan(&n.ID)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, mapErr("insert notification", err)
}

// ListNotifications returns a user's notifications shown in the app,
// newest first, with ids below before (0: from the newest).
func (tx *Tx) ListNotifications(ctx context.Context, userID, before int64, limit int) ([]crm.Notification, error) {
	var a args
	where := "user_id = " + a.add(userID) + " AND in_app"
	if before > 0 {
		where += " AND id < " + a.add(before)
	}
	return tx.notifications(ctx, where+" ORDER BY id DESC LIMIT "+a.add(limit), a)
}

// NotificationByID returns a notification whoever it is for (for its
// deliveries).
func (tx *Tx) NotificationByID(ctx context.Context, id int64) (crm.Notification, error) {
	list, err := tx.notifications(ctx, "id = $1", args{id})
	if err != nil {
		return crm.Notification{}, err
	}
	if len(list) == 0 {
		return crm.Notification{}, crm.ErrNotFound("notification")
	}
	return list[0], nil
}

// notifications reads the notifications matching where.
func (tx *Tx) notifications(ctx context.Context, where string, a args) ([]crm.Notification, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, user_id, kind, object, record_id, params, created_at, read_at
		FROM notifications WHERE `+where, a...)
	if err != nil {
		return nil, mapErr("list notifications", err)
	}
	defer rows.Close()
	var out []crm.Notification
	for rows.Next() {
		var n crm.Notification
		var kind, object, params string
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&n.ID, &n.UserID, &kind, &object, &n.RecordID, &params, &created, &read); err != nil {
			return nil, mapErr("scan notification", err)
		}
		n.Kind, n.Object, n.CreatedAt, n.ReadAt = crm.NotificationKind(kind), crm.Object(object), fromMS(created), fromNullMS(read)
		if err := json.Unmarshal([]byte(params), &n.Params); err != nil {
			return nil, mapErr("scan notification", err)
		}
		out = append(out, n)
	}
	return out, mapErr("list notifications", rows.Err())
}

// CountUnread counts a user's unread notifications (one range of the
// (user_id, read_at) index).
func (tx *Tx) CountUnread(ctx context.Context, userID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", userID).Scan(&n)
	return n, mapErr("count unread notifications", err)
}

// MarkNotificationRead marks one of a user's notifications read; another
// user's is not found. Reading it again changes nothing.
func (tx *Tx) MarkNotificationRead(ctx context.Context, userID, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
		ms(at), id, userID)
	return expectOne(res, err, "notification")
}

// MarkAllNotificationsRead marks every unread notification of a user read
// and returns how many.
func (tx *Tx) MarkAllNotificationsRead(ctx context.Context, userID int64, at time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL", ms(at), userID)
	return affected(res, err, "mark notifications read")
}

// NotificationPrefs returns the switches a user set (kind → channel →
// on); the rest take the defaults.
func (tx *Tx) NotificationPrefs(ctx context.Context, userID int64) (map[crm.NotificationKind]map[string]bool, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT kind, channel, enabled FROM notification_prefs WHERE user_id = $1", userID)
	if err != nil {
		return nil, mapErr("notification preferences", err)
	}
	defer rows.Close()
	out := map[crm.NotificationKind]map[string]bool{}
	for rows.Next() {
		var kind, channel string
		var on bool
		if err := rows.Scan(&kind, &channel, &on); err != nil {
			return nil, mapErr("notification preferences", err)
		}
		k := crm.NotificationKind(kind)
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][channel] = on
	}
	return out, mapErr("notification preferences", rows.Err())
}

// SaveNotificationPref sets one switch of a user's preferences.
func (tx *Tx) SaveNotificationPref(ctx context.Context, userID int64, p crm.NotificationPref) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO notification_prefs (user_id, kind, channel, enabled) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = excluded.enabled`, userID, string(p.Kind), p.Channel, p.Enabled)
	return mapErr("save notification preference", err)
}

// DigestCounts are what a user's morning digest counts.
type DigestCounts struct {
	DueToday, Overdue, TasksDue int
}

// CountDigest counts a user's live customers whose next follow-up falls
// in [dayStart, dayEnd) and before dayStart (overdue), and their open
// tasks due before dayEnd.
func (tx *Tx) CountDigest(ctx context.Context, userID int64, dayStart, dayEnd time.Time) (DigestCounts, error) {
	var c DigestCounts
	err := tx.q.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN next_follow_up_at >= $2 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN next_follow_up_at < $2 THEN 1 ELSE 0 END), 0)
		FROM customers WHERE owner_id = $1 AND deleted_at IS NULL AND next_follow_up_at < $3`,
		userID, ms(dayStart), ms(dayEnd)).Scan(&c.DueToday, &c.Overdue)
	if err != nil {
		return c, mapErr("count digest", err)
	}
	err = tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE owner_id = $1 AND NOT done AND deleted_at IS NULL AND due_at < $2`,
		userID, ms(dayEnd)).Scan(&c.TasksDue)
	return c, mapErr("count digest", err)
}

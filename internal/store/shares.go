package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// Share widens a scope with the records shared with the actor
// (crm.ShareScope).
type Share = crm.ShareScope

// shareCond renders "the record id is shared with the actor".
func shareCond(sh *Share, idCol string, a *args) string {
	level := ""
	if sh.Edit {
		level = " AND rs.level = 'edit'"
	}
	return idCol + " IN (SELECT rs.record_id FROM record_shares rs WHERE rs.object = " + a.add(sh.Object) +
		" AND (rs.user_id = " + a.add(sh.UserID) + " OR rs.dept_id = " + a.add(sh.DeptID) + ")" +
		" AND (rs.expires_at IS NULL OR rs.expires_at > " + a.add(ms(sh.Now)) + ")" + level + ")"
}

// recordCond renders "the record is within the scope": its owner is, or it
// was shared with the actor.
func recordCond(s Scope, idCol, ownerCol string, a *args) string {
	own := ownerCond(s, ownerCol, a)
	if s.Share == nil || s.Kind == crm.ScopeAll {
		return own
	}
	return "(" + own + " OR " + shareCond(s.Share, idCol, a) + ")"
}

// RecordShare is crm.RecordShare: the type lives with the domain so no surface needs the store.
type RecordShare = crm.RecordShare

// InsertShare stores a share.
func (tx *Tx) InsertShare(ctx context.Context, s *RecordShare) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO record_shares (object, record_id, user_id, dept_id, level, expires_at, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, string(s.Object), s.RecordID, nullID(s.UserID), nullID(s.DeptID),
		s.Level, msPtr(s.ExpiresAt), s.CreatedBy, ms(s.CreatedAt)).Scan(&s.ID)
	return mapErr("insert share", err)
}

// ShareFilter narrows a share listing.
type ShareFilter struct {
	Object    crm.Object
	RecordID  int64
	CreatedBy int64
	IDs       []int64
	// GranteeUser and GranteeDept select the shares given to a user or to
	// their department; LiveAt keeps those not expired at that time.
	GranteeUser int64
	GranteeDept int64
	LiveAt      time.Time
}

// ListShares returns shares, newest first (at most 1,000).
func (tx *Tx) ListShares(ctx context.Context, f ShareFilter) ([]RecordShare, error) {
	var a args
	w := "TRUE"
	if f.Object != "" {
		w += " AND rs.object = " + a.add(string(f.Object))
	}
	if f.RecordID != 0 {
		w += " AND rs.record_id = " + a.add(f.RecordID)
	}
	if f.CreatedBy != 0 {
		w += " AND rs.created_by = " + a.add(f.CreatedBy)
	}
	if len(f.IDs) > 0 {
		w += " AND " + inList("rs.id", f.IDs, &a)
	}
	if f.GranteeUser != 0 {
		w += " AND (rs.user_id = " + a.add(f.GranteeUser) + " OR rs.dept_id = " + a.add(f.GranteeDept) + ")"
	}
	if !f.LiveAt.IsZero() {
		w += " AND (rs.expires_at IS NULL OR rs.expires_at > " + a.add(ms(f.LiveAt)) + ")"
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT rs.id, rs.object, rs.record_id, COALESCE(rs.user_id, 0), COALESCE(u.display_name, ''),
		COALESCE(rs.dept_id, 0), COALESCE(d.name, ''), rs.level, rs.expires_at, rs.created_by, COALESCE(cb.display_name, ''), rs.created_at
		FROM record_shares rs LEFT JOIN users u ON u.id = rs.user_id LEFT JOIN departments d ON d.id = rs.dept_id
		LEFT JOIN users cb ON cb.id = rs.created_by WHERE `+w+" ORDER BY rs.id DESC LIMIT 1000", a...)
	if err != nil {
		return nil, mapErr("list shares", err)
	}
	defer rows.Close()
	var out []RecordShare
	for rows.Next() {
		var s RecordShare
		var object string
		var expires sql.NullInt64
		var created int64
		if err := rows.Scan(&s.ID, &object, &s.RecordID, &s.UserID, &s.UserName, &s.DeptID, &s.DeptName, &s.Level, &expires,
			&s.CreatedBy, &s.CreatedByName, &created); err != nil {
			return nil, mapErr("scan share", err)
		}
		s.Object, s.ExpiresAt, s.CreatedAt = crm.Object(object), fromNullMS(expires), fromMS(created)
		out = append(out, s)
	}
	return out, mapErr("list shares", rows.Err())
}

// DeleteShares removes shares by id.
func (tx *Tx) DeleteShares(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var a args
	_, err := tx.q.ExecContext(ctx, "DELETE FROM record_shares WHERE "+inList("id", ids, &a), a...)
	return mapErr("delete shares", err)
}

// SharedObjects lists the objects with live shares to a user or their
// department, so scopes add the share condition only for people who have
// shares (most have none, and their queries stay as they are).
func (tx *Tx) SharedObjects(ctx context.Context, userID, deptID int64, now time.Time) ([]crm.Object, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT object FROM record_shares WHERE (user_id = $1 OR dept_id = $2)
		AND (expires_at IS NULL OR expires_at > $3)`, userID, deptID, ms(now))
	if err != nil {
		return nil, mapErr("shared objects", err)
	}
	defer rows.Close()
	var out []crm.Object
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, mapErr("shared objects", err)
		}
		out = append(out, crm.Object(o))
	}
	return out, mapErr("shared objects", rows.Err())
}

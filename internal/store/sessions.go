package store

import (
	"context"
	"time"

	"custos/internal/crm"
)

// Session is a signed-in browser. Only the hash of its token is stored.
// MFAPending is set while a session opened by a password waits for the
// user's second factor; SecondFactorAt is when a second factor was last
// verified in it (zero: never), for step-up.
type Session struct {
	ID             int64     `json:"id"`
	TokenHash      string    `json:"-"`
	CSRFToken      string    `json:"-"`
	UserID         int64     `json:"user_id"`
	CreatedAt      time.Time `json:"created_at"`
	LastSeenAt     time.Time `json:"last_seen_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	IP             string    `json:"ip"`
	LastIP         string    `json:"last_ip"`
	UserAgent      string    `json:"user_agent"`
	MFAPending     bool      `json:"mfa_pending"`
	SecondFactorAt time.Time `json:"-"`
}

// InsertSession stores a new session.
func (tx *Tx) InsertSession(ctx context.Context, s *Session) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, last_seen_at, expires_at, ip, last_ip,
		user_agent, mfa_pending, second_factor_at) VALUES ($1,$2,$3,$4,$4,$5,$6,$6,$7,$8,$9) RETURNING id`,
		s.TokenHash, s.CSRFToken, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt), s.IP, s.UserAgent, s.MFAPending, msOrZero(s.SecondFactorAt)).Scan(&s.ID)
	return mapErr("insert session", err)
}

// TouchSession moves a session's last-seen time, address and expiry forward.
func (tx *Tx) TouchSession(ctx context.Context, id int64, seen, expires time.Time, ip string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1, expires_at = $2, last_ip = $3 WHERE id = $4",
		ms(seen), ms(expires), ip, id)
	return mapErr("touch session", err)
}

// CompleteSecondFactor finishes a pending sign-in: the session gets a new
// token and CSRF token (the one issued after the password alone stops
// working), its pending flag is cleared and the second factor's time kept.
func (tx *Tx) CompleteSecondFactor(ctx context.Context, id int64, tokenHash, csrf string, at, expires time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE sessions SET token_hash = $1, csrf_token = $2, mfa_pending = $3, second_factor_at = $4,
		last_seen_at = $4, expires_at = $5 WHERE id = $6 AND mfa_pending`, tokenHash, csrf, false, ms(at), ms(expires), id)
	return expectOne(res, err, "session")
}

// MarkSecondFactor records a second factor verified in a live session (a
// step-up).
func (tx *Tx) MarkSecondFactor(ctx context.Context, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE sessions SET second_factor_at = $1 WHERE id = $2 AND NOT mfa_pending", ms(at), id)
	return expectOne(res, err, "session")
}

// DeleteSession ends one session.
func (tx *Tx) DeleteSession(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", id)
	return mapErr("delete session", err)
}

// DeleteUserSessions ends every session of a user, except keepID if
// non-zero, and returns how many ended.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID, keepID int64) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", userID, keepID)
	return affected(res, err, "delete sessions")
}

const sessionCols = "x.id, x.user_id, x.created_at, x.last_seen_at, x.expires_at, x.ip, x.last_ip, x.user_agent, x.mfa_pending, x.second_factor_at"

func scanSession(row scanner, extra ...any) (Session, error) {
	var s Session
	var created, seen, expires, factor int64
	err := row.Scan(append([]any{&s.ID, &s.UserID, &created, &seen, &expires, &s.IP, &s.LastIP, &s.UserAgent, &s.MFAPending, &factor}, extra...)...)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.SecondFactorAt = fromMS(created), fromMS(seen), fromMS(expires), fromMSOrZero(factor)
	return s, err
}

// GetSession returns one live session.
func (tx *Tx) GetSession(ctx context.Context, id int64, now time.Time) (Session, error) {
	s, err := scanSession(tx.q.QueryRowContext(ctx, "SELECT "+sessionCols+" FROM sessions x WHERE x.id = $1 AND x.expires_at > $2", id, ms(now)))
	return s, mapErr("session", err)
}

// ListUserSessions returns a user's live sessions, most recently seen first.
func (tx *Tx) ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+sessionCols+" FROM sessions x WHERE x.user_id = $1 AND x.expires_at > $2 ORDER BY x.last_seen_at DESC, x.id DESC",
		userID, ms(now))
	if err != nil {
		return nil, mapErr("list sessions", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, mapErr("scan session", err)
		}
		out = append(out, s)
	}
	return out, mapErr("list sessions", rows.Err())
}

// Principal is everything authentication needs about a live credential's
// user, read in one query: the user, their role and their department, and
// whether they have a confirmed second factor.
type Principal struct {
	User        crm.User
	Role        crm.Role
	Department  crm.Department
	MFAEnrolled bool
}

const principalJoin = ` JOIN users u ON u.id = x.user_id` + principalRoleDept

const principalRoleDept = ` JOIN roles r ON r.id = u.role_id JOIN departments d ON d.id = u.department_id`

var principalCols = `u.id, u.username, u.display_name, u.email, u.department_id, u.role_id, u.lang, u.time_zone, u.disabled, u.must_change_pw,
	u.created_at, u.updated_at, r.id, r.role_key, r.name, r.admin, r.audit, r.privacy, r.reports, r.grants, r.require_mfa, d.id, d.path, ` + mfaEnrolled("u")

// mfaEnrolled is the SQL test of whether the user in alias has a second
// factor: a confirmed TOTP secret or any passkey (a blocked one too, so
// that blocking a cloned passkey never lets the password alone sign in).
func mfaEnrolled(alias string) string {
	return "(EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = " + alias + ".id AND t.confirmed_at > 0) OR " +
		"EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = " + alias + ".id))"
}

func scanPrincipal(row scanner, extra ...any) (Principal, error) {
	var p Principal
	var grants string
	r := &p.Role
	u, err := scanUser(row, append([]any{&r.ID, &r.Key, &r.Name, &r.Admin, &r.Audit, &r.Privacy, &r.Reports, &grants, &r.RequireMFA, &p.Department.ID, &p.Department.Path,
		&p.MFAEnrolled}, extra...)...)
	if err != nil {
		return p, err
	}
	p.User = u
	return p, decodeGrants(r, grants)
}

// UserPrincipal returns a user with role, department and second factor,
// for actors made without a credential (the CLI, jobs, tests).
func (tx *Tx) UserPrincipal(ctx context.Context, userID int64) (Principal, error) {
	p, err := scanPrincipal(tx.q.QueryRowContext(ctx, "SELECT "+principalCols+" FROM users u"+principalRoleDept+" WHERE u.id = $1", userID))
	return p, mapErr("user", err)
}

// SessionPrincipal returns a live session with its user, role and department.
func (tx *Tx) SessionPrincipal(ctx context.Context, tokenHash string, now time.Time) (Session, Principal, error) {
	var s Session
	var seen, factor int64
	row := tx.q.QueryRowContext(ctx, "SELECT "+principalCols+", x.id, x.csrf_token, x.last_seen_at, x.mfa_pending, x.second_factor_at FROM sessions x"+principalJoin+
		" WHERE x.token_hash = $1 AND x.expires_at > $2", tokenHash, ms(now))
	p, err := scanPrincipal(row, &s.ID, &s.CSRFToken, &seen, &s.MFAPending, &factor)
	s.UserID, s.LastSeenAt, s.SecondFactorAt = p.User.ID, fromMS(seen), fromMSOrZero(factor)
	return s, p, mapErr("session", err)
}

// msOrZero stores an optional time as Unix milliseconds, zero for none.
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// fromMSOrZero reads a time stored by msOrZero.
func fromMSOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

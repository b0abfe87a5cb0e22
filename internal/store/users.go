package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// UserAuth is a user with what sign-in needs and nothing the pages need.
type UserAuth struct {
	crm.User
	PasswordHash string
	FailedLogins int
	LockedUntil  time.Time
}

const userCols = "id, username, display_name, email, department_id, role_id, lang, disabled, must_change_pw, created_at, updated_at"

func scanUser(row interface{ Scan(...any) error }, extra ...any) (crm.User, error) {
	var u crm.User
	var created, updated int64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.DepartmentID, &u.RoleID, &u.Lang,
		&u.Disabled, &u.MustChangePW, &created, &updated}, extra...)
	err := row.Scan(dest...)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, err
}

// InsertUser stores a new user with a password hash.
func (tx *Tx) InsertUser(ctx context.Context, u *crm.User, passwordHash string) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO users (username, display_name, email, password_hash, department_id, role_id,
		lang, disabled, must_change_pw, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id`,
		u.Username, u.DisplayName, u.Email, passwordHash, u.DepartmentID, u.RoleID, u.Lang, u.Disabled, u.MustChangePW,
		ms(u.CreatedAt)).Scan(&u.ID)
	return mapErr("insert user", err)
}

// UpdateUser stores a user's profile, department, role and disabled flag.
func (tx *Tx) UpdateUser(ctx context.Context, u *crm.User) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET display_name = $1, email = $2, department_id = $3, role_id = $4,
		lang = $5, disabled = $6, updated_at = $7 WHERE id = $8`,
		u.DisplayName, u.Email, u.DepartmentID, u.RoleID, u.Lang, u.Disabled, ms(u.UpdatedAt), u.ID)
	return expectOne(res, err, "user")
}

// SetPassword replaces a user's password hash and clears the lockout.
func (tx *Tx) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, now time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_pw = $2, failed_logins = 0,
		locked_until = 0, updated_at = $3 WHERE id = $4`, hash, mustChange, ms(now), userID)
	return expectOne(res, err, "user")
}

// RecordLoginFailure counts a failed password and locks the account until
// lockUntil once the count reaches limit. It returns the new count.
func (tx *Tx) RecordLoginFailure(ctx context.Context, userID int64, limit int, lockUntil time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1,
		locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
		WHERE id = $3 RETURNING failed_logins`, limit, ms(lockUntil), userID).Scan(&n)
	return n, mapErr("record login failure", err)
}

// ResetLoginFailures clears the failure count after a good sign-in.
func (tx *Tx) ResetLoginFailures(ctx context.Context, userID int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1 AND failed_logins <> 0", userID)
	return mapErr("reset login failures", err)
}

// GetUser returns one user.
func (tx *Tx) GetUser(ctx context.Context, id int64) (crm.User, error) {
	u, err := scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	return u, mapErr("user", err)
}

// GetUserAuth returns a user by user name with the password hash and lockout.
func (tx *Tx) GetUserAuth(ctx context.Context, username string) (UserAuth, error) {
	var ua UserAuth
	var locked int64
	u, err := scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userCols+", password_hash, failed_logins, locked_until FROM users WHERE username = $1", username),
		&ua.PasswordHash, &ua.FailedLogins, &locked)
	ua.User, ua.LockedUntil = u, fromMS(locked)
	return ua, mapErr("user", err)
}

// PasswordHash returns a user's password hash.
func (tx *Tx) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := tx.q.QueryRowContext(ctx, "SELECT password_hash FROM users WHERE id = $1", userID).Scan(&h)
	return h, mapErr("user", err)
}

// ListUsers returns every user ordered by name.
func (tx *Tx) ListUsers(ctx context.Context) ([]crm.User, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+userCols+" FROM users ORDER BY "+tx.orderText("username"))
	if err != nil {
		return nil, mapErr("list users", err)
	}
	defer rows.Close()
	var out []crm.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr("scan user", err)
		}
		out = append(out, u)
	}
	return out, mapErr("list users", rows.Err())
}

// CountUsers returns the number of users (zero on a new database).
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, mapErr("count users", err)
}

// InsertLoginAttempt records one sign-in attempt for throttling.
func (tx *Tx) InsertLoginAttempt(ctx context.Context, username, ip string, ok bool, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO login_attempts (username, ip, at, ok) VALUES ($1, $2, $3, $4)", username, ip, ms(at), ok)
	return mapErr("record login attempt", err)
}

// CountFailedLogins counts failed attempts from an IP address since a time.
func (tx *Tx) CountFailedLogins(ctx context.Context, ip string, since time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND at >= $2 AND NOT ok", ip, ms(since)).Scan(&n)
	return n, mapErr("count login attempts", err)
}

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	ID         int64
	TokenHash  string
	CSRFToken  string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// InsertSession stores a new session.
func (tx *Tx) InsertSession(ctx context.Context, s *Session) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1,$2,$3,$4,$4,$5,$6,$7) RETURNING id`,
		s.TokenHash, s.CSRFToken, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt), s.IP, s.UserAgent).Scan(&s.ID)
	return mapErr("insert session", err)
}

// TouchSession moves a session's last-seen time and expiry forward.
func (tx *Tx) TouchSession(ctx context.Context, id int64, seen, expires time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3", ms(seen), ms(expires), id)
	return mapErr("touch session", err)
}

// DeleteSession ends one session.
func (tx *Tx) DeleteSession(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", id)
	return mapErr("delete session", err)
}

// DeleteUserSessions ends every session of a user, except keepID if non-zero.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID, keepID int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", userID, keepID)
	return mapErr("delete sessions", err)
}

// APIToken is a personal API token. Only the hash of its secret is stored.
type APIToken struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at"`
}

// InsertAPIToken stores a new token.
func (tx *Tx) InsertAPIToken(ctx context.Context, t *APIToken, hash string) error {
	var exp int64
	if !t.ExpiresAt.IsZero() {
		exp = ms(t.ExpiresAt)
	}
	err := tx.q.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, t.UserID, t.Name, hash, t.Prefix, ms(t.CreatedAt), exp).Scan(&t.ID)
	return mapErr("insert api token", err)
}

// ListAPITokens returns a user's tokens, newest first.
func (tx *Tx) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at
		FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, mapErr("list api tokens", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var created, used, exp, revoked int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &created, &used, &exp, &revoked); err != nil {
			return nil, mapErr("scan api token", err)
		}
		t.CreatedAt = fromMS(created)
		for _, p := range []struct {
			dst *time.Time
			v   int64
		}{{&t.LastUsedAt, used}, {&t.ExpiresAt, exp}, {&t.RevokedAt, revoked}} {
			if p.v != 0 {
				*p.dst = fromMS(p.v)
			}
		}
		out = append(out, t)
	}
	return out, mapErr("list api tokens", rows.Err())
}

// TouchAPIToken records when a token was last used.
func (tx *Tx) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", ms(at), id)
	return mapErr("touch api token", err)
}

// RevokeAPIToken retires one of a user's tokens.
func (tx *Tx) RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at = 0", ms(at), id, userID)
	return expectOne(res, err, "api token")
}

// GetSetting returns a setting, or "" when unset.
func (tx *Tx) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := tx.q.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = $1", name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, mapErr("setting", err)
}

// PutSetting stores a setting.
func (tx *Tx) PutSetting(ctx context.Context, name, value string) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return mapErr("put setting", err)
}

// UserInScope reports whether a live user is within an owner scope, i.e.
// whether records owned by that user would be visible under it.
func (tx *Tx) UserInScope(ctx context.Context, userID int64, s Scope) (bool, error) {
	var a args
	q := "SELECT COUNT(*) FROM users WHERE id = " + a.add(userID) + " AND NOT disabled AND " + s.ownerCond("id", &a)
	var n int
	err := tx.q.QueryRowContext(ctx, q, a...).Scan(&n)
	return n > 0, mapErr("user in scope", err)
}

// Principal is everything authentication needs about a live credential's
// user, read in one query: the user, their role and their department.
type Principal struct {
	User       crm.User
	Role       crm.Role
	Department crm.Department
}

const principalJoin = ` JOIN users u ON u.id = x.user_id JOIN roles r ON r.id = u.role_id JOIN departments d ON d.id = u.department_id`

const principalCols = `u.id, u.username, u.display_name, u.email, u.department_id, u.role_id, u.lang, u.disabled, u.must_change_pw,
	u.created_at, u.updated_at, r.id, r.role_key, r.name, r.admin, r.audit, r.grants, d.id, d.path`

func scanPrincipal(row scanner, extra ...any) (Principal, error) {
	var p Principal
	var grants string
	r := &p.Role
	u, err := scanUser(row, append([]any{&r.ID, &r.Key, &r.Name, &r.Admin, &r.Audit, &grants, &p.Department.ID, &p.Department.Path}, extra...)...)
	if err != nil {
		return p, err
	}
	p.User = u
	return p, decodeGrants(r, grants)
}

// SessionPrincipal returns a live session with its user, role and department.
func (tx *Tx) SessionPrincipal(ctx context.Context, tokenHash string, now time.Time) (Session, Principal, error) {
	var s Session
	var seen int64
	row := tx.q.QueryRowContext(ctx, "SELECT "+principalCols+", x.id, x.csrf_token, x.last_seen_at FROM sessions x"+principalJoin+
		" WHERE x.token_hash = $1 AND x.expires_at > $2", tokenHash, ms(now))
	p, err := scanPrincipal(row, &s.ID, &s.CSRFToken, &seen)
	s.UserID, s.LastSeenAt = p.User.ID, fromMS(seen)
	return s, p, mapErr("session", err)
}

// TokenPrincipal returns a live API token with its user, role and department.
func (tx *Tx) TokenPrincipal(ctx context.Context, hash string, now time.Time) (APIToken, Principal, error) {
	var t APIToken
	var used int64
	row := tx.q.QueryRowContext(ctx, "SELECT "+principalCols+", x.id, x.last_used_at FROM api_tokens x"+principalJoin+
		" WHERE x.token_hash = $1 AND x.revoked_at = 0 AND (x.expires_at = 0 OR x.expires_at > $2)", hash, ms(now))
	p, err := scanPrincipal(row, &t.ID, &used)
	t.UserID, t.LastUsedAt = p.User.ID, fromMS(used)
	return t, p, mapErr("api token", err)
}

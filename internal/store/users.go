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
	MFAEnrolled  bool // a confirmed second factor: the password alone opens no session
}

const userCols = "id, username, display_name, email, department_id, role_id, lang, time_zone, disabled, must_change_pw, created_at, updated_at"

func scanUser(row interface{ Scan(...any) error }, extra ...any) (crm.User, error) {
	var u crm.User
	var created, updated int64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.DepartmentID, &u.RoleID, &u.Lang, &u.TimeZone,
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

// UpdateUser stores a user's profile, preferences, department, role and
// disabled flag.
func (tx *Tx) UpdateUser(ctx context.Context, u *crm.User) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET display_name = $1, email = $2, department_id = $3, role_id = $4,
		lang = $5, time_zone = $6, disabled = $7, updated_at = $8 WHERE id = $9`,
		u.DisplayName, u.Email, u.DepartmentID, u.RoleID, u.Lang, u.TimeZone, u.Disabled, ms(u.UpdatedAt), u.ID)
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

// NameLockedUntil returns until when sign-ins under a user name without
// an account are locked (the zero time when they are not), the twin of
// UserAuth.LockedUntil.
func (tx *Tx) NameLockedUntil(ctx context.Context, username string) (time.Time, error) {
	var locked int64
	err := tx.q.QueryRowContext(ctx, "SELECT locked_until FROM login_name_failures WHERE username = $1", username).Scan(&locked)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	return fromMS(locked), mapErr("name lockout", err)
}

// RecordNameFailure counts a failed sign-in under a user name without an
// account exactly as RecordLoginFailure counts one for a user.
func (tx *Tx) RecordNameFailure(ctx context.Context, username string, limit int, lockUntil time.Time) error {
	first := int64(0)
	if limit <= 1 {
		first = ms(lockUntil)
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO login_name_failures (username, failed_logins, locked_until) VALUES ($1, 1, $2)
		ON CONFLICT (username) DO UPDATE SET failed_logins = login_name_failures.failed_logins + 1,
		locked_until = CASE WHEN login_name_failures.failed_logins + 1 >= $3 THEN $4 ELSE login_name_failures.locked_until END`,
		username, first, limit, ms(lockUntil))
	return mapErr("record name failure", err)
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
	u, err := scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userCols+", password_hash, failed_logins, locked_until, "+mfaEnrolled("users")+
		" FROM users WHERE username = $1", username),
		&ua.PasswordHash, &ua.FailedLogins, &locked, &ua.MFAEnrolled)
	ua.User, ua.LockedUntil = u, fromMS(locked)
	return ua, mapErr("user", err)
}

// LockedUntil returns until when a user's account is locked after failed
// sign-ins (the zero time, or a time in the past, when it is not).
func (tx *Tx) LockedUntil(ctx context.Context, userID int64) (time.Time, error) {
	var locked int64
	err := tx.q.QueryRowContext(ctx, "SELECT locked_until FROM users WHERE id = $1", userID).Scan(&locked)
	return fromMSOrZero(locked), mapErr("user", err)
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

// InsertSignIn records a completed sign-in (every factor verified) for the
// activity report, in the transaction that opens the session: the audit
// trail's login events are archived out of the database in segments.
func (tx *Tx) InsertSignIn(ctx context.Context, userID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO sign_ins (user_id, at) VALUES ($1, $2)", userID, ms(at))
	return mapErr("record sign-in", err)
}

// CountFailedLogins counts failed attempts from an IP address since a time.
func (tx *Tx) CountFailedLogins(ctx context.Context, ip string, since time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND at >= $2 AND NOT ok", ip, ms(since)).Scan(&n)
	return n, mapErr("count login attempts", err)
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
	q := "SELECT COUNT(*) FROM users WHERE id = " + a.add(userID) + " AND NOT disabled AND " + ownerCond(s, "id", &a)
	var n int
	err := tx.q.QueryRowContext(ctx, q, a...).Scan(&n)
	return n > 0, mapErr("user in scope", err)
}

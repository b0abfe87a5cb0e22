package store

import (
	"context"
	"time"
)

// TOTPCredential is a user's TOTP secret. ConfirmedAt is zero while
// enrolment waits for the first code. LastStep is the last time step whose
// code was accepted; only a later step is accepted next (no replay).
type TOTPCredential struct {
	UserID      int64
	Secret      string
	ConfirmedAt time.Time
	LastStep    int64
	CreatedAt   time.Time
}

// GetTOTP returns a user's TOTP credential, confirmed or not.
func (tx *Tx) GetTOTP(ctx context.Context, userID int64) (TOTPCredential, error) {
	var c TOTPCredential
	var confirmed, created int64
	err := tx.q.QueryRowContext(ctx, "SELECT user_id, secret, confirmed_at, last_step, created_at FROM totp_credentials WHERE user_id = $1", userID).
		Scan(&c.UserID, &c.Secret, &confirmed, &c.LastStep, &created)
	c.ConfirmedAt, c.CreatedAt = fromMSOrZero(confirmed), fromMS(created)
	return c, mapErr("totp credential", err)
}

// PutPendingTOTP stores a new, unconfirmed secret for a user, replacing an
// earlier unconfirmed one; a confirmed credential is never replaced.
func (tx *Tx) PutPendingTOTP(ctx context.Context, userID int64, secret string, now time.Time) error {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO totp_credentials (user_id, secret, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
		WHERE totp_credentials.confirmed_at = 0`, userID, secret, ms(now))
	return expectOne(res, err, "totp credential")
}

// ConfirmTOTP marks a pending credential confirmed.
func (tx *Tx) ConfirmTOTP(ctx context.Context, userID int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE totp_credentials SET confirmed_at = $1 WHERE user_id = $2 AND confirmed_at = 0", ms(at), userID)
	return expectOne(res, err, "totp credential")
}

// UseTOTPStep records that the code of a time step was accepted. It fails
// with NotFound when that step or a later one was already used, so two
// requests racing with the same code cannot both succeed.
func (tx *Tx) UseTOTPStep(ctx context.Context, userID, step int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE totp_credentials SET last_step = $1 WHERE user_id = $2 AND last_step < $1", step, userID)
	return expectOne(res, err, "totp step")
}

// DeleteMFA removes every second factor of a user: the TOTP credential,
// the passkeys and the recovery codes.
func (tx *Tx) DeleteMFA(ctx context.Context, userID int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM webauthn_credentials WHERE user_id = $1", userID); err != nil {
		return mapErr("delete passkeys", err)
	}
	if err := tx.DeleteRecoveryCodes(ctx, userID); err != nil {
		return err
	}
	return tx.DeleteTOTP(ctx, userID)
}

// DeleteTOTP removes a user's TOTP credential only.
func (tx *Tx) DeleteTOTP(ctx context.Context, userID int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM totp_credentials WHERE user_id = $1", userID)
	return mapErr("delete totp credential", err)
}

// DeleteRecoveryCodes removes a user's recovery codes, used or not.
func (tx *Tx) DeleteRecoveryCodes(ctx context.Context, userID int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = $1", userID)
	return mapErr("delete recovery codes", err)
}

// ReplaceRecoveryCodes stores a user's new recovery codes (their hashes),
// dropping every earlier one, used or not.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, now time.Time) error {
	if err := tx.DeleteRecoveryCodes(ctx, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)", userID, h, ms(now)); err != nil {
			return mapErr("insert recovery code", err)
		}
	}
	return nil
}

// UseRecoveryCode marks an unused recovery code of the user used; NotFound
// when there is no such unused code.
func (tx *Tx) UseRecoveryCode(ctx context.Context, userID int64, hash string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at = 0", ms(at), userID, hash)
	return expectOne(res, err, "recovery code")
}

// CountRecoveryCodes returns how many unused recovery codes a user has.
func (tx *Tx) CountRecoveryCodes(ctx context.Context, userID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0", userID).Scan(&n)
	return n, mapErr("count recovery codes", err)
}

// PlainTOTPUsers returns the users whose TOTP secret was stored before
// encryption (not sealed), for the start-up upgrade.
func (tx *Tx) PlainTOTPUsers(ctx context.Context) ([]TOTPCredential, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT user_id, secret FROM totp_credentials WHERE secret NOT LIKE 'ev1:%' ORDER BY user_id")
	if err != nil {
		return nil, mapErr("list plain totp secrets", err)
	}
	defer rows.Close()
	var out []TOTPCredential
	for rows.Next() {
		var c TOTPCredential
		if err := rows.Scan(&c.UserID, &c.Secret); err != nil {
			return nil, mapErr("scan totp secret", err)
		}
		out = append(out, c)
	}
	return out, mapErr("list plain totp secrets", rows.Err())
}

// SetTOTPSecret replaces a user's stored TOTP secret (with its sealed form).
func (tx *Tx) SetTOTPSecret(ctx context.Context, userID int64, secret string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE totp_credentials SET secret = $1 WHERE user_id = $2", secret, userID)
	return mapErr("set totp secret", err)
}

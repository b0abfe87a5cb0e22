package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Passkey is a registered WebAuthn credential of a user. BlockedAt is set
// when an assertion carried a signature counter that went backwards (a
// possible clone); a blocked passkey is refused until it is removed.
type Passkey struct {
	ID                int64
	UserID            int64
	RPID              string
	CredentialID      []byte
	Name              string
	PublicKey         []byte
	SignCount         uint32
	Transports        []string
	AAGUID            []byte
	Flags             byte
	AttestationFormat string
	CreatedAt         time.Time
	LastUsedAt        time.Time
	BlockedAt         time.Time
}

const passkeyCols = `id, user_id, rp_id, credential_id, name, public_key, sign_count, transports, aaguid, flags, attestation_format,
	created_at, last_used_at, blocked_at`

func scanPasskey(row scanner) (Passkey, error) {
	var p Passkey
	var count, flags, created, used, blocked int64
	var transports string
	err := row.Scan(&p.ID, &p.UserID, &p.RPID, &p.CredentialID, &p.Name, &p.PublicKey, &count, &transports, &p.AAGUID, &flags,
		&p.AttestationFormat, &created, &used, &blocked)
	p.SignCount, p.Flags = uint32(count), byte(flags)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt, p.LastUsedAt, p.BlockedAt = fromMS(created), fromMSOrZero(used), fromMSOrZero(blocked)
	return p, err
}

// InsertPasskey stores a newly registered passkey; the same credential id
// registered twice for one relying party is a Duplicate.
func (tx *Tx) InsertPasskey(ctx context.Context, p *Passkey) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO webauthn_credentials (user_id, rp_id, credential_id, name, public_key, sign_count,
		transports, aaguid, flags, attestation_format, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		p.UserID, p.RPID, p.CredentialID, p.Name, p.PublicKey, int64(p.SignCount), strings.Join(p.Transports, ","), p.AAGUID,
		int64(p.Flags), p.AttestationFormat, ms(p.CreatedAt)).Scan(&p.ID)
	return mapErr("insert passkey", err)
}

// ListPasskeys returns a user's passkeys, oldest first.
func (tx *Tx) ListPasskeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+passkeyCols+" FROM webauthn_credentials WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		return nil, mapErr("list passkeys", err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, mapErr("scan passkey", err)
		}
		out = append(out, p)
	}
	return out, mapErr("list passkeys", rows.Err())
}

// GetPasskey returns one passkey of a user; another user's is NotFound.
func (tx *Tx) GetPasskey(ctx context.Context, userID, id int64) (Passkey, error) {
	p, err := scanPasskey(tx.q.QueryRowContext(ctx, "SELECT "+passkeyCols+" FROM webauthn_credentials WHERE id = $1 AND user_id = $2", id, userID))
	return p, mapErr("passkey", err)
}

// RenamePasskey changes the name of a user's passkey.
func (tx *Tx) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE webauthn_credentials SET name = $1 WHERE id = $2 AND user_id = $3", name, id, userID)
	return expectOne(res, err, "passkey")
}

// DeletePasskey removes a user's passkey.
func (tx *Tx) DeletePasskey(ctx context.Context, userID, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2", id, userID)
	return expectOne(res, err, "passkey")
}

// UsePasskey records an accepted assertion: the new signature counter,
// flags and time. It changes nothing (NotFound) unless the stored counter
// is still the one the assertion was checked against and the passkey is
// not blocked, so two racing assertions cannot both pass on one counter.
func (tx *Tx) UsePasskey(ctx context.Context, id int64, checkedCount, newCount uint32, flags byte, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE webauthn_credentials SET sign_count = $1, flags = $2, last_used_at = $3
		WHERE id = $4 AND sign_count = $5 AND blocked_at = 0`, int64(newCount), int64(flags), ms(at), id, int64(checkedCount))
	return expectOne(res, err, "passkey")
}

// BlockPasskey marks a passkey as possibly cloned; it is refused from then on.
func (tx *Tx) BlockPasskey(ctx context.Context, id int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE webauthn_credentials SET blocked_at = $1 WHERE id = $2 AND blocked_at = 0", ms(at), id)
	return mapErr("block passkey", err)
}

// CountPasskeys returns how many passkeys a user has, blocked ones included.
func (tx *Tx) CountPasskeys(ctx context.Context, userID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1", userID).Scan(&n)
	return n, mapErr("count passkeys", err)
}

// WebAuthnHandle returns a user's WebAuthn user handle, storing the given
// fresh one first if the user has none yet.
func (tx *Tx) WebAuthnHandle(ctx context.Context, userID int64, fresh []byte, now time.Time) ([]byte, error) {
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO webauthn_users (user_id, handle, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO NOTHING`, userID, fresh, ms(now)); err != nil {
		return nil, mapErr("insert webauthn user", err)
	}
	var h []byte
	err := tx.q.QueryRowContext(ctx, "SELECT handle FROM webauthn_users WHERE user_id = $1", userID).Scan(&h)
	return h, mapErr("webauthn user", err)
}

// GetWebAuthnHandle returns a user's WebAuthn user handle (NotFound: none yet).
func (tx *Tx) GetWebAuthnHandle(ctx context.Context, userID int64) ([]byte, error) {
	var h []byte
	err := tx.q.QueryRowContext(ctx, "SELECT handle FROM webauthn_users WHERE user_id = $1", userID).Scan(&h)
	return h, mapErr("webauthn user", err)
}

// PutWebAuthnChallenge stores the state of a ceremony a session began,
// replacing an earlier one of the same purpose, and drops every expired
// ceremony of any session on the way.
func (tx *Tx) PutWebAuthnChallenge(ctx context.Context, sessionID int64, purpose, data string, now, expires time.Time) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM webauthn_challenges WHERE expires_at <= $1", ms(now)); err != nil {
		return mapErr("delete expired challenges", err)
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO webauthn_challenges (session_id, purpose, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (session_id, purpose) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		sessionID, purpose, data, ms(expires))
	return mapErr("insert challenge", err)
}

// TakeWebAuthnChallenge removes a session's ceremony of a purpose and
// returns it if it has not expired: each challenge is answered at most
// once, and of two racing answers only one gets it.
func (tx *Tx) TakeWebAuthnChallenge(ctx context.Context, sessionID int64, purpose string, now time.Time) (string, error) {
	var data string
	var expires int64
	err := tx.q.QueryRowContext(ctx, "DELETE FROM webauthn_challenges WHERE session_id = $1 AND purpose = $2 RETURNING data, expires_at",
		sessionID, purpose).Scan(&data, &expires)
	if err == nil && expires <= ms(now) {
		err = sql.ErrNoRows
	}
	return data, mapErr("challenge", err)
}

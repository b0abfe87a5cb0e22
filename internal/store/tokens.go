package store

import (
	"context"
	"strings"
	"time"

	"custos/internal/crm"
)

// APIToken is crm.APIToken: the type lives with the domain so no surface needs the store.
type APIToken = crm.APIToken

// InsertAPIToken stores a new token.
func (tx *Tx) InsertAPIToken(ctx context.Context, t *APIToken, hash string) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at, scopes, allowed_ips)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`, t.UserID, t.Name, hash, t.Prefix, ms(t.CreatedAt), msOrZero(t.ExpiresAt),
		strings.Join(t.Scopes, " "), strings.Join(t.AllowedIPs, " ")).Scan(&t.ID)
	return mapErr("insert api token", err)
}

const tokenCols = "x.id, x.user_id, x.name, x.prefix, x.scopes, x.allowed_ips, x.created_at, x.last_used_at, x.last_used_ip, x.expires_at, x.revoked_at"

func scanToken(row scanner, extra ...any) (APIToken, error) {
	var t APIToken
	var scopes, ips string
	var created, used, exp, revoked int64
	err := row.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &t.Prefix, &scopes, &ips, &created, &used, &t.LastUsedIP, &exp, &revoked}, extra...)...)
	t.Scopes, t.AllowedIPs = strings.Fields(scopes), strings.Fields(ips)
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromMSOrZero(used), fromMSOrZero(exp), fromMSOrZero(revoked)
	return t, err
}

// ListAPITokens returns a user's tokens, newest first.
func (tx *Tx) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+tokenCols+" FROM api_tokens x WHERE x.user_id = $1 ORDER BY x.id DESC", userID)
	if err != nil {
		return nil, mapErr("list api tokens", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, mapErr("scan api token", err)
		}
		out = append(out, t)
	}
	return out, mapErr("list api tokens", rows.Err())
}

// TouchAPIToken records when and from where a token was last used.
func (tx *Tx) TouchAPIToken(ctx context.Context, id int64, at time.Time, ip string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3", ms(at), ip, id)
	return mapErr("touch api token", err)
}

// RevokeAPIToken retires one of a user's tokens.
func (tx *Tx) RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at = 0", ms(at), id, userID)
	return expectOne(res, err, "api token")
}

// TokenPrincipal returns an API token by the hash of its secret, with its
// user, role and department. It returns revoked and expired tokens too, so
// the caller can say (and audit) why a known token is refused.
func (tx *Tx) TokenPrincipal(ctx context.Context, hash string) (APIToken, Principal, error) {
	var t APIToken
	var scopes, ips string
	var used, exp, revoked int64
	row := tx.q.QueryRowContext(ctx, "SELECT "+principalCols+", x.id, x.name, x.scopes, x.allowed_ips, x.last_used_at, x.expires_at, x.revoked_at FROM api_tokens x"+
		principalJoin+" WHERE x.token_hash = $1", hash)
	p, err := scanPrincipal(row, &t.ID, &t.Name, &scopes, &ips, &used, &exp, &revoked)
	t.UserID, t.Scopes, t.AllowedIPs = p.User.ID, strings.Fields(scopes), strings.Fields(ips)
	t.LastUsedAt, t.ExpiresAt, t.RevokedAt = fromMSOrZero(used), fromMSOrZero(exp), fromMSOrZero(revoked)
	return t, p, mapErr("api token", err)
}

package store

import (
	"context"
	"time"
)

// KeyIdentities returns what the database records about its keys (issue 12
// §2): its own id and the identities of its master key versions, key store
// and audit key, by name. Empty for a database that records none yet.
func (tx *Tx) KeyIdentities(ctx context.Context) (map[string]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT name, value FROM key_identities")
	if err != nil {
		return nil, mapErr("key identities", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, mapErr("scan key identity", err)
		}
		out[name] = value
	}
	return out, mapErr("key identities", rows.Err())
}

// RecordKeyIdentity records an identity unless one of that name is there
// already: the first of two instances starting together wins, and the other
// then reads the winner and finds its own keys foreign.
func (tx *Tx) RecordKeyIdentity(ctx context.Context, name, value string, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO key_identities (name, value, recorded_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
		name, value, at.UnixMilli())
	return mapErr("record key identity", err)
}

// HoldsData reports whether the database holds anything written under keys:
// a user (the first start creates the administrator) or an audit event. A
// database that holds nothing may get new keys; any other must find its own.
func (tx *Tx) HoldsData(ctx context.Context) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) u) + (SELECT COUNT(*) FROM (SELECT 1 FROM audit_events LIMIT 1) e)").Scan(&n)
	return n > 0, mapErr("holds data", err)
}

package vault

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for a PostgreSQL key store
	_ "modernc.org/sqlite"             // the "sqlite" driver, for the default file key store
)

// keyStore holds the wrapped data keys, blind-index keys and erasure
// tombstones — in a database of its own, never in the data database, so a
// data backup holds no key (DESIGN.md §5). By default it is a small SQLite
// file beside the master key; several Custos instances on one PostgreSQL
// share a PostgreSQL key store (a separate database from the data).
type keyStore struct {
	db       *sql.DB
	postgres bool
	where    string // for messages: the file, or the database without credentials
	id       string // the key store's own identity (vault_identity 'keystore')
}

// keyStoreSchema creates the key store's tables; both dialects accept it.
// Wrapped keys are base64 text so one schema serves both.
var keyStoreSchema = []string{
	`CREATE TABLE IF NOT EXISTS vault_data_keys (
		id             TEXT    PRIMARY KEY,
		master_version INTEGER NOT NULL,
		wrapped        TEXT    NOT NULL,
		created_at     BIGINT  NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS vault_data_keys_version ON vault_data_keys(master_version, id)`,
	`CREATE TABLE IF NOT EXISTS vault_tombstones (
		id        TEXT   PRIMARY KEY,
		erased_at BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS vault_superseded (
		id     TEXT   PRIMARY KEY,
		marked BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS vault_blind_keys (
		version        INTEGER PRIMARY KEY,
		master_version INTEGER NOT NULL,
		wrapped        TEXT    NOT NULL,
		state          TEXT    NOT NULL,
		created_at     BIGINT  NOT NULL
	)`,
	// The key store's own id ('keystore') and the id of the one database
	// whose keys it holds ('database'), recorded there too (issue 12 §2).
	`CREATE TABLE IF NOT EXISTS vault_identity (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	)`,
}

// openKeyStore opens the key store at where: a postgres:// URL or a file
// path for SQLite. With create it makes a new one when there is none;
// without, a missing one is a *MissingError (and nothing is created).
func openKeyStore(ctx context.Context, where string, create bool) (*keyStore, bool, error) {
	return openKeyStoreAs(ctx, where, create, "")
}

// openKeyStoreAs is openKeyStore; a new key store takes the id presetID
// when it is not empty (a key store loaded from a snapshot keeps its id).
func openKeyStoreAs(ctx context.Context, where string, create bool, presetID string) (*keyStore, bool, error) {
	ks := &keyStore{}
	var err error
	created := false
	switch {
	case strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://"):
		ks.postgres = true
		ks.where = redactURL(where)
		ks.db, err = sql.Open("pgx", where)
	case where == "":
		return nil, false, errors.New("vault: no key store configured")
	default:
		ks.where = where
		if _, statErr := os.Stat(where); errors.Is(statErr, os.ErrNotExist) {
			if !create {
				return nil, false, &MissingError{What: "key store", Where: where}
			}
			created = true
		}
		if err := os.MkdirAll(filepath.Dir(where), 0o700); err != nil {
			return nil, false, fmt.Errorf("vault: create key store directory: %w", err)
		}
		// secure_delete overwrites a destroyed key's bytes in the file, and a
		// rollback journal (not WAL) leaves no second copy of pages behind.
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(DELETE)", "secure_delete(1)", "synchronous(FULL)"} {
			q.Add("_pragma", p)
		}
		ks.db, err = sql.Open("sqlite", "file:"+where+"?"+q.Encode()+"&_txlock=immediate")
		if err == nil {
			ks.db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("vault: open key store %s: %w", ks.where, err)
	}
	if ks.postgres {
		// A PostgreSQL key store "exists" once it has its tables; an empty
		// database named by mistake must not silently become one.
		var n int
		if err := ks.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'vault_blind_keys'").Scan(&n); err != nil {
			ks.db.Close()
			return nil, false, fmt.Errorf("vault: open key store %s: %w", ks.where, err)
		}
		if n == 0 && !create {
			ks.db.Close()
			return nil, false, &MissingError{What: "key store", Where: ks.where}
		}
		created = n == 0
	}
	for _, stmt := range keyStoreSchema {
		if _, err := ks.db.ExecContext(ctx, stmt); err != nil {
			ks.db.Close()
			return nil, false, fmt.Errorf("vault: key store %s: %w", ks.where, err)
		}
	}
	if created && !ks.postgres {
		os.Chmod(where, 0o600)
	}
	if ks.id, err = ks.identity(ctx, presetID); err != nil {
		ks.db.Close()
		return nil, false, err
	}
	return ks, created, nil
}

// identity returns the key store's id, giving it one when it has none (a
// new key store, or one made before key stores had ids); concurrent first
// opens agree on one.
func (ks *keyStore) identity(ctx context.Context, preset string) (string, error) {
	if preset == "" {
		b := make([]byte, 16)
		rand.Read(b)
		preset = "ks_" + hex.EncodeToString(b)
	}
	if _, err := ks.db.ExecContext(ctx, "INSERT INTO vault_identity (name, value) VALUES ('keystore', $1) ON CONFLICT (name) DO NOTHING",
		preset); err != nil {
		return "", fmt.Errorf("vault: key store %s: identity: %w", ks.where, err)
	}
	return ks.identityValue(ctx, "keystore")
}

func (ks *keyStore) identityValue(ctx context.Context, name string) (string, error) {
	var v string
	err := ks.db.QueryRowContext(ctx, "SELECT value FROM vault_identity WHERE name = $1", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("vault: key store %s: identity: %w", ks.where, err)
	}
	return v, nil
}

// bindDatabase records the database whose keys the store holds, unless one
// is recorded already, and returns the one recorded.
func (ks *keyStore) bindDatabase(ctx context.Context, id string) (string, error) {
	if _, err := ks.db.ExecContext(ctx, "INSERT INTO vault_identity (name, value) VALUES ('database', $1) ON CONFLICT (name) DO NOTHING", id); err != nil {
		return "", fmt.Errorf("vault: key store %s: record its database: %w", ks.where, err)
	}
	return ks.identityValue(ctx, "database")
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres key store"
	}
	return u.Redacted()
}

func (ks *keyStore) close() error { return ks.db.Close() }

// wrappedKey is a stored key: the master key version that wrapped it.
type wrappedKey struct {
	id      string
	version uint32
	wrapped []byte
}

// putDataKeys stores new data keys in one transaction.
func (ks *keyStore) putDataKeys(ctx context.Context, keys []wrappedKey, at int64) error {
	tx, err := ks.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vault: store data keys: %w", err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		_, err := tx.ExecContext(ctx, `INSERT INTO vault_data_keys (id, master_version, wrapped, created_at) VALUES ($1,$2,$3,$4)`,
			k.id, k.version, base64.StdEncoding.EncodeToString(k.wrapped), at)
		if err != nil {
			return fmt.Errorf("vault: store data key: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("vault: store data keys: %w", err)
	}
	return nil
}

// putDataKeyIfAbsent stores a named key unless one of that id exists.
func (ks *keyStore) putDataKeyIfAbsent(ctx context.Context, k wrappedKey, at int64) error {
	_, err := ks.db.ExecContext(ctx, `INSERT INTO vault_data_keys (id, master_version, wrapped, created_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (id) DO NOTHING`, k.id, k.version, base64.StdEncoding.EncodeToString(k.wrapped), at)
	if err != nil {
		return fmt.Errorf("vault: store system key: %w", err)
	}
	return nil
}

// dataKeys loads the wrapped keys of ids, and which of ids were erased.
// A tombstone wins over a key row: a key store restored from before an
// erasure still cannot unwrap the erased key once the tombstone is back.
func (ks *keyStore) dataKeys(ctx context.Context, ids []string) (map[string]wrappedKey, map[string]bool, error) {
	keys, erased := map[string]wrappedKey{}, map[string]bool{}
	if len(ids) == 0 {
		return keys, erased, nil
	}
	ph, args := placeholders(ids)
	rows, err := ks.db.QueryContext(ctx, `SELECT k.id, k.master_version, k.wrapped, t.id IS NOT NULL FROM vault_data_keys k
		LEFT JOIN vault_tombstones t ON t.id = k.id WHERE k.id IN (`+ph+`)
		UNION ALL SELECT t.id, 0, '', 1 = 1 FROM vault_tombstones t WHERE t.id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: load data keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k wrappedKey
		var enc string
		var dead bool
		if err := rows.Scan(&k.id, &k.version, &enc, &dead); err != nil {
			return nil, nil, fmt.Errorf("vault: load data keys: %w", err)
		}
		if dead {
			erased[k.id] = true
			continue
		}
		if k.wrapped, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, nil, fmt.Errorf("vault: data key %s is corrupt", k.id)
		}
		keys[k.id] = k
	}
	for id := range erased {
		delete(keys, id)
	}
	return keys, erased, rows.Err()
}

// createdBefore returns which of ids were created before at (ms).
func (ks *keyStore) createdBefore(ctx context.Context, ids []string, at int64) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	ph, args := placeholders(ids)
	old, err := ks.ids(ctx, "key ages", "SELECT id FROM vault_data_keys WHERE created_at < $"+fmt.Sprint(len(ids)+1)+" AND id IN ("+ph+")",
		append(args, at)...)
	for _, id := range old {
		out[id] = true
	}
	return out, err
}

func (ks *keyStore) supersede(ctx context.Context, id string, at int64) error {
	_, err := ks.db.ExecContext(ctx, "INSERT INTO vault_superseded (id, marked) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, at)
	if err != nil {
		return fmt.Errorf("vault: mark key superseded: %w", err)
	}
	return nil
}

func (ks *keyStore) superseded(ctx context.Context, limit int) ([]string, error) {
	return ks.ids(ctx, "list superseded keys", "SELECT id FROM vault_superseded ORDER BY id LIMIT $1", limit)
}

func (ks *keyStore) dropSuperseded(ctx context.Context, id string) error {
	if _, err := ks.db.ExecContext(ctx, "DELETE FROM vault_superseded WHERE id = $1", id); err != nil {
		return fmt.Errorf("vault: drop superseded mark: %w", err)
	}
	return nil
}

// ids runs a query of key ids.
func (ks *keyStore) ids(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := ks.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("vault: %s: %w", what, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// erase destroys a data key and records its tombstone, atomically.
func (ks *keyStore) erase(ctx context.Context, id string, at int64) error {
	tx, err := ks.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vault: erase key: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM vault_data_keys WHERE id = $1`, id); err != nil {
		return fmt.Errorf("vault: erase key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO vault_tombstones (id, erased_at) VALUES ($1,$2) ON CONFLICT DO NOTHING`, id, at); err != nil {
		return fmt.Errorf("vault: record tombstone: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("vault: erase key: %w", err)
	}
	return nil
}

// keysNotWrappedBy returns up to limit data keys after afterID wrapped by a
// master version other than v, in id order (so a re-wrap resumes by id).
func (ks *keyStore) keysNotWrappedBy(ctx context.Context, v uint32, afterID string, limit int) ([]wrappedKey, error) {
	rows, err := ks.db.QueryContext(ctx, `SELECT id, master_version, wrapped FROM vault_data_keys
		WHERE master_version <> $1 AND id > $2 ORDER BY id LIMIT $3`, v, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("vault: list keys to re-wrap: %w", err)
	}
	defer rows.Close()
	var out []wrappedKey
	for rows.Next() {
		var k wrappedKey
		var enc string
		if err := rows.Scan(&k.id, &k.version, &enc); err != nil {
			return nil, err
		}
		if k.wrapped, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, fmt.Errorf("vault: data key %s is corrupt", k.id)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// rewrapKey replaces a key's wrapping if it is still wrapped by from (a
// concurrent erasure or re-wrap wins; the row is then left alone).
func (ks *keyStore) rewrapKey(ctx context.Context, k wrappedKey, from uint32) error {
	_, err := ks.db.ExecContext(ctx, `UPDATE vault_data_keys SET master_version = $1, wrapped = $2 WHERE id = $3 AND master_version = $4`,
		k.version, base64.StdEncoding.EncodeToString(k.wrapped), k.id, from)
	if err != nil {
		return fmt.Errorf("vault: re-wrap key: %w", err)
	}
	return nil
}

// versionUse counts the data and blind-index keys wrapped by each master
// key version.
func (ks *keyStore) versionUse(ctx context.Context) (map[uint32]int64, error) {
	rows, err := ks.db.QueryContext(ctx, `SELECT master_version, COUNT(*) FROM vault_data_keys GROUP BY master_version
		UNION ALL SELECT master_version, COUNT(*) FROM vault_blind_keys WHERE state <> 'retired' GROUP BY master_version`)
	if err != nil {
		return nil, fmt.Errorf("vault: count key versions: %w", err)
	}
	defer rows.Close()
	use := map[uint32]int64{}
	for rows.Next() {
		var v uint32
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		use[v] += n
	}
	return use, rows.Err()
}

// storedBlindKey is a blind-index key as stored.
type storedBlindKey struct {
	version uint32
	wrapped wrappedKey
	state   string
}

func (ks *keyStore) blindKeys(ctx context.Context) ([]storedBlindKey, error) {
	rows, err := ks.db.QueryContext(ctx, `SELECT version, master_version, wrapped, state FROM vault_blind_keys ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("vault: load blind-index keys: %w", err)
	}
	defer rows.Close()
	var out []storedBlindKey
	for rows.Next() {
		var b storedBlindKey
		var enc string
		if err := rows.Scan(&b.version, &b.wrapped.version, &enc, &b.state); err != nil {
			return nil, err
		}
		if b.wrapped.wrapped, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, fmt.Errorf("vault: blind-index key %d is corrupt", b.version)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// putBlindKey adds a blind-index key version; a concurrent instance adding
// the same version first wins (ON CONFLICT) and both then read the winner.
func (ks *keyStore) putBlindKey(ctx context.Context, b storedBlindKey, at int64) error {
	_, err := ks.db.ExecContext(ctx, `INSERT INTO vault_blind_keys (version, master_version, wrapped, state, created_at)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`, b.version, b.wrapped.version,
		base64.StdEncoding.EncodeToString(b.wrapped.wrapped), b.state, at)
	if err != nil {
		return fmt.Errorf("vault: store blind-index key: %w", err)
	}
	return nil
}

func (ks *keyStore) setBlindState(ctx context.Context, version uint32, state string) error {
	if _, err := ks.db.ExecContext(ctx, `UPDATE vault_blind_keys SET state = $1 WHERE version = $2`, state, version); err != nil {
		return fmt.Errorf("vault: set blind-index key state: %w", err)
	}
	return nil
}

func (ks *keyStore) rewrapBlindKey(ctx context.Context, version uint32, k wrappedKey, from uint32) error {
	_, err := ks.db.ExecContext(ctx, `UPDATE vault_blind_keys SET master_version = $1, wrapped = $2 WHERE version = $3 AND master_version = $4`,
		k.version, base64.StdEncoding.EncodeToString(k.wrapped), version, from)
	if err != nil {
		return fmt.Errorf("vault: re-wrap blind-index key: %w", err)
	}
	return nil
}

// tombstones returns up to limit erased key ids after afterID, in order.
func (ks *keyStore) tombstones(ctx context.Context, afterID string, limit int) ([]string, error) {
	return ks.ids(ctx, "list tombstones", "SELECT id FROM vault_tombstones WHERE id > $1 ORDER BY id LIMIT $2", afterID, limit)
}

func placeholders(ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = id
	}
	return b.String(), args
}

// storedKey is a data key row as a snapshot holds it.
type storedKey struct {
	wrappedKey
	at int64
}

// dataKeysAfter returns up to limit data keys after afterID, in id order,
// with their creation times.
func (ks *keyStore) dataKeysAfter(ctx context.Context, afterID string, limit int) ([]storedKey, error) {
	rows, err := ks.db.QueryContext(ctx, `SELECT id, master_version, wrapped, created_at FROM vault_data_keys
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("vault: list data keys: %w", err)
	}
	defer rows.Close()
	var out []storedKey
	for rows.Next() {
		var k storedKey
		var enc string
		if err := rows.Scan(&k.id, &k.version, &enc, &k.at); err != nil {
			return nil, err
		}
		if k.wrapped, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, fmt.Errorf("vault: data key %s is corrupt", k.id)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// mark is a tombstone or a superseded mark: a key id and when.
type mark struct {
	id string
	at int64
}

// marks returns every tombstone (kind "tombstone") or superseded mark.
func (ks *keyStore) marks(ctx context.Context, kind string) ([]mark, error) {
	q := "SELECT id, erased_at FROM vault_tombstones ORDER BY id"
	if kind == "superseded" {
		q = "SELECT id, marked FROM vault_superseded ORDER BY id"
	}
	rows, err := ks.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("vault: list %s: %w", kind, err)
	}
	defer rows.Close()
	var out []mark
	for rows.Next() {
		var m mark
		if err := rows.Scan(&m.id, &m.at); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

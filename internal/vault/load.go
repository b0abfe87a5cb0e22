package vault

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// LoadOptions say which snapshot to load into which new key store.
type LoadOptions struct {
	File          string // the snapshot
	KeyStore      string // where the new key store goes: a file, or a postgres:// URL
	MasterKeyFile string
	MasterKeyEnv  string
	// Identities are what the data database records (key_identities):
	// "keystore" and "database". A snapshot made before it held them (v1)
	// takes them from here; a newer one must agree with them.
	Identities map[string]string
}

// LoadReport says what a load put into the new key store.
type LoadReport struct {
	Format     string // SnapshotFormat, or "v1" for a snapshot from before it had one
	TakenAt    time.Time
	KeyStoreID string
	DatabaseID string
	DataKeys   int
	Tombstones int
	Superseded int
	BlindKeys  int
}

// LoadSnapshot makes a new key store from a snapshot: the key store to
// restore when the one in use is lost. It refuses a key store that exists
// (a file, or a PostgreSQL key store with its tables), a snapshot that was
// cut (its end line), one whose identities are not the data database's,
// and one with a key the master key does not unwrap; then it writes
// everything in one transaction. A key with a tombstone is not loaded.
func LoadSnapshot(ctx context.Context, o LoadOptions) (LoadReport, error) {
	var r LoadReport
	m, _, err := loadMasterKeys(o.MasterKeyFile, o.MasterKeyEnv, false)
	if err != nil {
		return r, err
	}
	lines, err := readSnapshot(o.File)
	if err != nil {
		return r, err
	}
	ids := map[string]string{}
	r.Format = "v1"
	for _, l := range lines {
		switch l.Kind {
		case "header":
			r.Format, r.TakenAt = l.Format, time.UnixMilli(l.At)
		case "identity":
			ids[l.Name] = l.Value
		}
	}
	for _, name := range []string{"keystore", "database"} {
		rec := o.Identities[name]
		switch {
		case ids[name] == "":
			ids[name] = rec
		case rec != "" && rec != ids[name]:
			return r, fmt.Errorf("vault: the snapshot %s is of %s %s, but the database records %s: it belongs to another database", o.File, name, ids[name], rec)
		}
	}
	if ids["keystore"] == "" {
		return r, fmt.Errorf("vault: the snapshot %s names no key store and the database records none: start from the database whose keys these are", o.File)
	}
	r.KeyStoreID, r.DatabaseID = ids["keystore"], ids["database"]
	// Every key must unwrap under the master key given, or the load would
	// only move the failure to the first read of that person.
	erased := map[string]bool{}
	for _, l := range lines {
		if l.Kind == "tombstone" {
			erased[l.ID] = true
		}
	}
	for _, l := range lines {
		purpose := ""
		switch {
		case l.Kind == "data_key" && !erased[l.ID]:
			purpose = dataKeyPurpose(l.ID)
		case l.Kind == "blind_key":
			purpose = blindPurpose(l.Version)
		default:
			continue
		}
		wrapped, err := base64.StdEncoding.DecodeString(l.Wrapped)
		if err == nil {
			_, err = m.unwrap(l.MasterVersion, wrapped, purpose)
		}
		if err != nil {
			return r, fmt.Errorf("vault: a key in the snapshot (%s %s%d) does not unwrap under the master key given: %w", l.Kind, l.ID, l.Version, err)
		}
	}
	if !strings.HasPrefix(o.KeyStore, "postgres://") && !strings.HasPrefix(o.KeyStore, "postgresql://") {
		if _, err := os.Stat(o.KeyStore); err == nil {
			return r, fmt.Errorf("vault: the key store %s exists: a snapshot loads only into a new one (move the old one aside first)", o.KeyStore)
		}
	} else if ks, _, err := openKeyStore(ctx, o.KeyStore, false); err == nil {
		ks.close()
		return r, fmt.Errorf("vault: the PostgreSQL key store %s exists: a snapshot loads only into a new one", redactURL(o.KeyStore))
	} else if !errors.As(err, new(*MissingError)) {
		return r, err
	}
	ks, _, err := openKeyStoreAs(ctx, o.KeyStore, true, ids["keystore"])
	if err != nil {
		return r, err
	}
	defer ks.close()
	if err := ks.load(ctx, lines, ids["database"], erased, &r); err != nil {
		if !strings.HasPrefix(o.KeyStore, "postgres") {
			ks.close()
			os.Remove(o.KeyStore)
		}
		return r, err
	}
	return r, nil
}

// readSnapshot reads a snapshot's lines and checks its end line (a v2
// snapshot without one was cut).
func readSnapshot(file string) ([]snapshotLine, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("vault: snapshot: %w", err)
	}
	defer f.Close()
	var lines []snapshotLine
	end := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l snapshotLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("vault: snapshot %s line %d: %w", file, len(lines)+1, err)
		}
		if l.Kind == "end" {
			end = l.Lines
			continue
		}
		if end >= 0 {
			return nil, fmt.Errorf("vault: snapshot %s has lines after its end line", file)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vault: snapshot %s: %w", file, err)
	}
	v2 := len(lines) > 0 && lines[0].Kind == "header"
	switch {
	case v2 && lines[0].Format != SnapshotFormat:
		return nil, fmt.Errorf("vault: snapshot %s is in format %q, which this Custos does not know", file, lines[0].Format)
	case v2 && end < 0:
		return nil, fmt.Errorf("vault: snapshot %s has no end line: it was cut", file)
	case v2 && end != len(lines):
		return nil, fmt.Errorf("vault: snapshot %s holds %d lines, its end line says %d", file, len(lines), end)
	}
	return lines, nil
}

// load writes a snapshot's lines into a new key store in one transaction.
func (ks *keyStore) load(ctx context.Context, lines []snapshotLine, database string, erased map[string]bool, r *LoadReport) error {
	tx, err := ks.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vault: load snapshot: %w", err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("vault: load snapshot: %w", err)
		}
		return nil
	}
	if database != "" {
		if err := exec("INSERT INTO vault_identity (name, value) VALUES ('database', $1)", database); err != nil {
			return err
		}
	}
	for _, l := range lines {
		switch l.Kind {
		case "data_key":
			if erased[l.ID] {
				continue
			}
			err, r.DataKeys = exec("INSERT INTO vault_data_keys (id, master_version, wrapped, created_at) VALUES ($1,$2,$3,$4)",
				l.ID, l.MasterVersion, l.Wrapped, l.At), r.DataKeys+1
		case "tombstone":
			err, r.Tombstones = exec("INSERT INTO vault_tombstones (id, erased_at) VALUES ($1,$2) ON CONFLICT DO NOTHING", l.ID, l.At), r.Tombstones+1
		case "superseded":
			err, r.Superseded = exec("INSERT INTO vault_superseded (id, marked) VALUES ($1,$2)", l.ID, l.At), r.Superseded+1
		case "blind_key":
			err, r.BlindKeys = exec("INSERT INTO vault_blind_keys (version, master_version, wrapped, state, created_at) VALUES ($1,$2,$3,$4,$5)",
				l.Version, l.MasterVersion, l.Wrapped, l.State, l.At), r.BlindKeys+1
		}
		if err != nil {
			return err
		}
	}
	if r.BlindKeys == 0 {
		return errors.New("vault: the snapshot holds no blind-index key: it is not a whole key-store snapshot")
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("vault: load snapshot: %w", err)
	}
	return nil
}

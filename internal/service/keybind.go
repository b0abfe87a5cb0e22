package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"custos/internal/audit"
	"custos/internal/store"
	"custos/internal/vault"
)

// Keys belong to one database (issue 12 §2, DESIGN.md §2). The database
// records its own id and the identities of its master key (a fingerprint
// per version), key store and audit key; the key store records the
// database's id. Start-up compares what it was given with what is recorded
// and refuses missing or foreign keys, instead of running with new ones
// under which the existing data can no longer be read or verified.

// Names of the rows in key_identities.
const (
	identityDatabase = "database"
	identityKeyStore = "keystore"
	identityAudit    = "audit"
	identityMaster   = "master:" // + version
)

// KeyRecord is what a database records about its keys before any key is
// opened: start-up decides from it whether new key material may be made.
type KeyRecord struct {
	Identities map[string]string
	HoldsData  bool
}

// MayCreateKeys reports an empty database that records no keys: the only
// one for which start-up makes new key material.
func (r KeyRecord) MayCreateKeys() bool { return len(r.Identities) == 0 && !r.HoldsData }

// InspectKeys reads what db records about its keys.
func InspectKeys(ctx context.Context, db *store.DB) (KeyRecord, error) {
	var r KeyRecord
	err := db.ReadTx(ctx, func(tx *store.Tx) (err error) {
		if r.Identities, err = tx.KeyIdentities(ctx); err != nil {
			return err
		}
		r.HoldsData, err = tx.HoldsData(ctx)
		return err
	})
	return r, err
}

// ForeignKeyError reports key material that is not the database's own.
type ForeignKeyError struct {
	What   string // KeyMaster, KeyStore or KeyAudit
	Detail string
}

// The kinds of key material a ForeignKeyError names.
const (
	KeyMaster = "master key"
	KeyStore  = "key store"
	KeyAudit  = "audit key"
)

func (e *ForeignKeyError) Error() string {
	return fmt.Sprintf("the %s is not this database's: %s", e.What, e.Detail)
}

// BindKeys checks the vault and the audit keys against what db records and
// records what it does not record yet (on first start, after an upgrade
// from before keys were bound, after a rotation). Two instances starting
// together on an empty database agree: the first identity recorded wins
// and the other finds its own keys foreign.
func BindKeys(ctx context.Context, db *store.DB, v *vault.Vault, ak *audit.Keys) error {
	now := time.Now()
	var dbID string
	err := db.WriteTx(ctx, func(tx *store.Tx) error {
		b := make([]byte, 16)
		rand.Read(b)
		if err := tx.RecordKeyIdentity(ctx, identityDatabase, "db_"+hex.EncodeToString(b), now); err != nil {
			return err
		}
		ids, err := tx.KeyIdentities(ctx)
		dbID = ids[identityDatabase]
		return err
	})
	if err != nil {
		return err
	}
	// The key store first: a foreign one must not get recorded.
	if bound, err := v.BindDatabase(ctx, dbID); err != nil {
		return err
	} else if bound != dbID {
		return &ForeignKeyError{What: KeyStore, Detail: fmt.Sprintf("%s holds the keys of database %s, and this database is %s", v.KeyStoreLocation(), bound, dbID)}
	}
	return db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.KeyIdentities(ctx)
		if err != nil {
			return err
		}
		if before[identityAudit] == "" {
			// Recorded nothing yet (written before keys were bound): the
			// newest checkpoint tells whether this is the key that signed.
			last, ok, err := tx.LastCheckpoint(ctx)
			if err != nil {
				return err
			}
			if ok && !ak.Signs(last) {
				return &ForeignKeyError{What: KeyAudit, Detail: fmt.Sprintf("it did not sign this database's checkpoints (the newest covers %d events)", last.Size)}
			}
		}
		if err := tx.RecordKeyIdentity(ctx, identityKeyStore, v.KeyStoreID(), now); err != nil {
			return err
		}
		if err := tx.RecordKeyIdentity(ctx, identityAudit, ak.VerifierKey, now); err != nil {
			return err
		}
		m := v.Master()
		known := masterVersionsRecorded(before)
		// Versions loaded but not recorded are recorded only once a
		// recorded one matches (below), or on a database that records no
		// master key yet.
		for _, ver := range m.Versions() {
			if _, ok := known[ver]; !ok && (len(known) == 0 || matchesRecorded(m, known)) {
				if err := tx.RecordKeyIdentity(ctx, identityMaster+strconv.Itoa(int(ver)), m.Fingerprint(ver), now); err != nil {
					return err
				}
			}
		}
		after, err := tx.KeyIdentities(ctx)
		if err != nil {
			return err
		}
		return checkKeys(after, v, ak)
	})
}

// CheckAuditKey checks the audit keys alone against what db records (for
// custos audit, which opens no vault); a database that records none is
// checked against its newest checkpoint.
func CheckAuditKey(ctx context.Context, db *store.DB, ak *audit.Keys) error {
	return db.ReadTx(ctx, func(tx *store.Tx) error {
		ids, err := tx.KeyIdentities(ctx)
		if err != nil {
			return err
		}
		if rec := ids[identityAudit]; rec != "" {
			if rec != ak.VerifierKey {
				return &ForeignKeyError{What: KeyAudit, Detail: "the database records audit key " + rec + ", this one is " + ak.VerifierKey}
			}
			return nil
		}
		last, ok, err := tx.LastCheckpoint(ctx)
		if err == nil && ok && !ak.Signs(last) {
			err = &ForeignKeyError{What: KeyAudit, Detail: fmt.Sprintf("it did not sign this database's checkpoints (the newest covers %d events)", last.Size)}
		}
		return err
	})
}

// checkKeys compares the loaded keys with the recorded identities.
func checkKeys(ids map[string]string, v *vault.Vault, ak *audit.Keys) error {
	if rec := ids[identityKeyStore]; rec != v.KeyStoreID() {
		return &ForeignKeyError{What: KeyStore, Detail: fmt.Sprintf("%s is key store %s, and the database records %s", v.KeyStoreLocation(), v.KeyStoreID(), rec)}
	}
	if rec := ids[identityAudit]; rec != ak.VerifierKey {
		return &ForeignKeyError{What: KeyAudit, Detail: "the database records audit key " + rec + ", this one is " + ak.VerifierKey}
	}
	m := v.Master()
	known := masterVersionsRecorded(ids)
	for ver, fp := range known {
		if got := m.Fingerprint(ver); got != "" && got != fp {
			return &ForeignKeyError{What: KeyMaster, Detail: fmt.Sprintf("its version %d differs from the version %d the database records", ver, ver)}
		}
	}
	if !matchesRecorded(m, known) {
		return &ForeignKeyError{What: KeyMaster, Detail: fmt.Sprintf("it holds versions %v, none of which the database records", m.Versions())}
	}
	return nil
}

// masterVersionsRecorded returns the recorded master key fingerprints by
// version.
func masterVersionsRecorded(ids map[string]string) map[uint32]string {
	out := map[uint32]string{}
	for name, fp := range ids {
		if rest, ok := strings.CutPrefix(name, identityMaster); ok {
			if ver, err := strconv.ParseUint(rest, 10, 32); err == nil {
				out[uint32(ver)] = fp
			}
		}
	}
	return out
}

// matchesRecorded reports whether some loaded version is a recorded one.
func matchesRecorded(m *vault.MasterKeys, known map[uint32]string) bool {
	for ver, fp := range known {
		if m.Fingerprint(ver) == fp {
			return true
		}
	}
	return false
}

// recordMasterVersion records a new master key version's fingerprint
// (after custos keys rotate), so a later start knows it as this database's.
func (s *Service) recordMasterVersion(ctx context.Context, ver uint32) error {
	fp := s.vault.Master().Fingerprint(ver)
	if fp == "" {
		return nil
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return tx.RecordKeyIdentity(ctx, identityMaster+strconv.Itoa(int(ver)), fp, time.Now())
	})
}

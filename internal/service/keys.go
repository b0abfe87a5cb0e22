package service

import (
	"context"
	"fmt"

	"custos/internal/access"
	"custos/internal/store"
	"custos/internal/vault"
)

// Key operations (custos keys …): administrators only, each audited. The
// vault does the work; the service checks who asks and records it.

// KeyStatus describes the keys for an operator.
type KeyStatus struct {
	MasterVersions []uint32          `json:"master_versions"`
	MasterPrimary  uint32            `json:"master_primary"`
	MasterUse      map[uint32]int64  `json:"master_use"` // keys wrapped by each version
	BlindVersions  map[uint32]string `json:"blind_versions"`
	KeyStore       string            `json:"key_store"`
}

func (s *Service) requireKeyAdmin(ctx context.Context, a *access.Actor) error {
	return s.requireAdmin(ctx, a, "keys")
}

// KeyStatus reports master key versions and their use.
func (s *Service) KeyStatus(ctx context.Context, a *access.Actor) (KeyStatus, error) {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return KeyStatus{}, err
	}
	use, err := s.vault.MasterUse(ctx)
	if err != nil {
		return KeyStatus{}, err
	}
	m := s.vault.Master()
	return KeyStatus{MasterVersions: m.Versions(), MasterPrimary: m.Primary(), MasterUse: use,
		BlindVersions: s.vault.BlindVersions(), KeyStore: s.vault.KeyStoreLocation()}, nil
}

// RotateMasterKey adds a master key version for new wraps.
func (s *Service) RotateMasterKey(ctx context.Context, a *access.Actor) (uint32, error) {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return 0, err
	}
	v, err := s.vault.RotateMaster()
	if err == nil {
		err = s.recordMasterVersion(ctx, v)
	}
	return v, s.keyEvent(ctx, a, "keys.rotate", map[string]any{"master_version": v}, err)
}

// RewrapKeys re-wraps every key under the primary master key version,
// online and resumably (see vault.Rewrap).
func (s *Service) RewrapKeys(ctx context.Context, a *access.Actor, batch int, progress vault.RewrapProgress) (int, error) {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return 0, err
	}
	n, err := s.vault.Rewrap(ctx, batch, progress)
	return n, s.keyEvent(ctx, a, "keys.rewrap", map[string]any{"keys": n, "master_version": s.vault.Master().Primary()}, err)
}

// RetireMasterKey removes a master key version nothing is wrapped by.
func (s *Service) RetireMasterKey(ctx context.Context, a *access.Actor, version uint32) error {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return err
	}
	err := s.vault.RetireMaster(ctx, version)
	return s.keyEvent(ctx, a, "keys.retire", map[string]any{"master_version": version}, err)
}

// RecordKeysInit audits custos keys init: the keys the database now
// records, by identity (never a key).
func (s *Service) RecordKeysInit(ctx context.Context, a *access.Actor) error {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return err
	}
	m := s.vault.Master()
	return s.keyEvent(ctx, a, "keys.init", map[string]any{"key_store": s.vault.KeyStoreID(), "master_versions": m.Versions(),
		"audit_verifier_key": s.keys.VerifierKey}, nil)
}

// SnapshotKeys writes a key-store snapshot and returns its path.
func (s *Service) SnapshotKeys(ctx context.Context, a *access.Actor) (string, error) {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return "", err
	}
	path, err := s.vault.Snapshot(ctx)
	return path, s.keyEvent(ctx, a, "keys.snapshot", map[string]any{"file": path}, err)
}

// RecordKeysLoad audits custos keys load: a key store made from a
// snapshot, by identity and counts (never a key).
func (s *Service) RecordKeysLoad(ctx context.Context, a *access.Actor, file string, r vault.LoadReport) error {
	if err := s.requireKeyAdmin(ctx, a); err != nil {
		return err
	}
	return s.keyEvent(ctx, a, "keys.load", map[string]any{"file": file, "format": r.Format, "key_store": r.KeyStoreID,
		"data_keys": r.DataKeys, "tombstones": r.Tombstones, "blind_keys": r.BlindKeys}, nil)
}

// keyEvent records a key operation and its outcome; the operation's own
// error wins over the event's.
func (s *Service) keyEvent(ctx context.Context, a *access.Actor, action string, detail map[string]any, opErr error) error {
	e := s.event(a, action, "", 0)
	if opErr != nil {
		e.Outcome, detail["error"] = "error", opErr.Error()
	}
	e.Fields = mustJSON(detail)
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) })
	if opErr != nil {
		return fmt.Errorf("%s: %w", action, opErr)
	}
	return err
}

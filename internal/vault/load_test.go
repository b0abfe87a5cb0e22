package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/vault"
)

// TestSnapshotLoads: a key-store snapshot loads into a new key store that
// keeps its identity, opens every person's data, keeps the tombstones of
// the people erased (also of those erased after the snapshot was taken:
// erasure rewrites it) and refuses an existing key store, a cut snapshot,
// another database's snapshot and another master key.
func TestSnapshotLoads(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		v := open(t, opt)
		alice, _ := v.NewPersonKey(ctx)
		bob, _ := v.NewPersonKey(ctx)
		carol, _ := v.NewPersonKey(ctx)
		sa, _ := v.Seal(ctx, alice, "name", "Alice")
		sb, _ := v.Seal(ctx, bob, "name", "Bob")
		if err := v.Erase(ctx, carol); err != nil {
			t.Fatal(err)
		}
		if _, err := v.BindDatabase(ctx, "db_test"); err != nil {
			t.Fatal(err)
		}
		snap, err := v.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Erase(ctx, alice); err != nil { // after the snapshot: rewrites it
			t.Fatal(err)
		}
		ids := map[string]string{"keystore": v.KeyStoreID(), "database": "db_test"}
		newStore := func(t *testing.T) string {
			if strings.HasPrefix(opt.KeyStore, "postgres") {
				return testdb.Options(t, store.Postgres).URL
			}
			return filepath.Join(t.TempDir(), "keystore.db")
		}
		load := func(t *testing.T, file, where string, ids map[string]string, master string) (vault.LoadReport, error) {
			return vault.LoadSnapshot(ctx, vault.LoadOptions{File: file, KeyStore: where, MasterKeyFile: master, Identities: ids})
		}

		where := newStore(t)
		r, err := load(t, snap, where, ids, opt.MasterKeyFile)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if r.Format != vault.SnapshotFormat || r.DataKeys < 1 || r.Tombstones != 2 || r.BlindKeys == 0 || r.KeyStoreID != v.KeyStoreID() {
			t.Fatalf("load report: %+v", r)
		}
		lopt := opt
		lopt.KeyStore, lopt.SnapshotDir, lopt.MustExist = where, "", true
		loaded := open(t, lopt)
		if loaded.KeyStoreID() != v.KeyStoreID() {
			t.Fatalf("loaded key store id %s, want %s", loaded.KeyStoreID(), v.KeyStoreID())
		}
		if bound, err := loaded.BindDatabase(ctx, "db_other"); err != nil || bound != "db_test" {
			t.Fatalf("loaded key store's database: %q %v", bound, err)
		}
		if got, err := loaded.Open(ctx, bob, "name", sb); err != nil || got != "Bob" {
			t.Fatalf("bob from the loaded key store: %q %v", got, err)
		}
		if _, err := loaded.Open(ctx, alice, "name", sa); !errors.Is(err, vault.ErrErased) {
			t.Fatalf("alice, erased after the snapshot, from the loaded key store: %v", err)
		}

		// Refusals.
		if _, err := load(t, snap, where, ids, opt.MasterKeyFile); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("load into an existing key store: %v", err)
		}
		b, _ := os.ReadFile(snap)
		cut := filepath.Join(t.TempDir(), "cut.jsonl")
		os.WriteFile(cut, b[:strings.LastIndex(strings.TrimSuffix(string(b), "\n"), "\n")+1], 0o600)
		if _, err := load(t, cut, newStore(t), ids, opt.MasterKeyFile); err == nil || !strings.Contains(err.Error(), "cut") {
			t.Errorf("load of a cut snapshot: %v", err)
		}
		if _, err := load(t, snap, newStore(t), map[string]string{"keystore": "ks_other"}, opt.MasterKeyFile); err == nil || !strings.Contains(err.Error(), "another database") {
			t.Errorf("load of another database's snapshot: %v", err)
		}
		otherMaster := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := vault.LoadMasterKeys(otherMaster, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := load(t, snap, newStore(t), ids, otherMaster); err == nil || !strings.Contains(err.Error(), "does not unwrap") {
			t.Errorf("load under another master key: %v", err)
		}
	})
}

package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/vault"
)

// eachKeyStore runs fn with a fresh vault on each kind of key store: a
// SQLite file always, a PostgreSQL schema when the PostgreSQL runs are on.
func eachKeyStore(t *testing.T, fn func(t *testing.T, opt vault.Options)) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			opt := vault.Options{MasterKeyFile: filepath.Join(dir, "master.key"), SnapshotDir: filepath.Join(dir, "snapshots"),
				KeyStore: filepath.Join(dir, "keystore.db")}
			if d == store.Postgres {
				opt.KeyStore = testdb.Options(t, d).URL
			}
			fn(t, opt)
		})
	}
}

func open(t *testing.T, opt vault.Options) *vault.Vault {
	t.Helper()
	v, _, err := vault.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open vault: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestSealOpenAndIntegrity(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		v, created, err := vault.Open(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if !created.MasterKey {
			t.Error("a new master key file was not reported")
		}
		if info, err := os.Stat(opt.MasterKeyFile); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("master key file mode: %v %v", info, err)
		}
		alice, _ := v.NewPersonKey(ctx)
		bob, _ := v.NewPersonKey(ctx)
		sealed, err := v.Seal(ctx, alice, "mobile", "+8613800138000")
		if err != nil {
			t.Fatal(err)
		}
		if !vault.IsSealed(sealed) || strings.Contains(sealed, "13800138000") {
			t.Fatalf("sealed value %q", sealed)
		}
		if got, err := v.Open(ctx, alice, "mobile", sealed); err != nil || got != "+8613800138000" {
			t.Fatalf("open: %q %v", got, err)
		}
		if again, _ := v.Seal(ctx, alice, "mobile", "+8613800138000"); again == sealed {
			t.Error("sealing twice gave the same ciphertext: nonces are not random")
		}
		if s, _ := v.Seal(ctx, alice, "email", ""); s != "" {
			t.Errorf("empty value sealed to %q", s)
		}
		// Each byte flipped is caught, never decrypted to garbage.
		for i := len("ev1:"); i < len(sealed); i += 7 {
			b := []byte(sealed)
			b[i] ^= 1
			if b[i] == '\x00' || b[i] > 'z' {
				continue
			}
			if _, err := v.Open(ctx, alice, "mobile", string(b)); !errors.Is(err, vault.ErrIntegrity) {
				t.Fatalf("flipped byte %d: err %v", i, err)
			}
		}
		if _, err := v.Open(ctx, alice, "email", sealed); !errors.Is(err, vault.ErrIntegrity) {
			t.Errorf("value moved to another field opened: %v", err)
		}
		if _, err := v.Open(ctx, bob, "mobile", sealed); !errors.Is(err, vault.ErrIntegrity) {
			t.Errorf("value moved to another person opened: %v", err)
		}
		if _, err := v.Open(ctx, alice, "mobile", "13800138000"); !errors.Is(err, vault.ErrIntegrity) {
			t.Errorf("plaintext in a sealed column opened: %v", err)
		}
		if _, err := v.Open(ctx, "pk_unknown", "mobile", sealed); !errors.Is(err, vault.ErrKeyMissing) {
			t.Errorf("unknown key: %v", err)
		}

		// A second process (cold cache) opens what the first sealed.
		v2 := open(t, opt)
		if got, err := v2.Open(ctx, alice, "mobile", sealed); err != nil || got != "+8613800138000" {
			t.Fatalf("open from a second vault: %q %v", got, err)
		}
	})
}

func TestEraseDestroysKeyAndSnapshots(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		v := open(t, opt)
		alice, _ := v.NewPersonKey(ctx)
		bob, _ := v.NewPersonKey(ctx)
		sa, _ := v.Seal(ctx, alice, "name", "Alice")
		sb, _ := v.Seal(ctx, bob, "name", "Bob")
		snap, err := v.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if held, _ := v.SnapshotHolds(alice); !held {
			t.Fatal("snapshot lacks alice's key")
		}
		if err := v.Erase(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Open(ctx, alice, "name", sa); !errors.Is(err, vault.ErrErased) {
			t.Errorf("erased person opened: %v", err)
		}
		if held, _ := v.SnapshotHolds(alice); held {
			t.Errorf("snapshot %s still holds the erased key", snap)
		}
		b, _ := os.ReadFile(snap)
		if !strings.Contains(string(b), `"kind":"tombstone","id":"`+alice+`"`) {
			t.Error("snapshot has no tombstone for the erased key")
		}
		// Another process with a cold cache: still erased; bob untouched.
		v2 := open(t, opt)
		if _, err := v2.Open(ctx, alice, "name", sa); !errors.Is(err, vault.ErrErased) {
			t.Errorf("erased person opened by a second vault: %v", err)
		}
		if got, err := v2.Open(ctx, bob, "name", sb); err != nil || got != "Bob" {
			t.Errorf("bob after alice's erasure: %q %v", got, err)
		}
		erased, err := v2.Erased(ctx, []string{alice, bob})
		if err != nil || !erased[alice] || erased[bob] {
			t.Errorf("Erased = %v %v", erased, err)
		}
	})
}

func TestRotateRewrapRetireUnderLoad(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		v := open(t, opt)
		ids := make([]string, 64) // one batch of keys made ahead
		sealed := make([]string, len(ids))
		for i := range ids {
			ids[i], _ = v.NewPersonKey(ctx)
			sealed[i], _ = v.Seal(ctx, ids[i], "email", "p"+ids[i]+"@example.com")
		}
		if err := v.RetireMaster(ctx, 1); err == nil {
			t.Fatal("retired the primary master key")
		}
		nv, err := v.RotateMaster()
		if err != nil || nv != 2 {
			t.Fatalf("rotate: %d %v", nv, err)
		}
		if err := v.RetireMaster(ctx, 1); err == nil || !strings.Contains(err.Error(), "rewrap") {
			t.Fatalf("retired version 1 while keys use it: %v", err)
		}
		// Readers with cold caches keep opening while the re-wrap runs.
		reader := open(t, vault.Options{MasterKeyFile: opt.MasterKeyFile, KeyStore: opt.KeyStore, CacheTTL: 1})
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := n % len(ids)
				if got, err := reader.Open(ctx, ids[i], "email", sealed[i]); err != nil || got != "p"+ids[i]+"@example.com" {
					errs <- errors.New("read during re-wrap: " + got + " " + errString(err))
					return
				}
			}
		}()
		var progress []int
		done, err := v.Rewrap(ctx, 25, func(n int) { progress = append(progress, n) })
		close(stop)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if err != nil || done != len(ids)+1 { // every data key and the blind-index key
			t.Fatalf("rewrap: %d %v", done, err)
		}
		if len(progress) != 3 || progress[2] != len(ids) {
			t.Errorf("progress %v", progress)
		}
		if again, _ := v.Rewrap(ctx, 25, nil); again != 0 {
			t.Errorf("second rewrap re-wrapped %d keys", again)
		}
		if err := v.RetireMaster(ctx, 1); err != nil {
			t.Fatalf("retire after rewrap: %v", err)
		}
		after := open(t, vault.Options{MasterKeyFile: opt.MasterKeyFile, KeyStore: opt.KeyStore})
		if got := after.Master().Versions(); len(got) != 1 || got[0] != 2 {
			t.Errorf("versions after retire: %v", got)
		}
		for i := range ids {
			if got, err := after.Open(ctx, ids[i], "email", sealed[i]); err != nil || got != "p"+ids[i]+"@example.com" {
				t.Fatalf("open after retire: %q %v", got, err)
			}
		}
		if term := after.SearchTerm("t", "x"); term != v.SearchTerm("t", "x") {
			t.Error("blind-index key changed by master key rotation")
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestBlindIndexVersions(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		v := open(t, opt)
		t1 := v.SearchTerm("k", "+8613800138000")
		if !strings.HasPrefix(t1, "b1:") || strings.Contains(t1, "138") || t1 != v.SearchTerm("k", "+8613800138000") {
			t.Fatalf("term %q", t1)
		}
		if v.SearchTerm("t", "+8613800138000") == t1 || v.SearchTerm("k", "+8613800138001") == t1 {
			t.Error("different domain or value gave the same term")
		}
		other := open(t, vault.Options{MasterKeyFile: filepath.Join(t.TempDir(), "m.key"), KeyStore: filepath.Join(t.TempDir(), "ks.db")})
		if other.SearchTerm("k", "+8613800138000") == t1 {
			t.Error("another installation's key gave the same term")
		}
		nv, err := v.StartBlindRotation(ctx)
		if err != nil || nv != 2 {
			t.Fatalf("start rotation: %d %v", nv, err)
		}
		if got := v.IndexTerms("k", "+8613800138000"); len(got) != 2 || got[0] != t1 || !strings.HasPrefix(got[1], "b2:") {
			t.Errorf("index terms while building: %v", got)
		}
		if v.SearchTerm("k", "+8613800138000") != t1 {
			t.Error("search switched to the building version")
		}
		retired, err := v.FinishBlindRotation(ctx, nv)
		if err != nil || len(retired) != 1 || retired[0] != 1 {
			t.Fatalf("finish: %v %v", retired, err)
		}
		if got := v.SearchTerm("k", "+8613800138000"); !strings.HasPrefix(got, "b2:") {
			t.Errorf("search term after rotation %q", got)
		}
		if got := v.IndexTerms("k", "x"); len(got) != 1 {
			t.Errorf("index terms after rotation %v", got)
		}
		reopened := open(t, opt)
		if reopened.SearchTerm("k", "y") != v.SearchTerm("k", "y") {
			t.Error("blind-index key not persistent")
		}
	})
}

func TestMasterKeyFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	m, created, err := vault.LoadMasterKeys(filepath.Join(dir, "master.key"), "")
	if err != nil || !created {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(m.Path())
	env, _, err := vault.LoadMasterKeys("", string(b))
	if err != nil || env.Primary() != 1 || env.Path() != "" {
		t.Fatalf("env key: %v", err)
	}
	if _, err := env.AddVersion(); err == nil {
		t.Error("rotated a master key that came from the environment")
	}
	for _, bad := range []string{"not base64!", "1 c2hvcnQ=", "0 " + strings.Repeat("A", 44)} {
		if _, _, err := vault.LoadMasterKeys("", bad); err == nil {
			t.Errorf("accepted bad master key %q", bad)
		}
	}
}

// TestRotationReachesAnotherInstance: a second vault on the same master key
// file and key store (as a second server, or custos keys) rotates and
// re-wraps; the first one opens the re-wrapped keys without a restart,
// wraps new keys with the new version, and refuses a key file whose
// existing version was replaced (issue 12 §3).
func TestRotationReachesAnotherInstance(t *testing.T) {
	eachKeyStore(t, func(t *testing.T, opt vault.Options) {
		ctx := context.Background()
		server := open(t, opt)
		id, _ := server.NewPersonKey(ctx)
		server.DropKeyPool()
		sealed, err := server.Seal(ctx, id, "mobile", "+8613800138000")
		if err != nil {
			t.Fatal(err)
		}
		// An instance with nothing in memory but version 1.
		fresh := open(t, vault.Options{MasterKeyFile: opt.MasterKeyFile, KeyStore: opt.KeyStore})
		cli := open(t, vault.Options{MasterKeyFile: opt.MasterKeyFile, KeyStore: opt.KeyStore})
		if _, err := cli.RotateMaster(); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Rewrap(ctx, 100, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := fresh.Open(ctx, id, "mobile", sealed); err != nil || got != "+8613800138000" {
			t.Fatalf("open a key re-wrapped by another instance: %q %v", got, err)
		}
		if _, err := server.NewPersonKey(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cli.RetireMaster(ctx, 1); err != nil {
			t.Fatalf("retire version 1 after another instance wrapped new keys: %v", err)
		}
		// A key file whose version 2 is someone else's is not taken up.
		other := filepath.Join(t.TempDir(), "other.key")
		stranger := open(t, vault.Options{MasterKeyFile: other, KeyStore: filepath.Join(t.TempDir(), "ks.db")})
		stranger.RotateMaster()
		b, _ := os.ReadFile(other)
		if err := os.WriteFile(opt.MasterKeyFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.ReloadMaster(); err == nil || !strings.Contains(err.Error(), "different version") {
			t.Fatalf("reload a replaced master key file: %v", err)
		}
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// custos runs one command of the real binary and returns its error and
// output.
func custos(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String() + errOut.String(), err
}

// dbFlags are the flags naming a test database.
func dbFlags(opt store.Options) []string {
	if opt.URL != "" {
		return []string{"-database", opt.URL}
	}
	return []string{"-data-dir", opt.Dir}
}

// TestKeysBelongToTheirDatabase: once a database holds data, every command
// that opens it (migrate, keys, audit, serve) refuses a missing or foreign
// master key, key store or audit key with a message naming the file and
// what to do — and makes no new key material in its place (issue 12 §2).
func TestKeysBelongToTheirDatabase(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			optA, optB := testdb.Options(t, d), testdb.Options(t, d)
			keysA, keysB := t.TempDir(), t.TempDir()
			argsA := append(dbFlags(optA), keyFlags(keysA)...)
			// First starts: each database makes and records its own keys.
			srv := launch(t, argsA...)
			srv.stop()
			if out, err := custos(append([]string{"migrate"}, append(dbFlags(optB), keyFlags(keysB)...)...)...); err != nil {
				t.Fatalf("first start of B: %v\n%s", err, out)
			}

			for _, tc := range []struct {
				name    string
				missing string // a file of keysA moved away
				flag    string // or a flag pointed at B's file
				both    bool   // and B's master key too
				want    string
			}{
				{name: "master key missing", missing: "master.key", want: "master key file " + keysA + "/master.key does not exist"},
				{name: "key store missing", missing: "keystore.db", want: "key store file " + keysA + "/keystore.db does not exist"},
				{name: "audit key missing", missing: "audit.key", want: "audit key file " + keysA + "/audit.key does not exist"},
				{name: "foreign key store", flag: "-keystore", missing: "keystore.db", want: "key store " + keysB + "/keystore.db"},
				{name: "foreign master key", flag: "-master-key-file", missing: "master.key", want: "master key " + keysB + "/master.key"},
				{name: "foreign audit key", flag: "-audit-key-file", missing: "audit.key", want: "audit key " + keysB + "/audit.key"},
				// B's key store and master key open each other, but hold B's keys.
				{name: "foreign key store with its master key", flag: "-keystore", missing: "keystore.db", both: true, want: keysB + "/keystore.db holds the keys of database"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string(nil), argsA...)
					if tc.flag != "" {
						args = append(args, tc.flag, filepath.Join(keysB, tc.missing))
						if tc.both {
							args = append(args, "-master-key-file", filepath.Join(keysB, "master.key"))
						}
					} else {
						aside := filepath.Join(t.TempDir(), tc.missing)
						if err := os.Rename(filepath.Join(keysA, tc.missing), aside); err != nil {
							t.Fatal(err)
						}
						defer os.Rename(aside, filepath.Join(keysA, tc.missing))
					}
					before := listFiles(t, keysA)
					for _, cmd := range [][]string{{"migrate"}, {"keys", "status"}, {"serve", "-addr", "127.0.0.1:0"}, {"audit", "verify"}} {
						if cmd[0] == "audit" && !strings.Contains(tc.name, "audit") {
							continue // audit commands open the audit key alone
						}
						out, err := custos(append(cmd, args...)...)
						if err == nil {
							t.Fatalf("%v started with %s:\n%s", cmd, tc.name, out)
						}
						if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "restore it from your key backup") {
							t.Errorf("%v: the message does not name the file and what to do:\n%s\nwant %q", cmd, msg, tc.want)
						}
					}
					if after := listFiles(t, keysA); after != before {
						t.Errorf("key material made in place of the refused one:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
			// With its own keys back, A starts and its trail verifies.
			if out, err := custos(append([]string{"audit", "verify"}, argsA...)...); err != nil {
				t.Fatalf("verify A: %v\n%s", err, out)
			}
		})
	}
}

// listFiles names the files under dir, for comparing before and after.
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return strings.Join(names, " ")
}

// TestTwoDataDirectoriesKeepTheirKeysApart: two data directories side by
// side, both on the default key locations, get keys and checkpoints of
// their own, beside (never inside) each; after both have run, each one's
// trail verifies — no false "rewritten" alarm from a shared checkpoint file
// (issue 12 §2).
func TestTwoDataDirectoriesKeepTheirKeysApart(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	ca, err := parseConfig("serve", []string{"-data-dir", a}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := parseConfig("serve", []string{"-data-dir", b}, func(string) string { return "" }, io.Discard)
	pa, pb := []string{ca.MasterKeyFile, ca.KeyStore, ca.KeySnapshotDir, ca.AuditKeyFile, ca.AuditDir},
		[]string{cb.MasterKeyFile, cb.KeyStore, cb.KeySnapshotDir, cb.AuditKeyFile, cb.AuditDir}
	for i := range pa {
		if pa[i] == pb[i] || insideDir(a, pa[i]) || insideDir(b, pb[i]) {
			t.Errorf("default %s / %s: shared, or inside the data directory", pa[i], pb[i])
		}
	}
	if ca.MasterKeyFile != a+"-keys/master.key" || ca.AuditDir != a+"-audit" {
		t.Errorf("defaults for %s: %s, %s", a, ca.MasterKeyFile, ca.AuditDir)
	}
	for _, dir := range []string{a, b} {
		srv := launch(t, "-data-dir", dir)
		srv.stop()
	}
	for _, dir := range []string{a, b} {
		if out, err := custos("audit", "verify", "-data-dir", dir); err != nil || !strings.Contains(out, "OK") {
			t.Errorf("verify %s after both ran: %v\n%s", dir, err, out)
		}
	}
}

// TestOldDefaultKeyLocationsKeepWorking: an install made before the
// defaults moved keeps its keys in custos-keys/ and custos-audit/ beside
// the data directory. It starts with the defaults as before (the old
// location is found and its identities match), while a new data directory
// beside it gets the new defaults and never the old shared ones.
func TestOldDefaultKeyLocationsKeepWorking(t *testing.T) {
	base := t.TempDir()
	old, fresh := filepath.Join(base, "data"), filepath.Join(base, "fresh")
	oldKeys := []string{"-audit-key-file", base + "/custos-keys/audit.key", "-audit-dir", base + "/custos-audit",
		"-master-key-file", base + "/custos-keys/master.key", "-keystore", base + "/custos-keys/keystore.db", "-key-snapshot-dir", base + "/custos-keys/snapshots"}
	srv := launch(t, append([]string{"-data-dir", old}, oldKeys...)...)
	srv.stop()
	srv = launch(t, "-data-dir", old) // defaults only
	srv.stop()
	if out, err := custos("audit", "verify", "-data-dir", old); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("verify with the old default locations: %v\n%s", err, out)
	}
	if _, err := os.Stat(old + "-keys"); err == nil {
		t.Error("new keys were made beside an install that has its keys in the old location")
	}
	if out, err := custos("migrate", "-data-dir", fresh); err != nil {
		t.Fatalf("a new data directory: %v\n%s", err, out)
	}
	if _, err := os.Stat(fresh + "-keys/master.key"); err != nil {
		t.Errorf("a new data directory did not get its own keys: %v", err)
	}
}

// TestKeysInit: custos keys init makes and records the keys of an empty
// database (audited), and refuses everything else: a database that records
// keys, one that holds data, and key files that exist already.
func TestKeysInit(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			opt, keys := testdb.Options(t, d), t.TempDir()
			args := append(dbFlags(opt), keyFlags(keys)...)
			out, err := custos(append([]string{"keys", "init"}, args...)...)
			if err != nil || !strings.Contains(out, "Back them up now") {
				t.Fatalf("keys init: %v\n%s", err, out)
			}
			if out, err := custos(append([]string{"keys", "init"}, args...)...); err == nil || !strings.Contains(err.Error(), "already records its keys") {
				t.Errorf("second keys init: %v\n%s", err, out)
			}
			other := testdb.Options(t, d)
			if out, err := custos(append([]string{"keys", "init"}, append(dbFlags(other), keyFlags(keys)...)...)...); err == nil || !strings.Contains(err.Error(), "exists already") {
				t.Errorf("keys init over existing key files: %v\n%s", err, out)
			}
			srv := launch(t, args...) // the first start uses the keys made
			b, _ := signInAdmin(t, srv)
			if status, body := b.get("/api/v1/audit-events?action=keys.init"); status != 200 || !strings.Contains(body, `"keys.init"`) {
				t.Errorf("keys init not audited: %d %.300s", status, body)
			}
			srv.stop()
			// A database that holds data but records no keys (made before
			// keys were bound): its keys exist somewhere; init refuses.
			legacy := testdb.Options(t, d)
			db, err := store.Open(context.Background(), legacy)
			if err != nil {
				t.Fatal(err)
			}
			raw := testdb.Raw(t, d, legacy)
			if _, err := raw.Exec("INSERT INTO audit_events (at, actor_kind, action) VALUES (1, 'system', 'login')"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if out, err := custos(append([]string{"keys", "init"}, append(dbFlags(legacy), keyFlags(t.TempDir())...)...)...); err == nil || !strings.Contains(err.Error(), "holds data") {
				t.Errorf("keys init on a database holding data: %v\n%s", err, out)
			}
		})
	}
}

// TestRestartSealsBeforeServing: audit events written after the last seal
// of a server that died (here: written by a service with no sealer
// running) are sealed before a restarted server answers its first request,
// so they cannot be deleted unnoticed once it serves (issue 12 §2).
func TestRestartSealsBeforeServing(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt, keys := testdb.Options(t, d), t.TempDir()
			args := append(dbFlags(opt), keyFlags(keys)...)
			srv := launch(t, args...)
			srv.stop()
			c, err := parseConfig("serve", args, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			app, err := openService(ctx, &c, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			// More than one sealing batch waits, written concurrently (one
			// audited list read each).
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 320; i++ {
						if _, err := app.svc.ListCustomers(ctx, access.System("before the crash"), crm.CustomerFilter{}); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			app.Close()
			raw := testdb.Raw(t, d, opt)
			pending := func() (n int) {
				if err := raw.QueryRow("SELECT COUNT(*) FROM audit_pending").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := pending(); n < 2560 {
				t.Fatalf("%d events waiting, want 2560", n)
			}
			launch(t, args...) // returns once /healthz answers
			if n := pending(); n != 0 {
				t.Fatalf("the restarted server answered with %d audit events not sealed yet", n)
			}
		})
	}
}

// TestOnlineKeyRotation: custos keys rotate, rewrap and retire — each a
// process of its own on the database and key store — while a server serves
// reads and writes of contacts and leads: zero errors. The server loads the
// new master key version when it first meets a key wrapped by it (the
// people stored before, read for the first time after the re-wrap) and
// wraps new people's keys with it (issue 12 §3).
func TestOnlineKeyRotation(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			opt, keys := testdb.Options(t, d), t.TempDir()
			args := append(dbFlags(opt), keyFlags(keys)...)
			srv := launch(t, args...)
			b, csrf := signInAdmin(t, srv)
			var before []string // contacts and leads stored before the rotation
			for i := 0; i < 6; i++ {
				for k, kind := range []string{"contacts", "leads"} {
					path, status, err := createPerson(b.c, srv.base, csrf, kind, fmt.Sprintf("旧人%d", 2*i+k), fmt.Sprintf("1365555%04d", 2*i+k))
					if err != nil || status != http.StatusCreated {
						t.Fatalf("create %s: %d %v", kind, status, err)
					}
					before = append(before, path)
				}
			}
			srv.stop()
			// A fresh server: nothing of the people before is in its memory.
			admin := srv.adminFactor // enrolled on the first run
			srv = launch(t, args...)
			srv.adminFactor = admin
			b, csrf = signIn(t, srv, "admin", adminPassphrase)

			stop := make(chan struct{})
			errs := make(chan string, 100)
			var wg sync.WaitGroup
			for w := 0; w < 2; w++ {
				wg.Add(1)
				go func() { // writes and reads while the keys change
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						kind := []string{"contacts", "leads"}[i%2]
						path, status, err := createPerson(b.c, srv.base, csrf, kind, fmt.Sprintf("新人%d-%d", w, i), fmt.Sprintf("139%d%07d", w, i))
						if err != nil || status != http.StatusCreated {
							errs <- fmt.Sprintf("create %s during rotation: %d %v", kind, status, err)
							return
						}
						if status, body := getStatus(b.c, srv.base+path); status != 200 {
							errs <- fmt.Sprintf("read %s during rotation: %d %.200s", path, status, body)
							return
						}
					}
				}()
			}
			keysRun := func(verb ...string) {
				t.Helper()
				if out, err := custos(append(append([]string{"keys"}, verb...), args...)...); err != nil {
					t.Errorf("keys %v: %v\n%s", verb, err, out)
				}
			}
			readBefore := func(when string) {
				t.Helper()
				for _, path := range before {
					if status, body := getStatus(b.c, srv.base+path); status != 200 || !strings.Contains(body, "旧人") {
						t.Errorf("read %s %s: %d %.200s", path, when, status, body)
					}
				}
			}
			keysRun("rotate")
			keysRun("rewrap", "-batch", "50")
			readBefore("after the re-wrap") // first reads: every key is wrapped by version 2 now
			keysRun("retire", "-version", "1")
			readBefore("after the retirement")
			if status, body := getStatus(b.c, srv.base+"/api/v1/search?q=13655550004"); status != 200 || !strings.Contains(body, "旧人4") {
				t.Errorf("search by phone after the rotation: %d %.200s", status, body)
			}
			close(stop)
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if out, err := custos(append([]string{"keys", "status"}, args...)...); err != nil || strings.Contains(out, "version 1") {
				t.Errorf("keys status after the rotation: %v\n%s", err, out)
			}
		})
	}
}

// createPerson creates a contact or lead through the API and returns its
// path.
func createPerson(c *http.Client, base, csrf, kind, name, mobile string) (string, int, error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/"+kind, strings.NewReader(fmt.Sprintf(`{"name":%q,"mobile":%q}`, name, mobile)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var created struct {
		ID int64 `json:"id"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", resp.StatusCode, fmt.Errorf("%.300s", body)
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID == 0 {
		return "", resp.StatusCode, fmt.Errorf("no id in %.300s", body)
	}
	return fmt.Sprintf("/api/v1/%s/%d", kind, created.ID), resp.StatusCode, nil
}

// getStatus reads a page with a client (safe in any goroutine).
func getStatus(c *http.Client, url string) (int, string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestPostgresKeyStoreBelongsToItsDatabase: the same binding with key
// stores on PostgreSQL (CUSTOS_KEYSTORE=postgres://…): an empty database
// named as the key store of a database that holds data is refused and left
// empty, and another database's key store is refused as foreign. Like
// every PostgreSQL test it runs when CUSTOS_TEST_POSTGRES is set; the data
// is on SQLite and on PostgreSQL in turn.
func TestPostgresKeyStoreBelongsToItsDatabase(t *testing.T) {
	for _, d := range testdb.Dialects() {
		if !slices.Contains(testdb.Dialects(), store.Postgres) {
			break // no PostgreSQL to hold the key stores
		}
		t.Run(string(d), func(t *testing.T) {
			ksA, ksB, empty := testdb.Options(t, store.Postgres).URL, testdb.Options(t, store.Postgres).URL, testdb.Options(t, store.Postgres)
			optA, optB := testdb.Options(t, d), testdb.Options(t, d)
			keysA, keysB := t.TempDir(), t.TempDir()
			argsA := append(append(dbFlags(optA), keyFlags(keysA)...), "-keystore", ksA)
			for _, args := range [][]string{argsA, append(append(dbFlags(optB), keyFlags(keysB)...), "-keystore", ksB)} {
				if out, err := custos(append([]string{"keys", "init"}, args...)...); err != nil {
					t.Fatalf("keys init: %v\n%s", err, out)
				}
			}
			if _, err := custos(append([]string{"migrate"}, argsA...)...); err != nil {
				t.Fatalf("A with its own key store: %v", err)
			}
			if _, err := custos(append([]string{"migrate"}, append(argsA, "-keystore", empty.URL)...)...); err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("A with an empty key store database: %v", err)
			}
			var tables int
			testdb.Raw(t, store.Postgres, empty).QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables)
			if tables != 0 {
				t.Errorf("a refused start made %d tables in the empty key store database", tables)
			}
			_, err := custos(append([]string{"migrate"}, append(argsA, "-keystore", ksB, "-master-key-file", keysB+"/master.key")...)...)
			if err == nil || !strings.Contains(err.Error(), "holds the keys of database") {
				t.Errorf("A with B's key store: %v", err)
			}
		})
	}
}
